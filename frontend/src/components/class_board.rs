//! The class at a glance, for the instructor: who is connected and
//! following, learners per step and passes per task, one sortable row per
//! learner (a click watches their console), the raised hands oldest first,
//! and the results to download. The board is read every two seconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gloo::timers::future::TimeoutFuture;
use leptos::prelude::*;
use protocol::{Board, BoardRow, RaisedHand, RoomClientMessage};

use super::live_console::LiveConsole;
use crate::api::rooms::{self, Export};
use crate::board_view::{
    ago, place_text, presence_text, scores_text, sort_rows, summary_lines, BoardOrder, BoardSort,
};
use crate::instructor_room::InstructorRoom;

/// How often the board is read, in ms.
const POLL_MS: u32 = 2_000;

#[component]
pub fn ClassBoard(room: InstructorRoom) -> impl IntoView {
    let board = RwSignal::new(None::<Board>);
    let hands = RwSignal::new(Vec::<RaisedHand>::new());
    let failure = RwSignal::new(None::<String>);
    let now = RwSignal::new(0_u64);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    let (key, id) = (room.key(), room.room());
    leptos::task::spawn_local(async move {
        while alive.load(Ordering::Relaxed) {
            let (read, raised) = futures::join!(rooms::board(&key, &id), rooms::hands(&key, &id));
            now.set(js_sys::Date::now() as u64);
            match read {
                Ok(read) => {
                    board.set(Some(read));
                    failure.set(None);
                }
                Err(e) => failure.set(Some(format!("The board could not be read: {e}"))),
            }
            if let Ok(raised) = raised {
                hands.set(raised.hands);
            }
            TimeoutFuture::new(POLL_MS).await;
        }
    });
    let presence = move || {
        room.live.presence.get().map_or_else(
            || "Waiting for the class connection…".to_owned(),
            |p| presence_text(p.connected, p.following),
        )
    };
    let summary = move || {
        board
            .with(|b| b.as_ref().map(|b| summary_lines(&b.summary)))
            .unwrap_or_default()
    };
    view! {
        <section class="instructor-section class-board-section" aria-label="The class">
            <h2>"The class"</h2>
            <p class="presence" role="status">{presence}</p>
            <div class="board-summary">
                <p class="board-summary-steps">{move || summary().0}</p>
                <p class="board-summary-tasks">{move || summary().1}</p>
            </div>
            {move || failure.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
            <BoardTable room=room board=board now=now/>
            <WatchPanel room=room board=board/>
            <h3>"Raised hands"</h3>
            <Show when=move || !hands.with(Vec::is_empty)
                fallback=|| view! { <p class="hands-empty">"No hand is raised."</p> }>
                <ol class="hands-queue">
                    <For each=move || hands.get() key=|h| (h.learner.clone(), h.raised_at) let:hand>
                        <li data-learner=hand.learner.clone()>
                            <span class="hand-name">{hand.name}</span>
                            <span class="hand-since">{move || format!(" (raised {})", ago(now.get(), hand.raised_at))}</span>
                        </li>
                    </For>
                </ol>
            </Show>
            <Exports room=room/>
        </section>
    }
}

/// Sends `watch` for `learner` (`None` stops watching).
fn watch(room: InstructorRoom, learner: Option<String>) {
    // Set first: the mirrored lines may come before the ack.
    room.live.watching.set(learner.clone());
    room.live.watched.set(Vec::new());
    leptos::task::spawn_local(async move {
        if let Err(why) = room
            .ask(|seq| RoomClientMessage::Watch { seq, learner })
            .await
        {
            room.live.notice(crate::transcript_store::Tone::Warn, why);
        }
    });
}

#[component]
fn BoardTable(
    room: InstructorRoom,
    board: RwSignal<Option<Board>>,
    now: RwSignal<u64>,
) -> impl IntoView {
    // The server's (joining) order until a header is clicked.
    let order = RwSignal::new(None::<BoardOrder>);
    let rows = Memo::new(move |_| {
        let mut rows = board
            .with(|b| b.as_ref().map(|b| b.learners.clone()))
            .unwrap_or_default();
        if let Some(order) = order.get() {
            sort_rows(&mut rows, order);
        }
        rows
    });
    let header = move |column: BoardSort| {
        let aria = move || order.get().map_or("none", |o| o.aria(column));
        let click = move |_| {
            order.update(|o| {
                *o = Some(match o {
                    Some(o) => o.clicked(column),
                    None => BoardOrder::by(column),
                })
            })
        };
        view! {
            <th scope="col" data-sort=column.key() aria-sort=aria on:click=click>
                <button type="button" class="board-sort">{column.heading()}</button>
            </th>
        }
    };
    let plain = |heading: &'static str| view! { <th scope="col">{heading}</th> };
    view! {
        <div class="board-scroll">
            <table class="class-board">
                <thead>
                    <tr>
                        {header(BoardSort::Name)}
                        {header(BoardSort::Step)}
                        {header(BoardSort::Tasks)}
                        {plain("Scores")}
                        {header(BoardSort::Errors)}
                        {header(BoardSort::Active)}
                        {header(BoardSort::Stuck)}
                        {header(BoardSort::Hand)}
                        {plain("Follow")}
                    </tr>
                </thead>
                <tbody>
                    <Show when=move || !rows.with(Vec::is_empty)>
                        <For each=move || rows.get() key=|row| format!("{row:?}") let:row>
                            <BoardRowView room=room row=row now=now/>
                        </For>
                    </Show>
                </tbody>
            </table>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="board-empty">"Nobody has joined yet: show the class the code."</p>
            </Show>
        </div>
    }
}

#[component]
fn BoardRowView(room: InstructorRoom, row: BoardRow, now: RwSignal<u64>) -> impl IntoView {
    let learner = row.learner.clone();
    let watched = {
        let learner = learner.clone();
        move || {
            room.live
                .watching
                .with(|w| w.as_deref() == Some(learner.as_str()))
        }
    };
    let follow = match (row.online, row.following) {
        (true, true) => "● online, following",
        (true, false) => "● online, on their own",
        (false, _) => "○ offline",
    };
    let last_active = row.last_active;
    let click = {
        let learner = learner.clone();
        move |_| watch(room, Some(learner.clone()))
    };
    view! {
        <tr
            class="board-row"
            class=("board-row-stuck", row.stuck)
            class=("board-row-hand", row.hand_raised)
            class=("board-row-watched", watched)
            data-learner=learner
            title="Watch this learner's console"
            on:click=click
        >
            <td class="col-name">{row.name.clone()}</td>
            <td class="col-step">{place_text(&row)}</td>
            <td class="col-tasks">{row.tasks_passed}</td>
            <td class="col-scores">{scores_text(&row)}</td>
            <td class="col-errors">{row.errors_5m}</td>
            <td class="col-active">{move || ago(now.get(), last_active)}</td>
            <td class="col-stuck" data-stuck=row.stuck.to_string()>
                {row.stuck.then_some("⚠ stuck")}
            </td>
            <td class="col-hand" data-raised=row.hand_raised.to_string()>
                {row.hand_raised.then_some("✋")}
            </td>
            <td class="col-follow" data-online=row.online.to_string() data-following=row.following.to_string()>
                {follow}
            </td>
        </tr>
    }
}

#[component]
fn WatchPanel(room: InstructorRoom, board: RwSignal<Option<Board>>) -> impl IntoView {
    let watching = room.live.watching;
    let name = move || {
        let id = watching.get()?;
        let name = board.with(|b| {
            b.as_ref()
                .and_then(|b| b.learners.iter().find(|r| r.learner == id))
                .map(|r| r.name.clone())
        });
        Some(name.unwrap_or(id))
    };
    view! {
        <Show when=move || watching.with(Option::is_some)>
            <section class="watch-panel" aria-label="A learner's console">
                <header class="watch-header">
                    <h3>{move || format!("Watching {}", name().unwrap_or_default())}</h3>
                    <button type="button" class="watch-close" on:click=move |_| watch(room, None)>
                        "Stop watching"
                    </button>
                </header>
                <LiveConsole lines=room.live.watched label="The watched learner's console"
                    empty="Their next commands appear here as they type them."/>
            </section>
        </Show>
    }
}

#[component]
fn Exports(room: InstructorRoom) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let export = move |format: Export| {
        let (key, id) = (room.key(), room.room());
        leptos::task::spawn_local(async move {
            let saved = rooms::export(&key, &id, format)
                .await
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    let name = format!("class-{id}.{}", format.extension());
                    crate::dialogs::save_file(&name, format.mime(), &bytes)
                });
            failure.set(saved.err());
        });
    };
    view! {
        <div class="instructor-actions board-exports">
            <button type="button" id="export-csv" on:click=move |_| export(Export::Csv)>"Download CSV"</button>
            <button type="button" id="export-json" on:click=move |_| export(Export::Json)>"Download JSON"</button>
            {move || failure.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
        </div>
    }
}
