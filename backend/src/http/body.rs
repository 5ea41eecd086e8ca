//! Reading a JSON request body and refusing a bad one, in one place for
//! every route that takes a body: the refusal is the usual JSON error with
//! an example of what was expected.

use axum::extract::rejection::JsonRejection;
use axum::Json;
use protocol::ErrorCode;

use super::HttpError;

/// A refusal with `code` and a sentence.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> HttpError {
    HttpError::BadRequest {
        code,
        message: message.into(),
    }
}

/// A 400 `invalid_request` with a sentence.
pub fn bad_request(message: impl Into<String>) -> HttpError {
    refuse(ErrorCode::InvalidRequest, message)
}

/// The body, or a 400 that shows `example`.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, HttpError> {
    body.map(|Json(value)| value).map_err(|e| {
        bad_request(format!(
            "The body must be JSON like {example} ({}).",
            e.body_text()
        ))
    })
}
