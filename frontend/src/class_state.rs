//! The learner's class (provided once as context, so one room socket serves
//! every page): which room they are in (`GET /api/rooms/mine`), the room's
//! live state, following the instructor, the raised hand, and where
//! follow-me wants the page to be (`jump`, which `FollowMe` acts on inside
//! the router).

use leptos::prelude::*;
use protocol::{MyRoom, Place, RoomClientMessage, RoomServerMessage};

use crate::api;
use crate::room_state::RoomState;
use crate::sim_state::SimState;
use crate::transcript_store::Tone;

/// A place to go to; the number makes a second jump to the same place a
/// change too.
pub type Jump = (u64, Place);

#[derive(Clone, Copy)]
pub struct ClassState {
    pub room: RwSignal<Option<MyRoom>>,
    pub live: RoomState,
    pub hand_raised: RwSignal<bool>,
    pub jump: RwSignal<Option<Jump>>,
}

impl ClassState {
    pub fn new(sims: SimState) -> ClassState {
        let class = ClassState {
            room: RwSignal::new(None),
            live: RoomState::new(sims),
            hand_raised: RwSignal::new(false),
            jump: RwSignal::new(None),
        };
        class.refresh();
        class
    }

    /// Asks the server which room this learner is in, and connects to it.
    pub fn refresh(&self) {
        let class = *self;
        leptos::task::spawn_local(async move {
            match api::rooms::mine().await {
                Ok(Some(room)) => class.enter(room),
                Ok(None) => class.leave(),
                // Unreachable now: the next page load asks again.
                Err(_) => {}
            }
        });
    }

    fn enter(&self, room: MyRoom) {
        let Some(token) = crate::credentials::token() else {
            return;
        };
        if self.room.get_untracked().as_ref() == Some(&room) {
            return;
        }
        let class = *self;
        self.room.set(Some(room.clone()));
        self.hand_raised.set(false);
        self.live
            .link
            .open(room.room, token, move |message| class.on_message(message));
    }

    fn leave(&self) {
        self.live.link.close();
        self.room.set(None);
    }

    fn on_message(&self, message: RoomServerMessage) {
        let live = self.live;
        match &message {
            RoomServerMessage::Welcome {
                position,
                following,
                hand_raised,
                ..
            } => {
                // The hand as the server keeps it (raised before a reload).
                self.hand_raised.set(*hand_raised);
                // A reconnect to an unchanged place must not scroll the page.
                let moved = live.position.get_untracked() != *position;
                if let (true, true, Some(place)) = (moved, *following, position) {
                    self.go(place.clone());
                }
            }
            RoomServerMessage::Goto { place } if live.following.get_untracked() => {
                self.go(place.clone());
            }
            RoomServerMessage::Reveal { lesson, task } => live.notice(
                Tone::Info,
                format!(
                    "The instructor revealed the solution to task {} of “{lesson}”.",
                    task + 1
                ),
            ),
            // The panel stays, saying so, until the next page load finds
            // the learner in no room.
            RoomServerMessage::Ended => self.hand_raised.set(false),
            _ => {}
        }
        live.apply(message);
    }

    fn go(&self, place: Place) {
        let n = self.jump.get_untracked().map_or(1, |(n, _)| n + 1);
        self.jump.set(Some((n, place)));
    }

    /// Follows the instructor (going to where they are) or breaks away.
    pub fn set_following(&self, on: bool) {
        let class = *self;
        leptos::task::spawn_local(async move {
            let live = class.live;
            match live
                .link
                .request(|seq| RoomClientMessage::Follow { seq, on })
                .await
            {
                RoomServerMessage::Error { error, .. } => live.notice(Tone::Warn, error.message),
                _ => {
                    live.following.set(on);
                    if let (true, Some(place)) = (on, live.position.get_untracked()) {
                        class.go(place);
                    }
                }
            }
        });
    }

    /// Raises or lowers the learner's hand.
    pub fn set_hand(&self, raised: bool) {
        let Some(room) = self.room.get_untracked() else {
            return;
        };
        let class = *self;
        leptos::task::spawn_local(async move {
            match api::rooms::set_hand(&room.room, raised).await {
                Ok(()) => class.hand_raised.set(raised),
                Err(e) => class.live.notice(Tone::Warn, e.to_string()),
            }
        });
    }
}
