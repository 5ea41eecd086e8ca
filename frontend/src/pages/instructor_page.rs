//! `/instructor#<key>`: the instructor's screen. The key (from the link
//! the server printed) moves into this tab's sessionStorage and out of the
//! address bar. Then: create a room (or pick up the last one, or
//! `?room=<id>`), show how to join it, and steer it: the demo console,
//! follow-me, scenarios, autoplay and the class board.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use protocol::NewRoom;

use crate::api;
use crate::components::class_board::ClassBoard;
use crate::components::class_panel::RoomNotices;
use crate::components::demo_console::DemoConsole;
use crate::components::follow_controls::FollowControls;
use crate::components::join_card::{read_room, JoinCard};
use crate::components::scenario_controls::ScenarioControls;
use crate::instructor_room::InstructorRoom;
use crate::instructor_store;
use crate::room_link::RoomStatus;

#[component]
pub fn InstructorPage() -> impl IntoView {
    instructor_store::adopt_key_from_location();
    let query = use_query_map();
    let Some(key) = instructor_store::key() else {
        return view! {
            <section class="instructor page-message">
                <h1>"Instructor"</h1>
                <p class="instructor-no-key" role="alert">
                    "Open the instructor link the server printed at start-up."
                </p>
            </section>
        }
        .into_any();
    };
    let room = RwSignal::new(instructor_store::room(
        query.with_untracked(|q| q.get("room")),
    ));
    view! {
        <section class="instructor">
            <h1 class="instructor-title">"Instructor"</h1>
            <CreateRoom key=key.clone() room=room/>
            {move || room.get().map(|id| {
                let key = key.clone();
                view! { <RoomView key=key room=id current=room/> }
            })}
        </section>
    }
    .into_any()
}

/// Puts `room` (or none) in the address bar, so a reload or a bookmark
/// shows the same room.
fn show_room_in_url(room: Option<&str>) {
    let url = match room {
        Some(room) => format!("/instructor?room={}", encoded(room)),
        None => "/instructor".to_owned(),
    };
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

fn encoded(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

#[component]
fn CreateRoom(key: String, room: RwSignal<Option<String>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let key = StoredValue::new(key);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new_room = NewRoom {
            name: name.get_untracked().trim().to_owned(),
            lessons: Vec::new(),
        };
        let key = key.get_value();
        leptos::task::spawn_local(async move {
            match api::rooms::create(&key, &new_room).await {
                Ok(created) => {
                    instructor_store::set_room(&created.room);
                    show_room_in_url(Some(&created.room));
                    failure.set(None);
                    room.set(Some(created.room));
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="instructor-section room-create" on:submit=create>
            <h2>"A new room"</h2>
            <label for="room-name">"Room name"</label>
            <div class="room-create-row">
                <input id="room-name" type="text" maxlength="80" required placeholder="Redis for AI, Tuesday"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" id="room-create">"Create the room"</button>
            </div>
            {move || failure.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
fn RoomView(key: String, room: String, current: RwSignal<Option<String>>) -> impl IntoView {
    instructor_store::set_room(&room);
    let live = InstructorRoom::open(key, room);
    view! {
        <RoomCard live=live current=current/>
        <div class="instructor-grid">
            <DemoConsole room=live/>
            <FollowControls room=live/>
            <ScenarioControls room=live/>
            <ClassBoard room=live/>
        </div>
    }
}

#[component]
fn RoomCard(live: InstructorRoom, current: RwSignal<Option<String>>) -> impl IntoView {
    let room = live.room();
    let info = read_room(live.key(), room.clone());
    let locked = RwSignal::new(false);
    // The roster's lock as the server has it (after a reload too).
    Effect::new(move |_| {
        if let Some(Ok(info)) = info.get() {
            locked.set(info.locked);
        }
    });
    let failure = RwSignal::new(None::<String>);
    let status = live.live.link.status;
    let ended = move || status.with(|s| *s == RoomStatus::Ended);
    let lock = move |_| {
        let (key, id, on) = (live.key(), live.room(), !locked.get_untracked());
        leptos::task::spawn_local(async move {
            match api::rooms::lock(&key, &id, on).await {
                Ok(()) => {
                    locked.set(on);
                    failure.set(None);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    let end = move |_| {
        let sure = crate::dialogs::confirm(
            "End the room? Its code stops working at once; the board and the downloads stay readable.",
        );
        if !sure {
            return;
        }
        let (key, id) = (live.key(), live.room());
        leptos::task::spawn_local(async move {
            match api::rooms::end(&key, &id).await {
                Ok(()) => {
                    instructor_store::forget_room();
                    failure.set(None);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    let name = move || {
        live.live
            .name
            .get()
            .unwrap_or_else(|| "This room".to_owned())
    };
    view! {
        <section class="instructor-section room-card" aria-label="The room">
            <header class="room-card-header">
                <h2 class="room-name">{name}</h2>
                <span class="room-status" role="status">
                    {move || status.with(RoomStatus::problem).unwrap_or_else(|| "Live".to_owned())}
                </span>
            </header>
            <JoinCard room=room.clone() info=Signal::derive(move || info.get())/>
            <div class="instructor-actions">
                <button type="button" id="room-lock" aria-pressed=move || locked.get().to_string()
                    disabled=ended on:click=lock>
                    {move || if locked.get() { "Unlock the roster" } else { "Lock the roster" }}
                </button>
                <button type="button" id="room-end" class="console-danger" disabled=ended on:click=end>
                    "End the room"
                </button>
                <a id="open-projector" href=format!("/projector?room={}", encoded(&room))
                    target="_blank" rel="opener">
                    "Open the projector view"
                </a>
                <button type="button" class="room-forget" on:click=move |_| {
                    instructor_store::forget_room();
                    show_room_in_url(None);
                    current.set(None);
                }>"Close this room's screen"</button>
            </div>
            {move || failure.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
            <RoomNotices notices=live.live.notices/>
        </section>
    }
}
