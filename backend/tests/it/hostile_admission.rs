//! Admission holds against a stranger who cycles: caps count live
//! processes (an ended session's sandbox counts until it is dead), resets
//! have a per-address budget, WebSockets are capped per session and per
//! address, one sandbox connection is always left for the server's SCRIPT
//! KILL, and a script cannot read where the engine lives on the host.

use std::path::Path;
use std::time::Duration;

use protocol::{ClientMessage, NoticeKind, ServerMessage};

use crate::support::ws::WsClient;
use crate::support::{default_config, TestApp};

/// Pids of redis-server processes whose working directory is under `root`
/// (every sandbox runs in its own run dir).
fn sandbox_pids(root: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(root))
        })
        .collect()
}

/// CPU time (user + system, clock ticks) a process has used.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[tokio::test]
async fn busy_sessions_ended_in_a_loop_leave_no_process_behind() {
    let run_dir = tempfile::tempdir().unwrap();
    let mut config = default_config();
    config.run_dir = Some(run_dir.path().to_path_buf());
    config.limits.sandboxes_per_ip = 2;
    config.limits.pool_size = 1;
    config.limits.spawns_per_min_per_ip = 100;
    // Long enough that only the ending of the session can stop the loop.
    config.limits.command_deadline_ms = 60_000;
    let app = TestApp::with_config(config).await;
    for _ in 0..4 {
        let session = app.new_session().await;
        // Start a CPU burner, then give up on it and on the DELETE, as a
        // stranger closing the tab would.
        let _ = app
            .http
            .post(format!("{}/api/exec", app.base))
            .bearer_auth(&session)
            .json(&protocol::ExecRequest {
                line: r#"EVAL "while true do end" 0"#.into(),
            })
            .timeout(Duration::from_millis(400))
            .send()
            .await;
        let _ = app
            .http
            .delete(format!("{}/api/sessions", app.base))
            .bearer_auth(&session)
            .timeout(Duration::from_millis(200))
            .send()
            .await;
    }
    // A DELETE waited for answers at once, even with a script running.
    let session = app.new_session().await;
    let burner = {
        let (http, base, session) = (app.http.clone(), app.base.clone(), session.clone());
        tokio::spawn(async move {
            http.post(format!("{base}/api/exec"))
                .bearer_auth(&session)
                .json(&protocol::ExecRequest {
                    line: r#"EVAL "while true do end" 0"#.into(),
                })
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    assert_eq!(app.delete(&session).await.status(), 204);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "DELETE took {:?} while a script ran",
        started.elapsed()
    );
    let _ = burner.await;
    // Every ended session's process is gone; what is left is counted.
    let mut pids = Vec::new();
    for _ in 0..100 {
        pids = sandbox_pids(run_dir.path());
        if pids.len() <= app.state.sessions.pool().live_count() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counted = app.state.sessions.pool().live_count();
    assert!(
        pids.len() <= counted,
        "{} redis-server processes alive, but the pool counts {counted}",
        pids.len()
    );
    assert!(
        pids.len() <= 1 + 2,
        "{} sandboxes alive after every session ended (warm pool 1, per-address cap 2)",
        pids.len()
    );
    let before: Vec<(u32, Option<u64>)> = pids.iter().map(|p| (*p, cpu_ticks(*p))).collect();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for (pid, start) in before {
        if let (Some(start), Some(now)) = (start, cpu_ticks(pid)) {
            assert!(
                now - start < 30,
                "sandbox {pid} still burns CPU after its session ended ({} ticks in 1 s)",
                now - start
            );
        }
    }
    // The per-address cap still holds exactly: two sessions, not a third.
    app.new_session().await;
    app.new_session().await;
    let response = app
        .http
        .post(format!("{}/api/sessions", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn resets_are_limited_per_address_with_a_clear_refusal() {
    let app = TestApp::with_limits(|l| l.resets_per_min_per_ip = 2).await;
    let session = app.new_session().await;
    for _ in 0..2 {
        assert_eq!(app.reset(&session).await.status(), 200);
    }
    let response = app.reset(&session).await;
    assert_eq!(response.status(), 429);
    let err: protocol::ApiError = response.json().await.unwrap();
    assert_eq!(err.error.code, "spawn_rate");
    assert!(
        err.error.message.contains("fresh sandboxes") && err.error.message.ends_with('.'),
        "{}",
        err.error.message
    );
    // The session itself still works.
    assert_eq!(
        app.exec(&session, "PING").await.reply,
        protocol::Reply::status("PONG")
    );
}

/// Opens a WebSocket; `Err(status, body)` when the upgrade is refused.
async fn open_ws(url: &str) -> Result<WsClient, (u16, String)> {
    WsClient::try_connect(url).await
}

#[tokio::test]
async fn websockets_are_capped_per_session_and_per_address() {
    let app = TestApp::with_limits(|l| {
        l.sockets_per_session = 2;
        l.sockets_per_ip = 3;
    })
    .await;
    let a = app.new_session().await;
    let b = app.new_session().await;
    let first = app.ws(&a).await;
    let _second = app.ws(&a).await;
    let (status, body) = open_ws(&app.ws_url(&a))
        .await
        .err()
        .expect("a third socket on one session is refused");
    assert_eq!(status, 429, "{body}");
    let err: protocol::ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(err.error.code, "too_many_sockets");
    assert!(err.error.message.ends_with('.'), "{body}");
    let _third = app.ws(&b).await;
    let (status, body) = open_ws(&app.ws_url(&b))
        .await
        .err()
        .expect("a fourth socket from one address is refused");
    assert_eq!(status, 429, "{body}");
    // A closed socket frees its place.
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(ws) = open_ws(&app.ws_url(&b)).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reopened.is_some(),
        "a closed socket's place was never freed"
    );
}

#[tokio::test]
async fn a_killable_loop_is_stopped_even_with_every_socket_probing() {
    let app = TestApp::with_limits(|l| {
        l.command_deadline_ms = 1_500;
        l.sockets_per_ip = 100;
    })
    .await;
    let session = app.new_session().await;
    app.exec(&session, "SET keep me").await;
    // As many consoles as a stranger can open, each with the latency probe
    // holding a sandbox connection.
    let mut sockets = Vec::new();
    for _ in 0..8 {
        let Ok(mut ws) = open_ws(&app.ws_url(&session)).await else {
            continue;
        };
        let seq = ws.seq();
        let reply = ws
            .request(ClientMessage::LatencyProbe { seq, on: true })
            .await;
        assert!(matches!(reply, ServerMessage::Ack { .. }), "{reply:?}");
        sockets.push(ws);
    }
    let response = app.exec(&session, r#"EVAL "while true do end" 0"#).await;
    assert!(
        response
            .notices
            .iter()
            .any(|n| n.kind == NoticeKind::ScriptKilled),
        "the loop was not stopped with SCRIPT KILL: {:?}",
        response.notices
    );
    assert_eq!(
        app.exec(&session, "GET keep").await.reply,
        protocol::Reply::bulk("me"),
        "the data was reset instead of the script being killed"
    );
}

#[tokio::test]
async fn script_kill_has_a_connection_even_when_every_client_slot_is_taken() {
    let app = TestApp::with_limits(|l| l.sandbox_clients = 6).await;
    let session = app.new_session().await;
    let session = app.state.sessions.get(&session).unwrap();
    let link = session.lock().await;
    let sandbox = link.sandbox();
    let mut held = Vec::new();
    for _ in 0..20 {
        let Ok(mut conn) = sandbox.connect().await else {
            break;
        };
        let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        if pong.is_err() {
            break;
        }
        held.push(conn);
    }
    assert!(held.len() < 20, "maxclients never refused a connection");
    let mut runner = held.pop().expect("at least one connection");
    let looping = tokio::spawn(async move {
        redis::cmd("EVAL")
            .arg("while true do end")
            .arg(0)
            .query_async::<redis::Value>(&mut runner)
            .await
    });
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let killed = tokio::time::timeout(Duration::from_secs(3), sandbox.script_kill())
        .await
        .expect("SCRIPT KILL answered");
    assert_eq!(killed, Ok(redis::Value::Okay));
    let _ = looping.await;
}

#[tokio::test]
async fn info_server_from_a_script_shows_nothing_of_the_host() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let text = app
        .exec(&session, r#"EVAL "return redis.call('INFO','server')" 0"#)
        .await
        .text
        // The console shows the bulk string quoted, with escapes.
        .replace("\\r\\n", "\n");
    let engine = app.state.engine.server.canonicalize().unwrap();
    let engine_dir = engine.parent().unwrap().to_string_lossy().into_owned();
    assert!(
        !text.contains(&engine_dir),
        "INFO server shows where the engine is installed ({engine_dir}):\n{text}"
    );
    let dir = app
        .state
        .sessions
        .get(&session)
        .unwrap()
        .sandbox_dir()
        .await;
    for (field, file) in [
        ("executable", "redis-server"),
        ("config_file", "redis.conf"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_default();
        assert_eq!(
            line,
            format!("{field}:{}", dir.join(file).display()),
            "{text}"
        );
    }
}
