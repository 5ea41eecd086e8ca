//! The HTTP surface: health, the lesson API, classroom rooms, and the
//! browser app itself, with every error in one JSON shape and requests
//! held to their limits (header size and count, body deadline; `serve`
//! adds the header deadline).

mod accept;
mod assets;
mod auth;
pub(crate) mod body;
mod error;
mod exercises;
mod guard;
mod internal;
mod learners;
mod lessons;
mod metrics;
mod owner;
mod rooms;
mod serve;
mod sessions;
mod ws;

use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::routing::{any, delete, get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::TraceLayer;

pub use assets::INSTRUCTOR_APP_DIR;
pub use error::HttpError;
pub use serve::serve;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    // Any path the API doesn't own is the single-page app (`assets`).
    let spa = assets::service(&state.dist_dir);
    let limits = &state.sessions.pool().spec().limits;
    let caps = guard::HeaderCaps {
        max_headers: limits.max_headers,
        max_bytes: limits.max_header_bytes,
    };
    let body_deadline = Duration::from_millis(limits.body_timeout_ms);
    // A session's requests reach the node holding its sandbox (a no-op on
    // a single server).
    let owner = || axum::middleware::from_fn_with_state(state.clone(), owner::to_owner);
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/api/engine", get(lessons::engine))
        .route("/api/commands", get(lessons::commands))
        .route("/api/lessons", get(lessons::list))
        .route("/api/lessons/{slug}", get(lessons::page))
        .route(
            "/api/lessons/{slug}/start",
            post(lessons::start).route_layer(owner()),
        )
        .route(
            "/api/lessons/{slug}/tasks/{index}/check",
            post(lessons::check_task).route_layer(owner()),
        )
        .route(
            "/api/sessions",
            post(sessions::create)
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    owner::place_new,
                ))
                .merge(delete(sessions::delete).route_layer(owner()))
                .merge(get(sessions::status).route_layer(owner())),
        )
        .route(
            "/api/sessions/reset",
            post(sessions::reset).route_layer(owner()),
        )
        .route("/api/exec", post(sessions::exec).route_layer(owner()))
        .route("/api/learners", post(learners::create))
        .route(
            "/api/me",
            get(learners::me)
                .patch(learners::change)
                .delete(learners::erase),
        )
        .route("/api/me/progress", post(learners::progress))
        .route("/api/me/results", get(exercises::results))
        .route("/api/exercises", get(exercises::list))
        .route(
            "/api/exercises/{id}/grade",
            post(exercises::grade).route_layer(owner()),
        )
        .route("/api/rooms", post(rooms::create))
        .route("/api/rooms/join", post(rooms::join))
        .route("/api/rooms/{id}/board", get(rooms::board))
        .route("/api/rooms/mine", get(rooms::mine))
        .route("/api/rooms/{id}", get(rooms::info))
        .route("/api/rooms/{id}/export.csv", get(rooms::export_csv))
        .route("/api/rooms/{id}/export.json", get(rooms::export_json))
        .route("/api/rooms/{id}/qr.svg", get(rooms::qr_svg))
        .route("/api/rooms/{id}/lock", post(rooms::lock))
        .route("/api/rooms/{id}/end", post(rooms::end))
        .route("/api/rooms/{id}/learners/{learner}", delete(rooms::remove))
        .route("/api/rooms/{id}/hand", post(rooms::hand))
        .route("/api/rooms/{id}/hands", get(rooms::hands))
        .route("/ws", get(ws::upgrade).route_layer(owner()))
        .route("/ws/room", get(rooms::socket))
        .route("/metrics", get(metrics::metrics))
        // Other methods get the same 404 as any unknown path: a stranger
        // must not learn the internal route exists.
        .route(
            "/internal/rooms/{id}/reset",
            post(internal::reset_room).fallback(api_not_found),
        )
        .route("/api/{*rest}", any(api_not_found))
        .fallback_service(spa)
        .with_state(state);
    // The routes inside one service, so the layers below see each answer
    // complete (axum adds a 405's `Allow` header outside route layers).
    // Outermost last: headers are checked first, and every error (the
    // framework's own included) leaves as JSON.
    Router::new()
        .fallback_service(routes)
        .layer(RequestBodyDeadlineLayer::new(body_deadline))
        .layer(axum::middleware::from_fn(guard::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            caps,
            guard::limit_headers,
        ))
        // No page of ours may be framed by another site (clickjacking; the
        // instructor's page carries its token).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(TraceLayer::new_for_http())
}

/// Alive, and whether the control store answers: consoles work without
/// it, so a missing store is `degraded`, not down (status 200 either way).
/// Plain `ok` for probes; JSON (`protocol::Health`) when asked for.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let store_ok = state.control.healthy().await;
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        axum::Json(protocol::Health {
            status: if store_ok { "ok" } else { "degraded" }.into(),
            control_store: if store_ok { "ok" } else { "down" }.into(),
        })
        .into_response()
    } else if store_ok {
        "ok".into_response()
    } else {
        "degraded: the control store is down; consoles work, learner writes answer 503"
            .into_response()
    }
}

async fn api_not_found() -> HttpError {
    HttpError::NotFound("There is no such API endpoint.".to_owned())
}
