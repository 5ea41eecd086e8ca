//! Every room with live pages on this node, and the relay that joins them
//! to the same rooms on the other nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use protocol::{Place, RoomServerMessage};

use super::facts::Elsewhere;
use super::relay::Relay;
use super::LiveRoom;
use crate::session::SessionRegistry;
use crate::state::AppState;

/// Every room with live pages, by room id.
#[derive(Default)]
pub struct Classrooms {
    rooms: Mutex<HashMap<String, Arc<LiveRoom>>>,
    /// Room sockets still waiting for their hello, per client address.
    pub greetings: Arc<super::greeting::Greetings>,
    /// Started by the first room call (they all bring the `AppState`), so
    /// a server whose rooms are never used holds no Pub/Sub connection.
    relay: OnceLock<Relay>,
}

impl Classrooms {
    fn relay(self: &Arc<Self>, state: &AppState) -> &Relay {
        self.relay
            .get_or_init(|| Relay::start(Arc::downgrade(self), state))
    }

    /// The live side of room `id`, made on first use.
    pub fn open(self: &Arc<Self>, state: &AppState, id: &str) -> Arc<LiveRoom> {
        let relay = self.relay(state).clone();
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(LiveRoom::new(id, Some(relay))))
            .clone()
    }

    /// The live side of room `id`, if any page on this node opened it.
    pub fn get(&self, id: &str) -> Option<Arc<LiveRoom>> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms.get(id).cloned()
    }

    /// The pace lock `learner` is held to: that of a room where a page of
    /// theirs is open on this node. A learner with no room page open is
    /// not paced (the lock lives in the page the class shares).
    pub fn pace_for(&self, learner: &str) -> Option<Place> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .values()
            .filter(|room| room.sockets_of(learner) > 0)
            .find_map(|room| room.pace())
    }

    /// The pace lock over `session`'s learner: from their room page here,
    /// or, with several nodes, from the room's state in the store when
    /// their page is on another node (their console may live anywhere).
    pub async fn pace_for_session(
        &self,
        state: &AppState,
        session: &crate::session::Session,
    ) -> Option<Place> {
        let learner = session.learner()?;
        if let Some(pace) = self.pace_for(&learner.id) {
            return Some(pace);
        }
        state.cluster.as_ref()?;
        super::relay::stored_pace(&state.control, &session.room()?).await
    }

    /// Learners of room `id` with a page open on another node, from the
    /// control store (empty when it does not answer: the board still
    /// shows this node's).
    pub async fn elsewhere(self: &Arc<Self>, state: &AppState, id: &str) -> Elsewhere {
        let node = self.relay(state).node().to_owned();
        super::facts::read(&state.control, id, &node)
            .await
            .unwrap_or_default()
    }

    /// `learner` was removed from room `id`: their pages close, on every
    /// node.
    pub fn remove(self: &Arc<Self>, state: &AppState, id: &str, learner: &str) {
        if let Some(room) = self.get(id) {
            room.remove(learner);
        }
        self.relay(state).removed(id, learner);
    }

    /// Room `id` ended: its pages are told and their sockets close on
    /// every node; here autoplay stops and the demo sandbox is ended.
    pub async fn end(self: &Arc<Self>, state: &AppState, id: &str) {
        self.relay(state)
            .message(id, &RoomServerMessage::Ended, &ended_text());
        self.end_here(id, &state.sessions).await;
    }

    /// Ends room `id` on this node only (another node published the end).
    pub(super) async fn end_here(&self, id: &str, sessions: &SessionRegistry) {
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

/// `Ended`'s text: pages are told by the room's `ended` watch, so the
/// text only travels between nodes.
fn ended_text() -> axum::extract::ws::Utf8Bytes {
    serde_json::to_string(&RoomServerMessage::Ended)
        .unwrap_or_default()
        .into()
}
