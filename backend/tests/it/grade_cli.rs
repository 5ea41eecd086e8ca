//! `redis-tutor grade` against a plain redis-server on a TCP port: the
//! same grader as the server's, leaving the graded Redis as it found it.

use std::process::Stdio;
use std::time::Duration;

use protocol::{GradeReport, GradeStatus};
use redis::aio::ConnectionLike;

use crate::support::grading::library;
use crate::support::server::free_port;
use crate::support::{default_config, workspace_root};

/// A plain engine on a port, killed on drop.
struct PlainRedis {
    url: String,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

async fn plain_redis() -> PlainRedis {
    let engine = backend::engine::Engine::discover(&default_config().engine_dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = tokio::process::Command::new(&engine.server)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let redis = PlainRedis {
        url: format!("redis://127.0.0.1:{port}"),
        _child: child,
        _dir: dir,
    };
    for _ in 0..200 {
        if redis::Client::open(redis.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .is_ok()
        {
            return redis;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis on {} never answered", redis.url);
}

async fn run(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_redis-tutor"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .await
        .unwrap()
}

async fn send(url: &str, cmd: &redis::Cmd) -> redis::Value {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    conn.req_packed_command(cmd).await.unwrap()
}

#[tokio::test]
async fn the_cli_grades_any_redis_and_leaves_only_what_was_there() {
    let redis = plain_redis().await;
    send(&redis.url, redis::cmd("SET").arg("mine").arg("untouched")).await;
    let code = library("feature-store", "reference");
    send(&redis.url, redis::cmd("FUNCTION").arg("LOAD").arg(&code)).await;
    let out = run(&[
        "grade",
        "feature-store",
        "--redis-url",
        &redis.url,
        "--format",
        "json",
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: GradeReport = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report.status, GradeStatus::Pass, "{report:#?}");
    assert!(out.status.success());
    // Only the learner's own key is left; the library is still loaded.
    assert_eq!(
        send(&redis.url, &redis::cmd("DBSIZE")).await,
        redis::Value::Int(1)
    );
    assert_eq!(
        send(&redis.url, redis::cmd("GET").arg("mine")).await,
        redis::Value::BulkString(b"untouched".to_vec())
    );
}

#[tokio::test]
async fn the_cli_says_what_is_missing_and_fails() {
    let redis = plain_redis().await;
    let out = run(&["grade", "rate-limiter", "--redis-url", &redis.url]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rl_sliding"), "{stderr}");
    assert!(stderr.contains("FUNCTION LOAD"), "{stderr}");
    let out = run(&["grade", "nope", "--redis-url", &redis.url]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("feature-store"));
}
