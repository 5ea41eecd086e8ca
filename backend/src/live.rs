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
mod demo;
mod requests;
pub mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use protocol::{ConsoleLine, Place, RoomServerMessage};
use tokio::sync::{broadcast, watch};

pub use demo::LiveError;

/// Messages buffered for a slow viewer; past this it skips ahead. At 10
/// chart frames a second this is 25 s of room traffic.
const ROOM_BUFFER: usize = 256;
/// Demo console lines a late page is shown.
const RECENT_LINES: usize = 50;

/// Every room with live pages, by room id.
#[derive(Default)]
pub struct Classrooms {
    rooms: Mutex<HashMap<String, Arc<LiveRoom>>>,
}

impl Classrooms {
    /// The live side of room `id`, made on first use.
    pub fn open(&self, id: &str) -> Arc<LiveRoom> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(LiveRoom::new(id)))
            .clone()
    }

    /// The live side of room `id`, if any page ever opened it.
    pub fn get(&self, id: &str) -> Option<Arc<LiveRoom>> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms.get(id).cloned()
    }

    /// The pace lock `learner` is held to: that of a room where a page of
    /// theirs is open. A learner with no room page open is not paced (the
    /// lock lives in the page the class shares).
    pub fn pace_for(&self, learner: &str) -> Option<Place> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .values()
            .filter(|room| room.sockets_of(learner) > 0)
            .find_map(|room| room.pace())
    }

    /// Room `id` ended: its pages are told and its sockets close, autoplay
    /// stops, and its demo sandbox is ended.
    pub async fn end(&self, id: &str, sessions: &crate::session::SessionRegistry) {
        let room = {
            let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
            rooms.remove(id)
        };
        if let Some(room) = room {
            room.stop_autoplay();
            room.ended.send_replace(true);
            if let Some(demo) = room.demo_id().await {
                sessions.remove(&demo).await;
            }
        }
    }
}

/// One learner's pages in the room.
#[derive(Debug, Default, Clone, Copy)]
struct Presence {
    sockets: u32,
    following: bool,
}

#[derive(Default)]
struct Live {
    /// The demo console's latest lines, for pages that open late.
    recent: std::collections::VecDeque<ConsoleLine>,
    position: Option<Place>,
    pace: Option<Place>,
    presence: HashMap<String, Presence>,
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
}

impl LiveRoom {
    fn new(id: &str) -> LiveRoom {
        LiveRoom {
            id: id.to_owned(),
            tx: broadcast::channel(ROOM_BUFFER).0,
            live: Mutex::default(),
            demo: demo::DemoSlot::default(),
            autoplay: Mutex::new(None),
            ended: watch::Sender::new(false),
            removed: broadcast::channel(16).0,
            presence: watch::Sender::new((0, 0)),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room's stream, for one socket.
    pub fn subscribe(&self) -> broadcast::Receiver<Utf8Bytes> {
        self.tx.subscribe()
    }

    /// Resolves once the room has ended.
    pub fn ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    /// `learner` was removed from the roster: their open pages close.
    pub fn remove(&self, learner: &str) {
        let _ = self.removed.send(learner.to_owned());
    }

    /// Learners removed from now on, for one socket.
    pub fn removals(&self) -> broadcast::Receiver<String> {
        self.removed.subscribe()
    }

    /// Pages `learner` has open in the room.
    pub fn sockets_of(&self, learner: &str) -> u32 {
        self.live().presence.get(learner).map_or(0, |p| p.sockets)
    }

    /// Sends `message` to every page in the room, encoded once.
    pub fn publish(&self, message: &RoomServerMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            // No pages open is fine.
            let _ = self.tx.send(Utf8Bytes::from(text));
        }
    }

    /// A line of the demo console: remembered for late pages, and sent.
    pub fn console(&self, line: ConsoleLine) {
        {
            let mut live = self.live();
            if live.recent.len() == RECENT_LINES {
                live.recent.pop_front();
            }
            live.recent.push_back(line.clone());
        }
        self.publish(&RoomServerMessage::Console { line });
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
        self.live().position = Some(place.clone());
        self.publish(&RoomServerMessage::Goto { place });
    }

    /// Locks every step after `place` (`None` unlocks).
    pub fn set_pace(&self, place: Option<Place>) {
        self.live().pace = place.clone();
        self.publish(&RoomServerMessage::Pace { place });
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
        self.publish_presence();
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
        self.publish_presence();
    }

    /// `learner` follows the instructor, or breaks away.
    pub fn follow(&self, learner: &str, on: bool) {
        if let Some(presence) = self.live().presence.get_mut(learner) {
            presence.following = on;
        }
        self.publish_presence();
    }

    /// (connected now, follows) for the board.
    pub fn presence_of(&self, learner: &str) -> (bool, bool) {
        self.live()
            .presence
            .get(learner)
            .map_or((false, false), |p| {
                (p.sockets > 0, p.sockets > 0 && p.following)
            })
    }

    fn publish_presence(&self) {
        let (connected, following) = {
            let live = self.live();
            let online = live.presence.values().filter(|p| p.sockets > 0);
            online.fold((0u32, 0u32), |(c, f), p| {
                (c + 1, f + u32::from(p.following))
            })
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
    /// runs.
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
        let room = LiveRoom::new("r");
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
