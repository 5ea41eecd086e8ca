//! How a class joins a room, for the instructor's page and the projector:
//! the code in big letters, the join link, and its QR code. The code and
//! link come from `GET /api/rooms/{id}`, so every screen with the
//! instructor key shows them, not only the browser that created the room.

use leptos::prelude::*;
use protocol::RoomInfo;

use crate::api;
use crate::api::rooms::qr_url;
use crate::api::ApiFailure;

/// The room as the server has it: `None` while it is being read.
pub type RoomRead = Option<Result<RoomInfo, ApiFailure>>;

/// Reads `room` once with the instructor `key`.
pub fn read_room(key: String, room: String) -> LocalResource<Result<RoomInfo, ApiFailure>> {
    LocalResource::new(move || {
        let (key, room) = (key.clone(), room.clone());
        async move { api::rooms::info(&key, &room).await }
    })
}

#[component]
pub fn JoinCard(room: String, #[prop(into)] info: Signal<RoomRead>) -> impl IntoView {
    let how = move || match info.get() {
        None => view! { <p class="room-code-loading">"Reading the join code…"</p> }.into_any(),
        Some(Ok(info)) => view! {
            <a class="room-join-url" href=info.join_url.clone() target="_blank" rel="noopener">
                {info.join_url.clone()}
            </a>
            <p class="room-code" aria-label="Join code">{info.code}</p>
        }
        .into_any(),
        Some(Err(why)) => view! {
            <p class="room-code-unknown">{format!("{why} Scan the QR code to join.")}</p>
        }
        .into_any(),
    };
    view! {
        <div class="join-card">
            <div class="join-card-text">
                <p class="join-card-lede">"Join the class at"</p>
                {how}
            </div>
            <img class="room-qr" src=qr_url(&room) alt="QR code of the link that joins this class"/>
        </div>
    }
}
