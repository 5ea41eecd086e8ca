//! A full host: the next learner waits in line for a sandbox, first come
//! first served, and is admitted when one frees up; a learner who waited
//! too long (or finds the line full) gets 429 with `Retry-After` and a
//! sentence, which the browser counts down and retries by itself.

use std::time::Duration;

use protocol::{ApiError, ErrorCode};

use crate::support::{default_config, TestApp};

/// A host with `slots` sandboxes and no warm pool, so each session holds
/// exactly one slot, waiting `wait_secs` in line.
async fn full_host(slots: usize, wait_secs: u64) -> TestApp {
    let mut config = default_config();
    config.limits.max_sandboxes = slots;
    config.limits.pool_size = 0;
    config.limits.sandboxes_per_ip = 64;
    config.limits.spawns_per_min_per_ip = 1_000;
    config.limits.admission_wait_secs = wait_secs;
    TestApp::with_config(config).await
}

async fn post_session(app: &TestApp) -> reqwest::Response {
    app.http
        .post(format!("{}/api/sessions", app.base))
        .send()
        .await
        .expect("request reaches the test server")
}

#[tokio::test]
async fn a_full_host_answers_429_with_retry_after_and_a_sentence() {
    let app = full_host(2, 1).await;
    let _a = app.new_session().await;
    let _b = app.new_session().await;
    let started = std::time::Instant::now();
    let refused = post_session(&app).await;
    assert_eq!(refused.status(), 429);
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited in line first");
    assert_eq!(refused.headers()["retry-after"], "5");
    let error: ApiError = refused.json().await.unwrap();
    assert_eq!(error.error.code, ErrorCode::ServerFull);
    assert!(
        error.error.message.starts_with("The class is full"),
        "{}",
        error.error.message
    );
}

#[tokio::test]
async fn learners_waiting_for_a_full_host_are_admitted_in_arrival_order() {
    let app = full_host(2, 20).await;
    let a = app.new_session().await;
    let b = app.new_session().await;
    let first = tokio::spawn({
        let (http, base) = (app.http.clone(), app.base.clone());
        async move { http.post(format!("{base}/api/sessions")).send().await.unwrap() }
    });
    // The first is in line before the second asks.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.state.sessions.pool().waiting() < 1 {
        assert!(std::time::Instant::now() < deadline, "the first never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = tokio::spawn({
        let (http, base) = (app.http.clone(), app.base.clone());
        async move { http.post(format!("{base}/api/sessions")).send().await.unwrap() }
    });
    while app.state.sessions.pool().waiting() < 2 {
        assert!(std::time::Instant::now() < deadline, "the second never queued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One sandbox frees up: the first in line gets it, the second waits.
    assert_eq!(app.delete(&a).await.status(), 204);
    let admitted = tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("the first in line is admitted")
        .unwrap();
    assert_eq!(admitted.status(), 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second still waits its turn");
    assert_eq!(app.state.sessions.pool().waiting(), 1);
    assert_eq!(app.delete(&b).await.status(), 204);
    let admitted = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second is admitted next")
        .unwrap();
    assert_eq!(admitted.status(), 201);
}
