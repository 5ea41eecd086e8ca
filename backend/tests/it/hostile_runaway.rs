//! Runaway work on a learner's behalf is bounded by the same deadline and
//! escalation wherever it comes from: a repeated console line, a live
//! chart's script, a socket that closes mid-run, a session deleted while a
//! script runs.

use std::time::{Duration, Instant};

use protocol::{Algorithm, ClientMessage, NoticeKind, RateLimitSim, ServerMessage};

use crate::support::TestApp;

const DEADLINE_MS: u64 = 1_000;

async fn app() -> TestApp {
    TestApp::with_limits(|l| l.command_deadline_ms = DEADLINE_MS).await
}

async fn sandbox_pid(app: &TestApp, session: &str) -> u32 {
    app.state.sessions.get(session).unwrap().sandbox_pid().await
}

/// CPU ticks (user + system) a process has used.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Whether `pid` burns a core over half a second.
async fn busy(pid: u32) -> bool {
    let Some(before) = cpu_ticks(pid) else {
        return false;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cpu_ticks(pid).is_some_and(|after| after - before > 25)
}

#[tokio::test]
async fn a_repeat_count_does_not_multiply_the_deadline() {
    let app = app().await;
    let session = app.new_session().await;
    let started = Instant::now();
    let response = app.exec(&session, "10 EVAL \"while true do end\" 0").await;
    let took = started.elapsed();
    // Ten runs of a 1 s deadline each would take over ten seconds.
    assert!(
        took < Duration::from_millis(4 * DEADLINE_MS),
        "the line took {took:?}"
    );
    assert!(
        response
            .notices
            .iter()
            .any(|n| n.message.contains("stopped after 1 of 10 runs")),
        "{:?}",
        response.notices
    );
    assert_eq!(app.exec(&session, "PING").await.text, "PONG");
}

#[tokio::test]
async fn a_repeated_quick_command_still_runs_every_time() {
    let app = app().await;
    let session = app.new_session().await;
    let response = app.exec(&session, "5 INCR runs").await;
    assert_eq!(response.repeat, 5);
    assert_eq!(app.exec(&session, "GET runs").await.text, "\"5\"");
}

fn looping_limiter(script: &str) -> ClientMessage {
    ClientMessage::StartRateLimit {
        seq: 1,
        sim: RateLimitSim {
            rate: 20.0,
            users: 1,
            limit: 5,
            window_ms: 1_000,
            algorithms: vec![Algorithm::Custom],
            duration_ms: 60_000,
            bursty: false,
            custom_script: Some(script.into()),
        },
    }
}

#[tokio::test]
async fn a_limiter_script_that_writes_then_loops_is_stopped_and_the_tab_told() {
    let app = app().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let start = looping_limiter("redis.call('SET', KEYS[1], '1') while true do end");
    assert_eq!(ws.request(start).await, ServerMessage::Ack { seq: 1 });
    // Redis cannot SCRIPT KILL a script that wrote: the sandbox is replaced,
    // and the open tab hears why.
    let notice = loop {
        match ws.next().await {
            ServerMessage::Notice { notice } => break notice,
            _ => continue,
        }
    };
    assert_eq!(notice.kind, NoticeKind::Restarted);
    assert!(notice.message.contains("could not stop it"), "{notice:?}");
    let pid = sandbox_pid(&app, &session).await;
    assert!(!busy(pid).await, "the new sandbox is idle");
    assert_eq!(app.exec(&session, "PING").await.text, "PONG");
}

#[tokio::test]
async fn a_looping_limiter_script_stops_after_its_tab_closes() {
    let app = app().await;
    let session = app.new_session().await;
    let pid = sandbox_pid(&app, &session).await;
    let mut ws = app.ws(&session).await;
    assert_eq!(
        ws.request(looping_limiter("while true do end")).await,
        ServerMessage::Ack { seq: 1 }
    );
    drop(ws);
    // Within two deadlines the killable loop is gone: the same process is
    // idle again and answers at once.
    tokio::time::sleep(Duration::from_millis(2 * DEADLINE_MS + 500)).await;
    assert!(!busy(pid).await, "the sandbox still burns a core");
    assert_eq!(app.exec(&session, "PING").await.text, "PONG");
}

#[tokio::test]
async fn deleting_a_session_while_its_script_runs_answers_at_once_and_ends_the_process() {
    // The default 5 s deadline: DELETE must not wait for it.
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let pid = sandbox_pid(&app, &session).await;
    let looping = {
        let (app_http, url, token) = (
            app.http.clone(),
            format!("{}/api/exec", app.base),
            session.clone(),
        );
        tokio::spawn(async move {
            app_http
                .post(url)
                .bearer_auth(token)
                .json(&protocol::ExecRequest {
                    line: "EVAL \"redis.call('SET','k','v') while true do end\" 0".into(),
                })
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    assert_eq!(app.delete(&session).await.status(), 204);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "DELETE waited {:?} for the script",
        started.elapsed()
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists() || !busy(pid).await,
        "the sandbox process outlived its session"
    );
    let _ = looping.await;
}

/// A one-function library whose body is `body` (Lua), loaded as `lib`.
fn library(body: &str) -> String {
    format!(
        "FUNCTION LOAD REPLACE \"#!lua name=lib\\nredis.register_function('f', function(keys, args) {body} end)\""
    )
}

#[tokio::test]
async fn a_looping_function_is_stopped_with_function_kill_and_the_data_kept() {
    let app = app().await;
    let session = app.new_session().await;
    app.exec(&session, "SET kept 1").await;
    assert_eq!(
        app.exec(&session, &library("while true do end")).await.text,
        "\"lib\""
    );
    let pid = sandbox_pid(&app, &session).await;
    let response = app.exec(&session, "FCALL f 0").await;
    // SCRIPT KILL answers NOTBUSY for a function; FUNCTION KILL stops it.
    assert!(
        response
            .notices
            .iter()
            .any(|n| n.kind == NoticeKind::ScriptKilled),
        "{response:?}"
    );
    assert_eq!(sandbox_pid(&app, &session).await, pid, "same sandbox");
    assert_eq!(app.exec(&session, "GET kept").await.text, "\"1\"");
}

#[tokio::test]
async fn a_function_that_writes_then_loops_costs_the_sandbox_not_the_host() {
    let app = app().await;
    let session = app.new_session().await;
    let body = "redis.call('SET', 'w', '1') while true do end";
    assert_eq!(app.exec(&session, &library(body)).await.text, "\"lib\"");
    let pid = sandbox_pid(&app, &session).await;
    let (status, code, message) = app.exec_refused(&session, "FCALL f 0").await;
    assert_eq!(
        (status, code.as_str()),
        (503, "sandbox_restarted"),
        "{message}"
    );
    assert!(
        message.contains("UNKILLABLE") || message.contains("cannot stop"),
        "{message}"
    );
    assert_ne!(sandbox_pid(&app, &session).await, pid, "a fresh sandbox");
    assert!(!busy(pid).await);
    assert_eq!(app.exec(&session, "PING").await.text, "PONG");
}

#[tokio::test]
async fn function_libraries_obey_the_sandbox_rules() {
    let app = app().await;
    let session = app.new_session().await;
    let (_, code, message) = app.exec_refused(&session, "FUNCTION RESTORE payload").await;
    assert_eq!(code, "subcommand_refused", "{message}");
    let big = format!(
        "FUNCTION LOAD \"#!lua name=big\\n-- {}\\nredis.register_function('g', function() return 1 end)\"",
        "x".repeat(17 * 1024)
    );
    let (_, _, message) = app.exec_refused(&session, &big).await;
    assert!(message.contains("16 KiB"), "{message}");
    let oom = "FUNCTION LOAD \"#!lua name=o\\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'allow-oom'}}\"";
    let (_, _, message) = app.exec_refused(&session, oom).await;
    assert!(message.contains("allow-oom"), "{message}");
    assert_eq!(
        app.exec(&session, &library("return 7")).await.text,
        "\"lib\""
    );
    assert_eq!(app.exec(&session, "FCALL f 0").await.text, "(integer) 7");
    assert!(app
        .exec(&session, "FUNCTION LIST")
        .await
        .text
        .contains("lib"));
    assert_eq!(app.exec(&session, "FUNCTION DELETE lib").await.text, "OK");
}
