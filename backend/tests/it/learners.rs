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
