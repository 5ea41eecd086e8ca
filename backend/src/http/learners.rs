//! Learners over HTTP: `POST /api/learners`, and the caller's own record
//! at `/api/me` (read, progress, rename, erase). A learner token only ever
//! reaches its own learner: every route takes the learner from the token,
//! never from the request.

use axum::extract::rejection::JsonRejection;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{ErrorCode, LearnerCreated, Me, MeChange, NewLearner, ProgressStep};

use super::auth::BearerLearner;
use super::body::{bad_request, json_body as body};
use super::HttpError;
use crate::control::learners::check_name;
use crate::state::AppState;

/// `POST /api/learners` with `{}` or `{"name": "Ada"}`; an empty body is
/// taken as `{}`.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    raw: axum::body::Bytes,
) -> Result<(StatusCode, Json<LearnerCreated>), HttpError> {
    let pace = &state.newcomers;
    if !pace.budget.take(peer.ip(), pace.per_min) {
        return Err(HttpError::BadRequest {
            code: ErrorCode::RateLimited,
            message: format!(
                "Too many new learners from your address (at most {} a minute); wait a minute and try again.",
                pace.per_min
            ),
        });
    }
    let request: NewLearner = if raw.iter().all(u8::is_ascii_whitespace) {
        NewLearner::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| {
            bad_request(format!(
                "The body must be JSON like {{}} or {{\"name\":\"Ada\"}} ({}).",
                super::body::plain(&e)
            ))
        })?
    };
    let name = check_name(request.name.as_deref()).map_err(bad_request)?;
    let (who, token) = state.control.create_learner(name).await?;
    Ok((
        StatusCode::CREATED,
        Json(LearnerCreated {
            learner: who.id,
            token,
        }),
    ))
}

pub async fn me(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
) -> Result<Json<Me>, HttpError> {
    Ok(Json(state.control.me(&who).await?))
}

/// `POST /api/me/progress`: answers once the step is on disk.
pub async fn progress(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
    request: Result<Json<ProgressStep>, JsonRejection>,
) -> Result<StatusCode, HttpError> {
    let step = body(request, r#"{"lesson":"hashes","step":"hset-basics"}"#)?;
    let lesson = state.course.find(&step.lesson).ok_or_else(|| {
        bad_request(format!(
            "There is no lesson `{}`; GET /api/lessons lists the slugs.",
            step.lesson
        ))
    })?;
    if !lesson.blocks.steps.contains(&step.step) {
        return Err(bad_request(format!(
            "Lesson `{}` has no step `{}`; its steps are: {}.",
            step.lesson,
            step.step,
            lesson.blocks.steps.join(", ")
        )));
    }
    state
        .control
        .add_progress(&who, &step.lesson, &step.step)
        .await?;
    Ok(StatusCode::OK)
}

/// `PATCH /api/me` with `{"name": …}`.
pub async fn change(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
    request: Result<Json<MeChange>, JsonRejection>,
) -> Result<StatusCode, HttpError> {
    let change = body(request, r#"{"name":"Ada"}"#)?;
    let name = check_name(change.name.as_deref()).map_err(bad_request)?;
    state.control.rename(&who, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/me`: the learner and everything of theirs, gone.
pub async fn erase(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
) -> Result<StatusCode, HttpError> {
    state.control.erase(&who).await?;
    tracing::info!(learner = %&who.id[..8], "learner erased on request");
    Ok(StatusCode::NO_CONTENT)
}
