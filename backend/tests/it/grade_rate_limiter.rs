//! The `rate-limiter` exercise graded on behaviour: the reference library
//! passes every check, run after run, and each wrong-but-plausible library
//! in `fixtures/grading/rate-limiter/` fails the check for its mistake and
//! passes the others.

use protocol::{GradeReport, GradeStatus};

use crate::support::grading::{
    assert_fails_only, assert_passes, assert_reference_is_stable, grade, library,
    message_of as message, status_of,
};

const EXERCISE: &str = "rate-limiter";

async fn graded(fixture: &str) -> GradeReport {
    grade(EXERCISE, &library(EXERCISE, fixture)).await
}

#[tokio::test]
async fn the_reference_library_passes_every_check_with_a_memory_figure() {
    let report = graded("reference").await;
    assert_passes(&report);
    let figure = report
        .figures
        .iter()
        .find(|f| f.id == "memory")
        .unwrap_or_else(|| panic!("{report:#?}"));
    let labels: Vec<&str> = figure.points.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["during the stress (peak)", "after the stress"]);
    assert!(
        figure.points.iter().all(|(_, bytes)| *bytes > 0.0),
        "{figure:?}"
    );
    assert_eq!(figure.unit, "bytes");
}

#[tokio::test]
async fn a_log_capped_below_the_limit_fails_only_exactness_under_load() {
    let report = graded("capped-log").await;
    assert_fails_only(&report, &["sliding-exact-under-load"]);
    let said = message(&report, "sliding-exact-under-load");
    assert!(
        said.contains("of 200 requests from 20 concurrent clients"),
        "{said}"
    );
    assert!(said.contains("with a limit of 50 per 60 s"), "{said}");
}

#[tokio::test]
async fn a_fixed_window_fails_only_the_boundary_check() {
    let report = graded("fixed-window").await;
    assert_fails_only(&report, &["sliding-window-boundary"]);
    let said = message(&report, "sliding-window-boundary");
    assert!(said.contains("of 9 requests within"), "{said}");
    assert!(said.contains("with a limit of 5 per 1 s"), "{said}");
}

#[tokio::test]
async fn a_microsecond_timestamp_member_fails_only_the_same_millisecond_check() {
    let report = graded("microsecond-member").await;
    assert_fails_only(&report, &["sliding-same-ms"]);
    let said = message(&report, "sliding-same-ms");
    assert!(
        said.contains("allowed 30 of 30 requests that reached Redis in the same millisecond"),
        "{said}"
    );
}

#[tokio::test]
async fn a_millisecond_timestamp_member_fails_wherever_requests_share_a_millisecond() {
    let report = graded("timestamp-member").await;
    assert_eq!(
        status_of(&report, "sliding-same-ms"),
        GradeStatus::Fail,
        "{report:#?}"
    );
    assert_eq!(
        status_of(&report, "sliding-exact-under-load"),
        GradeStatus::Fail,
        "{report:#?}"
    );
    // Whether the boundary's bursts share a millisecond depends on timing;
    // the checks that send one request at a time, and the bucket's, pass.
    for id in [
        "sliding-idle-expires",
        "bucket-burst",
        "bucket-fractional-refill",
        "bucket-capacity-after-idle",
        "bucket-server-clock",
        "bucket-idle-expires",
    ] {
        assert_eq!(
            status_of(&report, id),
            GradeStatus::Pass,
            "{id}: {report:#?}"
        );
    }
}

#[tokio::test]
async fn counting_rejected_requests_fails_only_the_rejected_check() {
    let report = graded("counts-rejected").await;
    assert_fails_only(&report, &["sliding-rejected-not-counted"]);
    let said = message(&report, "sliding-rejected-not-counted");
    assert!(said.contains("allowed 0 of 5 requests sent"), "{said}");
}

#[tokio::test]
async fn a_log_without_a_ttl_fails_only_the_sliding_expiry_check() {
    let report = graded("sliding-no-ttl").await;
    assert_fails_only(&report, &["sliding-idle-expires"]);
    assert!(message(&report, "sliding-idle-expires").contains("PTTL answered -1"));
}

