//! HTTP held to its limits, served as production serves it
//! (`backend::http::serve`): a half-sent request is closed, a slow body is
//! refused, and every error (405, oversized headers, a bad WebSocket
//! upgrade, a task index that is not a number) is the JSON error shape
//! with a clear sentence.

use std::time::{Duration, Instant};

use backend::config::Config;
use backend::{router, AppState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::default_config;

/// The app on a random port, served by `backend::http::serve`.
struct Served {
    addr: std::net::SocketAddr,
    base: String,
    state: AppState,
    http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

async fn serve(tune: impl FnOnce(&mut Config)) -> Served {
    let mut config = default_config();
    tune(&mut config);
    let state = AppState::build(&config).await.expect("app state builds");
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone());
    let limits = config.limits.clone();
    let server = tokio::spawn(async move {
        backend::http::serve(listener, app, &limits, std::future::pending())
            .await
            .expect("server runs");
    });
    Served {
        addr,
        base: format!("http://{addr}"),
        state,
        http: reqwest::Client::new(),
        _server: server,
    }
}

impl Served {
    async fn new_session(&self) -> String {
        let created: protocol::SessionCreated = self
            .http
            .post(format!("{}/api/sessions", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created.session
    }
}

/// Reads until the server closes the connection (or `within` passes);
/// returns what it sent and how long it took.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection was still open after {within:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_deadline() {
    let app = serve(|c| c.limits.header_timeout_ms = 500).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(3), "closed only after {took:?}");
}

#[tokio::test]
async fn a_body_that_never_arrives_is_refused_after_the_body_deadline() {
    let app = serve(|c| c.limits.body_timeout_ms = 500).await;
    let session = app.new_session().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"line\"",
        session
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_secs(3),
        "answered only after {took:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains(r#"{"error":{"code":"invalid_request""#),
        "{answer}"
    );
}

/// The JSON error a response must carry: (code, message).
async fn json_error(response: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(response.status().as_u16(), status);
    let body = response.text().await.unwrap();
    let err: protocol::ApiError = serde_json::from_str(&body)
        .unwrap_or_else(|_| panic!("not the JSON error shape: {body:?}"));
    assert!(
        err.error.message.len() > 20 && err.error.message.ends_with('.'),
        "unclear message: {body}"
    );
    (err.error.code.to_string(), err.error.message)
}

#[tokio::test]
async fn every_error_the_framework_makes_is_in_the_json_shape() {
    let app = serve(|_| {}).await;
    let url = |path: &str| format!("{}{path}", app.base);

    let (code, message) = json_error(
        app.http.post(url("/api/lessons")).send().await.unwrap(),
        405,
    )
    .await;
    assert_eq!(code, "method_not_allowed");
    assert!(message.contains("GET"), "{message}");
    let (code, _) = json_error(
        app.http.put(url("/api/sessions")).send().await.unwrap(),
        405,
    )
    .await;
    assert_eq!(code, "method_not_allowed");

    let big = "x".repeat(20 * 1024);
    let (code, _) = json_error(
        app.http
            .get(url("/healthz"))
            .header("x-big", big)
            .send()
            .await
            .unwrap(),
        431,
    )
    .await;
    assert_eq!(code, "headers_too_large");
    let mut many = app.http.get(url("/healthz"));
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "1");
    }
    let (code, _) = json_error(many.send().await.unwrap(), 431).await;
    assert_eq!(code, "headers_too_large");

    // /ws without an upgrade, and with no session at all.
    let (code, message) = json_error(
        app.http.get(url("/ws?session=abc")).send().await.unwrap(),
        400,
    )
    .await;
    assert_eq!(code, "invalid_request");
    assert!(message.contains("WebSocket"), "{message}");
    let response = app.http.get(url("/ws")).send().await.unwrap();
    assert!(response.status().is_client_error());
    let body = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<protocol::ApiError>(&body).is_ok(),
        "{body}"
    );

    // A task index that is not a number.
    let session = app.new_session().await;
    let slug = &app.state.course.lessons[0].meta.slug;
    let response = app
        .http
        .post(url(&format!("/api/lessons/{slug}/tasks/first/check")))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    let (code, message) = json_error(response, 400).await;
    assert_eq!(code, "invalid_request");
    assert!(message.contains("counted from 0"), "{message}");

    // An unknown API path answers every method with JSON.
    let (code, _) = json_error(
        app.http.post(url("/api/nothing")).send().await.unwrap(),
        404,
    )
    .await;
    assert_eq!(code, "not_found");
}
