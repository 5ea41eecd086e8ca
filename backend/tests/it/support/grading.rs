//! Grading a library in a test: a fresh engine, the library loaded from
//! its source, and the real grader (the code the server and the CLI run)
//! driving it. The reference and wrong-but-plausible libraries live in
//! `backend/tests/fixtures/grading/<exercise>/`.

use std::path::PathBuf;
use std::sync::Arc;

use backend::engine::Engine;
use backend::grading::{self, harness::Connector, Harness};
use protocol::{GradeReport, GradeStatus};
use redis::aio::ConnectionLike;

use super::{default_config, workspace_root, TestRedis};

/// `backend/tests/fixtures/grading/<exercise>/<name>.lua`, read.
pub fn library(exercise: &str, name: &str) -> String {
    let path: PathBuf = workspace_root()
        .join("backend/tests/fixtures/grading")
        .join(exercise)
        .join(format!("{name}.lua"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Grades `code` (one library's source) as exercise `exercise` in a fresh
/// engine of its own.
pub async fn grade(exercise: &str, code: &str) -> GradeReport {
    let engine = Engine::discover(&default_config().engine_dir).expect("engine");
    let redis = TestRedis::start(&engine).await;
    let mut conn = redis.connect().await.expect("connect");
    let loaded = conn
        .req_packed_command(redis::cmd("FUNCTION").arg("LOAD").arg(code))
        .await
        .expect("FUNCTION LOAD answers");
    assert!(
        !matches!(loaded, redis::Value::ServerError(_)),
        "the library loads: {loaded:?}"
    );
    let url = format!("unix://{}", redis.socket.display());
    let client = redis::Client::open(url).expect("client");
    let connect: Connector = Box::new(move || {
        let client = client.clone();
        Box::pin(async move { client.get_multiplexed_async_connection().await })
    });
    let exercise = grading::find(exercise).expect("exercise exists");
    let report = exercise
        .run(Arc::new(Harness::new(connect)), "test".into())
        .await;
    drop(redis);
    report
}

/// Grading with random keys is stable: the exercise's reference library
/// passes `runs` runs, four engines at a time (two cores).
pub async fn assert_reference_is_stable(exercise: &str, runs: usize) {
    let code = library(exercise, "reference");
    for round in 0..runs.div_ceil(4) {
        let batch: Vec<_> = (0..4.min(runs - round * 4))
            .map(|_| {
                let (exercise, code) = (exercise.to_owned(), code.clone());
                tokio::spawn(async move { grade(&exercise, &code).await })
            })
            .collect();
        for (i, run) in batch.into_iter().enumerate() {
            let report = run.await.expect("grading task");
            assert_eq!(
                report.status,
                GradeStatus::Pass,
                "run {}: {report:#?}",
                round * 4 + i + 1
            );
        }
    }
}

/// The message of check `id` in `report`.
pub fn message_of<'a>(report: &'a GradeReport, id: &str) -> &'a str {
    &report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .message
}

/// The status of check `id` in `report`.
pub fn status_of(report: &GradeReport, id: &str) -> GradeStatus {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .status
}

/// Asserts that every check passed, showing the report otherwise.
pub fn assert_passes(report: &GradeReport) {
    assert_eq!(report.status, GradeStatus::Pass, "{report:#?}");
    assert_eq!(report.score, report.max_score, "{report:#?}");
}

/// Asserts that exactly the checks in `failing` fail and every other one
/// passes (a wrong-but-plausible library fails for its one mistake).
pub fn assert_fails_only(report: &GradeReport, failing: &[&str]) {
    for check in &report.checks {
        let want = if failing.contains(&check.id.as_str()) {
            GradeStatus::Fail
        } else {
            GradeStatus::Pass
        };
        assert_eq!(
            check.status, want,
            "check {}: {check:#?}\nreport: {report:#?}",
            check.id
        );
    }
}
