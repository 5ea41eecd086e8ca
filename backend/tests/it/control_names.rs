//! Display names and progress steps as learners send them: a name too long
//! or holding control characters is refused with a JSON error (on create
//! and on rename, leaving the old name), HTML and emoji come back as the
//! very same text; an unknown lesson or step is refused, a repeated step
//! is kept once.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::server::{content_type, error_code, ServerDirs, ServerProcess};

/// Asserts a 400 with a JSON error body; returns its message.
async fn assert_bad_request(response: reqwest::Response, what: &str) -> String {
    let status = response.status();
    let content_type = content_type(&response);
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert!(
        content_type.starts_with("application/json"),
        "{what}: {content_type}"
    );
    assert_eq!(
        error_code(&body).as_deref(),
        Some("invalid_request"),
        "{what}: {body}"
    );
    let value: Value = serde_json::from_str(&body).unwrap();
    value["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn create_raw(server: &ServerProcess, body: Value) -> reqwest::Response {
    server
        .http
        .post(server.url("/api/learners"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn names_too_long_or_with_control_characters_are_refused_as_json() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let ada = server.new_learner(json!({"name": "Ada"})).await;

    // The limit counts characters, not bytes: 40 two-byte ones fit.
    for fits in ["x".repeat(40), "é".repeat(40)] {
        let created = server.new_learner(json!({ "name": fits })).await;
        assert_eq!(
            server.me(&created.token).await.name.as_deref(),
            Some(fits.as_str())
        );
    }
    let refused = [
        ("41 characters", "x".repeat(41)),
        ("41 two-byte characters", "é".repeat(41)),
        ("a very long name", "A".repeat(10_000)),
        ("a new line", "Ada\nLovelace".into()),
        ("a tab", "Ada\tLovelace".into()),
        ("a NUL", "Ada\u{0}".into()),
        ("an escape sequence", "\u{1b}[31mAda".into()),
        ("DEL", "Ada\u{7f}".into()),
        ("a C1 control", "Ada\u{85}Lovelace".into()),
        ("a carriage return", "Ada\rLovelace".into()),
    ];
    for (what, name) in &refused {
        let message =
            assert_bad_request(create_raw(&server, json!({ "name": name })).await, what).await;
        assert!(!message.is_empty(), "{what}: a sentence says why");
        assert_bad_request(server.rename(&ada.token, json!(name)).await, what).await;
    }
    assert_eq!(
        server.me(&ada.token).await.name.as_deref(),
        Some("Ada"),
        "refused renames leave the name as it was"
    );
    // Surrounding white space (control characters among it) is trimmed
    // away or refused; either way none is stored.
    for name in ["Ada\n", "\tAda", "Ada\r\n", "Ada\u{85}"] {
        let response = create_raw(&server, json!({ "name": name })).await;
        if response.status() == StatusCode::CREATED {
            let created: protocol::LearnerCreated = response.json().await.unwrap();
            let stored = server.me(&created.token).await.name.unwrap_or_default();
            assert!(
                !stored.chars().any(char::is_control),
                "{name:?} stored as {stored:?}"
            );
        } else {
            assert_bad_request(response, &format!("{name:?}")).await;
        }
    }
    // Not a string at all.
    assert_bad_request(create_raw(&server, json!({"name": 42})).await, "a number").await;
    assert_bad_request(server.rename(&ada.token, json!(["Ada"])).await, "an array").await;
}

#[tokio::test]
async fn html_and_emoji_in_a_name_come_back_verbatim() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let html = r#"<script>alert("x")</script>&amp; 'q'"#;
    let learner = server.new_learner(json!({ "name": html })).await;
    let response = server.me_raw(&learner.token).await;
    let content_type = content_type(&response);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let me: protocol::Me = response.json().await.unwrap();
    assert_eq!(
        me.name.as_deref(),
        Some(html),
        "stored and returned as data"
    );

    for name in ["Ada Lovelace 🚀", "<b>Grace</b>", "Ωμέγα"] {
        assert_eq!(
            server.rename(&learner.token, json!(name)).await.status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(server.me(&learner.token).await.name.as_deref(), Some(name));
    }
    assert_eq!(
        server.rename(&learner.token, Value::Null).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.me(&learner.token).await.name,
        None,
        "null clears the name"
    );
}

#[tokio::test]
async fn progress_takes_only_real_steps_and_keeps_each_once_in_first_run_order() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let pages = server.lessons().await;
    let page = pages
        .iter()
        .find(|p| p.steps.len() >= 3)
        .expect("a lesson with three steps");
    let other = pages
        .iter()
        .find(|p| p.summary.slug != page.summary.slug && !p.steps.is_empty())
        .and_then(|p| {
            p.steps
                .iter()
                .find(|s| !page.steps.contains(s))
                .map(|s| s.to_owned())
        })
        .expect("a step of another lesson only");
    let slug = page.summary.slug.as_str();
    let learner = server.new_learner(json!({})).await;

    for (what, lesson, step) in [
        (
            "an unknown lesson",
            "no-such-lesson",
            page.steps[0].as_str(),
        ),
        ("an unknown step", slug, "no-such-step"),
        ("another lesson's step", slug, other.as_str()),
        ("an empty step", slug, ""),
    ] {
        let response = server.progress(&learner.token, lesson, step).await.unwrap();
        assert_bad_request(response, what).await;
    }
    for body in [json!({}), json!({"lesson": slug}), json!("step")] {
        let response = server
            .http
            .post(server.url("/api/me/progress"))
            .bearer_auth(&learner.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_bad_request(response, &body.to_string()).await;
    }
    assert!(server.me(&learner.token).await.progress.is_empty());

    // Out of the lesson's order, with repeats: kept once, first run first.
    let order = [2, 0, 2, 1, 0, 1];
    for i in order {
        let response = server
            .progress(&learner.token, slug, &page.steps[i])
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let me = server.me(&learner.token).await;
    assert_eq!(
        me.progress.get(slug),
        Some(&vec![
            page.steps[2].clone(),
            page.steps[0].clone(),
            page.steps[1].clone()
        ])
    );
    assert_eq!(me.progress.len(), 1);
}
