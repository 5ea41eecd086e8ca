//! Raising a hand in a class: a member (learner bearer) raises or lowers
//! theirs, the instructor lists the raised ones, oldest first.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{ErrorCode, HandChange, Hands, RaisedHand};

use super::super::auth::{BearerInstructor, BearerLearner};
use super::super::body::{json_body as body, refuse};
use super::super::HttpError;
use super::find;
use crate::control::rooms::HandOutcome;
use crate::state::AppState;

/// `POST /api/rooms/{id}/hand` `{"raised": bool}` → 204.
pub async fn hand(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
    Path(id): Path<String>,
    request: Result<Json<HandChange>, JsonRejection>,
) -> Result<StatusCode, HttpError> {
    let change = body(request, r#"{"raised":true}"#)?;
    let room = find(&state, &id).await?;
    match state
        .control
        .set_hand(&room, &who, change.raised, state.rooms.idle)
        .await?
    {
        HandOutcome::Done => Ok(StatusCode::NO_CONTENT),
        HandOutcome::NotMember => Err(refuse(
            ErrorCode::Forbidden,
            "Only a member of this class can raise a hand in it: join it with its code first.",
        )),
        HandOutcome::Gone => Err(refuse(
            ErrorCode::Forbidden,
            "This class has ended: there is no hand to raise in it.",
        )),
    }
}

/// `GET /api/rooms/{id}/hands` → 200 `{"hands": [...]}`, oldest first.
pub async fn hands(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
) -> Result<Json<Hands>, HttpError> {
    let room = find(&state, &id).await?;
    let raised = state.control.raised_hands(&room.id).await?;
    let roster = state.control.roster(&room.id).await?;
    let hands = raised
        .into_iter()
        .filter_map(|(learner, raised_at)| {
            let member = roster.iter().find(|m| m.learner == learner)?;
            Some(RaisedHand {
                name: member.name.clone(),
                learner,
                raised_at,
            })
        })
        .collect();
    Ok(Json(Hands { hands }))
}
