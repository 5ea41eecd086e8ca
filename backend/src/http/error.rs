//! Every HTTP failure becomes the one JSON shape in `protocol::ApiError`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::ApiError;

use crate::gateway::GatewayError;
use crate::sandbox::SandboxError;
use crate::session::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

fn gateway_status(code: &str) -> StatusCode {
    match code {
        "line_too_long" | "reply_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "unreadable_reply" => StatusCode::UNPROCESSABLE_ENTITY,
        "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
        "busy" => StatusCode::CONFLICT,
        "sandbox_restarted" | "sandbox_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "invalid_arguments" | "invalid_repeat" | "empty_line" | "too_many_arguments" => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::FORBIDDEN,
    }
}

fn sandbox_status(error: &SandboxError) -> (StatusCode, &'static str) {
    match error {
        SandboxError::Capacity(_) => (StatusCode::SERVICE_UNAVAILABLE, "server_full"),
        SandboxError::SpawnRate => (StatusCode::TOO_MANY_REQUESTS, "spawn_rate"),
        SandboxError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
        SandboxError::Spawn(_) | SandboxError::Connect(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "sandbox_unavailable")
        }
    }
}

impl HttpError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HttpError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            HttpError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            HttpError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            HttpError::Gateway(e) => (gateway_status(e.code()), e.code()),
            HttpError::Registry(RegistryError::PerIpLimit(_)) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_sandboxes")
            }
            HttpError::Registry(RegistryError::PerIpRate(_)) => {
                (StatusCode::TOO_MANY_REQUESTS, "spawn_rate")
            }
            HttpError::Registry(RegistryError::Sandbox(e)) | HttpError::Sandbox(e) => {
                sandbox_status(e)
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        (status, Json(ApiError::new(code, self.to_string()))).into_response()
    }
}
