//! The memory bound is real: every way a stranger can make a sandbox grow
//! (a script writing in a loop, huge appends, SETRANGE, many keys, Lua's
//! own heap, the `allow-oom` flag) stays under the per-sandbox limit as the
//! kernel counts it, whatever Redis's `maxmemory` lets through.

use std::path::{Path, PathBuf};
use std::time::Duration;

use protocol::NoticeKind;

use crate::support::TestApp;

const MIB: u64 = 1024 * 1024;

/// The most memory the kernel counted for a sandbox so far: its cgroup's
/// peak charge where it has one (what the limit applies to); otherwise the
/// process's anonymous resident memory (file pages such as the engine's
/// binary are shared and charged elsewhere).
fn peak_bytes(pid: u32, cgroup: Option<&Path>) -> u64 {
    if let Some(dir) = cgroup {
        return ["memory.peak", "memory.max_usage_in_bytes"]
            .iter()
            .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix("RssAnon:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .unwrap_or(0)
        * 1024
}

/// The session's sandbox pid and memory cgroup dir.
async fn sandbox_of(app: &TestApp, session: &str) -> (u32, Option<PathBuf>) {
    let session = app.state.sessions.get(session).expect("session exists");
    let link = session.lock().await;
    let sandbox = link.sandbox();
    (
        sandbox.pid(),
        sandbox.memory_cgroup().map(|c| c.dir().to_path_buf()),
    )
}

/// Runs `lines` in a fresh session while sampling the sandbox's memory;
/// returns the peak and what the last line got (status, body).
async fn attack(app: &TestApp, lines: &[String]) -> (u64, u16, String) {
    let session = app.new_session().await;
    let (pid, cgroup) = sandbox_of(app, &session).await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        while !*stop_rx.borrow() {
            peak = peak.max(peak_bytes(pid, cgroup.as_deref()));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        peak.max(peak_bytes(pid, cgroup.as_deref()))
    });
    let mut last = (0, String::new());
    for line in lines {
        let response = app.exec_raw(&session, line).await;
        last = (response.status().as_u16(), response.text().await.unwrap());
    }
    let _ = stop_tx.send(true);
    let peak = sampler.await.unwrap();
    (peak, last.0, last.1)
}

#[tokio::test]
async fn no_attack_grows_a_sandbox_past_its_kernel_memory_limit() {
    let app = TestApp::with_limits(|l| {
        l.command_deadline_ms = 4_000;
        l.rate_per_sec = 10_000;
        l.rate_burst = 10_000;
        l.sandboxes_per_ip = 20;
        l.spawns_per_min_per_ip = 100;
    })
    .await;
    let limit = app.state.sessions.pool().spec().limits.memory_limit_mb * MIB;
    assert!(
        app.state.sessions.pool().memory_cgroups().is_some(),
        "no kernel memory bound on this host: sandboxes are not capped (see the start-up warning)"
    );
    let push = format!("100 RPUSH big {}", "x".repeat(60_000));
    let attacks: Vec<(&str, Vec<String>)> = vec![
        ("EVAL looping over SET", vec![r#"EVAL "for i = 1, 100000 do redis.call('SET', 'k' .. i, string.rep('x', 10000)) end return 1" 0"#.into()]),
        ("allow-oom into a full sandbox", vec![
            r#"EVAL "for i = 1, 20 do redis.call('SET', 'fill' .. i, string.rep('x', 1000000)) end return 1" 0"#.into(),
            "EVAL \"#!lua flags=allow-oom\\nfor i = 1, 100000 do redis.call('SET', 'k' .. i, string.rep('x', 10000)) end return 1\" 0".into(),
        ]),
        ("big pushes from the console", vec![push.clone(), push.clone(), push.clone(), push.clone(), push]),
        ("APPEND in a script", vec![r#"EVAL "for i = 1, 1000 do redis.call('APPEND', 'a' .. (i % 100), string.rep('x', 100000)) end return 1" 0"#.into()]),
        ("SETRANGE in a script", vec![r#"EVAL "for i = 1, 1000 do redis.call('SETRANGE', 'r' .. i, 999999, 'x') end return 1" 0"#.into()]),
        ("many small keys", vec![r#"EVAL "for i = 1, 5000000 do redis.call('SET', i, i) end return 1" 0"#.into()]),
        ("a growing list", vec![r#"EVAL "for i = 1, 1000000 do redis.call('RPUSH', 'l', string.rep('y', 1000)) end return 1" 0"#.into()]),
        ("Lua's own heap", vec![r#"EVAL "local t = {} for i = 1, 400 do t[i] = string.rep('x', 1048576) .. i end return #t" 0"#.into()]),
    ];
    let mut runs = tokio::task::JoinSet::new();
    let app = std::sync::Arc::new(app);
    for (name, lines) in attacks {
        let app = app.clone();
        runs.spawn(async move {
            let (peak, status, body) = attack(&app, &lines).await;
            (name, peak, status, body)
        });
    }
    let mut over = Vec::new();
    while let Some(run) = runs.join_next().await {
        let (name, peak, status, body) = run.unwrap();
        eprintln!(
            "{name}: peak {:.1} MiB (limit {} MiB), answer {status}: {}",
            peak as f64 / MIB as f64,
            limit / MIB,
            body.chars().take(160).collect::<String>()
        );
        if peak > limit {
            over.push(format!("{name}: {} MiB", peak / MIB));
        }
        // Whatever happened, the learner was told clearly.
        match status {
            200 => {
                let r: protocol::ExecResponse = serde_json::from_str(&body).unwrap();
                let restarted = r.notices.iter().any(|n| n.kind == NoticeKind::Restarted);
                assert!(
                    r.reply.is_error() || restarted || !r.text.is_empty(),
                    "{name}: {body}"
                );
            }
            _ => {
                let err: protocol::ApiError = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{name}: not the JSON error shape: {body}"));
                assert!(err.error.message.ends_with('.'), "{name}: {body}");
            }
        }
    }
    assert!(
        over.is_empty(),
        "sandboxes grew past the {} MiB limit: {over:?}",
        limit / MIB
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_sandbox_stopped_by_its_memory_limit_says_so() {
    let app = TestApp::with_limits(|l| l.command_deadline_ms = 4_000).await;
    if app.state.sessions.pool().memory_cgroups().is_none() {
        panic!("no kernel memory bound on this host (see the start-up warning)");
    }
    let session = app.new_session().await;
    let response = app
        .exec_raw(
            &session,
            r#"EVAL "for i = 1, 100000 do redis.call('SET', 'k' .. i, string.rep('x', 10000)) end return 1" 0"#,
        )
        .await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 503, "{body}");
    let err: protocol::ApiError = serde_json::from_str(&body).unwrap();
    assert_eq!(err.error.code, "sandbox_restarted");
    assert!(err.error.message.contains("memory limit"), "{body}");
    // And the fresh sandbox works.
    assert_eq!(
        app.exec(&session, "PING").await.reply,
        protocol::Reply::status("PONG")
    );
}
