//! `POST /api/learners` and `/api/me` through the in-process app.

use protocol::{LearnerCreated, Me};

use crate::support::TestApp;

async fn create(app: &TestApp, body: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(format!("{}/api/learners", app.base));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_learner_is_made_from_an_empty_body_an_empty_object_or_a_name() {
    let app = TestApp::spawn().await;
    for body in [None, Some("{}"), Some(r#"{"name":"Ada"}"#)] {
        let response = create(&app, body).await;
        assert_eq!(response.status(), 201, "{body:?}");
        let created: LearnerCreated = response.json().await.unwrap();
        assert!(created.token.len() >= 32, "at least 128 random bits");
        let me: Me = app.get_json_as(&created.token, "/api/me").await;
        assert_eq!(me.learner, created.learner);
        let want = body.filter(|b| b.contains("Ada")).map(|_| "Ada".to_owned());
        assert_eq!(me.name, want);
    }
}

#[tokio::test]
async fn a_malformed_learner_body_is_a_json_400() {
    let app = TestApp::spawn().await;
    let response = create(&app, Some("{not json")).await;
    assert_eq!(response.status(), 400);
    let err: protocol::ApiError = response.json().await.unwrap();
    assert_eq!(err.error.code, "invalid_request");
}

/// Each new learner is a record in the shared store, so one address may
/// create only so many a minute (`--learners-per-min-per-ip`), and the
/// refusal says so.
#[tokio::test]
async fn one_address_creates_only_so_many_learners_a_minute() {
    let mut config = crate::support::default_config();
    config.learners_per_min_per_ip = 3;
    let app = TestApp::with_config(config).await;
    for _ in 0..3 {
        assert_eq!(create(&app, None).await.status(), 201);
    }
    let refused = create(&app, None).await;
    assert_eq!(refused.status(), 429);
    let err: protocol::ApiError = refused.json().await.unwrap();
    assert_eq!(err.error.code, "rate_limited");
    assert!(
        err.error.message.contains("at most 3 a minute"),
        "{}",
        err.error.message
    );
}

/// A learner nobody has used yet is kept a day; its first write (a step
/// of progress) keeps it for the idle TTL (`--learner-idle-days`).
#[tokio::test]
async fn a_new_learner_is_kept_a_day_until_its_first_write() {
    let app = TestApp::spawn().await;
    let created: LearnerCreated = create(&app, None).await.json().await.unwrap();
    let key = backend::control::schema::learner(&created.learner);
    let ttl_secs = |app: &TestApp, key: String| {
        let control = app.state.control.clone();
        async move {
            let value = control.call(redis::cmd("TTL").arg(key)).await.unwrap();
            redis::from_redis_value::<i64>(value).unwrap()
        }
    };
    let day = 24 * 60 * 60;
    let fresh = ttl_secs(&app, key.clone()).await;
    assert!(fresh > day - 60 && fresh <= day, "TTL {fresh}");
    let lesson = &app.state.course.lessons[0];
    let step = lesson.blocks.steps.last().expect("a lesson has steps");
    let progress = app
        .http
        .post(format!("{}/api/me/progress", app.base))
        .bearer_auth(&created.token)
        .json(&serde_json::json!({"lesson": lesson.meta.slug, "step": step}))
        .send()
        .await
        .unwrap();
    assert_eq!(progress.status(), 200);
    let used = ttl_secs(&app, key).await;
    assert!(used > 80 * day, "TTL {used}");
}
