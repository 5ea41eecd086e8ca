//! The `recommendations` exercise graded on behaviour: the reference
//! library passes every check, run after run, and each wrong-but-plausible
//! library fails the check for its one mistake and passes the others.

use std::sync::Arc;

use backend::grading::{self, harness::Connector, Harness};
use protocol::GradeStatus;

use crate::support::grading::{
    assert_fails_only, assert_passes, assert_reference_is_stable, grade, library,
};

const EXERCISE: &str = "recommendations";

async fn grade_fixture(name: &str) -> protocol::GradeReport {
    grade(EXERCISE, &library(EXERCISE, name)).await
}

#[tokio::test]
async fn the_reference_library_passes_every_check_and_reports_latency() {
    let report = grade_fixture("reference").await;
    assert_passes(&report);
    let latency = report
        .figures
        .iter()
        .find(|f| f.id == "latency")
        .unwrap_or_else(|| panic!("a latency figure: {report:#?}"));
    let labels: Vec<&str> = latency.points.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["p50", "p99"]);
    assert!(latency.points.iter().all(|(_, v)| *v > 0.0), "{latency:?}");
    assert!(
        report.duration_ms < 15_000,
        "took {} ms",
        report.duration_ms
    );
}

#[tokio::test]
async fn overwriting_with_zadd_fails_only_accumulation() {
    let report = grade_fixture("zadd-overwrites").await;
    assert_fails_only(&report, &["weights-accumulate"]);
}

#[tokio::test]
async fn never_acknowledging_fails_only_acknowledgement() {
    let report = grade_fixture("never-acks").await;
    assert_fails_only(&report, &["entries-acknowledged"]);
    let check = report
        .checks
        .iter()
        .find(|c| c.id == "entries-acknowledged")
        .unwrap();
    assert!(check.message.contains("30 still pending"), "{check:#?}");
}

#[tokio::test]
async fn acking_without_guarding_the_update_fails_only_counted_once() {
    let report = grade_fixture("ack-ignores-answer").await;
    assert_fails_only(&report, &["reclaimed-counted-once"]);
}

#[tokio::test]
async fn applying_then_acking_fails_counted_once_and_answers() {
    let report = grade_fixture("apply-then-ack").await;
    assert_fails_only(&report, &["answers", "reclaimed-counted-once"]);
}

#[tokio::test]
async fn returning_nothing_fails_only_answers() {
    let report = grade_fixture("returns-nothing").await;
    assert_fails_only(&report, &["answers"]);
    let check = report.checks.iter().find(|c| c.id == "answers").unwrap();
    assert!(check.message.contains("answered nil"), "{check:#?}");
}

#[tokio::test]
async fn always_answering_one_fails_only_answers() {
    let report = grade_fixture("always-one").await;
    assert_fails_only(&report, &["answers"]);
}

#[tokio::test]
async fn never_trimming_fails_only_top_n() {
    let report = grade_fixture("never-trims").await;
    assert_fails_only(&report, &["top-n"]);
    let check = report.checks.iter().find(|c| c.id == "top-n").unwrap();
    assert!(check.message.contains("holds 18 members"), "{check:#?}");
}

#[tokio::test]
async fn trimming_the_highest_fails_only_top_n() {
    let report = grade_fixture("trims-highest").await;
    assert_fails_only(&report, &["top-n"]);
}

#[tokio::test]
async fn keeping_members_tied_at_the_cut_fails_only_top_n() {
    let report = grade_fixture("trim-keeps-ties").await;
    assert_fails_only(&report, &["top-n"]);
    let check = report.checks.iter().find(|c| c.id == "top-n").unwrap();
    assert!(
        check.message.contains("holds 7 members") && check.message.contains("tied"),
        "{check:#?}"
    );
}

#[tokio::test]
async fn removing_every_member_tied_at_the_lowest_score_fails_only_top_n() {
    let report = grade_fixture("trim-every-lowest-tie").await;
    assert_fails_only(&report, &["top-n"]);
    let check = report.checks.iter().find(|c| c.id == "top-n").unwrap();
    assert!(check.message.contains("fewer than n"), "{check:#?}");
}

#[tokio::test]
async fn answers_given_as_strings_fail_only_answers() {
    let report = grade_fixture("returns-strings").await;
    assert_fails_only(&report, &["answers"]);
    let check = report.checks.iter().find(|c| c.id == "answers").unwrap();
    assert!(check.message.contains("not an integer"), "{check:#?}");
}

/// Another way to cut that keeps exactly n: ZPOPMIN of the surplus.
#[tokio::test]
async fn trimming_with_zpopmin_passes() {
    assert_passes(&grade_fixture("trim-with-zpopmin").await);
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_a_fail() {
    let connect: Connector = Box::new(|| {
        Box::pin(async {
            redis::Client::open("unix:///nonexistent/redis-tutor-grading.sock")?
                .get_multiplexed_async_connection()
                .await
        })
    });
    let exercise = grading::find(EXERCISE).expect("exercise");
    let report = exercise
        .run(Arc::new(Harness::new(connect)), "test".into())
        .await;
    for check in &report.checks {
        assert_eq!(check.status, GradeStatus::Error, "{check:#?}");
        assert!(check.hint.is_empty(), "{check:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_library_passes_twenty_runs_in_a_row() {
    assert_reference_is_stable(EXERCISE, 20).await;
}
