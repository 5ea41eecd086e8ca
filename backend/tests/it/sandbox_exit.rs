//! The exit watcher: a sandbox killed from outside while its learner is
//! idle is replaced at once and the open console is told, without waiting
//! for the learner's next command; a session that is closed is not
//! brought back.

use std::time::{Duration, Instant};

use protocol::{NoticeKind, Reply, ServerMessage};

use crate::support::TestApp;

/// Whether `pid` is a process that has not exited (a zombie has).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z ") && !stat.contains(") X "))
        .unwrap_or(false)
}

fn kill9(pid: u32) {
    // kill(1) from outside, as an operator or the OOM killer would.
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {pid}");
}

async fn until(mut check: impl FnMut() -> bool, what: &str) {
    for _ in 0..250 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_sandbox_killed_while_idle_is_back_and_the_console_told_within_a_second() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let mut ws = app.ws(&id).await;
    assert!(matches!(
        ws.exec("SET k v").await,
        ServerMessage::Result { .. }
    ));
    let session = app.state.sessions.get(&id).expect("the session");
    let old = session.sandbox_pid().await;
    // A warm sandbox ready, as on a running server: the restart takes it.
    let pool = app.state.sessions.pool().clone();
    until(|| pool.warm_count() >= 1, "a warm sandbox").await;

    let killed = Instant::now();
    kill9(old);
    // Nothing is sent: the notice must come by itself.
    let notice = loop {
        match ws.next().await {
            ServerMessage::Notice { notice } if notice.kind == NoticeKind::Restarted => {
                break notice
            }
            _ => continue,
        }
    };
    let took = killed.elapsed();
    assert!(
        took <= Duration::from_secs(1),
        "the restart notice came {took:?} after the kill"
    );
    assert!(notice.message.contains("signal 9"), "{}", notice.message);

    // The next command runs at once in a fresh, empty sandbox.
    let new = session.sandbox_pid().await;
    assert_ne!(new, old, "a new sandbox process");
    assert!(running(new), "the new sandbox runs");
    match ws.exec("GET k").await {
        ServerMessage::Result { result, .. } => {
            assert_eq!(result.reply, Reply::Nil, "the old data is gone");
            assert!(
                result.notices.is_empty(),
                "the restart is not announced twice: {:?}",
                result.notices
            );
        }
        other => panic!("GET after the restart: {other:?}"),
    }
    // The killed process was reaped, not left a zombie.
    until(
        || std::fs::metadata(format!("/proc/{old}")).is_err(),
        "the killed sandbox reaped",
    )
    .await;
}

#[tokio::test]
async fn closing_a_session_does_not_bring_its_sandbox_back() {
    let app = TestApp::with_limits(|l| l.pool_size = 1).await;
    let id = app.new_session().await;
    let mut ws = app.ws(&id).await;
    let session = app.state.sessions.get(&id).expect("the session");
    let pid = session.sandbox_pid().await;
    let pool = app.state.sessions.pool().clone();
    until(|| pool.warm_count() == 1, "the warm pool refilled").await;
    let spawned = pool.spawned_total();

    assert_eq!(app.delete(&id).await.status(), 204);
    ws.expect_closed().await;
    until(|| !running(pid), "the closed session's sandbox ended").await;
    // Time enough for a watcher that got it wrong to respawn.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        pool.spawned_total(),
        spawned,
        "no sandbox was started for a closed session"
    );
    assert_eq!(
        session.sandbox_pid().await,
        pid,
        "the link was not refilled"
    );
    drop(session);
    until(|| pool.live_count() == 1, "only the warm sandbox left").await;
}

/// When the kill comes, relative to a lesson block that waits on purpose
/// (`BLPOP rl:sleep 4.2`, its first line).
#[derive(Clone, Copy, PartialEq)]
enum Kill {
    /// Just before the block is asked for: it runs its wait on the fresh
    /// sandbox, so its reply is seconds behind the restart.
    BeforeTheBlock,
    /// Inside its `BLPOP`: that line is answered `sandbox_restarted`.
    DuringItsWait,
}

#[tokio::test]
async fn a_restart_while_a_block_runs_is_announced_at_once_not_with_the_blocks_reply() {
    restart_while_a_block_runs(Kill::BeforeTheBlock).await;
}

