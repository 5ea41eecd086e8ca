//! A room across nodes: what one node publishes reaches the room's pages
//! on every node, through Redis Pub/Sub on the control store.
//!
//! Every room message is encoded once, by `LiveRoom::publish`; the same
//! text goes to this node's sockets and, behind a one-line header naming
//! the node, in one PUBLISH on `rt:live:{room}`. A node that receives it
//! shows it to its own pages and keeps what it changes (position, pace,
//! console backlog, the end), but never publishes it again; it skips its
//! own. What a late page is shown is also written beside the PUBLISH, in
//! the same pipeline (`rt:livestate:{room}`, `rt:liveconsole:{room}`), so
//! a node where the room's first page opens reads it before the welcome.
//!
//! A node subscribes to a room only while it has pages of that room open,
//! rather than one PSUBSCRIBE to every room: chart frames run at ten a
//! second per room, and a node should not decode the traffic of classes
//! it serves no page of.
//!
//! One task per node owns the Pub/Sub connection (reconnecting by itself)
//! and runs every store call of the relay in order, so a snapshot is never
//! read before this node's own earlier writes.
//!
//! Not relayed: `watch` (the instructor mirroring a learner's console).
//! It taps the learner's session, which lives on one node: the
//! instructor's page sees it when both are on the same node.

mod snapshot;
mod task;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use axum::extract::ws::Utf8Bytes;
use protocol::{Place, RoomServerMessage};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Classrooms, LiveRoom};
use crate::control::ControlStore;
use crate::state::AppState;

/// Jobs waiting for the relay's task. Past this, messages still reach this
/// node's pages but not the other nodes' (the store is not keeping up).
const JOBS: usize = 4096;

use crate::control::schema::{
    live_channel as channel, live_console as console_key, live_state as state_key,
    LIVE_CHANNEL_PREFIX as CHANNEL_PREFIX,
};

/// What a published message changes in what a late page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    Goto,
    Pace,
    Console,
    Ended,
}

impl Keep {
    fn of(message: &RoomServerMessage) -> Keep {
        match message {
            RoomServerMessage::Goto { .. } => Keep::Goto,
            RoomServerMessage::Pace { .. } => Keep::Pace,
            RoomServerMessage::Console { .. } => Keep::Console,
            RoomServerMessage::Ended => Keep::Ended,
            _ => Keep::Nothing,
        }
    }
}

/// The first line of every payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    node: String,
    /// This node's count of what it published: `(node, seq)` names a
    /// message, so one read in a snapshot is not shown again when its
    /// PUBLISH arrives too.
    seq: u64,
    #[serde(flatten)]
    event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    /// The rest of the payload is a room message for every page.
    Message,
    /// The instructor removed `learner`: their pages close.
    Removed { learner: String },
    /// A learner arrived, left or changed following on the sending node:
    /// read the room's facts again.
    Presence,
}

/// The header, a new line, the room message's text (JSON never holds a
/// raw new line).
/// Room `room`'s pace lock as last published (kept in the store beside
/// the PUBLISH); `None` when none is set or the store cannot say.
pub async fn stored_pace(control: &ControlStore, room: &str) -> Option<Place> {
    snapshot::Snapshot::read(control, room).await.ok()?.pace()
}

fn encode(header: &Header, text: &[u8]) -> Vec<u8> {
    let mut payload = serde_json::to_vec(header).unwrap_or_default();
    payload.push(b'\n');
    payload.extend_from_slice(text);
    payload
}

fn decode(payload: &[u8]) -> Option<(Header, &[u8])> {
    let split = payload.iter().position(|b| *b == b'\n')?;
    let header = serde_json::from_slice(&payload[..split]).ok()?;
    Some((header, &payload[split + 1..]))
}

enum Job {
    Publish {
        room: String,
        payload: Vec<u8>,
        keep: Keep,
    },
    /// `learner`'s facts on this node changed; `None`: no page left here.
    Fact {
        room: String,
        learner: String,
        following: Option<bool>,
    },
    /// The room's first page here: subscribe and read its state.
    Sync(Weak<LiveRoom>),
    /// The room's last page here closed.
    Leave(String),
}

/// A handle on the node's relay task.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    node: String,
    seq: AtomicU64,
    dropped: AtomicU64,
    jobs: mpsc::Sender<Job>,
}

impl Relay {
    /// Starts the node's relay task, named as the node is in the cluster
    /// (a random id for a single server, whose embedded store no other
    /// node shares).
    pub fn start(classrooms: Weak<Classrooms>, state: &AppState) -> Relay {
        let node = match &state.cluster {
            Some(cluster) => cluster.id.clone(),
            None => crate::secret::random_hex(8)
                .unwrap_or_else(|_| format!("pid{}", std::process::id())),
        };
        let (jobs, queue) = mpsc::channel(JOBS);
        let task = task::Task::new(node.clone(), classrooms, state);
        tokio::spawn(task.run(queue));
        Relay {
            inner: Arc::new(Inner {
                node,
                seq: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                jobs,
            }),
        }
    }

    /// This node's id in the relay.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    fn header(&self, event: Event) -> Header {
        Header {
            node: self.inner.node.clone(),
            seq: self.inner.seq.fetch_add(1, Ordering::Relaxed),
            event,
        }
    }

    fn send(&self, job: Job) {
        match self.inner.jobs.try_send(job) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            // A subscription must not be lost to a burst (the node would
            // stop hearing the room): it waits for room in the queue.
            Err(mpsc::error::TrySendError::Full(job @ (Job::Sync(_) | Job::Leave(_)))) => {
                let jobs = self.inner.jobs.clone();
                tokio::spawn(async move { jobs.send(job).await });
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let dropped = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        "the room relay is behind; other nodes miss messages"
                    );
                }
            }
        }
    }

    /// `message` (already encoded as `text`) to room `room` on the other
    /// nodes.
    pub fn message(&self, room: &str, message: &RoomServerMessage, text: &Utf8Bytes) {
        let payload = encode(&self.header(Event::Message), text.as_bytes());
        self.send(Job::Publish {
            room: room.to_owned(),
            payload,
            keep: Keep::of(message),
        });
    }

    /// `learner`'s pages close on the other nodes.
    pub fn removed(&self, room: &str, learner: &str) {
        let event = Event::Removed {
            learner: learner.to_owned(),
        };
        self.send(Job::Publish {
            room: room.to_owned(),
            payload: encode(&self.header(event), b""),
            keep: Keep::Nothing,
        });
    }

    /// `learner`'s presence in `room` changed on this node.
    pub fn presence(&self, room: &LiveRoom, learner: &str) {
        let (online, following) = room.presence_of(learner);
        self.send(Job::Fact {
            room: room.id.clone(),
            learner: learner.to_owned(),
            following: online.then_some(following),
        });
    }

    pub fn sync(&self, room: &Arc<LiveRoom>) {
        self.send(Job::Sync(Arc::downgrade(room)));
    }

    pub fn leave(&self, room: &str) {
        self.send(Job::Leave(room.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_a_header_line_and_the_message_text_untouched() {
        let header = Header {
            node: "n1".into(),
            seq: 7,
            event: Event::Removed {
                learner: "ada".into(),
            },
        };
        let text = br#"{"type":"ended"}"#;
        let payload = encode(&header, text);
        let (back, rest) = decode(&payload).unwrap();
        assert_eq!(back, header);
        assert_eq!(rest, text);
        assert!(decode(b"no header line").is_none());
    }
}