#[tokio::test]
async fn a_bucket_that_starts_empty_fails_only_the_burst_check() {
    let report = graded("bucket-starts-empty").await;
    assert_fails_only(&report, &["bucket-burst"]);
    let said = message(&report, "bucket-burst");
    assert!(said.contains("allowed 0 of 200 requests"), "{said}");
}

#[tokio::test]
async fn a_bucket_that_refills_whole_tokens_fails_only_the_fractional_check() {
    let report = graded("whole-token-refill").await;
    assert_fails_only(&report, &["bucket-fractional-refill"]);
    let said = message(&report, "bucket-fractional-refill");
    assert!(said.contains("got 2 through at first and 0 more"), "{said}");
}

#[tokio::test]
async fn an_uncapped_bucket_fails_only_the_capacity_check() {
    let report = graded("uncapped-bucket").await;
    assert_fails_only(&report, &["bucket-capacity-after-idle"]);
    let said = message(&report, "bucket-capacity-after-idle");
    assert!(
        said.contains("allowed 6 of 10 requests in a burst"),
        "{said}"
    );
}

#[tokio::test]
async fn a_bucket_that_takes_the_callers_clock_fails_only_the_clock_check() {
    let report = graded("client-clock").await;
    assert_fails_only(&report, &["bucket-server-clock"]);
    assert!(message(&report, "bucket-server-clock").contains("was allowed"));
}

#[tokio::test]
async fn a_bucket_without_a_ttl_fails_only_the_bucket_expiry_check() {
    let report = graded("bucket-no-ttl").await;
    assert_fails_only(&report, &["bucket-idle-expires"]);
    assert!(message(&report, "bucket-idle-expires").contains("PTTL answered -1"));
}

#[tokio::test]
async fn a_bucket_whose_key_lasts_one_token_fails_only_the_bucket_expiry_check() {
    let report = graded("bucket-ttl-of-one-token").await;
    assert_fails_only(&report, &["bucket-idle-expires"]);
    let said = message(&report, "bucket-idle-expires");
    assert!(
        said.contains("4 of 4 requests were allowed")
            && said.contains("a missing bucket counts as full"),
        "{said}"
    );
}

#[tokio::test]
async fn state_kept_under_keys_the_function_was_not_given_fails_both_expiry_checks() {
    let report = graded("state-under-other-keys").await;
    assert_fails_only(&report, &["sliding-idle-expires", "bucket-idle-expires"]);
    for check in ["sliding-idle-expires", "bucket-idle-expires"] {
        let said = message(&report, check);
        assert!(
            said.contains("PTTL answered -2") && said.contains("KEYS[1]"),
            "{said}"
        );
    }
}

#[tokio::test]
async fn a_sliding_clock_in_microseconds_denies_nothing_and_fails_the_rejected_check() {
    let report = graded("sliding-clock-in-microseconds").await;
    assert_fails_only(&report, &["sliding-rejected-not-counted"]);
    let said = message(&report, "sliding-rejected-not-counted");
    assert!(
        said.contains("was allowed too") && said.contains("same unit"),
        "{said}"
    );
}

#[tokio::test]
async fn a_log_never_trimmed_fails_only_the_sliding_log_check() {
    let report = graded("log-never-trimmed").await;
    assert_fails_only(&report, &["sliding-idle-expires"]);
    let said = message(&report, "sliding-idle-expires");
    assert!(said.contains("never removed"), "{said}");
}

#[tokio::test]
async fn answers_given_as_strings_are_not_the_integers_the_contract_asks_for() {
    let report = graded("returns-strings").await;
    assert_eq!(report.status, GradeStatus::Fail, "{report:#?}");
    let said = message(&report, "sliding-exact-under-load");
    assert!(
        said.contains(r#"the string "1", not an integer"#) && said.contains("Lua number"),
        "{said}"
    );
}

/// A different design that behaves the same: the bucket as GCRA, one
/// number per key.
#[tokio::test]
async fn a_gcra_bucket_passes() {
    assert_passes(&graded("gcra").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_library_passes_twenty_runs_in_a_row() {
    assert_reference_is_stable(EXERCISE, 20).await;
}
