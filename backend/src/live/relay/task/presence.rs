//! The relay's share of presence: this node's learners' facts written to
//! the control store (at once when they change, and again every
//! `facts::REFRESH`), and the other nodes' read back for the instructor.

use super::super::{channel, encode, Event, Header};
use super::{ms, Task};
use crate::live::facts::{self, Fact};

impl Task {
    /// Queues `learner`'s facts in `room` (or their removal: no page left
    /// here) and tells the other nodes to read them.
    pub(super) fn stage_fact(
        &self,
        pipe: &mut redis::Pipeline,
        room: &str,
        learner: &str,
        following: Option<bool>,
    ) {
        let key = facts::key(room);
        let field = facts::field(learner, &self.node);
        match following {
            Some(following) => {
                let fact = Fact::now(learner, &self.node, following, &self.sessions);
                let value = serde_json::to_vec(&fact).unwrap_or_default();
                pipe.cmd("HSET").arg(&key).arg(field).arg(value);
                pipe.cmd("PEXPIRE").arg(&key).arg(ms(facts::FRESH_FOR));
            }
            None => {
                pipe.cmd("HDEL").arg(&key).arg(field);
            }
        }
        // Presence needs no dedup: `seq` 0.
        let header = Header {
            node: self.node.clone(),
            seq: 0,
            event: Event::Presence,
        };
        pipe.cmd("PUBLISH")
            .arg(channel(room))
            .arg(encode(&header, b""));
    }

    /// Writes again the facts of every learner with a page here, so they
    /// stay fresh, and reads the other nodes' (some may have gone).
    pub(super) async fn refresh(&mut self) {
        let mut pipe = redis::pipe();
        for (id, entry) in &self.rooms {
            let Some(room) = entry.room.upgrade() else {
                continue;
            };
            let here = room.here();
            if !here.is_empty() {
                let key = facts::key(id);
                for (learner, following) in here {
                    let fact = Fact::now(&learner, &self.node, following, &self.sessions);
                    let value = serde_json::to_vec(&fact).unwrap_or_default();
                    pipe.cmd("HSET")
                        .arg(&key)
                        .arg(facts::field(&learner, &self.node))
                        .arg(value);
                }
                pipe.cmd("PEXPIRE").arg(&key).arg(ms(facts::FRESH_FOR));
            }
            self.dirty.insert(id.clone());
        }
        self.flush(&mut pipe).await;
    }

    /// Reads who is on other nodes for every room where that changed.
    pub(super) async fn recount(&mut self) {
        for id in std::mem::take(&mut self.dirty) {
            let Some(room) = self.rooms.get(&id).and_then(|s| s.room.upgrade()) else {
                continue;
            };
            if let Ok(elsewhere) = facts::read(&self.control, &id, &self.node).await {
                // Presence counts pages: a console alone is not one.
                room.set_elsewhere(
                    elsewhere
                        .into_iter()
                        .filter(|(_, remote)| remote.page)
                        .map(|(learner, remote)| (learner, remote.following))
                        .collect(),
                );
            }
        }
    }
}
