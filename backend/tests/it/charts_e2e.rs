//! Live charts in headless Chromium: the rate-limit simulator's counters
//! change and its canvas redraws while frames stream in.

use crate::support::browser::Browser;
use crate::support::TestApp;

#[tokio::test]
async fn the_rate_limit_chart_updates_live() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    let browser = Browser::launch().await;
    browser.client.set_window_size(1280, 1400).await.unwrap();
    browser
        .client
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-status]')?.textContent === 'Connected'",
            "the console to connect",
        )
        .await;
    browser.wait_for("[data-testid=rate-chart]").await;
    let before = browser
        .js("return document.querySelector('[data-testid=rate-chart]').toDataURL();")
        .await;
    // A short, brisk run: 5 per 2 s per user against 60 requests/s.
    browser
        .js("const d = document.querySelector('[data-testid=sim-duration]'); d.value = '9'; d.dispatchEvent(new Event('change', { bubbles: true }));")
        .await;
    browser
        .wait_for("[data-testid=sim-start]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "document.querySelector('[data-testid=rate-counter-FixedWindow]') !== null",
            "counters to appear",
        )
        .await;
    let first = browser
        .js("return document.querySelector('[data-testid=rate-counter-FixedWindow]').textContent;")
        .await;
    browser
        .wait_until(
            &format!(
                "document.querySelector('[data-testid=rate-counter-FixedWindow]').textContent !== {first}"
            ),
            "the counters to change",
        )
        .await;
    browser
        .wait_until(
            &format!("document.querySelector('[data-testid=rate-chart]').toDataURL() !== {before}"),
            "the canvas to redraw",
        )
        .await;
    // Let the run finish so the picture shows whole windows.
    browser
        .wait_until(
            "document.querySelector('.chart-status').textContent.includes('finished')",
            "the run to finish",
        )
        .await;
    let blocked = browser
        .js("return document.querySelector('[data-testid=rate-counter-TokenBucket]').textContent;")
        .await;
    assert!(blocked.as_str().unwrap().contains("blocked"), "{blocked}");
    browser
        .js("document.querySelector('.chart-panel').scrollIntoView();")
        .await;
    browser.screenshot("chart-rate-limit.png").await;
    browser.close().await;
}
