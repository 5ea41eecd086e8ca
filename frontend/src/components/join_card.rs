//! How a class joins a room, for the instructor's page and the projector:
//! the code in big letters, the join link, and its QR code. The code and
//! link are known only in the browser that created the room.

use leptos::prelude::*;
use protocol::RoomCreated;

use crate::api::rooms::qr_url;

#[component]
pub fn JoinCard(room: String, created: Option<RoomCreated>) -> impl IntoView {
    let (code, link) = match created {
        Some(created) => (
            view! { <p class="room-code" aria-label="Join code">{created.code}</p> }.into_any(),
            view! {
                <a class="room-join-url" href=created.join_url.clone() target="_blank" rel="noopener">
                    {created.join_url.clone()}
                </a>
            }
            .into_any(),
        ),
        None => (
            view! {
                <p class="room-code-unknown">
                    "This browser did not create the room, so it does not know its code: scan the QR code."
                </p>
            }
            .into_any(),
            ().into_any(),
        ),
    };
    view! {
        <div class="join-card">
            <div class="join-card-text">
                <p class="join-card-lede">"Join the class at"</p>
                {link}
                {code}
            </div>
            <img class="room-qr" src=qr_url(&room) alt="QR code of the link that joins this class"/>
        </div>
    }
}
