//! End to end in headless Chromium: the built app (dist/) against the real
//! backend.

use crate::support::browser::Browser;
use crate::support::TestApp;

#[tokio::test]
async fn lesson_list_from_the_backend_is_shown_and_opens_a_lesson() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "dist/ is not built: run `make test` (it runs `trunk build --release` first)"
    );
    let browser = Browser::launch().await;
    browser.client.goto(&app.base).await.unwrap();

    let first = browser
        .wait_for("[data-testid=lesson-list] .outline-item .outline-name")
        .await;
    let expected = &app.state.course.lessons[0].meta.title;
    assert_eq!(&first.text().await.unwrap(), expected);
    let items = browser
        .client
        .find_all(fantoccini::Locator::Css(".outline-item"))
        .await
        .unwrap();
    assert_eq!(items.len(), app.state.course.lessons.len());
    browser.wait_for(".engine-badge").await;
    browser.screenshot("lesson-list.png").await;

    first.click().await.unwrap();
    let title = browser.wait_for(".lesson-title").await;
    assert_eq!(&title.text().await.unwrap(), expected);
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/lesson/why-redis");
    browser
        .wait_for(".lesson-body pre code.language-redis")
        .await;
    browser.screenshot("lesson.png").await;
    browser.close().await;
}
