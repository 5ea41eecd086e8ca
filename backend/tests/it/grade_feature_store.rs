//! The `feature-store` exercise graded on behaviour: the reference library
//! passes every check, run after run, and each wrong-but-plausible library
//! in `fixtures/grading/feature-store/` fails the check for its mistake
//! and passes the others.

use std::sync::Arc;

use backend::grading::{self, harness::Connector, Harness};
use protocol::{GradeReport, GradeStatus};

use crate::support::grading::{
    assert_fails_only, assert_passes, assert_reference_is_stable, grade, library,
    message_of as message,
};

const EXERCISE: &str = "feature-store";

async fn graded(fixture: &str) -> GradeReport {
    grade(EXERCISE, &library(EXERCISE, fixture)).await
}

#[tokio::test]
async fn the_reference_library_passes_every_check_with_a_latency_figure() {
    let report = graded("reference").await;
    assert_passes(&report);
    let figure = report
        .figures
        .iter()
        .find(|f| f.id == "read-latency")
        .unwrap_or_else(|| panic!("{report:#?}"));
    let labels: Vec<&str> = figure.points.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["1 user", "10 users", "50 users", "200 users"]);
    assert!(figure.points.iter().all(|(_, us)| *us > 0.0), "{figure:?}");
    assert_eq!(figure.unit, "µs");
}

#[tokio::test]
async fn a_json_document_per_user_fails_only_the_hash_check() {
    let report = graded("json-string").await;
    assert_fails_only(&report, &["one-hash-per-user"]);
    assert!(message(&report, "one-hash-per-user").contains("TYPE of the user's key is string"));
}

#[tokio::test]
async fn a_string_key_per_feature_is_no_hash_and_cannot_renew_the_features_not_written() {
    let report = graded("string-per-feature").await;
    assert_fails_only(&report, &["one-hash-per-user", "write-refreshes-ttl"]);
    let hash = message(&report, "one-hash-per-user");
    assert!(
        hash.contains("TYPE of the user's key is none") && hash.contains("8 other key(s)"),
        "{hash}"
    );
}

#[tokio::test]
async fn a_ttl_of_a_day_fails_only_the_hour_check_and_says_how_long() {
    let report = graded("ttl-a-day").await;
    assert_fails_only(&report, &["ttl-within-an-hour"]);
    assert!(
        message(&report, "ttl-within-an-hour").contains("86400 s"),
        "{report:#?}"
    );
}

#[tokio::test]
async fn no_ttl_fails_the_hour_check_and_leaves_nothing_to_renew() {
    let report = graded("no-ttl").await;
    assert_fails_only(&report, &["ttl-within-an-hour", "write-refreshes-ttl"]);
    assert!(message(&report, "ttl-within-an-hour").contains("TTL -1"));
}

