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
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1400).await;
    browser.wait_for("[data-testid=rate-chart]").await;
    let before = browser
        .js("return document.querySelector('[data-testid=rate-chart]').toDataURL();")
        .await;
    // A short run: 5 per 2 s per user, 2 users, 80 requests/s in bursts.
    browser
        .js("const d = document.querySelector('[data-testid=sim-duration]'); d.value = '9'; d.dispatchEvent(new Event('change', { bubbles: true }));")
        .await;
    // The learner's own limiter runs beside the built-in ones.
    browser
        .js("document.querySelector('[data-testid=sim-custom]').click();")
        .await;
    browser.wait_for("[data-testid=sim-custom-script]").await;
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
    let custom = browser
        .js("return document.querySelector('[data-testid=rate-counter-Custom]').textContent;")
        .await;
    assert!(
        custom.as_str().unwrap().starts_with("your script"),
        "{custom}"
    );
    browser.show_panel("rate-chart").await;
    browser.screenshot("chart-rate-limit.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_latency_charts_follow_commands_the_probe_and_the_comparison() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1500).await;
    let chart = "document.querySelector('[data-testid=latency-chart]').toDataURL()";
    let before = browser.js(&format!("return {chart};")).await;
    browser
        .wait_for("[data-testid=probe-toggle]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(&format!("{chart} !== {before}"), "the probe to draw")
        .await;
    let input = browser.wait_for("[data-testid=console-input]").await;
    for line in ["HSET lat:user:1 a 1 b 2", "HGETALL lat:user:1"] {
        input.send_keys(line).await.unwrap();
        input.send_keys("\u{E007}").await.unwrap();
    }
    browser
        .wait_for("[data-testid=compare-reads]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("[data-testid=compare-chart]").await;
    // Let the probe gather a few seconds of samples for the picture.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    browser
        .js("window.scrollTo(0, document.querySelector('[data-testid=latency-chart]').closest('.chart-panel').offsetTop - 70);")
        .await;
    browser.screenshot("chart-latency.png").await;
    // Off again (clicked by script: the sticky header covers it now).
    browser
        .js("document.querySelector('[data-testid=probe-toggle]').click();")
        .await;
    browser
        .wait_until(
            "!document.querySelector('[data-testid=probe-toggle]').checked",
            "the probe to stop",
        )
        .await;
    browser.close().await;
}

#[tokio::test]
async fn the_anomaly_chart_flags_an_injected_spike() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1100).await;
    browser.wait_for("[data-testid=anomaly-chart]").await;
    browser
        .js("document.querySelector('[data-testid=anomaly-start]').click();")
        .await;
    // Wait for the warm-up, then spike.
    browser
        .wait_until(
            "parseInt(document.querySelector('[data-testid=anomaly-summary]').textContent) >= 15",
            "15 samples",
        )
        .await;
    browser
        .js("document.querySelector('[data-testid=anomaly-spike]').click();")
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=anomaly-summary]').textContent.includes('stable script flagged 1')",
            "the spike to be flagged",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    browser
        .js("window.scrollTo(0, document.querySelector('[data-testid=anomaly-chart]').closest('.chart-panel').offsetTop - 70);")
        .await;
    browser.screenshot("chart-anomaly.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_streams_view_shows_a_killed_consumer_recovered_by_xautoclaim() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1000).await;
    browser.wait_for("[data-testid=streams-chart]").await;
    browser
        .js("document.querySelector('[data-testid=streams-start]').click();")
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=streams-summary]').textContent.startsWith('XLEN')",
            "the stream to run",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    browser
        .js("document.querySelector('[data-testid=streams-kill]').click();")
        .await;
    // The dead worker's messages pile up as pending...
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    // ...until XAUTOCLAIM (idle ≥ 1 s) hands them to a live worker.
    browser
        .js("document.querySelector('[data-testid=streams-recover]').click();")
        .await;
    browser
        .wait_until(
            "!document.querySelector('[data-testid=streams-summary]').textContent.endsWith('XAUTOCLAIM 0')",
            "messages to be recovered",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    browser.show_panel("streams-chart").await;
    browser.screenshot("chart-streams.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_memory_explorer_plots_encoding_changes_and_embedding_sizes() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1100).await;
    browser.wait_for("[data-testid=memory-chart]").await;
    let chart = "document.querySelector('[data-testid=memory-chart]').toDataURL()";
    let before = browser.js(&format!("return {chart};")).await;
    for button in [
        "memory-hash",
        "memory-set",
        "memory-zset",
        "memory-embeddings",
    ] {
        browser
            .js(&format!(
                "document.querySelector('[data-testid={button}]').click();"
            ))
            .await;
    }
    browser
        .wait_until(
            "document.querySelector('[data-testid=embedding-sizes]').textContent.includes('float32')",
            "the embedding sizes",
        )
        .await;
    browser
        .wait_until(&format!("{chart} !== {before}"), "the curves")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    browser.show_panel("memory-chart").await;
    browser.screenshot("chart-memory.png").await;
    browser.close().await;
}
