//! The load generator's short run, as `make test` runs it: 50 learners for
//! 10 s on the real server, 10 % of their sandboxes SIGKILLed at 2 s and
//! the server SIGKILLed at 7 s (time enough for every affected learner to
//! send something, even one watching a simulator). Every learner must carry on by itself,
//! with no error but stated limits, deliberate mistakes and the faults'
//! own; nothing acknowledged may be lost and nothing may be left running.

use std::process::Command;

use serde_json::Value;

fn run_short_load() -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_redis-tutor-load"))
        .args(["--learners", "50", "--seconds", "10", "--ramp-seconds", "1"])
        .args(["--kill-sandboxes", "10", "--kill-at", "2"])
        .args(["--kill-server-at", "7", "--grace-seconds", "15"])
        .args(["--grade-every", "50", "--json"])
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
    let report: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{stdout}\n{stderr}"));
    eprintln!("{stdout}");
    report
}

fn n(report: &Value, path: &str) -> u64 {
    report
        .pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{path} missing from the report: {report}"))
}

#[test]
fn fifty_learners_survive_a_sandbox_kill_and_a_server_kill() {
    let report = run_short_load();
    let examples = &report["error_examples"];

    assert!(n(&report, "/commands") > 0, "no command ran: {report}");
    assert_eq!(n(&report, "/learners"), 50);
    assert_eq!(
        n(&report, "/errors"),
        0,
        "errors beyond stated limits, mistakes and the faults: {examples}"
    );

    // Each killed sandbox's learner got the notice and a working command.
    let killed = n(&report, "/sandbox_kill/killed");
    assert!(killed >= 1, "no sandbox was killed: {report}");
    assert_eq!(n(&report, "/sandbox_kill/learners_noticed"), killed);
    assert_eq!(n(&report, "/sandbox_kill/learners_recovered"), killed);
    assert_eq!(n(&report, "/sandbox_kill/extra_learners"), 0);

    // Every learner came back by itself after the server kill, and the old
    // server left no process behind.
    let kill = &report["server_kill"];
    assert!(kill["restart_error"].is_null(), "{kill}");
    assert_eq!(n(&report, "/server_kill/learners_back"), 50, "{kill}");
    assert_eq!(kill["orphans"], Value::Array(vec![]), "{kill}");
    assert_eq!(kill["old_root_left"], Value::Bool(false), "{kill}");

    // What was acknowledged before the kill (and after) is all there.
    assert!(n(&report, "/durability/steps_acked_before_kill") > 0);
    assert_eq!(n(&report, "/durability/steps_missing"), 0);
    assert_eq!(n(&report, "/durability/grades_missing"), 0);
    assert_eq!(n(&report, "/durability/unreadable"), 0);

    // Nothing leaked: sandboxes and sockets back to where they were, and
    // nothing left running once the server stopped.
    let leaks = &report["leaks"];
    assert_eq!(
        n(&report, "/leaks/sandboxes_after"),
        n(&report, "/leaks/sandboxes_before"),
        "{leaks}"
    );
    assert_eq!(
        n(&report, "/leaks/tcp_after"),
        n(&report, "/leaks/tcp_before"),
        "{leaks}"
    );
    assert_eq!(leaks["fds_unexplained"], Value::from(0), "{leaks}");
    assert_eq!(leaks["processes_left"], Value::Array(vec![]), "{leaks}");
    assert_eq!(
        leaks["server_exit"],
        Value::from("exit status: 0"),
        "{leaks}"
    );
}
