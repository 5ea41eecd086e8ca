//! End to end in headless Chromium: the built app (dist/) against the real
//! backend.

use crate::support::browser::Browser;
use crate::support::pages::{LessonPage, Outline};
use crate::support::TestApp;

#[tokio::test]
async fn lesson_list_from_the_backend_is_shown_and_opens_a_lesson() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "dist/ is not built: run `make test` (it runs `trunk build --release` first)"
    );
    let browser = Browser::visit(&app.base, 1280, 860).await;
    let outline = Outline::new(&browser);

    let first = outline.first_lesson().await;
    let expected = &app.state.course.lessons[0].meta.title;
    assert_eq!(&first.text().await.unwrap(), expected);
    assert_eq!(outline.lesson_count().await, app.state.course.lessons.len());
    outline.wait_engine_badge().await;
    browser.screenshot("lesson-list.png").await;

    first.click().await.unwrap();
    let lesson = LessonPage::new(&browser);
    assert_eq!(&lesson.title().await, expected);
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/lesson/why-redis");
    browser
        .wait_for(".lesson-body pre code.language-redis")
        .await;
    browser.screenshot("lesson.png").await;
    browser.close().await;
}

#[tokio::test]
async fn reading_the_outline_creates_no_sandbox() {
    let app = TestApp::spawn().await;
    let browser = Browser::visit(&app.base, 1280, 860).await;
    Outline::new(&browser).first_lesson().await;
    // Give a would-be connection time to ask for a session.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(
        app.state.sessions.len(),
        0,
        "the outline has no console, so it must not take a sandbox"
    );
    let stored = browser
        .js("return localStorage.getItem('redis-tutor.session');")
        .await;
    assert!(stored.is_null(), "{stored}");
    browser.close().await;
}
