//! `Authorization: Bearer <session id>` → the caller's session.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::HttpError;
use crate::session::Session;
use crate::state::AppState;

/// The session named by the request's bearer token.
pub struct BearerSession(pub Arc<Session>);

const MISSING: &str = "This call needs `Authorization: Bearer <session>`: create a session with POST /api/sessions first.";

/// The refusal for a session id that is not (or no longer) known; the
/// idle time it quotes is the configured one.
pub fn unknown_session(state: &AppState) -> HttpError {
    let minutes = state.sessions.pool().spec().limits.idle_secs.div_ceil(60);
    HttpError::Unauthorized(format!(
        "That session does not exist (it may have expired after {minutes} idle minutes): create a new one with POST /api/sessions."
    ))
}

impl FromRequestParts<AppState> for BearerSession {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| HttpError::Unauthorized(MISSING.into()))?;
        let id = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| HttpError::Unauthorized(MISSING.into()))?;
        state
            .sessions
            .get(id)
            .map(BearerSession)
            .ok_or_else(|| unknown_session(state))
    }
}