#[tokio::test]
async fn a_block_line_that_meets_its_sandbox_dying_is_announced_as_a_restart() {
    restart_while_a_block_runs(Kill::DuringItsWait).await;
}

/// The notice comes within a second of the kill and before the block's
/// reply, exactly once, and the reply does not say it again.
async fn restart_while_a_block_runs(when: Kill) {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let mut ws = app.ws(&id).await;
    let session = app.state.sessions.get(&id).expect("the session");
    let pool = app.state.sessions.pool().clone();
    until(|| pool.warm_count() >= 1, "a warm sandbox").await;
    let lesson = "rate-limiting";
    let block = app
        .state
        .course
        .find(lesson)
        .expect("the lesson")
        .blocks
        .runnable
        .iter()
        .position(|b| b.source.starts_with("BLPOP rl:sleep 4.2"))
        .expect("the block that waits 4.2 s");
    let old = session.sandbox_pid().await;

    let seq = ws.seq();
    let run = protocol::ClientMessage::RunBlock {
        seq,
        lesson: lesson.into(),
        block,
    };
    let killed = if when == Kill::BeforeTheBlock {
        kill9(old);
        let killed = Instant::now();
        // Dead before the block is asked for (a signal is not instant), so
        // its first line does not meet the process dying.
        while running(old) && killed.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        ws.send(&run).await;
        killed
    } else {
        ws.send(&run).await;
        // Inside its BLPOP (the link is held) before the kill.
        tokio::time::sleep(Duration::from_millis(500)).await;
        kill9(old);
        Instant::now()
    };

    let mut notices = Vec::new();
    let lines = loop {
        match ws.next().await {
            ServerMessage::Notice { notice } => notices.push((notice, killed.elapsed())),
            ServerMessage::BlockRan { seq: s, lines, .. } if s == seq => break lines,
            _ => continue,
        }
    };
    let replied = killed.elapsed();
    let restarts: Vec<_> = notices
        .iter()
        .filter(|(n, _)| n.kind == NoticeKind::Restarted)
        .collect();
    assert_eq!(restarts.len(), 1, "one restart notice: {notices:?}");
    let (notice, came) = restarts[0];
    assert!(notice.message.contains("signal 9"), "{}", notice.message);
    assert!(
        *came <= Duration::from_secs(1),
        "the restart notice came {came:?} after the kill"
    );
    if when == Kill::BeforeTheBlock {
        assert!(
            replied >= Duration::from_secs(3),
            "the block waited on the fresh sandbox: replied after {replied:?}"
        );
    }
    let in_reply: Vec<_> = lines
        .iter()
        .filter_map(|l| l.result.as_ref())
        .flat_map(|r| &r.notices)
        .collect();
    assert!(in_reply.is_empty(), "not said twice: {in_reply:?}");
    // Nothing more about it follows, and the console works.
    match ws.exec("PING").await {
        ServerMessage::Result { result, .. } => {
            assert_eq!(result.text, "PONG");
            assert!(result.notices.is_empty(), "{:?}", result.notices);
        }
        other => panic!("PING after the restart: {other:?}"),
    }
    assert_ne!(session.sandbox_pid().await, old, "a new sandbox process");
}

/// Many sandboxes killed at once come back in turns (`spawns_at_once`),
/// never more starting at the same time, and every one of them comes back.
#[tokio::test]
async fn sandboxes_killed_together_are_restarted_a_few_at_a_time() {
    let app = TestApp::with_limits(|l| {
        l.spawns_at_once = 2;
        l.pool_size = 0;
        l.sandboxes_per_ip = 10;
        l.spawns_per_min_per_ip = 100;
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(app.new_session().await);
    }
    let sessions: Vec<_> = ids
        .iter()
        .map(|id| app.state.sessions.get(id).expect("the session"))
        .collect();
    let mut old = Vec::new();
    for session in &sessions {
        old.push(session.sandbox_pid().await);
    }
    for &pid in &old {
        kill9(pid);
    }
    // Every one comes back by itself (the exit watchers), in turns.
    for (session, &pid) in sessions.iter().zip(&old) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = session.sandbox_pid().await;
            if now != pid && running(now) {
                break;
            }
            assert!(Instant::now() < deadline, "sandbox {pid} never came back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let pool = app.state.sessions.pool();
    assert_eq!(
        pool.most_starting_at_once(),
        2,
        "six restarts at once started two at a time"
    );
}
