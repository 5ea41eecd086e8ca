//! Routes only another node may call (over the internal hop, proven by
//! the shared secret). To anyone else they do not exist: a stranger gets
//! the same 404 as for any unknown API path.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;

use super::HttpError;
use crate::live::reset::{self, ResetCounts, ResetRequest};
use crate::state::AppState;

fn only_nodes(state: &AppState, headers: &HeaderMap) -> Result<(), HttpError> {
    match &state.cluster {
        Some(cluster) if cluster.from_node(headers) => Ok(()),
        _ => Err(HttpError::NotFound(
            "There is no such API endpoint.".to_owned(),
        )),
    }
}

/// `POST /internal/rooms/{id}/reset`: "Reset all" for the members whose
/// session this node holds.
pub async fn reset_room(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
    body: Result<Json<ResetRequest>, JsonRejection>,
) -> Result<Json<ResetCounts>, HttpError> {
    only_nodes(&state, &headers)?;
    let Json(request) = body.map_err(|e| HttpError::BadRequest {
        code: protocol::ErrorCode::InvalidRequest,
        message: e.body_text(),
    })?;
    if state.course.find(&request.lesson).is_none() {
        return Err(HttpError::NotFound(format!(
            "There is no lesson `{}`.",
            request.lesson
        )));
    }
    Ok(Json(reset::here(&state, &room, &request.lesson).await?))
}
