//! `/projector?room=<id>`: the room on the big screen, in large type and
//! with no controls: how to join, where the class is, the demo console and
//! the scenario's charts. It reads the room's code and connects with the
//! instructor key of this tab (the instructor page's link hands it over;
//! `#<key>` works too), so any browser of the instructor's shows it all.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use protocol::Place;

use crate::api;
use crate::api::ApiFailure;
use crate::components::join_card::{read_room, JoinCard};
use crate::components::live_console::LiveConsole;
use crate::components::room_charts::RoomCharts;
use crate::instructor_store;
use crate::room_link::RoomStatus;
use crate::room_state::{place_label, RoomState};

#[component]
pub fn ProjectorPage() -> impl IntoView {
    instructor_store::adopt_key_from_location();
    let query = use_query_map();
    let Some(room) = instructor_store::room(query.with_untracked(|q| q.get("room"))) else {
        return view! {
            <section class="projector page-message">
                <p class="projector-missing" role="alert">
                    "No room to show: open the projector view from the instructor page."
                </p>
            </section>
        }
        .into_any();
    };
    let (info, live) = match instructor_store::key() {
        Some(key) => {
            let info = read_room(key.clone(), room.clone());
            (
                Signal::derive(move || info.get()),
                view! { <ProjectorLive room=room.clone() key=key/> }.into_any(),
            )
        }
        None => (
            Signal::stored(Some(Err(ApiFailure(
                "This tab has no instructor key, so it cannot read the join code.".to_owned(),
            )))),
            view! {
                <p class="projector-missing" role="alert">
                    "This tab has no instructor key, so the live view cannot connect: open it from the instructor page."
                </p>
            }
            .into_any(),
        ),
    };
    view! {
        <section class="projector">
            <JoinCard room=room info=info/>
            {live}
        </section>
    }
    .into_any()
}

#[component]
fn ProjectorLive(room: String, key: String) -> impl IntoView {
    let live = RoomState::open_for_page(room, key, |_| {});
    let lessons = LocalResource::new(api::lessons);
    // The lesson's title where it is known, its slug until then.
    let title_of = move |place: &Place| {
        let title = lessons
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|l| l.slug == place.lesson))
            .map(|l| l.title);
        place_label(
            &title.unwrap_or_else(|| place.lesson.clone()),
            place.step.as_deref(),
        )
    };
    let place = move || {
        live.position.get().map_or_else(
            || "Waiting for the instructor…".to_owned(),
            |p| title_of(&p),
        )
    };
    let status = live.link.status;
    view! {
        {move || status.with(RoomStatus::problem).map(|text| view! {
            <p class="projector-status" role="status">{text}</p>
        })}
        <p class="projector-place" aria-live="polite">{place}</p>
        <div class="projector-main">
            <LiveConsole lines=live.lines label="The demo console"
                empty="The instructor's commands appear here."/>
            <RoomCharts sims=live.sims/>
        </div>
    }
}
