//! What one node knows of a learner with a room page open there, kept in
//! the control store for the board and the instructor's presence on the
//! other nodes: whether they follow, and their console's error counts.
//!
//! One hash per room (`rt:livefacts:{room}`), one field per learner and
//! node. A node writes a field when the learner arrives, leaves or stops
//! following, and again every `REFRESH` while the page is open; each value
//! says until when it holds (`FRESH_FOR`), so a node that died without a
//! word drops out of the board on its own. The key's TTL clears a room
//! every node has left.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::control::schema::SEP;
use crate::control::{ControlStore, StoreError};
use std::sync::Arc;

use crate::session::{ErrorCounts, SessionRegistry};

/// How often a node writes its learners' facts again.
pub const REFRESH: Duration = Duration::from_secs(5);
/// How long a fact holds without being written again: three refreshes,
/// so one slow round trip does not mark a class offline.
pub const FRESH_FOR: Duration = Duration::from_secs(15);

pub use crate::control::schema::live_facts as key;

pub fn field(learner: &str, node: &str) -> String {
    format!("{learner}{SEP}{node}")
}

/// The field of a console's facts written by the node holding it (which
/// may hold no page of the room).
pub fn console_field(learner: &str, node: &str) -> String {
    format!("{learner}{SEP}{node}{SEP}console")
}

fn yes() -> bool {
    true
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One node's facts about one learner (the value of one field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub learner: String,
    pub node: String,
    /// A room page of theirs is open on this node (else: only their
    /// console is here).
    #[serde(default = "yes")]
    pub page: bool,
    pub following: bool,
    /// Their console (a live session) is on this node.
    pub console: bool,
    /// When their console was last used (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_ms: Option<u64>,
    pub errors_5m: u32,
    pub in_a_row: u32,
    /// Past this (Unix ms) the fact no longer holds.
    pub until_ms: u64,
}

impl Fact {
    /// `learner`'s facts as this node sees them now.
    pub fn now(learner: &str, node: &str, following: bool, sessions: &SessionRegistry) -> Fact {
        let now = now_ms();
        let session = sessions.for_learner(learner);
        let errors = session
            .as_ref()
            .map(|s| s.error_counts())
            .unwrap_or_default();
        Fact {
            learner: learner.to_owned(),
            node: node.to_owned(),
            page: true,
            following,
            console: session.is_some(),
            used_ms: session
                .map(|s| now.saturating_sub(u64::try_from(s.idle_for().as_millis()).unwrap_or(0))),
            errors_5m: errors.last_5m,
            in_a_row: errors.in_a_row,
            until_ms: now + u64::try_from(FRESH_FOR.as_millis()).unwrap_or(0),
        }
    }
}

/// A learner seen on other nodes, their facts merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Remote {
    /// A page of theirs is open on another node.
    pub page: bool,
    pub following: bool,
    pub console: bool,
    pub used_ms: Option<u64>,
    pub errors: ErrorCounts,
}

/// Learners with a page open on other nodes, by learner id.
pub type Elsewhere = HashMap<String, Remote>;

/// Merges the fresh facts of nodes other than `me`.
pub fn merge(values: impl IntoIterator<Item = Fact>, me: &str, now: u64) -> Elsewhere {
    let mut out = Elsewhere::new();
    for fact in values {
        if fact.node == me || fact.until_ms < now {
            continue;
        }
        let remote = out.entry(fact.learner).or_default();
        remote.page |= fact.page;
        remote.following |= fact.following;
        remote.console |= fact.console;
        remote.used_ms = remote.used_ms.max(fact.used_ms);
        remote.errors.last_5m = remote.errors.last_5m.max(fact.errors_5m);
        remote.errors.in_a_row = remote.errors.in_a_row.max(fact.in_a_row);
    }
    out
}

/// The room's learners on nodes other than `me`.
pub async fn read(control: &ControlStore, room: &str, me: &str) -> Result<Elsewhere, StoreError> {
    let mut pipe = redis::pipe();
    pipe.cmd("HVALS").arg(key(room));
    let values = control.read(&pipe).await?;
    let facts = match values.into_iter().next() {
        Some(redis::Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let facts = facts.into_iter().filter_map(|value| match value {
        redis::Value::BulkString(bytes) => serde_json::from_slice::<Fact>(&bytes).ok(),
        _ => None,
    });
    Ok(merge(facts, me, now_ms()))
}

/// With several nodes: every `REFRESH`, this node writes the facts of
/// the consoles it holds for room members (`Session::room`) to their
/// room's board, so a learner whose page is on another node (placed
/// there by the load balancer, their console by the least loaded node)
/// still shows their errors and is marked stuck.
pub fn keep_console_facts(
    sessions: Arc<SessionRegistry>,
    control: Arc<ControlStore>,
    node: String,
) {
    let sessions = Arc::downgrade(&sessions);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tick.tick().await;
            let Some(sessions) = sessions.upgrade() else {
                return;
            };
            let mut pipe = redis::pipe();
            for (room, session) in sessions.room_members() {
                let Some(learner) = session.learner() else {
                    continue;
                };
                let now = now_ms();
                let errors = session.error_counts();
                let fact = Fact {
                    learner: learner.id.clone(),
                    node: node.clone(),
                    page: false,
                    following: false,
                    console: true,
                    used_ms: Some(now.saturating_sub(
                        u64::try_from(session.idle_for().as_millis()).unwrap_or(0),
                    )),
                    errors_5m: errors.last_5m,
                    in_a_row: errors.in_a_row,
                    until_ms: now + u64::try_from(FRESH_FOR.as_millis()).unwrap_or(0),
                };
                pipe.cmd("HSET")
                    .arg(key(&room))
                    .arg(console_field(&learner.id, &node))
                    .arg(serde_json::to_vec(&fact).unwrap_or_default());
                pipe.cmd("PEXPIRE")
                    .arg(key(&room))
                    .arg(u64::try_from(FRESH_FOR.as_millis()).unwrap_or(0));
            }
            if !pipe.is_empty() {
                if let Err(e) = control.read(&pipe).await {
                    tracing::debug!("console facts not written: {e}");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(learner: &str, node: &str, following: bool, until_ms: u64) -> Fact {
        Fact {
            learner: learner.into(),
            node: node.into(),
            page: true,
            following,
            console: false,
            used_ms: None,
            errors_5m: 1,
            in_a_row: 0,
            until_ms,
        }
    }

    #[test]
    fn merging_skips_this_node_and_stale_facts_and_any_page_following_follows() {
        let facts = [
            fact("ada", "me", true, 100),
            fact("bob", "b", false, 100),
            fact("bob", "c", true, 100),
            fact("cy", "b", true, 10),
        ];
        let out = merge(facts, "me", 50);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out["bob"].following);
        assert_eq!(out["bob"].errors.last_5m, 1);
    }
}
