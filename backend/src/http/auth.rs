//! `Authorization: Bearer <session id>` → the caller's session.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::HttpError;
use crate::control::learners::LearnerRef;
use crate::session::Session;
use crate::state::AppState;

/// The session named by the request's bearer token.
pub struct BearerSession(pub Arc<Session>);

const MISSING: &str = "This call needs `Authorization: Bearer <session>`: create a session with POST /api/sessions first.";

/// The learner named by the request's bearer token (a learner token, not
/// a session token).
pub struct BearerLearner(pub LearnerRef);

/// A learner token if the request carries one; none is fine (an anonymous
/// learner is made), an unknown one is refused.
pub struct MaybeLearner(pub Option<LearnerRef>);

impl FromRequestParts<AppState> for MaybeLearner {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            match BearerLearner::from_request_parts(parts, state).await {
                Ok(BearerLearner(who)) => Ok(MaybeLearner(Some(who))),
                // The store cannot say whose token it is: the console
                // still starts, as an anonymous one.
                Err(HttpError::Store(e)) => {
                    tracing::warn!("learner unknown while the store is down: {e}");
                    Ok(MaybeLearner(None))
                }
                Err(e) => Err(e),
            }
        } else {
            Ok(MaybeLearner(None))
        }
    }
}

const MISSING_LEARNER: &str = "This call needs `Authorization: Bearer <learner token>`: get one with POST /api/learners (or from the `learner_token` of POST /api/sessions).";
const UNKNOWN_LEARNER: &str = "That learner token is not known (it may have expired after a long idle time, or been erased): get a new one with POST /api/learners.";

/// The token after `Bearer ` (the scheme in any case, as RFC 7235 has
/// it), if the header has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for BearerLearner {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let token = bearer(parts).ok_or_else(|| HttpError::Unauthorized(MISSING_LEARNER.into()))?;
        state
            .control
            .learner_for_token(token)
            .await?
            .map(BearerLearner)
            .ok_or_else(|| HttpError::Unauthorized(UNKNOWN_LEARNER.into()))
    }
}

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
        let id = bearer(parts).ok_or_else(|| HttpError::Unauthorized(MISSING.into()))?;
        state
            .sessions
            .get(id)
            .map(BearerSession)
            .ok_or_else(|| unknown_session(state))
    }
}

/// The instructor, proven by the instructor's token (printed at start-up).
pub struct BearerInstructor;

const MISSING_INSTRUCTOR: &str = "This call needs `Authorization: Bearer <instructor token>`: the token is in the instructor link the server printed at start-up (or set with --instructor-token).";
const NOT_INSTRUCTOR: &str = "Only the instructor's token can do this: a learner or session token, or a wrong token, is not enough. Use the token from the instructor link the server printed at start-up.";

impl FromRequestParts<AppState> for BearerInstructor {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        let token =
            bearer(parts).ok_or_else(|| HttpError::Unauthorized(MISSING_INSTRUCTOR.into()))?;
        if state.instructor.matches(token) {
            Ok(BearerInstructor)
        } else {
            Err(HttpError::BadRequest {
                code: protocol::ErrorCode::Forbidden,
                message: NOT_INSTRUCTOR.into(),
            })
        }
    }
}
