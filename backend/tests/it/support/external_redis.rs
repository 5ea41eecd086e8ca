//! A plain engine on a TCP port with a password and an AOF, standing in
//! for a shared (managed) control store: `--control-url` tests and the
//! several-node tests point their servers at it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::server::free_port;
use super::workspace_root;

/// The store's password (tests check it never shows in output).
pub const PASSWORD: &str = "external-store-secret";

/// A plain engine on a TCP port with a password and an AOF, killed on drop.
pub struct ExternalRedis {
    pub port: u16,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl ExternalRedis {
    pub async fn start() -> ExternalRedis {
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

    pub fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    pub async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    /// Every key, and the text of every key and value, by type.
    pub async fn dump(&self) -> (Vec<String>, String) {
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
