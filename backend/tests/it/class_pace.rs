//! While a class is on the node, visitors (sessions admitted by their
//! address) start sandboxes at a pace, in arrival order: a burst of them is
//! spread out, a line longer than the admission wait is told to come back
//! (429 `server_full` with `Retry-After` and a sentence), and the class's
//! own members are never held back by it.

use protocol::{ApiError, ErrorCode, SessionCreated};
use reqwest::StatusCode;

use crate::rooms::{join, new_learner, new_room};
use crate::support::{default_config, TestApp};

/// Visitors from one address may hold many sandboxes here, so only the
/// class pace (2 a second, a line of at most 1 s) can hold them back.
async fn paced_host() -> TestApp {
    let mut config = default_config();
    config.limits.max_sandboxes = 40;
    config.limits.sandboxes_per_ip = 64;
    config.limits.spawns_per_min_per_ip = 1_000;
    config.limits.class_visitor_spawns_per_sec = 2;
    config.limits.admission_wait_secs = 1;
    TestApp::with_config(config).await
}

/// `n` anonymous visitors asking for a session at once: their answers.
async fn visitors_at_once(app: &TestApp, n: usize) -> Vec<reqwest::Response> {
    let asks: Vec<_> = (0..n)
        .map(|_| {
            let ask = app.http.post(format!("{}/api/sessions", app.base)).send();
            tokio::spawn(ask)
        })
        .collect();
    let mut answers = Vec::new();
    for ask in asks {
        answers.push(ask.await.unwrap().expect("request reaches the test server"));
    }
    answers
}

async fn member_session(app: &TestApp, code: &str, name: &str) -> reqwest::Response {
    let token = new_learner(app).await;
    assert_eq!(join(app, &token, code, name).await.status(), 200);
    app.http
        .post(format!("{}/api/sessions", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn visitors_are_paced_only_while_a_class_is_here_and_members_never_are() {
    let app = paced_host().await;

    // No class yet: six visitors at once all get a sandbox.
    let before = visitors_at_once(&app, 6).await;
    assert!(
        before.iter().all(|r| r.status() == StatusCode::CREATED),
        "without a class nobody is paced: {:?}",
        before.iter().map(|r| r.status()).collect::<Vec<_>>()
    );

    let room = new_room(&app).await;
    let first = member_session(&app, &room.code, "Ada").await;
    assert_eq!(first.status(), StatusCode::CREATED);

    // Eight visitors at once: turns 0.5 s apart and a line of 1 s let in
    // the first few; the rest are told to come back.
    let burst: Vec<_> = (0..8)
        .map(|_| tokio::spawn(app.http.post(format!("{}/api/sessions", app.base)).send()))
        .collect();
    // A member arriving in the middle of the burst is not in their line.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let second = member_session(&app, &room.code, "Grace").await;
    assert_eq!(
        second.status(),
        StatusCode::CREATED,
        "members are not paced"
    );

    let mut admitted = 0;
    let mut refused = Vec::new();
    for ask in burst {
        let response = ask.await.unwrap().expect("request reaches the test server");
        match response.status() {
            StatusCode::CREATED => {
                let _: SessionCreated = response.json().await.unwrap();
                admitted += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(response.headers()["retry-after"], "5");
                refused.push(response.json::<ApiError>().await.unwrap());
            }
            other => panic!("unexpected answer {other}"),
        }
    }
    assert!(
        (1..=3).contains(&admitted),
        "a 1 s line at 2 a second holds at most three turns, got {admitted}"
    );
    assert_eq!(admitted + refused.len(), 8);
    for error in &refused {
        assert_eq!(error.error.code, ErrorCode::ServerFull);
        assert!(
            error
                .error
                .message
                .starts_with("A class is running on this server")
                && error.error.message.contains("2 a second"),
            "{}",
            error.error.message
        );
    }
}
