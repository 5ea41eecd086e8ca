//! Who is in the room: this node's learners (counted per page) and those
//! with a page on another node (read from the control store by the relay,
//! see `facts`). The instructor's `presence` counts both; each node tells
//! the others when one of its learners arrives, leaves or stops following.

use std::collections::HashMap;

use tokio::sync::watch;

use super::{LiveRoom, Presence};

impl LiveRoom {
    /// Pages `learner` has open in the room, on this node.
    pub fn sockets_of(&self, learner: &str) -> u32 {
        self.live().presence.get(learner).map_or(0, |p| p.sockets)
    }

    /// A page of `learner` opened; learners start out following.
    /// Returns whether they follow.
    pub fn arrive(&self, learner: &str) -> bool {
        let following = {
            let mut live = self.live();
            let presence = live.presence.entry(learner.to_owned()).or_insert(Presence {
                sockets: 0,
                following: true,
            });
            presence.sockets += 1;
            presence.following
        };
        self.presence_changed(learner);
        following
    }

    /// A page of `learner` closed.
    pub fn depart(&self, learner: &str) {
        {
            let mut live = self.live();
            if let Some(presence) = live.presence.get_mut(learner) {
                presence.sockets = presence.sockets.saturating_sub(1);
            }
        }
        self.presence_changed(learner);
    }

    /// `learner` follows the instructor, or breaks away.
    pub fn follow(&self, learner: &str, on: bool) {
        if let Some(presence) = self.live().presence.get_mut(learner) {
            presence.following = on;
        }
        self.presence_changed(learner);
    }

    /// (connected now, follows) on this node, for the board (which adds
    /// what the other nodes wrote in the control store).
    pub fn presence_of(&self, learner: &str) -> (bool, bool) {
        self.live()
            .presence
            .get(learner)
            .map_or((false, false), |p| {
                (p.sockets > 0, p.sockets > 0 && p.following)
            })
    }

    /// This node's learners with a page open, and whether they follow.
    pub(super) fn here(&self) -> Vec<(String, bool)> {
        self.live()
            .presence
            .iter()
            .filter(|(_, p)| p.sockets > 0)
            .map(|(learner, p)| (learner.clone(), p.following))
            .collect()
    }

    /// The learners with a page on another node, as last read.
    pub(super) fn set_elsewhere(&self, elsewhere: HashMap<String, bool>) {
        let changed = {
            let mut live = self.live();
            let changed = live.elsewhere != elsewhere;
            live.elsewhere = elsewhere;
            changed
        };
        if changed {
            self.count_presence();
        }
    }

    fn presence_changed(&self, learner: &str) {
        self.count_presence();
        if let Some(relay) = &self.relay {
            relay.presence(self, learner);
        }
    }

    /// Counts learners once whichever nodes their pages are on; one who
    /// follows on any page follows.
    fn count_presence(&self) {
        let (connected, following) = {
            let live = self.live();
            let mut learners: HashMap<&str, bool> = live
                .presence
                .iter()
                .filter(|(_, p)| p.sockets > 0)
                .map(|(learner, p)| (learner.as_str(), p.following))
                .collect();
            for (learner, follows) in &live.elsewhere {
                *learners.entry(learner).or_default() |= follows;
            }
            let connected = u32::try_from(learners.len()).unwrap_or(u32::MAX);
            let following = learners.values().filter(|f| **f).count();
            (connected, u32::try_from(following).unwrap_or(u32::MAX))
        };
        self.presence.send_replace((connected, following));
    }

    /// (connected, following), for the instructor's sockets. A `watch`,
    /// not the room stream: only the instructor reads it, and a burst of
    /// arrivals collapses into the latest count instead of filling every
    /// learner's buffer with messages they ignore.
    pub fn presence(&self) -> watch::Receiver<(u32, u32)> {
        self.presence.subscribe()
    }
}
