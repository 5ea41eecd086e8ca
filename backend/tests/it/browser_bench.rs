//! The console-ready benchmark (issue 15): cold loads of a lesson page in
//! headless Chromium, timed by the page itself with the Performance API
//! (navigation and resource timing, first contentful paint, and the app's
//! own marks from `frontend/src/perf.rs`). Every load gets a fresh Chromium
//! profile: an empty HTTP cache and empty localStorage, so it is a first
//! visit (a new learner, a new sandbox session); then each browser visits
//! once more (its cache, learner and session kept). Prints the markdown
//! tables kept in docs/benchmarks.md; `make bench-browser` runs it on its
//! own, and `BROWSER_BENCH_DIST=<dir>` measures another build of the app.

use std::time::Duration;

use backend::metrics::percentile;
use serde::Deserialize;

use crate::support::browser::Browser;
use crate::support::{default_config, TestApp};

/// Cold loads measured.
const LOADS: usize = 10;
/// The goal: console ready, p50, in ms from navigation start.
const GOAL_READY_P50_MS: f64 = 500.0;
/// Serves the app from this folder instead of dist/.
const DIST_VAR: &str = "BROWSER_BENCH_DIST";
/// The app's marks (frontend/src/perf.rs).
const MARKS: [&str; 3] = ["app-started", "lesson-shown", "console-ready"];

/// What one load's page reports, in ms from navigation start.
#[derive(Debug, Deserialize)]
struct Load {
    html: f64,
    fcp: Option<f64>,
    marks: std::collections::HashMap<String, f64>,
    resources: Vec<Resource>,
    /// Bytes that came over the network (HTTP cache hits count 0).
    transferred: f64,
}

/// One fetched resource: its path, when it was asked for, when its last
/// byte arrived.
#[derive(Debug, Deserialize)]
struct Resource {
    path: String,
    start: f64,
    end: f64,
}

/// Everything the page knows about its own load, once the console is ready.
const REPORT: &str = "\
    const nav = performance.getEntriesByType('navigation')[0];\
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];\
    const marks = {};\
    for (const m of performance.getEntriesByType('mark')) marks[m.name] = m.startTime;\
    const resources = performance.getEntriesByType('resource').map(r => ({\
        path: new URL(r.name).pathname, start: r.startTime, end: r.responseEnd }));\
    const transferred = [nav, ...performance.getEntriesByType('resource')]\
        .reduce((sum, r) => sum + r.transferSize, 0);\
    return { html: nav.responseEnd, fcp: fcp ? fcp.startTime : null, marks, resources, transferred };";

/// Finds an event's time in a load, if the load had it.
type Finder = Box<dyn Fn(&Load) -> Option<f64>>;

/// One row of the timeline: a name and how to find its time in a load.
struct Event {
    label: String,
    at: Finder,
}

fn event(label: &str, at: impl Fn(&Load) -> Option<f64> + 'static) -> Event {
    Event {
        label: label.to_owned(),
        at: Box::new(at),
    }
}

fn mark(label: &str, name: &'static str) -> Event {
    event(label, move |load| load.marks.get(name).copied())
}

/// The first resource whose path matches, sent (`start`) or received.
fn resource(label: &str, matches: fn(&str) -> bool, start: bool) -> Event {
    event(label, move |load| {
        let r = load.resources.iter().find(|r| matches(&r.path))?;
        Some(if start { r.start } else { r.end })
    })
}

/// The page's load as a timeline, in the order things happen.
fn timeline(lesson: &str) -> Vec<Event> {
    let lesson_api = format!("GET /api/lessons/{lesson}");
    vec![
        event("index.html received", |l| Some(l.html)),
        event("first contentful paint", |l| l.fcp),
        resource(".js sent", |p| p.ends_with(".js"), true),
        resource(".js received", |p| p.ends_with(".js"), false),
        resource(".wasm sent", |p| p.ends_with(".wasm"), true),
        resource(".wasm received", |p| p.ends_with(".wasm"), false),
        mark("app started (wasm compiled and running)", "app-started"),
        resource(
            &format!("{lesson_api} sent"),
            |p| p.starts_with("/api/lessons/"),
            true,
        ),
        resource(
            &format!("{lesson_api} received"),
            |p| p.starts_with("/api/lessons/"),
            false,
        ),
        mark("**lesson text shown**", "lesson-shown"),
        resource("POST /api/learners sent", |p| p == "/api/learners", true),
        resource(
            "POST /api/learners received",
            |p| p == "/api/learners",
            false,
        ),
        resource("POST /api/sessions sent", |p| p == "/api/sessions", true),
        resource(
            "POST /api/sessions received",
            |p| p == "/api/sessions",
            false,
        ),
        mark(
            "**console ready** (socket open, session answered)",
            "console-ready",
        ),
    ]
}

