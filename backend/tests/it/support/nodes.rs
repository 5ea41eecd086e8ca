//! Several real `redis-tutor` nodes on one shared control store (an
//! `ExternalRedis`), as a deployment runs them: each with `--control-url`,
//! its own `--node-id` and its own folders.

use std::time::Duration;

use super::external_redis::ExternalRedis;
use super::server::{ServerDirs, ServerProcess};

/// A short lease, so a killed node is forgotten quickly in tests.
pub const TEST_LEASE_MS: &str = "1000";

pub struct Nodes {
    pub store: ExternalRedis,
    /// Node `i` is named `NAMES[i]`.
    pub servers: Vec<ServerProcess>,
    _dirs: Vec<ServerDirs>,
}

pub const NAMES: [&str; 3] = ["node-a", "node-b", "node-c"];

impl Nodes {
    /// `count` nodes (at most three), started side by side; `extra` flags
    /// go to each.
    pub async fn start(count: usize, extra: &[(&str, &str)]) -> Nodes {
        let store = ExternalRedis::start().await;
        let dirs: Vec<ServerDirs> = (0..count).map(|_| ServerDirs::new()).collect();
        // Side by side: each start waits for its engine and warm pool.
        let starts: Vec<_> = dirs
            .iter()
            .zip(NAMES)
            .map(|(dir, name)| {
                let mut options = dir.options();
                options.control_url = Some(store.url());
                let mut options = options
                    .flag("--node-id", name)
                    .flag("--lease-ms", TEST_LEASE_MS);
                for (flag, value) in extra {
                    options = options.flag(flag, value);
                }
                tokio::spawn(async move { ServerProcess::start(&options).await })
            })
            .collect();
        let mut servers = Vec::with_capacity(count);
        for start in starts {
            servers.push(start.await.expect("a node starts"));
        }
        let nodes = Nodes {
            store,
            servers,
            _dirs: dirs,
        };
        nodes.wait_until_all_known(count).await;
        nodes
    }

    /// Waits until every node's lease is in the store.
    async fn wait_until_all_known(&self, count: usize) {
        for _ in 0..100 {
            if self.live_nodes().await.len() == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the nodes never all took their leases");
    }

    /// The names of the nodes whose lease is alive.
    pub async fn live_nodes(&self) -> Vec<String> {
        let mut conn = self.store.connect().await.expect("control store");
        let mut live = Vec::new();
        for name in NAMES {
            let exists: bool = redis::cmd("EXISTS")
                .arg(format!("rt:node:{name}"))
                .query_async(&mut conn)
                .await
                .expect("EXISTS");
            if exists {
                live.push(name.to_owned());
            }
        }
        live
    }

    /// The node the directory says holds `session`.
    pub async fn owner_of(&self, session: &str) -> String {
        let hex = backend::secret::sha256_hex(session.as_bytes());
        let mut conn = self.store.connect().await.expect("control store");
        let record: Option<String> = redis::cmd("GET")
            .arg(format!("rt:sess:{hex}"))
            .query_async(&mut conn)
            .await
            .expect("GET rt:sess");
        let record = record.unwrap_or_else(|| panic!("session {session} is in no directory"));
        let value: serde_json::Value = serde_json::from_str(&record).expect("record JSON");
        value["node"].as_str().expect("node").to_owned()
    }
}
