//! The live classroom: one hub per room, fanning out what the instructor
//! does to every page in the room (`GET /ws/room`).
//!
//! A message is encoded once and the same bytes go to every socket
//! (`broadcast` of `Utf8Bytes`, which clone by reference count), so 200
//! viewers cost one `serde_json` call. A viewer that falls behind the
//! buffer skips ahead (its socket is told the current position again);
//! nobody else waits for it. The hub keeps only what is live (position,
//! pace, who is connected and follows, the demo sandbox, autoplay);
//! rooms, rosters and progress stay in the control store.

pub mod autoplay;
mod classrooms;
mod demo;
pub mod facts;
pub mod greeting;
mod presence;
mod relay;
mod requests;
pub mod reset;
pub mod socket;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use protocol::{ConsoleLine, Place, RoomServerMessage};
use tokio::sync::{broadcast, watch};

pub use classrooms::Classrooms;
pub use demo::LiveError;
use relay::Relay;

/// Messages buffered for a slow viewer; past this it skips ahead. At 10
/// chart frames a second this is 25 s of room traffic.
const ROOM_BUFFER: usize = 256;
/// Demo console lines a late page is shown.
const RECENT_LINES: usize = 50;
/// How long a room's first page on this node waits for the room's state
/// from the other nodes (through the control store) before it is welcomed
/// with what this node knows: a store that does not answer must not keep
/// a class out.
const SYNC_WAIT: Duration = Duration::from_secs(1);

/// One learner's pages in the room.
#[derive(Debug, Default, Clone, Copy)]
struct Presence {
    sockets: u32,
    following: bool,
}

#[derive(Default)]
struct Live {
    /// The demo console's latest lines, for pages that open late.
    recent: VecDeque<ConsoleLine>,
    position: Option<Place>,
    pace: Option<Place>,
    /// This node's learners.
    presence: HashMap<String, Presence>,
    /// Learners with a page open on another node, and whether they
    /// follow (from the control store; see `facts`).
    elsewhere: HashMap<String, bool>,
    /// Every page of the room on this node, the instructor's too: while
    /// there is one, the node receives the room's traffic from the others.
    pages: u32,
}

pub struct LiveRoom {
    pub id: String,
    tx: broadcast::Sender<Utf8Bytes>,
    live: Mutex<Live>,
    demo: demo::DemoSlot,
    autoplay: Mutex<Option<autoplay::Autoplay>>,
    /// Flips to true once when the room ends; its sockets say so and close.
    ended: watch::Sender<bool>,
    /// Learners the instructor removed: their pages close.
    removed: broadcast::Sender<String>,
    /// Learners connected and following, for the instructor.
    presence: watch::Sender<(u32, u32)>,
    /// To and from the room's pages on other nodes (`None` in unit tests).
    relay: Option<Relay>,
    /// True while this node's copy of the room's state is known to be in
    /// step with the other nodes' (subscribed, snapshot read).
    synced: watch::Sender<bool>,
}

/// A page of the room open on this node; dropping it closes it.
pub struct Page(Arc<LiveRoom>);

impl Drop for Page {
    fn drop(&mut self) {
        let last = {
            let mut live = self.0.live();
            live.pages = live.pages.saturating_sub(1);
            live.pages == 0
        };
        if last {
            self.0.synced.send_replace(false);
            if let Some(relay) = &self.0.relay {
                relay.leave(&self.0.id);
            }
        }
    }
}

