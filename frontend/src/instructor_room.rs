//! The room the instructor's page steers: its id, the instructor key, the
//! room socket's state, and the demo sandbox's session (asked for on every
//! welcome, since a new demo sandbox may have replaced the last). Every
//! control of the page sends through `ask`.

use leptos::prelude::*;
use protocol::{RoomClientMessage, RoomServerMessage};

use crate::room_state::RoomState;
use crate::transcript_store::Tone;

#[derive(Clone, Copy)]
pub struct InstructorRoom {
    key: StoredValue<String>,
    room: StoredValue<String>,
    pub live: RoomState,
    /// The demo sandbox's session id, for `/api/exec`.
    pub demo: RwSignal<Option<String>>,
}

impl InstructorRoom {
    /// Opens the room socket as the instructor; closed when the calling
    /// component goes.
    pub fn open(key: String, room: String) -> InstructorRoom {
        let demo = RwSignal::new(None);
        let live = RoomState::open_for_page(room.clone(), key.clone(), move |live| {
            leptos::task::spawn_local(async move {
                if let Err(why) = demo_session(live, demo).await {
                    live.notice(Tone::Warn, why);
                }
            });
        });
        InstructorRoom {
            key: StoredValue::new(key),
            room: StoredValue::new(room),
            live,
            demo,
        }
    }

    pub fn key(&self) -> String {
        self.key.get_value()
    }

    pub fn room(&self) -> String {
        self.room.get_value()
    }

    /// Sends a request; an error comes back as its sentence.
    pub async fn ask(
        &self,
        make: impl FnOnce(u64) -> RoomClientMessage,
    ) -> Result<RoomServerMessage, String> {
        ask(self.live, make).await
    }

    /// Asks the room for its demo sandbox again (the last one is gone).
    pub async fn renew_demo(&self) -> Result<String, String> {
        demo_session(self.live, self.demo).await
    }
}

async fn ask(
    live: RoomState,
    make: impl FnOnce(u64) -> RoomClientMessage,
) -> Result<RoomServerMessage, String> {
    match live.link.request(make).await {
        RoomServerMessage::Error { error, .. } => Err(error.message),
        answer => Ok(answer),
    }
}

/// The room's demo session id (the room makes a sandbox if it has none).
async fn demo_session(live: RoomState, demo: RwSignal<Option<String>>) -> Result<String, String> {
    match ask(live, |seq| RoomClientMessage::Demo { seq }).await {
        Ok(RoomServerMessage::Demo { session, .. }) => {
            demo.set(Some(session.clone()));
            Ok(session)
        }
        Ok(_) => Err("The server did not say which demo sandbox to use.".to_owned()),
        Err(why) => Err(format!("The demo sandbox is not ready: {why}")),
    }
}
