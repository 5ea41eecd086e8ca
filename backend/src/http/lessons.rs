//! The course over HTTP: `GET /api/lessons`, `GET /api/lessons/<slug>`,
//! `GET /api/engine`, `GET /api/commands` (the lessons and the catalog as
//! encoded once at start), "Start fresh"
//! (`POST /api/lessons/<slug>/start`) and a task's check
//! (`POST /api/lessons/<slug>/tasks/<index>/check`).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::EngineInfo;

use super::auth::BearerSession;
use super::HttpError;
use crate::lessons::runner;
use crate::state::AppState;
use crate::static_json::StaticJson;

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(&state.course_json.list, &headers)
}

pub async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let page = state.course_json.page(&slug).ok_or_else(|| {
        HttpError::NotFound(format!(
            "There is no lesson `{slug}`; the lesson list shows every lesson."
        ))
    })?;
    Ok(respond(page, &headers))
}

pub async fn engine(State(state): State<AppState>) -> Json<EngineInfo> {
    Json(state.engine.info.clone())
}

/// `GET /api/commands`: the docs behind the console's completion and
/// hints.
pub async fn commands(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(&state.catalog.docs, &headers)
}

/// An answer encoded at start: gzipped to a client that accepts it, plain
/// JSON to any other.
fn respond(answer: &StaticJson, headers: &HeaderMap) -> Response {
    let gzipped = super::accept::gzip(headers);
    let body = if gzipped { &answer.gzip } else { &answer.json };
    let mut response = body.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if gzipped {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn find_lesson<'a>(
    state: &'a AppState,
    slug: &str,
) -> Result<&'a crate::lessons::Lesson, HttpError> {
    state.course.find(slug).ok_or_else(|| {
        HttpError::NotFound(format!(
            "There is no lesson `{slug}`; the lesson list shows every lesson."
        ))
    })
}

/// `POST /api/lessons/<slug>/start`: "Start fresh": a clean sandbox with
/// the lesson's setup data loaded.
pub async fn start(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    BearerSession(session): BearerSession,
) -> Result<Json<protocol::Notice>, HttpError> {
    let lesson = find_lesson(&state, &slug)?;
    let title = &lesson.meta.title;
    let message = match lesson.meta.setup.len() {
        0 => format!("Fresh, empty sandbox for “{title}”: this lesson needs no starting data."),
        1 => format!("Fresh sandbox for “{title}”, with its starting data loaded (1 command)."),
        n => format!("Fresh sandbox for “{title}”, with its starting data loaded ({n} commands)."),
    };
    // One notice for the whole of Start fresh: in this reply, and to the
    // session's other tabs and observers through its event stream.
    let notice = state
        .sessions
        .reset_saying(&session, protocol::NoticeKind::Info, message)
        .await?;
    crate::lessons::runner::run_setup(&state.gateway, &session, lesson)
        .await
        .map_err(|message| HttpError::BadRequest {
            code: protocol::ErrorCode::SetupFailed,
            message,
        })?;
    Ok(Json(notice))
}

/// `POST /api/lessons/<slug>/tasks/<index>/check`: runs the task's checks
/// in the caller's sandbox.
pub async fn check_task(
    State(state): State<AppState>,
    Path((slug, index)): Path<(String, usize)>,
    BearerSession(session): BearerSession,
) -> Result<Json<protocol::TaskResult>, HttpError> {
    let lesson = find_lesson(&state, &slug)?;
    let task = lesson
        .blocks
        .tasks
        .get(index)
        .ok_or_else(|| HttpError::NotFound(format!("Lesson `{slug}` has no task {index}.")))?;
    if session.in_multi().await {
        // Not a failure to record: nothing was checked.
        return Ok(Json(runner::not_run_in_transaction(&task.spec.check)));
    }
    let result = runner::check_task(&state.gateway, &session, &task.spec.check).await;
    if let Some(who) = session.learner() {
        // The check's answer stands either way; a result the store could
        // not take is counted in /metrics and the next check records it.
        if let Err(e) = state
            .control
            .record_result(who, &slug, index, result.passed)
            .await
        {
            tracing::warn!("task result not recorded: {e}");
        }
    }
    Ok(Json(result))
}
