//! Every answer in the one JSON error shape, and request headers kept
//! within their caps. Handlers answer their own errors as JSON; this
//! catches the ones the framework makes itself: 405, a bad WebSocket
//! upgrade, a path or query that does not parse, a body too slow or too
//! large, and headers too large (answered here, as JSON, below the hard
//! cap where hyper would cut the connection).

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{ApiError, ErrorCode};

/// The header caps, from `SandboxLimits`.
#[derive(Clone, Copy)]
pub struct HeaderCaps {
    pub max_headers: usize,
    pub max_bytes: usize,
}

/// A framework-made error body is one short line; never read more.
const MAX_PLAIN_BODY: usize = 4 * 1024;

fn json(status: StatusCode, code: ErrorCode, message: String) -> Response {
    (status, Json(ApiError::new(code, message))).into_response()
}

/// Refuses requests with too many or too large headers, in JSON.
pub async fn limit_headers(
    State(caps): State<HeaderCaps>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let bytes: usize = request.uri().to_string().len()
        + headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if headers.len() > caps.max_headers || bytes > caps.max_bytes {
        return json(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            format!(
                "The request's headers are too large ({} headers, {bytes} bytes with the URL); the server takes at most {} headers and {} bytes. Send fewer or smaller headers (cookies included).",
                headers.len(),
                caps.max_headers,
                caps.max_bytes
            ),
        );
    }
    next.run(request).await
}

/// Rewrites error responses that are not JSON into the JSON shape.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let detail = to_bytes(response.into_body(), MAX_PLAIN_BODY)
        .await
        .map(|b| {
            String::from_utf8_lossy(&b)
                .trim()
                .trim_end_matches('.')
                .to_owned()
        })
        .unwrap_or_default();
    let (code, message) = explain(status, &method, &path, allow.as_ref(), &detail);
    let mut answer = json(status, code, message);
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// The code and sentence for a framework-made error.
fn explain(
    status: StatusCode,
    method: &Method,
    path: &str,
    allow: Option<&HeaderValue>,
    detail: &str,
) -> (ErrorCode, String) {
    let because = if detail.is_empty() {
        String::new()
    } else {
        let mut chars = detail.chars();
        let first = chars
            .next()
            .map(|c| c.to_lowercase().to_string())
            .unwrap_or_default();
        format!(" ({first}{})", chars.as_str())
    };
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = allow
                .and_then(|a| a.to_str().ok())
                .filter(|a| !a.is_empty())
                .map(|a| format!("; it answers {}", a.replace(',', ", ")))
                .unwrap_or_default();
            (
                ErrorCode::MethodNotAllowed,
                format!("{method} is not allowed on {path}{allowed}."),
            )
        }
        StatusCode::NOT_FOUND => (
            ErrorCode::NotFound,
            format!("There is nothing at {path}{because}."),
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ErrorCode::HeadersTooLarge,
            "The request's headers are too large; send fewer or smaller headers.".into(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::InvalidRequest,
            format!("The request body is too large{because}; send a smaller one."),
        ),
        _ if path == "/ws" => (
            ErrorCode::InvalidRequest,
            format!(
                "The console socket is opened with a WebSocket upgrade: GET /ws?session=<id> with `Connection: Upgrade` and `Upgrade: websocket` headers{because}."
            ),
        ),
        _ if path.contains("/tasks/") => (
            ErrorCode::InvalidRequest,
            format!(
                "A task is named by its number in the lesson, counted from 0, as in POST /api/lessons/<lesson>/tasks/0/check{because}."
            ),
        ),
        _ if status.is_client_error() => (
            ErrorCode::InvalidRequest,
            format!("The request was not understood{because}; check its URL, query and body."),
        ),
        _ => (
            ErrorCode::Unknown,
            format!("The server failed to answer {method} {path}{because}; try again."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_405_names_the_allowed_methods() {
        let allow = HeaderValue::from_static("GET,HEAD");
        let (code, message) = explain(
            StatusCode::METHOD_NOT_ALLOWED,
            &Method::POST,
            "/api/lessons",
            Some(&allow),
            "",
        );
        assert_eq!(code, ErrorCode::MethodNotAllowed);
        assert_eq!(
            message,
            "POST is not allowed on /api/lessons; it answers GET, HEAD."
        );
    }

    #[test]
    fn a_bad_upgrade_explains_the_socket() {
        let (code, message) = explain(
            StatusCode::BAD_REQUEST,
            &Method::GET,
            "/ws",
            None,
            "Connection header did not include 'upgrade'",
        );
        assert_eq!(code, ErrorCode::InvalidRequest);
        assert!(message.contains("WebSocket upgrade"), "{message}");
        assert!(message.ends_with('.'), "{message}");
    }
}
