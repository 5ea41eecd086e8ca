//! Where each session lives, in the control store: `rt:sess:{sha256}` →
//! `{node, learner, ip}`, and a learner's live session (`rt:seat`). The
//! session id is a bearer secret, so the key holds its hash; the record
//! holds what a re-homing node needs to rebuild the session (the learner,
//! the client address its caps count against).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Cluster;
use crate::control::learners::LearnerRef;
use crate::control::schema;
use crate::control::StoreError;
use crate::session::convert::text;
use crate::session::Session;

/// A session's home, as the directory records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionHome {
    /// The node holding its sandbox.
    pub node: String,
    pub learner: Option<String>,
    /// The learner's token hash (a `LearnerRef` needs it).
    pub token_hash: Option<String>,
    pub ip: IpAddr,
    /// The room that admitted it, if any (a re-homed session keeps it).
    #[serde(default)]
    pub room: Option<String>,
}

impl SessionHome {
    pub fn learner_ref(&self) -> Option<LearnerRef> {
        Some(LearnerRef {
            id: self.learner.clone()?,
            token_hash: self.token_hash.clone()?,
        })
    }
}

/// The directory key of session `id`.
fn key(id: &str) -> String {
    schema::session_home(&crate::secret::sha256_hex(id.as_bytes()))
}

/// Moves a session's record from `old` (its JSON as read) to a new one
/// only if nobody moved it first: two nodes re-homing the same session at
/// once must not both keep a sandbox for it.
const MOVE_IF_UNCHANGED: &str = "\
if redis.call('GET', KEYS[1]) == ARGV[1] then \
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 \
end return 0";

impl Cluster {
    fn ttl_secs(session: &Session) -> u64 {
        session.limits().max_age_secs.max(1)
    }

    /// Records that `session` lives here, and that it is its learner's
    /// live session.
    pub async fn record(&self, session: &Session) -> Result<(), StoreError> {
        let home = SessionHome {
            node: self.id.clone(),
            learner: session.learner().map(|l| l.id.clone()),
            token_hash: session.learner().map(|l| l.token_hash.clone()),
            ip: session.client_ip,
            room: session.room(),
        };
        let ttl = Self::ttl_secs(session);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(key(&session.id))
            .arg(serde_json::to_string(&home).unwrap_or_default())
            .arg("EX")
            .arg(ttl);
        if let Some(learner) = session.learner() {
            pipe.cmd("SET")
                .arg(schema::seat(&learner.id))
                .arg(&session.id)
                .arg("EX")
                .arg(ttl);
        }
        self.control.read(&pipe).await.map(drop)
    }

    /// Where session `id` lives, with the record exactly as stored (for
    /// `take_over`).
    pub async fn home_of(&self, id: &str) -> Result<Option<(SessionHome, String)>, StoreError> {
        let raw = self.control.call(redis::cmd("GET").arg(key(id))).await?;
        Ok(text(&raw).and_then(|json| {
            let home = serde_json::from_str(&json).ok()?;
            Some((home, json))
        }))
    }

    /// The live session id of `learner` on any node, if its node lives.
    pub async fn seat_of(&self, learner: &str) -> Result<Option<String>, StoreError> {
        let raw = self
            .control
            .call(redis::cmd("GET").arg(schema::seat(learner)))
            .await?;
        let Some(id) = text(&raw) else {
            return Ok(None);
        };
        Ok(match self.home_of(&id).await? {
            Some((home, _)) if self.node(&home.node).is_some() => Some(id),
            _ => None,
        })
    }

    /// Claims session `id` for this node if its record is still `was`;
    /// false when another node claimed it first.
    pub async fn take_over(
        &self,
        id: &str,
        home: &SessionHome,
        was: &str,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        let mine = SessionHome {
            node: self.id.clone(),
            ..home.clone()
        };
        let moved = self
            .control
            .call(
                redis::cmd("EVAL")
                    .arg(MOVE_IF_UNCHANGED)
                    .arg(1)
                    .arg(key(id))
                    .arg(was)
                    .arg(serde_json::to_string(&mine).unwrap_or_default())
                    .arg(ttl_secs.max(1)),
            )
            .await?;
        Ok(matches!(moved, redis::Value::Int(1)))
    }

    /// Forgets session `id` (ended by its learner).
    pub async fn forget(&self, id: &str) {
        if let Err(e) = self.control.call(redis::cmd("DEL").arg(key(id))).await {
            tracing::warn!("session left in the node directory: {e}");
        }
    }
}
