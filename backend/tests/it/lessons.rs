//! The server refuses to start on a broken course and says where it broke.

use backend::AppState;

use crate::support::{default_config, fixture};

async fn startup_error(lessons: &str) -> String {
    let mut config = default_config();
    config.lessons_dir = fixture(lessons);
    match AppState::build(&config).await {
        Ok(_) => panic!("{lessons}: a broken course must not load"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn broken_front_matter_names_file_and_line() {
    let err = startup_error("broken-front-matter").await;
    assert!(err.contains("broken.md:6"), "{err}");
    assert!(err.contains("requirs"), "{err}");
    assert!(err.contains("refusing to start"), "{err}");
}

#[tokio::test]
async fn a_lesson_missing_from_summary_is_named() {
    let err = startup_error("unlisted-lesson").await;
    assert!(err.contains("forgotten.md"), "{err}");
}

#[tokio::test]
async fn the_real_course_loads() {
    let state = AppState::build(&default_config())
        .await
        .expect("lessons/ is valid");
    assert!(!state.course.lessons.is_empty());
}

#[tokio::test]
async fn an_unknown_fence_option_names_file_and_line() {
    let err = startup_error("unknown-fence-option").await;
    assert!(err.contains("odd.md:10"), "{err}");
    assert!(err.contains("run-twice"), "{err}");
}

#[tokio::test]
async fn the_fixture_lesson_passes_the_runner_and_its_task_checks() {
    use crate::support::TestApp;
    let mut config = default_config();
    config.lessons_dir = fixture("tasks");
    let app = TestApp::with_config(config).await;
    let lesson = &app.state.course.lessons[0];
    assert_eq!(lesson.blocks.runnable.len(), 2);
    assert_eq!(
        lesson.blocks.runnable[0].output.as_deref(),
        Some("(integer) 1\n(integer) 2")
    );
    let id = app.new_session().await;
    let session = app.state.sessions.get(&id).unwrap();
    let failures = backend::lessons::runner::run_lesson(&app.state.gateway, &session, lesson).await;
    assert!(failures.is_empty(), "{failures:?}");

    // Over HTTP: Start fresh loads the setup data into an empty sandbox...
    let started = app.post_as(&id, "/api/lessons/counters/start").await;
    assert_eq!(started.status(), 200);
    assert_eq!(app.exec(&id, "DBSIZE").await.text, "(integer) 1");
    // ...and a task fails until the learner does it, then passes.
    let result = app.check_task(&id, "counters", 0).await;
    assert!(!result.passed);
    assert!(
        result.checks[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("expected `10`"),
        "{result:?}"
    );
    app.exec(&id, "SET count:page:pricing 10").await;
    let result = app.check_task(&id, "counters", 0).await;
    assert!(result.passed, "{result:?}");
}

#[tokio::test]
async fn a_wrong_but_plausible_solution_does_not_pass() {
    use crate::support::TestApp;
    let mut config = default_config();
    config.lessons_dir = fixture("tasks");
    let app = TestApp::with_config(config).await;
    let id = app.new_session().await;
    // A number that looks right but is stored as the wrong text.
    app.exec(&id, "SET count:page:pricing 10.0").await;
    let result = app.check_task(&id, "counters", 0).await;
    assert!(!result.passed, "{result:?}");
}

/// Inside an open MULTI a check's reads would only be queued (and answer
/// QUEUED): the check says to finish the transaction, runs nothing, and the
/// learner's EXEC holds only their own commands.
#[tokio::test]
async fn a_task_is_not_checked_inside_an_open_transaction() {
    use crate::support::TestApp;
    let mut config = default_config();
    config.lessons_dir = fixture("tasks");
    let app = TestApp::with_config(config).await;
    let id = app.new_session().await;
    app.exec(&id, "MULTI").await;
    app.exec(&id, "SET count:page:pricing 10").await;
    let result = app.check_task(&id, "counters", 0).await;
    assert!(!result.passed);
    assert!(
        result.checks.iter().all(|c| c
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("EXEC or DISCARD"))),
        "{result:?}"
    );
    assert_eq!(app.exec(&id, "EXEC").await.text, "1) OK");
    assert!(app.check_task(&id, "counters", 0).await.passed);
}
