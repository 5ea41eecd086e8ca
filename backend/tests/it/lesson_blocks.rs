//! Every runnable block of every lesson, in order, each lesson in a fresh
//! sandbox on the real engine: no unexpected error, declared outputs match,
//! expected errors happen, task solutions pass their checks, and every key
//! stays inside the lesson's prefix. The text is held to the same standard:
//! a "What just happened" paragraph may not quote a reply its block's
//! declared output lacks, and no lesson may use a word that names our own
//! working documents (`redis-tutor check-lessons` only warns about those;
//! here they fail, since a warning in a passing test is never read).

use std::net::{IpAddr, Ipv4Addr};

use backend::lessons::{lint, runner};

use crate::support::TestApp;

#[tokio::test]
async fn every_block_of_every_lesson_runs_as_declared() {
    let app = TestApp::with_limits(|l| {
        l.sandboxes_per_ip = usize::MAX;
        l.spawns_per_min_per_ip = u32::MAX;
        l.pool_size = 4;
    })
    .await;
    let course = app.state.course.clone();
    assert!(!course.lessons.is_empty());
    let mut failures = Vec::new();
    let mut blocks = 0;
    for lesson in &course.lessons {
        let missing: Vec<_> = lesson
            .requires()
            .filter(|c| !app.state.engine.has(*c))
            .collect();
        assert!(
            missing.is_empty(),
            "the bundled engine must run every lesson: {}",
            lesson.path.display()
        );
        let session = app
            .state
            .sessions
            .create(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await
            .unwrap();
        let findings = lint::lint_file(&lesson.path).unwrap();
        failures.extend(findings.errors);
        failures.extend(findings.warnings);
        failures.extend(runner::run_lesson(&app.state.gateway, &session, lesson).await);
        blocks += lesson.blocks.runnable.len();
        app.state.sessions.remove(&session.id).await;
    }
    assert!(blocks > 0);
    assert!(
        failures.is_empty(),
        "{} problems in the lessons:\n{}",
        failures.len(),
        failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
