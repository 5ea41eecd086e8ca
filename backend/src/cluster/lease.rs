//! A node's lease: a key with a TTL that its heartbeat renews every
//! quarter lease. A node killed with `-9` stops beating and is forgotten
//! when the key expires; the same beat reads every other node's lease, so
//! each node knows who is alive (and how loaded) a beat ago.

use std::sync::Arc;

use redis::Value;
use serde::{Deserialize, Serialize};

use super::Cluster;
use crate::control::schema;
use crate::control::StoreError;
use crate::session::convert::text;
use crate::session::SessionRegistry;

/// What a lease says about its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    /// Where other nodes reach it (`--advertise`).
    pub advertise: String,
    /// Sessions it holds.
    pub sessions: u32,
    /// Most sandboxes it may hold (`--max-sandboxes`).
    pub capacity: u32,
}

impl Cluster {
    /// One beat: renew this node's lease, then read every node's.
    pub async fn beat(&self, sessions: u32, capacity: u32) -> Result<(), StoreError> {
        let me = NodeInfo {
            id: self.id.clone(),
            advertise: self.advertise(),
            sessions,
            capacity,
        };
        let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(schema::node(&self.id))
            .arg(serde_json::to_string(&me).unwrap_or_default())
            .arg("PX")
            .arg(lease_ms);
        pipe.cmd("SADD").arg(schema::NODES).arg(&self.id);
        pipe.cmd("SMEMBERS").arg(schema::NODES);
        // `read` answers every command of the pipeline, in order.
        let values = self.control.read(&pipe).await?;
        let ids: Vec<String> = match values.get(2) {
            Some(Value::Array(items)) | Some(Value::Set(items)) => {
                items.iter().filter_map(text).collect()
            }
            _ => Vec::new(),
        };
        let mut get = redis::cmd("MGET");
        for id in &ids {
            get.arg(schema::node(id));
        }
        let leases = match self.control.call(&get).await? {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        let mut live = Vec::with_capacity(ids.len());
        let mut lapsed = Vec::new();
        for (id, lease) in ids.iter().zip(leases.iter()) {
            match text(lease).and_then(|json| serde_json::from_str::<NodeInfo>(&json).ok()) {
                Some(node) => live.push(node),
                None => lapsed.push(id.clone()),
            }
        }
        if !lapsed.is_empty() {
            self.control
                .call(redis::cmd("SREM").arg(schema::NODES).arg(&lapsed))
                .await?;
            tracing::info!(nodes = ?lapsed, "forgot nodes whose lease lapsed");
        }
        if let Ok(mut nodes) = self.nodes.write() {
            *nodes = live;
        }
        Ok(())
    }

    /// Beats every quarter lease for as long as the cluster lives. A beat
    /// the store refuses is logged once per outage; consoles go on.
    pub fn start_heartbeat(self: &Arc<Self>, sessions: Arc<SessionRegistry>) {
        let cluster = Arc::downgrade(self);
        let every = self.lease / 4;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(cluster) = cluster.upgrade() else {
                    return;
                };
                let held = u32::try_from(sessions.len()).unwrap_or(u32::MAX);
                let capacity =
                    u32::try_from(sessions.pool().spec().limits.max_sandboxes).unwrap_or(u32::MAX);
                match cluster.beat(held, capacity).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("node lease renewed again");
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!("node lease not renewed: {e}");
                    }
                    Err(_) => {}
                }
            }
        });
    }

    /// Gives the lease back at a clean stop, so other nodes re-home this
    /// node's learners at once instead of after the lease.
    pub async fn leave(&self) {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(schema::node(&self.id));
        pipe.cmd("SREM").arg(schema::NODES).arg(&self.id);
        if let Err(e) = self.control.read(&pipe).await {
            tracing::warn!("node lease not given back: {e}");
        }
    }
}