impl LiveRoom {
    fn new(id: &str, relay: Option<Relay>) -> LiveRoom {
        LiveRoom {
            id: id.to_owned(),
            tx: broadcast::channel(ROOM_BUFFER).0,
            live: Mutex::default(),
            demo: demo::DemoSlot::default(),
            autoplay: Mutex::new(None),
            ended: watch::Sender::new(false),
            removed: broadcast::channel(16).0,
            presence: watch::Sender::new((0, 0)),
            synced: watch::Sender::new(relay.is_none()),
            relay,
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A page opens on this node. The room's first page here subscribes
    /// the node to the room's traffic and reads its state from the
    /// control store; the page waits for that (at most `SYNC_WAIT`), so
    /// its welcome carries the position set on another node.
    pub async fn open_page(self: &Arc<Self>) -> Page {
        let first = {
            let mut live = self.live();
            live.pages += 1;
            live.pages == 1
        };
        if first {
            if let Some(relay) = &self.relay {
                self.synced.send_replace(false);
                relay.sync(self);
            }
        }
        let mut synced = self.synced.subscribe();
        let _ = tokio::time::timeout(SYNC_WAIT, synced.wait_for(|s| *s)).await;
        Page(self.clone())
    }

    /// The room's stream, for one socket.
    pub fn subscribe(&self) -> broadcast::Receiver<Utf8Bytes> {
        self.tx.subscribe()
    }

    /// Resolves once the room has ended.
    pub fn ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    /// `learner` was removed from the roster: their open pages close
    /// (here; `Classrooms::remove` tells the other nodes).
    pub fn remove(&self, learner: &str) {
        let _ = self.removed.send(learner.to_owned());
    }

    /// Learners removed from now on, for one socket.
    pub fn removals(&self) -> broadcast::Receiver<String> {
        self.removed.subscribe()
    }

    /// Sends `message` to every page in the room, encoded once: the same
    /// bytes go to this node's sockets and, in one PUBLISH, to the others.
    pub fn publish(&self, message: &RoomServerMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            let text = Utf8Bytes::from(text);
            if let Some(relay) = &self.relay {
                relay.message(&self.id, message, &text);
            }
            // No pages open is fine.
            let _ = self.tx.send(text);
        }
    }

    /// A message another node published: kept as if it were made here,
    /// and shown to this node's pages (never published again).
    fn receive(&self, message: RoomServerMessage, text: Utf8Bytes) {
        self.keep(&message);
        let _ = self.tx.send(text);
    }

    /// What a room message changes in the state a late page is shown.
    fn keep(&self, message: &RoomServerMessage) {
        let mut live = self.live();
        match message {
            RoomServerMessage::Goto { place } => live.position = Some(place.clone()),
            RoomServerMessage::Pace { place } => live.pace = place.clone(),
            RoomServerMessage::Console { line } => {
                if live.recent.len() == RECENT_LINES {
                    live.recent.pop_front();
                }
                live.recent.push_back(line.clone());
            }
            _ => {}
        }
    }

    /// A line of the demo console: remembered for late pages, and sent.
    pub fn console(&self, line: ConsoleLine) {
        let message = RoomServerMessage::Console { line };
        self.keep(&message);
        self.publish(&message);
    }

    /// The demo console's latest lines, oldest first.
    pub fn recent_console(&self) -> Vec<ConsoleLine> {
        self.live().recent.iter().cloned().collect()
    }

    pub fn position(&self) -> Option<Place> {
        self.live().position.clone()
    }

    pub fn pace(&self) -> Option<Place> {
        self.live().pace.clone()
    }

    /// Follow-me: every follower moves to `place`.
    pub fn goto(&self, place: Place) {
        let message = RoomServerMessage::Goto { place };
        self.keep(&message);
        self.publish(&message);
    }

    /// Locks every step after `place` (`None` unlocks).
    pub fn set_pace(&self, place: Option<Place>) {
        let message = RoomServerMessage::Pace { place };
        self.keep(&message);
        self.publish(&message);
    }

    /// Starts autoplay, stopping any that runs.
    fn set_autoplay(&self, autoplay: autoplay::Autoplay) {
        let old = self
            .autoplay
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(autoplay);
        if let Some(old) = old {
            old.stop();
        }
    }

    /// Pauses or resumes autoplay and tells the room; false when none
    /// runs (on this node: autoplay runs where it was started).
    pub fn pause_autoplay(&self, paused: bool) -> bool {
        let state = {
            let autoplay = self.autoplay.lock().unwrap_or_else(|e| e.into_inner());
            autoplay.as_ref().and_then(|a| a.pause(paused))
        };
        match state {
            Some(state) => {
                self.publish(&RoomServerMessage::Autoplay { state });
                true
            }
            None => false,
        }
    }

    pub fn stop_autoplay(&self) {
        let old = self
            .autoplay
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(old) = old {
            old.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_encoding_reaches_every_viewer_and_presence_counts_learners() {
        let room = LiveRoom::new("r", None);
        let mut a = room.subscribe();
        let mut b = room.subscribe();
        assert!(room.arrive("ada"));
        room.arrive("ada");
        room.follow("ada", false);
        assert_eq!(room.presence_of("ada"), (true, false));
        room.depart("ada");
        room.depart("ada");
        assert_eq!(room.presence_of("ada"), (false, false));
        let place = Place {
            lesson: "hashes".into(),
            step: None,
        };
        room.goto(place.clone());
        let mut last_a = None;
        while let Ok(m) = a.try_recv() {
            last_a = Some(m);
        }
        let mut last_b = None;
        while let Ok(m) = b.try_recv() {
            last_b = Some(m);
        }
        let (last_a, last_b) = (last_a.unwrap(), last_b.unwrap());
        // The same bytes, not two encodings.
        assert_eq!(last_a.as_str().as_ptr(), last_b.as_str().as_ptr());
        let message: RoomServerMessage = serde_json::from_str(last_a.as_str()).unwrap();
        assert_eq!(message, RoomServerMessage::Goto { place });
        assert_eq!(room.position().unwrap().lesson, "hashes");
    }
}
