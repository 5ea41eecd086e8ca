//! Several nodes on one shared control store. Each node holds a lease
//! (`lease`), knows the live nodes from its last heartbeat, and records
//! where each learner session lives (`directory`), so any node can serve
//! any request: forwarded to the owning node while it lives (`forward`),
//! re-homed onto this one when it does not (`http/owner.rs` decides).
//!
//! Active only with `--control-url`: the embedded store is private to one
//! process, so no other node can share it, and a single server behaves
//! exactly as it did before nodes existed.

mod directory;
mod forward;
mod lease;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use sha2::Digest;

use crate::config::Config;
use crate::control::schema;
use crate::control::{ControlStore, StoreError};

pub use directory::SessionHome;
pub use forward::ForwardError;
pub use lease::NodeInfo;

/// Random bytes in a generated node id.
const NODE_ID_BYTES: usize = 6;
/// Random bytes in the shared hop secret and instructor token.
const SECRET_BYTES: usize = 32;

/// The header a forwarding node proves itself with (the shared secret).
pub const HOP_HEADER: &str = "x-redis-tutor-hop";
/// The learner's own address, sent along by the forwarding node (trusted
/// only with a valid hop secret).
pub const CLIENT_HEADER: &str = "x-redis-tutor-client";

pub struct Cluster {
    /// This node's name (`--node-id` or random).
    pub id: String,
    /// Where other nodes reach this one: `--advertise`, or the address
    /// the server bound (known only once it listens).
    advertise: RwLock<String>,
    advertise_given: bool,
    hop: String,
    hop_digest: [u8; 32],
    control: Arc<ControlStore>,
    /// Live nodes as of the last heartbeat, this one included.
    nodes: RwLock<Vec<NodeInfo>>,
    lease: Duration,
    client: forward::Client,
    /// Counters for `/metrics`.
    pub stats: ClusterStats,
}

/// What this node did for the others, for `/metrics`.
#[derive(Default)]
pub struct ClusterStats {
    /// Requests sent on to the node holding their session.
    pub forwarded: std::sync::atomic::AtomicU64,
    /// Sessions brought back here after their node stopped.
    pub rehomed: std::sync::atomic::AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("nodes cannot agree on their shared secret: {0}")]
    Store(#[from] StoreError),
    #[error("no randomness for the node's secrets: {0}")]
    Random(String),
    #[error("--node-id must be 1 to 64 letters, digits, '-' or '_', got {0:?}")]
    BadNodeId(String),
}

fn random(bytes: usize) -> Result<String, ClusterError> {
    crate::secret::random_hex(bytes).map_err(|e| ClusterError::Random(e.to_string()))
}

fn valid_node_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `SET key value NX`, then the value now there: the first node's wins.
async fn shared_value(
    control: &ControlStore,
    key: &str,
    mine: &str,
) -> Result<String, ClusterError> {
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg(key).arg(mine).arg("NX");
    pipe.cmd("GET").arg(key);
    // `read` answers every command of the pipeline, in order.
    let values = control.read(&pipe).await?;
    Ok(values
        .get(1)
        .and_then(crate::session::convert::text)
        .unwrap_or_else(|| mine.to_owned()))
}

impl Cluster {
    /// This node's place among the nodes of `config.control_url`; `None`
    /// without one (a single server).
    pub async fn join(
        config: &Config,
        control: Arc<ControlStore>,
    ) -> Result<Option<Arc<Cluster>>, ClusterError> {
        if config.control_url.is_none() {
            return Ok(None);
        }
        let id = match &config.node_id {
            Some(id) if valid_node_id(id) => id.clone(),
            Some(id) => return Err(ClusterError::BadNodeId(id.clone())),
            None => random(NODE_ID_BYTES)?,
        };
        let hop = shared_value(&control, schema::CLUSTER_HOP, &random(SECRET_BYTES)?).await?;
        Ok(Some(Arc::new(Cluster {
            id,
            advertise: RwLock::new(config.advertised()),
            advertise_given: config.advertise.is_some(),
            hop_digest: sha2::Sha256::digest(hop.as_bytes()).into(),
            hop,
            control,
            nodes: RwLock::new(Vec::new()),
            lease: Duration::from_millis(config.lease_ms.max(200)),
            client: forward::Client::new(),
            stats: ClusterStats::default(),
        })))
    }

