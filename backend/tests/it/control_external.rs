//! `--control-url`: an external Redis holds the learners instead of the
//! embedded store. The learner API works end to end through it, the data
//! is in that Redis (and outlives the server), no embedded store is
//! started, and the token itself is never stored.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use reqwest::StatusCode;

use crate::support::server::{control_processes, free_port, ServerDirs};
use crate::support::{server::ServerProcess, workspace_root};

const PASSWORD: &str = "external-store-secret";

/// A plain engine on a TCP port with a password and an AOF, killed on drop.
struct ExternalRedis {
    port: u16,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl ExternalRedis {
    async fn start() -> ExternalRedis {
        let server: PathBuf = workspace_root().join(".engine/bin/redis-server");
        // A free port can be taken between the probe and the bind: retry.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let child = tokio::process::Command::new(&server)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--requirepass", PASSWORD])
                .args(["--appendonly", "yes", "--appendfsync", "everysec"])
                .args(["--save", ""])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("the engine starts");
            let redis = ExternalRedis {
                port,
                _child: child,
                _dir: dir,
            };
            for _ in 0..250 {
                if let Ok(mut conn) = redis.connect().await {
                    if redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .is_ok()
                    {
                        return redis;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        panic!("the external redis-server never answered");
    }

    fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    /// Every key, and the text of every key and value, by type.
    async fn dump(&self) -> (Vec<String>, String) {
        let mut conn = self.connect().await.expect("connect");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut conn)
            .await
            .expect("KEYS");
        let mut text = String::new();
        for key in &keys {
            let kind: String = redis::cmd("TYPE")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap();
            let values: Vec<String> = match kind.as_str() {
                "string" => vec![redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap()],
                "hash" => redis::cmd("HGETALL")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
                "set" => redis::cmd("SMEMBERS")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
                "zset" => redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
                "list" => redis::cmd("LRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
                other => vec![format!("<{other}>")],
            };
            text.push_str(key);
            text.push('\n');
            for value in values {
                text.push_str(&value);
                text.push('\n');
            }
        }
        (keys, text)
    }
}

#[tokio::test]
async fn an_external_control_store_holds_the_learners_and_outlives_the_server() {
    let redis = ExternalRedis::start().await;
    let dirs = ServerDirs::new();
    let mut options = dirs.options();
    options.control_url = Some(redis.url());
    let server = ServerProcess::start(&options).await;
    assert!(
        control_processes(&dirs.data).is_empty(),
        "no embedded store with --control-url"
    );

    let (slug, step) = server.first_step().await;
    let learner = server.new_learner(serde_json::json!({"name": "Ada"})).await;
    let response = server.progress(&learner.token, &slug, &step).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let me = server.me(&learner.token).await;
    assert_eq!(me.learner, learner.learner);
    assert_eq!(me.name.as_deref(), Some("Ada"));
    assert_eq!(me.progress.get(&slug), Some(&vec![step.clone()]));

    let (keys, text) = redis.dump().await;
    assert!(
        keys.iter().any(|k| k.contains(&learner.learner)),
        "a key naming learner {} in the external store: {keys:?}",
        learner.learner
    );
    assert!(text.contains("Ada") && text.contains(&step), "{text}");
    assert!(
        !text.contains(&learner.token),
        "the learner's token itself is stored in the control store"
    );

    // Another server on the same store knows the learner.
    drop(server);
    let server = ServerProcess::start(&options).await;
    let me = server.me(&learner.token).await;
    assert_eq!(me.progress.get(&slug), Some(&vec![step.clone()]));
}

#[tokio::test]
async fn a_wrong_control_store_password_stops_the_start_without_printing_it() {
    let redis = ExternalRedis::start().await;
    let dirs = ServerDirs::new();
    let mut options = dirs.options();
    options.control_url = Some(format!("redis://:wrong@127.0.0.1:{}", redis.port));
    // A store that refuses us could never confirm a write: the server
    // says so at start-up rather than serving learners it cannot keep.
    let exited = crate::support::server::run_to_exit(&options).await;
    assert!(!exited.status.success(), "{}", exited.output);
    assert!(
        exited.output.contains("control store"),
        "the error should say the control store is the problem:\n{}",
        exited.output
    );
    assert!(
        !exited.output.contains(PASSWORD) && !exited.output.contains(":wrong@"),
        "the password must not be printed:\n{}",
        exited.output
    );
}
