//! A console seen from afar, read-only: the room's demo console on every
//! screen of the class, or a learner's console mirrored for the
//! instructor. Each line shows what was typed and what came back; it stays
//! scrolled to the newest line.

use leptos::prelude::*;

use crate::console_state::prompt_for;
use crate::room_state::LiveLine;

#[component]
pub fn LiveConsole(
    lines: RwSignal<Vec<LiveLine>>,
    /// The log's accessible name.
    label: &'static str,
    /// Shown while there is no line yet.
    empty: &'static str,
) -> impl IntoView {
    let log: NodeRef<leptos::html::Div> = NodeRef::new();
    Effect::new(move |_| {
        lines.track();
        if let Some(log) = log.get() {
            // After the new line is drawn, so its height counts.
            request_animation_frame(move || log.set_scroll_top(log.scroll_height()));
        }
    });
    let prompt = prompt_for(false);
    view! {
        <div class="live-console" role="log" aria-live="polite" aria-label=label node_ref=log>
            <Show when=move || lines.with(Vec::is_empty)>
                <p class="live-empty">{empty}</p>
            </Show>
            <For each=move || lines.get() key=|line| line.id let:line>
                <div class="live-line" class=("live-line-error", line.line.is_error)>
                    <div class="live-echo">
                        <span class="console-prompt">{prompt.clone()}</span>
                        <span class="live-command">{line.line.line}</span>
                    </div>
                    <pre class="live-reply" class=("console-reply-error", line.line.is_error)>{line.line.text}</pre>
                </div>
            </For>
        </div>
    }
}