    /// Where other nodes reach this one.
    pub fn advertise(&self) -> String {
        self.advertise.read().map(|a| a.clone()).unwrap_or_default()
    }

    /// The server listens on `addr` (its port may have been 0 in
    /// `--addr`): advertise it unless `--advertise` said otherwise, take
    /// the lease at once (so peers know this node from its first request),
    /// and keep it.
    pub async fn listening_on(
        self: &Arc<Self>,
        mut addr: std::net::SocketAddr,
        sessions: Arc<crate::session::SessionRegistry>,
    ) {
        if !self.advertise_given {
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            if let Ok(mut advertise) = self.advertise.write() {
                *advertise = format!("http://{addr}");
            }
        }
        let capacity =
            u32::try_from(sessions.pool().spec().limits.max_sandboxes).unwrap_or(u32::MAX);
        if let Err(e) = self.beat(0, capacity).await {
            tracing::warn!("first node lease not taken: {e}");
        }
        self.start_heartbeat(sessions);
        tracing::info!(node = %self.id, advertise = %self.advertise(), "joined the nodes of the control store");
    }

    /// The instructor token every node shares: the first node's.
    pub async fn instructor_token(&self) -> Result<String, ClusterError> {
        shared_value(
            &self.control,
            schema::CLUSTER_INSTRUCTOR,
            &random(SECRET_BYTES)?,
        )
        .await
    }

    /// Whether `candidate` is the hop secret, in constant time (both sides
    /// hashed first, as for the instructor's token).
    pub fn is_hop(&self, candidate: &str) -> bool {
        crate::secret::matches_digest(&self.hop_digest, candidate)
    }

    /// The live node named `id`, as of the last heartbeat.
    pub fn node(&self, id: &str) -> Option<NodeInfo> {
        self.nodes.read().ok()?.iter().find(|n| n.id == id).cloned()
    }

    /// A JSON call to an internal route of another node, over the hop.
    pub async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        node: &NodeInfo,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, ForwardError> {
        self.client
            .call(&node.advertise, path, &self.hop, body)
            .await
    }

    /// Sends a learner's request (`parts` + `body`) to `node`, as from
    /// `client` (see `forward.rs`).
    pub async fn forward(
        &self,
        parts: &mut axum::http::request::Parts,
        body: axum::body::Bytes,
        node: &NodeInfo,
        client: std::net::IpAddr,
    ) -> Result<axum::response::Response, ForwardError> {
        self.stats
            .forwarded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.client
            .send(parts, body, &node.advertise, &self.hop, client)
            .await
    }

    /// Whether `headers` carry the hop secret (a request from a node).
    pub fn from_node(&self, headers: &axum::http::HeaderMap) -> bool {
        headers
            .get(HOP_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|hop| self.is_hop(hop))
    }

    /// Live nodes as of the last heartbeat.
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.nodes.read().map(|n| n.clone()).unwrap_or_default()
    }

    /// Where a new session should go: the live node with the most free
    /// sandboxes, or `None` for this one. This node's own load is `held`
    /// now; the others' are a beat old.
    pub fn least_loaded(&self, held: usize) -> Option<NodeInfo> {
        let nodes = self.nodes();
        let free = |n: &NodeInfo| n.capacity.saturating_sub(n.sessions);
        let mine = nodes.iter().find(|n| n.id == self.id).map(|n| {
            n.capacity
                .saturating_sub(u32::try_from(held).unwrap_or(u32::MAX))
        });
        let best = nodes
            .iter()
            .filter(|n| n.id != self.id)
            .max_by_key(|n| free(n))?;
        match mine {
            // Move a session only for a real difference, two sessions'
            // worth, so nodes whose views are a beat apart do not send
            // new sessions back and forth.
            Some(mine) if free(best) < mine.saturating_add(2) => None,
            _ => Some(best.clone()),
        }
    }
}
