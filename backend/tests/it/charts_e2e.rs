//! Live charts in headless Chromium: each simulator's controls, counters
//! and canvas while frames stream in, and the screenshots in the README.

use std::time::Duration;

use crate::support::browser::Browser;
use crate::support::pages::{ChartPanel, ConsolePage};
use crate::support::TestApp;

#[tokio::test]
async fn the_rate_limit_chart_updates_live() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1400).await;
    let chart = ChartPanel::open(&browser, "rate-chart").await;
    let before = chart.picture().await;
    // A short run: 5 per 2 s per user, 2 users, 80 requests/s in bursts.
    chart.set_number("sim-duration", "9").await;
    // The learner's own limiter runs beside the built-in ones.
    chart.click("sim-custom").await;
    chart
        .wait_exists("sim-custom-script", "the script box")
        .await;
    chart.click("sim-start").await;
    chart
        .wait_exists("rate-counter-FixedWindow", "counters to appear")
        .await;
    let first = chart.text("rate-counter-FixedWindow").await;
    chart
        .wait_text(
            "rate-counter-FixedWindow",
            &format!("t !== {}", serde_json::to_string(&first).unwrap()),
            "the counters to change",
        )
        .await;
    chart.wait_redrawn(&before, "the canvas to redraw").await;
    // Let the run finish so the picture shows whole windows.
    chart.wait_status("finished").await;
    let bucket = chart.text("rate-counter-TokenBucket").await;
    assert!(bucket.contains("blocked"), "{bucket}");
    // The per-user numbers say what they count.
    assert!(bucket.contains("allowed / sent per user"), "{bucket}");
    let custom = chart.text("rate-counter-Custom").await;
    assert!(custom.starts_with("your script"), "{custom}");
    assert!(chart.is_drawn_at_display_size().await);
    chart.show().await;
    browser.screenshot("chart-rate-limit.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_latency_charts_follow_commands_the_probe_and_the_comparison() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1500).await;
    let chart = ChartPanel::open(&browser, "latency-chart").await;
    let before = chart.picture().await;
    chart.click("probe-toggle").await;
    chart.wait_redrawn(&before, "the probe to draw").await;
    let console = ConsolePage::new(&browser);
    for line in ["HSET lat:user:1 a 1 b 2", "HGETALL lat:user:1"] {
        console.run(line).await;
    }
    chart.click("compare-reads").await;
    chart
        .wait_exists("compare-chart", "the comparison chart")
        .await;
    // Let the probe gather a few seconds of samples for the picture.
    tokio::time::sleep(Duration::from_secs(3)).await;
    chart.show().await;
    browser.screenshot("chart-latency.png").await;
    chart.click("probe-toggle").await;
    let (checked, _) = chart.checkbox("probe-toggle").await;
    assert!(!checked, "the probe stops");
    browser.close().await;
}

#[tokio::test]
async fn the_anomaly_chart_flags_an_injected_spike() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1100).await;
    let chart = ChartPanel::open(&browser, "anomaly-chart").await;
    chart.click("anomaly-start").await;
    // Wait for the warm-up, then spike.
    chart
        .wait_text("anomaly-summary", "parseInt(t) >= 15", "15 samples")
        .await;
    // The series cannot change mid-run, and the page says why.
    assert_eq!(chart.checkbox("anomaly-flat").await, (false, true));
    assert!(chart.exists("anomaly-flat-note").await);
    chart.click("anomaly-spike").await;
    chart
        .wait_text(
            "anomaly-summary",
            "/stable script flagged [1-9]\\d* times?/.test(t)",
            "the spike to be flagged",
        )
        .await;
    let summary = chart.text("anomaly-summary").await;
    // Counts read as English: "1 time", "2 times".
    assert!(!summary.contains(" 1 times"), "{summary}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    chart.show().await;
    browser.screenshot("chart-anomaly.png").await;

    // After Stop, a flat series can be chosen and started.
    chart.click("anomaly-stop").await;
    chart.wait_status("Stopped").await;
    assert_eq!(chart.checkbox("anomaly-flat").await, (false, false));
    chart.click("anomaly-flat").await;
    chart.click("anomaly-start").await;
    chart
        .wait_text("anomaly-summary", "parseInt(t) >= 5", "flat samples")
        .await;
    browser.close().await;
}

#[tokio::test]
async fn the_streams_view_shows_a_killed_consumer_recovered_by_xautoclaim() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1000).await;
    let chart = ChartPanel::open(&browser, "streams-chart").await;
    chart.click("streams-start").await;
    chart
        .wait_text(
            "streams-summary",
            "t.startsWith('XLEN')",
            "the stream to run",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    chart.click("streams-kill").await;
    // The dead worker's messages pile up as pending...
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    // ...until XAUTOCLAIM (idle ≥ 1 s) hands them to a live worker.
    chart.click("streams-recover").await;
    chart
        .wait_text(
            "streams-summary",
            "!t.endsWith('XAUTOCLAIM 0')",
            "messages to be recovered",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    chart.show().await;
    browser.screenshot("chart-streams.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_memory_explorer_plots_encoding_changes_and_embedding_sizes() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 1100).await;
    let chart = ChartPanel::open(&browser, "memory-chart").await;
    let before = chart.picture().await;
    for button in [
        "memory-hash",
        "memory-set",
        "memory-zset",
        "memory-embeddings",
    ] {
        chart.click(button).await;
    }
    chart
        .wait_text(
            "embedding-sizes",
            "t.includes('float32')",
            "the embedding sizes",
        )
        .await;
    chart.wait_redrawn(&before, "the curves").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    chart.show().await;
    browser.screenshot("chart-memory.png").await;
    browser.close().await;
}
