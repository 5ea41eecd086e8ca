//! Graded exercises over HTTP: `GET /api/exercises` (the contracts),
//! `POST /api/exercises/{id}/grade` (session bearer: grades what that
//! sandbox has loaded) and `GET /api/me/results` (learner bearer).

use axum::extract::{Path, State};
use axum::Json;
use protocol::{ErrorCode, ExerciseInfo, GradeReport, GradeStatus};

use super::auth::{BearerLearner, BearerSession};
use super::HttpError;
use crate::grading;
use crate::state::AppState;

pub async fn list() -> Json<Vec<ExerciseInfo>> {
    Json(grading::exercises().iter().map(|e| e.info()).collect())
}

pub async fn grade(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BearerSession(session): BearerSession,
) -> Result<Json<GradeReport>, HttpError> {
    let exercise = grading::find(&id).ok_or_else(|| {
        HttpError::NotFound(format!(
            "There is no exercise `{id}`; GET /api/exercises lists them."
        ))
    })?;
    let who = session
        .learner()
        .map(|l| l.id.clone())
        .unwrap_or_else(|| session.id.clone());
    if let Err(wait) = state.grade_throttle.take(&who) {
        return Err(HttpError::BadRequest {
            code: ErrorCode::RateLimited,
            message: format!(
                "You can grade once every {} s; try again in {} s.",
                grading::throttle::GRADE_EVERY.as_secs(),
                wait.as_secs().max(1)
            ),
        });
    }
    let mut learner_conn = session.sandbox_connection().await?;
    let report =
        grading::sandboxed::grade(exercise, &mut learner_conn, state.sessions.pool()).await;
    if report.status == GradeStatus::Error {
        state.grade_throttle.give_back(&who);
        return Ok(Json(report));
    }
    // Kept before it is answered: a report the learner saw is never lost.
    if let Some(learner) = session.learner() {
        state.control.record_report(learner, &report).await?;
    }
    Ok(Json(report))
}

/// The learner's grading reports: the best per exercise first, then the
/// rest, newest first.
pub async fn results(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
) -> Result<Json<Vec<GradeReport>>, HttpError> {
    Ok(Json(state.control.reports(&who).await?))
}
