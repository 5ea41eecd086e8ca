//! A small class beside hostile clients, as `redis-tutor-load --hostile`
//! runs it: 10 learners in a room, then 100 idle sockets from 5 addresses
//! (more than their per-address caps allow), one client flooding its
//! socket, a 1 MiB frame, a slowloris request and JSON nested 10,000
//! deep. Every hostile kind must be stopped by the limit that says so, and
//! the class must finish without an error. Timing ratios are the
//! benchmark's business (docs/benchmarks.md), not this test's.

use std::process::Command;

use serde_json::Value;

fn run_hostile_class() -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_redis-tutor-load"))
        .args(["--learners", "10", "--seconds", "5", "--ramp-seconds", "1"])
        .args(["--hostile", "--hostile-idle", "100", "--hostile-addrs", "5"])
        .args(["--hostile-oversized", "1", "--hostile-slowloris", "1"])
        .args(["--hostile-deep", "1", "--grade-every", "0", "--json"])
        // A short header deadline, so the slowloris is cut inside the phase.
        .arg("--server-arg=--header-timeout-ms=2000")
        .arg("--server")
        .arg(env!("CARGO_BIN_EXE_redis-tutor"))
        .output()
        .expect("run redis-tutor-load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "redis-tutor-load failed ({}):\n{stderr}\n{stdout}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{stdout}\n{stderr}"))
}

fn row<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["hostile"]["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["kind"].as_str().is_some_and(|k| k.starts_with(kind)))
        })
        .unwrap_or_else(|| panic!("no `{kind}` row: {report}"))
}

fn answer(row: &Value, answer: &str) -> u64 {
    row["answers"][answer].as_u64().unwrap_or(0)
}

fn n(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing: {value}"))
}

#[test]
fn a_class_finishes_cleanly_while_every_hostile_kind_is_refused_as_stated() {
    let report = run_hostile_class();

    // The class: all online, commands in both phases, no error at all.
    assert_eq!(n(&report, "online"), 10, "{report}");
    assert_eq!(
        n(&report, "errors"),
        0,
        "real errors: {}",
        report["error_examples"]
    );
    assert!(n(&report["hostile"]["quiet"], "count") > 0, "{report}");
    assert!(n(&report["hostile"]["hostile"], "count") > 0, "{report}");

    // Idle sockets: 20 per address against a cap of 12 per address.
    let idle = row(&report, "idle WebSockets");
    assert_eq!(n(idle, "attempted"), 100, "{idle}");
    assert_eq!(
        answer(idle, "open"),
        60,
        "12 per address, 5 addresses: {idle}"
    );
    assert_eq!(
        answer(idle, "429 too_many_sockets"),
        40,
        "the rest refused by the socket caps: {idle}"
    );

    // The flood: read at the stated pace, its commands past the session's
    // rate refused, its socket never dropped.
    let flood = row(&report, "message flood");
    assert!(answer(flood, "ran") > 0, "{flood}");
    assert!(answer(flood, "rate_limited") > 0, "{flood}");
    assert!(
        n(flood, "attempted") > answer(flood, "ran") + answer(flood, "rate_limited"),
        "the server read less than the client sent: {flood}"
    );
    assert!(
        !flood["answers"]
            .as_object()
            .is_some_and(|a| a.keys().any(|k| k.starts_with("close"))),
        "the flood's socket stays open: {flood}"
    );

    // The oversized frame: close 1009.
    let oversized = row(&report, "oversized WebSocket frame");
    assert_eq!(answer(oversized, "close 1009"), 1, "{oversized}");
    assert_eq!(n(oversized, "refused"), 1, "{oversized}");

    // Slowloris: cut at the header deadline without an answer.
    let slowloris = row(&report, "slowloris");
    assert!(answer(slowloris, "closed, no answer") >= 1, "{slowloris}");
    assert_eq!(
        n(slowloris, "refused"),
        answer(slowloris, "closed, no answer"),
        "every slowloris request ended by the deadline: {slowloris}"
    );

    // Deep JSON: 400 over HTTP, a protocol violation that closes the socket.
    let deep = row(&report, "JSON nested");
    assert_eq!(answer(deep, "HTTP 400 invalid_request"), 1, "{deep}");
    assert_eq!(
        answer(deep, "socket: protocol_violation, closed"),
        1,
        "{deep}"
    );
    assert_eq!(n(deep, "refused"), 2, "{deep}");

    // Nothing left behind by anybody.
    let leaks = &report["leaks"];
    assert_eq!(
        leaks["sandboxes_after"], leaks["sandboxes_before"],
        "{leaks}"
    );
    assert_eq!(leaks["processes_left"], Value::Array(vec![]), "{leaks}");
}
