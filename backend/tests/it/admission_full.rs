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
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited in line first"
    );
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
        async move {
            http.post(format!("{base}/api/sessions"))
                .send()
                .await
                .unwrap()
        }
    });
    // The first is in line before the second asks.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.state.sessions.pool().waiting() < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first never queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = tokio::spawn({
        let (http, base) = (app.http.clone(), app.base.clone());
        async move {
            http.post(format!("{base}/api/sessions"))
                .send()
                .await
                .unwrap()
        }
    });
    while app.state.sessions.pool().waiting() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second never queued"
        );
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

/// `POST /api/sessions` with a learner's token: the session id.
async fn session_as(app: &TestApp, token: &str) -> String {
    let response = app
        .http
        .post(format!("{}/api/sessions", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response
        .json::<protocol::SessionCreated>()
        .await
        .unwrap()
        .session
}

#[tokio::test]
async fn an_idle_learner_gives_way_to_one_waiting_and_gets_their_data_back() {
    let mut config = default_config();
    config.limits.max_sandboxes = 2;
    config.limits.pool_size = 0;
    config.limits.sandboxes_per_ip = 64;
    config.limits.spawns_per_min_per_ip = 1_000;
    config.limits.admission_wait_secs = 20;
    config.limits.give_way_idle_secs = 0;
    let app = TestApp::with_config(config).await;
    let (ada_session, ada) = app.new_learner_session().await;
    for line in [
        "SET greeting hello",
        "EXPIRE greeting 3600",
        "HSET user:1 name Ada age 36",
        "RPUSH queue a b c",
        "ZADD board 10 ada 20 bob",
        "SADD tags x y",
        "XADD events 1-1 kind login",
        r#"JSON.SET doc $ '{"a":[1,2]}'"#,
        "BF.ADD seen ada",
    ] {
        app.exec(&ada_session, line).await;
    }
    // Bob works after Ada, so Ada is the idlest.
    let (bob_session, _) = app.new_learner_session().await;
    app.exec(&bob_session, "PING").await;

    let waiting = tokio::spawn({
        let (http, base) = (app.http.clone(), app.base.clone());
        async move {
            http.post(format!("{base}/api/sessions"))
                .send()
                .await
                .unwrap()
        }
    });
    while app.state.sessions.pool().waiting() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.state.sessions.reap_once().await;
    let admitted = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the waiting learner gets Ada's slot")
        .unwrap();
    assert_eq!(admitted.status(), 201);
    let newcomer: protocol::SessionCreated = admitted.json().await.unwrap();
    assert!(
        app.state.sessions.get(&ada_session).is_none(),
        "Ada's session gave way"
    );
    assert!(
        app.state.sessions.get(&bob_session).is_some(),
        "Bob kept his"
    );

    // Ada comes back once a sandbox is free: her data is there, and her
    // console's first notice says so.
    assert_eq!(app.delete(&newcomer.session).await.status(), 204);
    let back = session_as(&app, &ada).await;
    for (line, expected) in [
        ("GET greeting", "\"hello\""),
        ("HGET user:1 age", "\"36\""),
        ("LRANGE queue 0 -1", "1) \"a\"\n2) \"b\"\n3) \"c\""),
        ("ZSCORE board bob", "\"20\""),
        ("SCARD tags", "(integer) 2"),
        ("XLEN events", "(integer) 1"),
        ("JSON.GET doc $.a", "\"[[1,2]]\""),
        ("EXISTS seen", "(integer) 0"),
    ] {
        assert_eq!(app.exec(&back, line).await.text, expected, "{line}");
    }
    let ttl = app.exec(&back, "TTL greeting").await.text;
    assert!(ttl.starts_with("(integer) 3"), "the TTL came back: {ttl}");
    let mut console = app.ws(&back).await;
    loop {
        if let protocol::ServerMessage::Notice { notice } = console.next().await {
            assert!(
                notice.message.contains("7 keys are back"),
                "{}",
                notice.message
            );
            assert!(
                notice.message.contains("seen"),
                "the Bloom filter is named: {}",
                notice.message
            );
            break;
        }
    }
}
