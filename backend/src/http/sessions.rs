//! Session lifecycle and the console over HTTP: create, exec, reset, delete.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::{ExecRequest, ExecResponse, Notice, SessionCreated, SessionStatus};

use super::auth::{BearerSession, MaybeLearner};
use super::HttpError;
use crate::control::learners::LearnerRef;
use crate::gateway::Origin;
use crate::session::registry::Admission;
use crate::state::AppState;

/// How a learner's new sandbox is admitted: by their room when they are a
/// member of one that has not ended, else (or when the store cannot say)
/// by the per-address caps.
async fn admission(state: &AppState, who: &LearnerRef) -> Admission {
    match state.control.room_of(&who.id).await {
        Ok(Some(room)) => Admission::Room { room },
        Ok(None) => Admission::PerAddress,
        Err(e) => {
            tracing::warn!("room admission unknown while the store is down: {e}");
            Admission::PerAddress
        }
    }
}

/// `POST /api/sessions`: with a learner token, that learner's session
/// (their live one if any); without, a new anonymous learner's. If the
/// control store is down the console still starts, without a learner.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    MaybeLearner(learner): MaybeLearner,
) -> Result<(StatusCode, Json<SessionCreated>), HttpError> {
    let (learner, learner_token, admission) = match learner {
        Some(who) => {
            let admission = admission(&state, &who).await;
            (Some(who), None, admission)
        }
        None => match state.control.create_learner(None).await {
            Ok((who, token)) => (Some(who), Some(token), Admission::PerAddress),
            Err(e) => {
                tracing::warn!("session without a learner: {e}");
                (None, None, Admission::PerAddress)
            }
        },
    };
    let session = state
        .sessions
        .create_for(peer.ip(), learner, admission)
        .await?;
    if let Some(cluster) = &state.cluster {
        // Without its record other nodes answer "unknown session"; the
        // console here still works, so a store hiccup only logs.
        if let Err(e) = cluster.record(&session).await {
            tracing::warn!("session not recorded in the node directory: {e}");
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            session: session.id.clone(),
            learner: session.learner().map(|l| l.id.clone()),
            learner_token,
        }),
    ))
}

pub async fn exec(
    State(state): State<AppState>,
    BearerSession(session): BearerSession,
    body: Result<Json<ExecRequest>, JsonRejection>,
) -> Result<Json<ExecResponse>, HttpError> {
    let Json(request) = body.map_err(|e| HttpError::BadRequest {
        code: protocol::ErrorCode::InvalidRequest,
        message: format!(
            "The body must be JSON like {{\"line\":\"PING\"}} with valid UTF-8 text ({}).",
            super::body::why_not(&e)
        ),
    })?;
    let response = state
        .gateway
        .run_line(&session, &request.line, Origin::Learner)
        .await?;
    Ok(Json(response))
}

pub async fn reset(
    State(state): State<AppState>,
    BearerSession(session): BearerSession,
) -> Result<Json<Notice>, HttpError> {
    Ok(Json(state.sessions.reset(&session).await?))
}

/// `GET /api/sessions`: the bearer's session is alive (else the 401 of
/// `BearerSession`), with its open sockets and their cap.
pub async fn status(
    State(state): State<AppState>,
    BearerSession(session): BearerSession,
) -> Json<SessionStatus> {
    let cap = state.sessions.pool().spec().limits.sockets_per_session;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Json(SessionStatus {
        sockets: clamp(state.sessions.sockets_for(&session.id)),
        sockets_per_session: clamp(cap),
    })
}

pub async fn delete(
    State(state): State<AppState>,
    BearerSession(session): BearerSession,
) -> StatusCode {
    state.sessions.remove(&session.id).await;
    if let Some(cluster) = &state.cluster {
        cluster.forget(&session.id).await;
    }
    StatusCode::NO_CONTENT
}
