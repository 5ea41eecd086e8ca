//! `GET /api/lessons`, `GET /api/lessons/<slug>` and `GET /api/engine`.

use axum::extract::{Path, State};
use axum::Json;
use protocol::{EngineInfo, LessonPage, LessonSummary};

use super::HttpError;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>) -> Json<Vec<LessonSummary>> {
    Json(state.course.summaries(&state.engine))
}

pub async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<LessonPage>, HttpError> {
    state
        .course
        .page(&slug, &state.engine)
        .map(Json)
        .ok_or_else(|| {
            HttpError::NotFound(format!(
                "There is no lesson `{slug}`; GET /api/lessons lists them."
            ))
        })
}

pub async fn engine(State(state): State<AppState>) -> Json<EngineInfo> {
    Json(state.engine.info.clone())
}

/// `GET /api/commands`: the docs behind the console's completion and hints.
pub async fn commands(State(state): State<AppState>) -> Json<protocol::CommandCatalog> {
    Json(state.catalog.docs.clone())
}
