//! Every HTTP failure becomes the one JSON shape in `protocol::ApiError`,
//! its status decided from the typed `ErrorCode` in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{ApiError, ErrorBody, ErrorCode};

use crate::control::StoreError;
use crate::gateway::GatewayError;
use crate::sandbox::SandboxError;
use crate::session::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("Learner data: {0}.")]
    Store(#[from] StoreError),
}

/// The HTTP status for each code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        LineTooLong | ReplyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnreadableReply => StatusCode::UNPROCESSABLE_ENTITY,
        RateLimited | SpawnRate | TooManySandboxes | TooManySockets | ServerFull => {
            StatusCode::TOO_MANY_REQUESTS
        }
        Busy | RoomFull => StatusCode::CONFLICT,
        SandboxRestarted | SandboxUnavailable | ShuttingDown | StoreUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        InvalidArguments | InvalidRepeat | EmptyLine | TooManyArguments | InvalidRequest
        | ProtocolViolation | SetupFailed | SimulationFailed => StatusCode::BAD_REQUEST,
        NotFound => StatusCode::NOT_FOUND,
        Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden | RoomLocked => StatusCode::FORBIDDEN,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        CommandRefused | SubcommandRefused | ConfigRefused | InfoRefused | BlockingForever
        | BlockingTimeout | TransactionFull => StatusCode::FORBIDDEN,
        ConnectionLost | NotConnected | Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Seconds a client should wait before trying again, for refusals that
/// pass by themselves (the browser counts them down and retries).
pub fn retry_after(code: ErrorCode) -> Option<u32> {
    match code {
        ErrorCode::ServerFull => Some(crate::limits::FULL_RETRY_AFTER_SECS),
        _ => None,
    }
}

impl HttpError {
    pub fn code(&self) -> ErrorCode {
        match self {
            HttpError::NotFound(_) => ErrorCode::NotFound,
            HttpError::Unauthorized(_) => ErrorCode::Unauthorized,
            HttpError::BadRequest { code, .. } => *code,
            HttpError::Gateway(e) => e.code(),
            HttpError::Registry(e) => e.code(),
            HttpError::Sandbox(e) => e.code(),
            HttpError::Store(_) => ErrorCode::StoreUnavailable,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.code(), self.to_string())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let code = self.code();
        let body = Json(ApiError::new(code, self.to_string()));
        match retry_after(code) {
            Some(secs) => (
                status_of(code),
                [(axum::http::header::RETRY_AFTER, secs.to_string())],
                body,
            )
                .into_response(),
            None => (status_of(code), body).into_response(),
        }
    }
}
