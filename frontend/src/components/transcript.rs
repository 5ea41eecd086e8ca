//! The scrollback: each command with its reply (rendered by the server's
//! `format_cli`, identical to `redis-cli --no-raw`), latency badges, and
//! notices. Long replies fold behind "show all".

use leptos::prelude::*;

use crate::console::{ConsoleState, Entry, EntryKind, Tone};

/// Replies longer than this many lines are folded.
const FOLD_AFTER: usize = 24;

#[component]
pub fn Transcript() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let log: NodeRef<leptos::html::Div> = NodeRef::new();
    // Keep the newest reply in view.
    Effect::new(move |_| {
        state.entries.track();
        if let Some(el) = log.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    view! {
        <div class="console-log" role="log" aria-live="polite" aria-label="Console output" node_ref=log data-testid="console-log">
            <For each=move || state.entries.get() key=|entry| entry.id let:entry>
                <EntryView entry=entry/>
            </For>
            <Show when=move || { state.running.get() > 0 }>
                <p class="console-running">"running…"</p>
            </Show>
        </div>
    }
}

#[component]
fn EntryView(entry: Entry) -> impl IntoView {
    match entry.kind {
        EntryKind::Notice { tone, text } => {
            let class = match tone {
                Tone::Info => "console-notice console-notice-info",
                Tone::Warn => "console-notice console-notice-warn",
            };
            view! { <p class=class data-testid="console-notice">{text}</p> }.into_any()
        }
        EntryKind::Command {
            prompt,
            line,
            text,
            is_error,
            micros,
            code,
        } => {
            let expanded = RwSignal::new(false);
            let total_lines = text.lines().count();
            let folded = total_lines > FOLD_AFTER;
            let shown = move || {
                if folded && !expanded.get() {
                    text.lines().take(FOLD_AFTER).collect::<Vec<_>>().join("\n")
                } else {
                    text.clone()
                }
            };
            let badge = micros.map(|us| {
                view! { <span class="console-latency" title="Server-side time in Redis">{format!("{us} µs")}</span> }
            });
            let code_badge = code.map(|c| view! { <span class="console-code">{c}</span> });
            view! {
                <div class="console-entry">
                    <div class="console-input-echo">
                        <span class="console-prompt">{prompt}</span>
                        <span class="console-line">{line}</span>
                        {badge}
                        {code_badge}
                    </div>
                    <pre class="console-reply" class=("console-reply-error", is_error) data-testid="console-reply">{shown}</pre>
                    <Show when=move || folded && !expanded.get()>
                        <button type="button" class="console-more" on:click=move |_| expanded.set(true)>
                            {format!("show all {total_lines} lines")}
                        </button>
                    </Show>
                </div>
            }
            .into_any()
        }
    }
}
