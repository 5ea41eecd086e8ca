//! Lessons end to end in headless Chromium: Run a block into the console,
//! previous/next, progress that survives a reload, and a Try-it task.

use crate::support::browser::Browser;
use crate::support::{default_config, fixture, TestApp};

const LAST_REPLY: &str =
    "(() => { const r = document.querySelectorAll('[data-testid=console-reply]'); return r.length ? r[r.length - 1].textContent : ''; })()";

#[tokio::test]
async fn run_navigate_keep_progress_and_complete_a_task() {
    let mut config = default_config();
    config.lessons_dir = fixture("tasks");
    let app = TestApp::with_config(config).await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    let browser = Browser::open(
        &format!("{}/lesson/counters#one-command-no-race", app.base),
        1280,
        860,
    )
    .await;

    // Run the first block: its replies appear in the console.
    browser
        .wait_for(".runnable[data-block='0'] .run-button")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            &format!("{LAST_REPLY} === '(integer) 2'"),
            "the block's replies",
        )
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=lesson-status]').textContent === 'in progress'",
            "progress",
        )
        .await;

    // A task: Check fails first, then passes after the learner's command.
    browser
        .wait_for(".task .task-check")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('.task-result').dataset.passed === 'false'",
            "a failed check",
        )
        .await;
    browser
        .wait_for(".task .task-show-solution")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "!document.querySelector('.task-solution').hidden",
            "the solution to show",
        )
        .await;
    browser
        .wait_for(".task-solution .run-button")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            &format!("{LAST_REPLY} === '(integer) 10'"),
            "the solution's reply",
        )
        .await;
    browser
        .wait_for(".task .task-check")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('.task-result').dataset.passed === 'true'",
            "a passed check",
        )
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=lesson-status]').textContent === 'completed'",
            "completion",
        )
        .await;
    browser.screenshot("lesson-task.png").await;

    // Next and previous.
    browser
        .wait_for(".lesson-next")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('.lesson-title')?.textContent === 'Second'",
            "the next lesson",
        )
        .await;
    browser
        .wait_for(".lesson-prev")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('.lesson-title')?.textContent === 'Counters'",
            "the previous lesson",
        )
        .await;

    // Progress survives a reload and shows in the outline.
    browser.client.goto(&app.base).await.unwrap();
    browser
        .wait_until(
            "Array.from(document.querySelectorAll('[data-testid=outline-progress]')).map(e => e.textContent).join(',') === 'completed,visited'",
            "progress in the outline",
        )
        .await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_until(
            "document.querySelector('[data-testid=outline-progress]')?.textContent === 'completed'",
            "progress after a reload",
        )
        .await;
    browser.close().await;
}
