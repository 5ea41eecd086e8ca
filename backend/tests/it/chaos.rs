//! Chaos: sandboxes killed from outside, reaped, and ended at shutdown.
//! No zombie and no stray process may remain.

use std::time::Duration;

use protocol::{NoticeKind, Reply, SessionEvent};

use crate::support::TestApp;

/// redis-server processes that are children of this test process, with
/// their state letter from /proc (`Z` is a zombie).
fn sandbox_children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap_or(0) + 1..close];
        let mut rest = stat[close + 2..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: u32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == me && comm.starts_with("redis-server") {
            found.push((pid, state));
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

async fn eventually(mut check: impl FnMut() -> bool, what: &str) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn a_killed_sandbox_is_replaced_and_the_learner_told() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    app.exec(&id, "SET k v").await;
    let session = app.state.sessions.get(&id).unwrap();
    let old = session.sandbox_pid().await;
    // The notice comes on the session's event stream whoever finds the
    // dead process first: the exit watcher, or the next command.
    let mut events = session.subscribe();
    // SAFETY-free: kill(1) from the shell, as an operator (or the OOM killer) would.
    let status = std::process::Command::new("kill")
        .args(["-9", &old.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    eventually(|| !alive(old), "the killed sandbox to be gone").await;

    let response = app.exec(&id, "GET k").await;
    let notice = loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("a restart notice in time")
            .expect("the event stream stays open");
        if let SessionEvent::Notice { notice } = event {
            if notice.kind == NoticeKind::Restarted {
                break notice;
            }
        }
    };
    assert!(
        notice.message.contains("restarted and its data reset"),
        "{}",
        notice.message
    );
    assert!(notice.message.contains("signal 9"), "{}", notice.message);
    assert_eq!(
        response.reply,
        Reply::Nil,
        "the data is gone, the command works"
    );
    assert_eq!(app.exec(&id, "PING").await.reply, Reply::status("PONG"));
    assert_ne!(session.sandbox_pid().await, old);
    // No zombie: the killed process was reaped.
    eventually(
        || {
            !sandbox_children()
                .iter()
                .any(|(pid, state)| *pid == old || *state == 'Z')
        },
        "no zombie sandbox",
    )
    .await;
}

#[tokio::test]
async fn reaping_and_shutdown_leave_no_process_behind() {
    let app = TestApp::with_limits(|l| {
        l.idle_secs = 1;
        l.pool_size = 1;
    })
    .await;
    let a = app.new_session().await;
    let b = app.new_session().await;
    let pids = [
        app.state.sessions.get(&a).unwrap().sandbox_pid().await,
        app.state.sessions.get(&b).unwrap().sandbox_pid().await,
    ];
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(app.state.sessions.reap_once().await, 2);
    assert!(app.state.sessions.is_empty());
    eventually(
        || pids.iter().all(|p| !alive(*p)),
        "reaped sandboxes to exit",
    )
    .await;
    let (status, code, _) = app.exec_refused(&a, "PING").await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));

    // Back to baseline: only the warm pool is left, and shutdown ends it.
    let c = app.new_session().await;
    let c_pid = app.state.sessions.get(&c).unwrap().sandbox_pid().await;
    app.state.shutdown().await;
    eventually(|| !alive(c_pid), "session sandbox ended at shutdown").await;
    assert_eq!(
        app.state.sessions.pool().live_count(),
        0,
        "every slot released"
    );
    assert_eq!(app.state.sessions.pool().warm_count(), 0);
}
