//! The learner's class, beside their console: the room's name, following
//! the instructor (or going back to them), the raised hand, the room's
//! notices and the instructor's console, live. Nothing shows outside a
//! room.

use leptos::prelude::*;

use super::live_console::LiveConsole;
use crate::class_state::ClassState;
use crate::room_link::RoomStatus;
use crate::room_state::RoomNotice;
use crate::transcript_store::Tone;

#[component]
pub fn ClassPanel() -> impl IntoView {
    let class = expect_context::<ClassState>();
    view! {
        <Show when=move || class.room.with(Option::is_some)>
            <ClassPanelBody/>
        </Show>
    }
}

#[component]
fn ClassPanelBody() -> impl IntoView {
    let class = expect_context::<ClassState>();
    let live = class.live;
    let status = live.link.status;
    let name = move || {
        class
            .room
            .with(|r| r.as_ref().map(|r| r.name.clone()))
            .unwrap_or_default()
    };
    // Ended, or the learner removed: the status line says which, and
    // nothing here can be sent any more.
    let closed = move || status.with(|s| matches!(s, RoomStatus::Ended | RoomStatus::Refused(_)));
    let following = live.following;
    let can_return = move || !following.get() && live.position.with(Option::is_some) && !closed();
    let raised = class.hand_raised;
    view! {
        <section class="class-panel" aria-label="Your class">
            <header class="class-header">
                <span class="class-label">"Class"</span>
                <h2 class="class-name">{name}</h2>
            </header>
            {move || status.with(RoomStatus::problem).map(|text| view! {
                <p class="class-status" role="status">{text}</p>
            })}
            <Show when=move || !closed()>
                <div class="class-actions">
                    <button
                        type="button"
                        id="follow-toggle"
                        class="class-follow"
                        class=("following", move || following.get())
                        aria-pressed=move || if following.get() { "true" } else { "false" }
                        on:click=move |_| class.set_following(!following.get_untracked())
                    >
                        {move || if following.get() { "Following the instructor" } else { "Follow the instructor" }}
                    </button>
                    <Show when=can_return>
                        <button type="button" id="return-to-instructor" class="class-return"
                            on:click=move |_| class.set_following(true)>
                            "Return to the instructor"
                        </button>
                    </Show>
                    <button
                        type="button"
                        id="raise-hand"
                        class="class-hand"
                        class=("raised", move || raised.get())
                        aria-pressed=move || if raised.get() { "true" } else { "false" }
                        on:click=move |_| class.set_hand(!raised.get_untracked())
                    >
                        {move || if raised.get() { "✋ Lower your hand" } else { "✋ Raise your hand" }}
                    </button>
                </div>
            </Show>
            <RoomNotices notices=live.notices/>
            <h3 class="class-console-title">"The instructor's console"</h3>
            <LiveConsole lines=live.lines label="The instructor's console, live"
                empty="What the instructor types appears here."/>
        </section>
    }
}

/// The room's latest sentences (the instructor reset your sandbox, a
/// refused request…).
#[component]
pub fn RoomNotices(notices: RwSignal<Vec<RoomNotice>>) -> impl IntoView {
    view! {
        <ul class="class-notices" aria-live="polite">
            <For each=move || notices.get() key=|n| n.id let:notice>
                <li class="class-notice" class=("class-notice-warn", notice.tone == Tone::Warn)>
                    {notice.text}
                </li>
            </For>
        </ul>
    }
}
