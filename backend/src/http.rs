//! The HTTP surface: health, the lesson API, and the browser app itself.

mod auth;
mod error;
mod lessons;
mod metrics;
mod sessions;
mod ws;

use axum::routing::{get, post};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use error::HttpError;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    // Any path the API doesn't own is the single-page app: deep links like
    // /lesson/hashes load index.html (status 200) and the client router
    // takes over. `fallback`, not `not_found_service`, which forces a 404.
    let spa =
        ServeDir::new(&state.dist_dir).fallback(ServeFile::new(state.dist_dir.join("index.html")));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/engine", get(lessons::engine))
        .route("/api/commands", get(lessons::commands))
        .route("/api/lessons", get(lessons::list))
        .route("/api/lessons/{slug}", get(lessons::page))
        .route("/api/lessons/{slug}/start", post(lessons::start))
        .route(
            "/api/lessons/{slug}/tasks/{index}/check",
            post(lessons::check_task),
        )
        .route(
            "/api/sessions",
            post(sessions::create).delete(sessions::delete),
        )
        .route("/api/sessions/reset", post(sessions::reset))
        .route("/api/exec", post(sessions::exec))
        .route("/ws", get(ws::upgrade))
        .route("/metrics", get(metrics::metrics))
        .route("/api/{*rest}", get(api_not_found))
        .fallback_service(spa)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn api_not_found() -> HttpError {
    HttpError::NotFound("There is no such API endpoint.".to_owned())
}