#[tokio::test]
async fn a_ttl_set_once_with_expire_nx_fails_only_the_refresh_check() {
    let report = graded("expire-nx").await;
    assert_fails_only(&report, &["write-refreshes-ttl"]);
    let seen = message(&report, "write-refreshes-ttl");
    assert!(
        seen.contains("set a TTL of 3600 s") && seen.contains("at 5 s"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_read_without_the_no_writes_flag_fails_only_the_read_only_check() {
    let report = graded("read-without-no-writes").await;
    assert_fails_only(&report, &["read-writes-nothing"]);
    let seen = message(&report, "read-writes-nothing");
    assert!(
        seen.contains("FCALL_RO refused fs_read") && !seen.contains("DBSIZE"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_read_that_counts_reads_fails_only_the_read_only_check_and_says_how_many_keys_it_made() {
    let report = graded("read-counts-reads").await;
    assert_fails_only(&report, &["read-writes-nothing"]);
    let seen = message(&report, "read-writes-nothing");
    assert!(
        seen.contains("FCALL_RO refused fs_read") && seen.contains("took DBSIZE from 52 to 102"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_read_that_skips_unknown_users_fails_only_the_order_check() {
    let report = graded("read-skips-unknown").await;
    assert_fails_only(&report, &["batch-read-in-order"]);
    assert!(message(&report, "batch-read-in-order").contains("returned 48 rows"));
}

#[tokio::test]
async fn a_read_in_the_hashs_own_order_fails_only_the_order_check() {
    let report = graded("read-hash-order").await;
    assert_fails_only(&report, &["batch-read-in-order"]);
    let seen = message(&report, "batch-read-in-order");
    assert!(
        seen.contains("4 values for the 5 fields asked")
            && seen.contains(r#"got ["20", "0.01", "100", "plan-0"]"#),
        "{seen}"
    );
}

#[tokio::test]
async fn a_ttl_in_milliseconds_fails_only_the_hour_check_and_names_the_unit() {
    let report = graded("ttl-in-milliseconds").await;
    assert_fails_only(&report, &["ttl-within-an-hour"]);
    let seen = message(&report, "ttl-within-an-hour");
    assert!(
        seen.contains("shortest TTL") && seen.contains("PEXPIRE key 3600 is 3.6 s"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_set_of_every_user_is_a_key_fs_write_was_not_given() {
    let report = graded("set-of-every-user").await;
    assert_fails_only(&report, &["one-hash-per-user"]);
    let seen = message(&report, "one-hash-per-user");
    assert!(
        seen.contains("1 key(s) it was not given (fs:all_users)"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_ttl_renewed_only_when_little_is_left_fails_only_the_refresh_check() {
    let report = graded("renew-when-low").await;
    assert_fails_only(&report, &["write-refreshes-ttl"]);
    let seen = message(&report, "write-refreshes-ttl");
    assert!(
        seen.contains("cut to 3590 s") && seen.contains("did not renew it"),
        "{seen}"
    );
}

#[tokio::test]
async fn values_sent_through_tonumber_fail_the_values_check_and_say_which() {
    let report = graded("values-through-tonumber").await;
    assert_fails_only(&report, &["one-hash-per-user", "batch-read-in-order"]);
    let seen = message(&report, "one-hash-per-user");
    assert!(
        seen.contains(r#"avg_basket was given "19.90" and is stored as "19.9""#)
            && seen.contains(r#"zip was given "02134" and is stored as "2134""#),
        "{seen}"
    );
}

#[tokio::test]
async fn field_ttls_without_a_key_ttl_fail_and_say_the_key_needs_one() {
    let report = graded("field-ttls").await;
    assert_fails_only(&report, &["ttl-within-an-hour", "write-refreshes-ttl"]);
    let seen = message(&report, "ttl-within-an-hour");
    assert!(
        seen.contains("fields have TTLs of their own") && !seen.contains("for ever"),
        "{seen}"
    );
}

/// A TTL of an hour less up to 30 minutes of random jitter, renewed by
/// every write, is right (the lesson suggests it): it passed only about
/// three runs in four while the refresh check wanted 80 % of the first TTL
/// back.
#[tokio::test]
async fn a_ttl_with_jitter_renewed_by_every_write_passes_run_after_run() {
    for _ in 0..10 {
        assert_passes(&graded("ttl-with-jitter").await);
    }
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_in_every_check_not_a_failure() {
    let connect: Connector = Box::new(|| {
        Box::pin(async {
            Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "connection refused",
            )))
        })
    });
    let exercise = grading::find(EXERCISE).expect("exercise exists");
    let report = exercise
        .run(Arc::new(Harness::new(connect)), "test".into())
        .await;
    assert_eq!(report.status, GradeStatus::Error, "{report:#?}");
    assert!(
        report.checks.iter().all(|c| c.status == GradeStatus::Error),
        "{report:#?}"
    );
    assert!(report.figures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_library_passes_twenty_runs_in_a_row() {
    assert_reference_is_stable(EXERCISE, 20).await;
}