/// Times in µs, sorted, of `event` over the loads that have it.
fn samples(loads: &[Load], event: &Event) -> Vec<u64> {
    let mut us: Vec<u64> = loads
        .iter()
        .filter_map(|l| (event.at)(l))
        .map(|ms| (ms * 1000.0).round() as u64)
        .collect();
    us.sort_unstable();
    us
}

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

/// The markdown table: one row per event, min/p50/p90/max over the loads.
fn table(loads: &[Load], events: &[Event]) -> String {
    let mut out = String::from(
        "| ms from navigation start | loads | min | p50 | p90 | max |\n|---|---|---|---|---|---|\n",
    );
    for event in events {
        let s = samples(loads, event);
        if s.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            event.label,
            s.len(),
            ms(s[0]),
            ms(percentile(&s, 50.0)),
            ms(percentile(&s, 90.0)),
            ms(s[s.len() - 1]),
        ));
    }
    out
}

/// Opens `url` in `browser` and waits until its console is ready: the
/// page's own report of its load.
async fn visit(browser: &Browser, url: &str) -> Load {
    browser.client.goto(url).await.expect("page loads");
    browser
        .wait_until(
            "performance.getEntriesByName('console-ready', 'mark').length > 0",
            "the console-ready mark",
        )
        .await;
    let load: Load =
        serde_json::from_value(browser.js(REPORT).await).expect("the page's timing report");
    for name in MARKS {
        assert!(load.marks.contains_key(name), "no `{name}` mark: {load:?}");
    }
    load
}

/// A first visit in a fresh browser, then a repeat visit in the same one
/// (its HTTP cache, learner and session kept). The sandbox is given back
/// afterwards, so every first visit starts alike.
async fn first_and_repeat_visit(app: &TestApp, url: &str) -> (Load, Load) {
    let browser = Browser::launch().await;
    browser
        .client
        .set_window_size(1280, 860)
        .await
        .expect("window size");
    let first = visit(&browser, url).await;
    // Away and back, so the repeat is a new navigation rather than a reload.
    browser
        .client
        .goto("about:blank")
        .await
        .expect("blank page");
    let repeat = visit(&browser, url).await;
    // Stored as JSON (gloo's LocalStorage).
    let session = browser
        .js("return JSON.parse(localStorage.getItem('redis-tutor.session'));")
        .await;
    browser.close().await;
    let session = session.as_str().expect("the page stored its session");
    assert_eq!(app.delete(session).await.status(), 204);
    (first, repeat)
}

/// The p50 of what the loads took over the network, in KB.
fn transferred_kb(loads: &[Load]) -> String {
    let mut bytes: Vec<u64> = loads.iter().map(|l| l.transferred as u64).collect();
    bytes.sort_unstable();
    format!("{:.1} KB", percentile(&bytes, 50.0) as f64 / 1000.0)
}

// Served as production serves it: on worker threads of their own, not on
// the test's one thread between its WebDriver calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_bench_console_ready_over_cold_loads() {
    let mut config = default_config();
    // One machine plays ten first-time learners in a few seconds.
    config.limits.spawns_per_min_per_ip = 1_000;
    config.limits.sandboxes_per_ip = LOADS + 1;
    // Another build of the app, to compare (say, before a change).
    if let Some(dist) = std::env::var_os(DIST_VAR) {
        config.dist_dir = dist.into();
    }
    let app = TestApp::with_config(config).await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "{} has no index.html: run `make frontend` first",
        app.state.dist_dir.display()
    );
    let lesson = app.state.course.lessons[0].meta.slug.clone();
    let url = format!("{}/lesson/{lesson}", app.base);
    // The pool warms up before the first load, as on a running server.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut firsts, mut repeats) = (Vec::new(), Vec::new());
    for _ in 0..LOADS {
        let (first, repeat) = first_and_repeat_visit(&app, &url).await;
        firsts.push(first);
        repeats.push(repeat);
    }
    let events = timeline(&lesson);
    println!(
        "\n{LOADS} first visits of /lesson/{lesson}, each in a fresh Chromium profile \
         (empty cache, new learner, new sandbox); p50 transferred {}:\n\n{}",
        transferred_kb(&firsts),
        table(&firsts, &events)
    );
    println!(
        "The same {LOADS} browsers' repeat visits (HTTP cache, learner and session kept); \
         p50 transferred {}:\n\n{}",
        transferred_kb(&repeats),
        table(&repeats, &events)
    );
    let ready = samples(&firsts, &events[events.len() - 1]);
    let p50 = percentile(&ready, 50.0) as f64 / 1000.0;
    println!(
        "first visit, console ready p50: {p50:.1} ms (goal: <= {GOAL_READY_P50_MS} ms) {}",
        if p50 <= GOAL_READY_P50_MS {
            "✔"
        } else {
            "✗"
        }
    );
}
