//! `--nodes N`: the class on N real nodes sharing one control store, as a
//! deployment runs them. The store is the engine on a TCP port with a
//! password and an AOF fsynced on every write (like `deploy/k8s`'s), in a
//! temp dir of its own; the nodes are ordinary `ServerChild`ren with
//! `--control-url` and their own `--node-id`. The store's command count
//! before and after the measured window gives its load per learner.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::server::{Launch, ServerChild};

/// How long the store may take to answer its first PING.
const STORE_UP_WITHIN: Duration = Duration::from_secs(10);

/// The shared control store, ended when dropped.
pub struct ControlRedis {
    child: Child,
    port: u16,
    password: String,
    _dir: tempfile::TempDir,
}

impl ControlRedis {
    pub async fn start(root: &Path) -> anyhow::Result<ControlRedis> {
        let binary = root.join(".engine/bin/redis-server");
        let dir = tempfile::Builder::new()
            .prefix("redis-tutor-load-control-")
            .tempdir()
            .context("a temp dir for the control store")?;
        let password = backend::secret::random_hex(16).context("a store password")?;
        let port = free_port().context("a free port for the control store")?;
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--requirepass", &password])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", ""])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("run {}", binary.display()))?;
        let store = ControlRedis {
            child,
            port,
            password,
            _dir: dir,
        };
        let deadline = Instant::now() + STORE_UP_WITHIN;
        loop {
            if store.commands_processed().await.is_ok() {
                return Ok(store);
            }
            if Instant::now() > deadline {
                bail!("the control store on port {port} never answered");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}/0", self.password, self.port)
    }

    /// The index of the node (`node-<i>`) the directory says holds
    /// `session` (`rt:sess:{sha256}`, docs/control-store.md).
    pub async fn node_of(&self, session: &str) -> anyhow::Result<usize> {
        let hex = backend::secret::sha256_hex(session.as_bytes());
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let record: String = redis::cmd("GET")
            .arg(format!("rt:sess:{hex}"))
            .query_async(&mut conn)
            .await?;
        let home: serde_json::Value = serde_json::from_str(&record)?;
        home["node"]
            .as_str()
            .and_then(|n| n.strip_prefix("node-"))
            .and_then(|i| i.parse().ok())
            .context("a session record without a node")
    }

    /// `INFO stats` → `total_commands_processed`.
    pub async fn commands_processed(&self) -> anyhow::Result<u64> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query_async(&mut conn)
            .await?;
        info.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|n| n.trim().parse().ok())
            .context("INFO stats has no total_commands_processed")
    }
}

impl Drop for ControlRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `count` nodes on `store`, started one after another (each validates
/// the course and fills its warm pool).
pub async fn start(
    count: usize,
    make_launch: impl Fn() -> anyhow::Result<Launch>,
    store: &ControlRedis,
    http: &reqwest::Client,
) -> anyhow::Result<Vec<ServerChild>> {
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let mut launch = make_launch()?;
        launch.flags.extend([
            "--control-url".to_owned(),
            store.url(),
            "--node-id".to_owned(),
            format!("node-{i}"),
        ]);
        nodes.push(
            ServerChild::start(launch, http)
                .await
                .with_context(|| format!("start node {i}"))?,
        );
    }
    Ok(nodes)
}

/// What the hop between nodes adds to one console line over HTTP.
pub struct HopCost {
    pub lines: usize,
    /// (p50, p99) in µs, straight to the node holding the session.
    pub direct: (u64, u64),
    /// (p50, p99) in µs, through another node.
    pub hopped: (u64, u64),
}

/// Sessions the hop is measured on: a console is held to 20 lines a
/// second (burst 50), so each takes at most its burst.
const HOP_SESSIONS: usize = 50;

/// `lines` PINGs each way, alternating between a session's own node and
/// another one, so both see the same machine at the same moments. The
/// sessions are placed by the nodes themselves; the store's directory says
/// where each went.
pub async fn hop_cost(
    http: &reqwest::Client,
    store: &ControlRedis,
    bases: &[String],
    lines: usize,
) -> anyhow::Result<HopCost> {
    let mut sessions = Vec::with_capacity(HOP_SESSIONS);
    for i in 0..HOP_SESSIONS {
        let created: protocol::SessionCreated = http
            .post(format!("{}/api/sessions", bases[i % bases.len()]))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let owner = store.node_of(&created.session).await?;
        sessions.push((created.session, owner));
    }
    let (mut direct, mut hopped) = (Vec::with_capacity(lines), Vec::with_capacity(lines));
    for i in 0..lines * 2 {
        let (session, owner) = &sessions[(i / 2) % sessions.len()];
        let node = if i % 2 == 0 {
            *owner
        } else {
            (owner + 1) % bases.len()
        };
        let started = Instant::now();
        http.post(format!("{}/api/exec", bases[node]))
            .bearer_auth(session)
            .json(&protocol::ExecRequest {
                line: "PING".into(),
            })
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if i % 2 == 0 { &mut direct } else { &mut hopped }.push(micros);
    }
    for (session, owner) in &sessions {
        let _ = http
            .delete(format!("{}/api/sessions", bases[*owner]))
            .bearer_auth(session)
            .send()
            .await;
    }
    direct.sort_unstable();
    hopped.sort_unstable();
    let pair = |v: &[u64]| {
        (
            backend::metrics::percentile(v, 50.0),
            backend::metrics::percentile(v, 99.0),
        )
    };
    Ok(HopCost {
        lines,
        direct: pair(&direct),
        hopped: pair(&hopped),
    })
}
