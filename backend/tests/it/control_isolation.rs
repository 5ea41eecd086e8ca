//! A learner token reaches its own learner and nothing else: another
//! learner's token, a session id, a garbage or missing token never read or
//! change someone else's data, and a learner token never drives a console.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::server::{error_code, ServerDirs, ServerProcess};

/// Every learner route, as (method, path, body).
fn learner_routes(lesson: &str, step: &str) -> Vec<(Method, &'static str, serde_json::Value)> {
    vec![
        (Method::GET, "/api/me", serde_json::Value::Null),
        (Method::PATCH, "/api/me", json!({"name": "Mallory"})),
        (
            Method::POST,
            "/api/me/progress",
            json!({"lesson": lesson, "step": step}),
        ),
        (Method::DELETE, "/api/me", serde_json::Value::Null),
    ]
}

/// Sends `method path` with `authorization` as the raw header (none if
/// `None`); the status and body.
async fn send(
    server: &ServerProcess,
    method: Method,
    path: &str,
    body: &serde_json::Value,
    authorization: Option<&str>,
) -> (StatusCode, String) {
    let mut request = server.http.request(method, server.url(path));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    if !body.is_null() {
        request = request.json(body);
    }
    let response = request.send().await.expect("server answers");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn each_token_reads_and_changes_only_its_own_learner() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let (lesson, step) = server.first_step().await;
    let ada = server.new_learner(json!({"name": "Ada"})).await;
    let bob = server.new_learner(json!({"name": "Bob"})).await;
    assert_ne!(ada.learner, bob.learner);
    assert_ne!(ada.token, bob.token);
    let response = server.progress(&ada.token, &lesson, &step).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let ada_before = server.me(&ada.token).await;

    let bob_me = server.me(&bob.token).await;
    assert_eq!(bob_me.learner, bob.learner);
    assert_eq!(bob_me.name.as_deref(), Some("Bob"));
    assert!(
        bob_me.progress.is_empty() && bob_me.results.is_empty(),
        "{bob_me:?}"
    );

    assert_eq!(
        server.rename(&bob.token, json!("Robert")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.me(&ada.token).await,
        ada_before,
        "Bob's rename left Ada alone"
    );
    assert_eq!(server.me(&bob.token).await.name.as_deref(), Some("Robert"));

    let (status, _) = send(
        &server,
        Method::DELETE,
        "/api/me",
        &json!(null),
        Some(&format!("Bearer {}", bob.token)),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.me(&ada.token).await,
        ada_before,
        "Bob's erasure left Ada alone"
    );
    for (method, path, body) in learner_routes(&lesson, &step) {
        let (status, body) = send(
            &server,
            method.clone(),
            path,
            &body,
            Some(&format!("Bearer {}", bob.token)),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with an erased learner's token: {body}"
        );
        assert_eq!(error_code(&body).as_deref(), Some("unauthorized"), "{body}");
    }
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_refused_on_every_learner_route() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let (lesson, step) = server.first_step().await;
    let ada = server.new_learner(json!({"name": "Ada"})).await;
    let before = server.me(&ada.token).await;
    let session = server.new_session(None).await.session;

    let mut near = ada.token.clone();
    let last = near.pop().unwrap();
    near.push(if last == '0' { '1' } else { '0' });
    let refused: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("an empty bearer", Some("Bearer ".into())),
        ("another scheme", Some(format!("Basic {}", ada.token))),
        (
            "a lowercase scheme and no space",
            Some(format!("bearer{}", ada.token)),
        ),
        ("garbage", Some("Bearer not-a-token".into())),
        ("a token one character off", Some(format!("Bearer {near}"))),
        (
            "a prefix of the token",
            Some(format!("Bearer {}", &ada.token[..ada.token.len() / 2])),
        ),
        ("the learner id", Some(format!("Bearer {}", ada.learner))),
        ("a session id", Some(format!("Bearer {session}"))),
    ];
    for (what, header) in &refused {
        for (method, path, body) in learner_routes(&lesson, &step) {
            let (status, body) =
                send(&server, method.clone(), path, &body, header.as_deref()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {what}: {body}"
            );
            assert_eq!(
                error_code(&body).as_deref(),
                Some("unauthorized"),
                "{what}: {body}"
            );
        }
    }
    assert_eq!(
        server.me(&ada.token).await,
        before,
        "nothing changed Ada's data"
    );
}

#[tokio::test]
async fn a_learner_token_is_not_a_session_and_an_unknown_one_starts_nothing() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let ada = server.new_learner(json!({})).await;
    let created = server.new_session(Some(&ada.token)).await;
    assert_eq!(created.learner.as_deref(), Some(ada.learner.as_str()));
    assert!(
        created.learner_token.is_none(),
        "a known learner gets no new token"
    );

    // The learner token is not the session id: the console refuses it.
    let response = server.exec(&ada.token, "PING").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server
        .http
        .post(server.url("/api/sessions/reset"))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server.exec(&created.session, "PING").await;
    assert_eq!(response.status(), StatusCode::OK);

    // An unknown token is refused, not turned into a new anonymous learner.
    let response = server
        .http
        .post(server.url("/api/sessions"))
        .bearer_auth("Bearer-of-nothing")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn task_checks_are_recorded_for_the_sessions_learner_only() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let page = server
        .lessons()
        .await
        .into_iter()
        .find(|p| !p.tasks.is_empty() && p.summary.missing.is_empty())
        .expect("a lesson with a task");
    let slug = page.summary.slug.clone();
    let ada = server.new_learner(json!({})).await;
    let bob = server.new_learner(json!({})).await;
    let ada_session = server.new_session(Some(&ada.token)).await.session;
    let response = server.check_task(&ada_session, &slug, 0).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let result: protocol::TaskResult = response.json().await.unwrap();

    let me = server.me(&ada.token).await;
    assert_eq!(me.results.len(), 1, "{me:?}");
    assert_eq!(
        (me.results[0].lesson.as_str(), me.results[0].task),
        (slug.as_str(), 0)
    );
    assert_eq!(me.results[0].passed, result.passed);
    assert!(server.me(&bob.token).await.results.is_empty());
}
