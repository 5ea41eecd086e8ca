//! The learner end to end in headless Chromium: progress kept on the
//! server and brought back by the continue link (after the browser forgot
//! everything, and in a fresh browser profile), a name that survives a
//! reload and is only ever text, writes kept while the server cannot
//! take them, and "Forget me".

use crate::lessons_e2e::fixture_app;
use crate::support::browser::Browser;
use crate::support::pages::{LearnerPanel, LessonPage, Outline};
use crate::support::TestApp;

/// `GET /api/me` with `token`, as another device would ask.
async fn server_me(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/me", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Runs the first block of the Counters lesson and waits until the server
/// has the step.
async fn run_first_block(browser: &Browser) {
    let lesson = LessonPage::new(browser);
    lesson.run_block(0).await;
    lesson.wait_run_result(0).await;
    lesson.wait_status("in progress").await;
    LearnerPanel::new(browser).wait_saved().await;
}

/// The address bar after a continue link: the token must be gone from it.
async fn assert_token_not_in_address_bar(browser: &Browser) {
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/continue");
    assert_eq!(url.fragment(), None, "the token stayed in {url}");
}

#[tokio::test]
async fn progress_comes_back_through_the_continue_link_after_the_browser_forgot_it() {
    let app = fixture_app().await;
    let browser = Browser::open(&format!("{}/lesson/counters", app.base), 1280, 860).await;
    let learner = LearnerPanel::new(&browser);
    run_first_block(&browser).await;
    let link = learner.continue_url().await;
    let token = learner.stored_token().await.expect("a learner token");
    assert!(link.ends_with(&format!("/continue#{token}")), "{link}");

    learner.clear_storage().await;
    browser.client.goto(&link).await.unwrap();
    Outline::new(&browser)
        .wait_progress("in progress", "the server's progress in the outline")
        .await;
    assert_token_not_in_address_bar(&browser).await;
    assert_eq!(learner.stored_token().await, Some(token));
    browser.close().await;
}

#[tokio::test]
async fn a_step_run_while_progress_cannot_be_saved_is_sent_when_it_can() {
    let app = fixture_app().await;
    let browser = Browser::open(&format!("{}/lesson/counters", app.base), 1280, 860).await;
    let learner = LearnerPanel::new(&browser);
    learner.wait_saved().await;

    learner.cut_progress_writes().await;
    let lesson = LessonPage::new(&browser);
    lesson.run_block(0).await;
    lesson.wait_run_result(0).await;
    learner.wait_offline().await;
    assert_eq!(learner.outbox().await, ["counters#one-command-no-race"]);

    // Back online: the retry sends it, and the server has it.
    learner.restore_progress_writes().await;
    learner.wait_saved().await;
    let token = learner.stored_token().await.unwrap();
    let me: protocol::Me = server_me(&app, &token).await.json().await.unwrap();
    assert_eq!(me.progress["counters"], ["one-command-no-race"]);
    browser.close().await;
}

#[tokio::test]
async fn a_name_survives_a_reload_and_is_shown_as_text() {
    let app = fixture_app().await;
    let browser = Browser::visit(&app.base, 1280, 860).await;
    let learner = LearnerPanel::new(&browser);
    learner.wait_name("Anonymous learner").await;
    learner.wait_saved().await;

    let markup = "<b>Ada</b> & co";
    assert_eq!(learner.set_name(markup).await, "Saved.");
    learner.wait_name(markup).await;
    browser.client.refresh().await.unwrap();
    learner.wait_name(markup).await;
    assert!(!learner.name_has_elements().await, "the name became markup");

    // Too long for the server: the form says why, and the name stays.
    let said = learner.paste_name(&"x".repeat(41)).await;
    assert!(said.contains("at most 40 characters"), "{said}");
    learner.wait_name(markup).await;
    browser.close().await;
}

#[tokio::test]
async fn the_continue_link_restores_the_same_learner_in_a_fresh_browser() {
    let app = fixture_app().await;
    let first = Browser::open(&format!("{}/lesson/counters", app.base), 1280, 860).await;
    run_first_block(&first).await;
    let learner = LearnerPanel::new(&first);
    assert_eq!(learner.set_name("Grace").await, "Saved.");
    let link = learner.continue_url().await;
    let token = learner.stored_token().await;
    first.close().await;

    // Another profile: nothing of the first browser's storage.
    let second = Browser::visit(&link, 1280, 860).await;
    let there = LearnerPanel::new(&second);
    there.wait_name("Grace").await;
    Outline::new(&second)
        .wait_progress("in progress", "the first browser's progress")
        .await;
    assert_token_not_in_address_bar(&second).await;
    assert_eq!(there.stored_token().await, token);
    assert_eq!(there.continue_url().await, link);
    assert!(
        there
            .progress_line()
            .await
            .starts_with("1 step run in 1 lesson"),
        "{}",
        there.progress_line().await
    );
    second.screenshot("learner.png").await;

    // Forget me: erased on the server, and here.
    let said = there.forget_confirmed().await;
    assert!(said.contains("your name “Grace”"), "{said}");
    there.wait_name("Anonymous learner").await;
    assert_eq!(there.stored_token().await, None);
    let me = server_me(&app, &token.unwrap()).await;
    assert_eq!(me.status(), reqwest::StatusCode::UNAUTHORIZED);
    second.close().await;
}
