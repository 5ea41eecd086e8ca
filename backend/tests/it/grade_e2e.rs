//! Grading end to end in headless Chromium, as a learner does it on the
//! rate-limiter exercise: write a library, Load it into their Redis (the
//! console shows Redis's answer too), Grade, read the failing check and its
//! hint, fix the library, grade again and pass; the outline then shows the
//! best grade. The libraries are the graders' own fixtures.

use std::time::{Duration, Instant};

use crate::support::browser::Browser;
use crate::support::grading::library;
use crate::support::pages::{ConsolePage, ExercisePanel, Outline};
use crate::support::TestApp;

const EXERCISE: &str = "rate-limiter";
/// The server's pace for grading (backend/src/grading/throttle.rs).
const GRADE_EVERY: Duration = Duration::from_secs(10);

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    app
}

/// The rate-limiter exercise's lesson, its console connected.
async fn open_exercise(app: &TestApp) -> Browser {
    Browser::open(
        &format!("{}/lesson/exercise-rate-limiter", app.base),
        1280,
        860,
    )
    .await
}

#[tokio::test]
async fn the_editor_indents_with_tab_and_a_compile_error_names_its_line() {
    let app = app().await;
    let browser = open_exercise(&app).await;
    let panel = ExercisePanel::open(&browser).await;
    assert_eq!(
        panel.contract_functions().await,
        ["rl_sliding", "rl_bucket"]
    );
    // A fresh editor starts from a skeleton of the contract.
    assert!(panel.library().await.starts_with("#!lua name="));

    panel.set_library("local x = 1").await;
    panel.press_tab_at_end().await;
    assert_eq!(panel.library().await, "local x = 1  ");
    assert_eq!(panel.focused().await, "exercise-editor");

    panel.set_library("#!lua name=broken\n\nlocal = 1\n").await;
    let answer = panel.load().await;
    assert!(answer.is_error, "{answer:?}");
    assert!(
        answer.text.starts_with("Line 3 of your library: ")
            && answer.text.contains("user_function:3:"),
        "{answer:?}"
    );

    // The draft survives a reload.
    browser.client.refresh().await.unwrap();
    let panel = ExercisePanel::open(&browser).await;
    assert_eq!(panel.library().await, "#!lua name=broken\n\nlocal = 1\n");
    browser.close().await;
}

#[tokio::test]
async fn a_wrong_library_fails_one_check_with_a_hint_and_the_fix_passes() {
    let app = app().await;
    let browser = open_exercise(&app).await;
    let console = ConsolePage::new(&browser);
    let panel = ExercisePanel::open(&browser).await;

    // Counts rejected requests in the log: one mistake, one failing check.
    panel
        .set_library(&library(EXERCISE, "counts-rejected"))
        .await;
    let answer = panel.load().await;
    assert_eq!(answer.text, "\"ratelimit\"", "{answer:?}");
    assert!(!answer.is_error);
    console
        .wait_last_reply("\"ratelimit\"", "FUNCTION LOAD's answer in the console")
        .await;

    let first = Instant::now();
    panel.grade().await;
    assert!(panel.wait_progress().await.starts_with("Grading…"));
    let report = panel.wait_report().await.expect("a report");
    assert_eq!(report.status, "fail", "{report:#?}");
    assert_eq!(
        report.failing(),
        ["sliding-rejected-not-counted"],
        "{report:#?}"
    );
    let failing = &report.checks.iter().find(|c| c.status == "fail").unwrap();
    assert!(!failing.message.is_empty(), "{failing:?}");
    assert!(
        failing
            .hint
            .as_deref()
            .is_some_and(|h| h.len() > "Hint: ".len()),
        "{failing:?}"
    );
    assert!(
        failing
            .step
            .as_deref()
            .is_some_and(|s| s.starts_with("/lesson/")),
        "{failing:?}"
    );

    // Graded again at once, the server's sentence says how long to wait
    // (only testable when the first run was quick).
    if first.elapsed() < GRADE_EVERY - Duration::from_secs(2) {
        panel.grade().await;
        let refused = panel.wait_report().await.expect_err("a refusal");
        assert!(refused.contains("once every 10 s"), "{refused}");
    }

    // The fix: the reference library.
    panel.set_library(&library(EXERCISE, "reference")).await;
    assert_eq!(panel.load().await.text, "\"ratelimit\"");
    tokio::time::sleep((GRADE_EVERY + Duration::from_millis(500)).saturating_sub(first.elapsed()))
        .await;
    // The server's 10 s window starts when it took the first run, which a
    // loaded machine makes later than `first`: wait out what it says.
    let mut report = None;
    for _ in 0..3 {
        panel.grade().await;
        match panel.wait_report().await {
            Ok(done) => {
                report = Some(done);
                break;
            }
            Err(refused) if refused.contains("once every") => {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(other) => panic!("a report: {other}"),
        }
    }
    let report = report.expect("a report within the grading pace");
    assert_eq!(report.status, "pass", "{report:#?}");
    assert!(report.failing().is_empty(), "{report:#?}");
    let max = report.checks.len();
    assert!(
        report.summary.starts_with(&format!("{max}/{max}")),
        "{report:#?}"
    );
    assert!(
        report.figures > 0,
        "a measured figure is drawn: {report:#?}"
    );
    panel.show_report().await;
    browser.screenshot("grading.png").await;

    // The outline shows the best grade.
    browser.client.goto(&app.base).await.unwrap();
    Outline::new(&browser)
        .wait_best_score(&format!("best {max}/{max}"))
        .await;
    browser.close().await;
}
