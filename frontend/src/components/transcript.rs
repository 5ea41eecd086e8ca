//! The scrollback: each command with its reply (rendered by the server's
//! `format_cli`, identical to `redis-cli --no-raw`), round-trip badges, and
//! notices. Long replies fold behind "show all". The scroll position is
//! kept for the tab, like the entries.

use leptos::prelude::*;

use crate::console_state::ConsoleState;
use crate::transcript_store::{self, Entry, EntryKind, Tone};

/// Replies longer than this many lines are folded.
/// A reply this slow or slower gets redis-cli's `(N.NNs)` line.
const SLOW_REPLY_MICROS: u64 = 500_000;
const FOLD_AFTER: usize = 24;

/// What the number on a reply means: it is measured on the server around
/// the call to the sandbox, so it is not Redis's own execution time.
pub const ROUND_TRIP_TITLE: &str = "Round trip from the server to your Redis (network + Redis). Redis's own time per command: INFO commandstats, SLOWLOG.";

#[component]
pub fn Transcript() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let log: NodeRef<leptos::html::Div> = NodeRef::new();
    // A reload first restores where the learner was; after that, every new
    // entry brings the newest reply into view.
    let restored = StoredValue::new(false);
    Effect::new(move |_| {
        state.entries.track();
        let Some(el) = log.get() else {
            return;
        };
        if !restored.get_value() {
            restored.set_value(true);
            if let Some(top) = transcript_store::load_scroll() {
                el.set_scroll_top(top);
                return;
            }
        }
        el.set_scroll_top(el.scroll_height());
    });
    let on_scroll = move |_| {
        if let Some(el) = log.get_untracked() {
            transcript_store::save_scroll(el.scroll_top());
        }
    };
    view! {
        <div class="console-log" role="log" aria-live="polite" aria-label="Console output" node_ref=log
            data-testid="console-log" on:scroll=on_scroll>
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
                view! { <span class="console-latency" title=ROUND_TRIP_TITLE>{format!("{us} µs")}</span> }
            });
            let code_badge = code.map(|c| view! { <span class="console-code">{c.as_str()}</span> });
            // redis-cli prints how long a reply took once it is half a
            // second or more, on a line of its own: `(1.08s)`.
            let elapsed = micros.filter(|us| *us >= SLOW_REPLY_MICROS).map(|us| {
                view! {
                    <pre class="console-reply console-elapsed" data-testid="console-elapsed">
                        {format!("({:.2}s)", us as f64 / 1_000_000.0)}
                    </pre>
                }
            });
            view! {
                <div class="console-entry">
                    <div class="console-input-echo">
                        <span class="console-prompt">{prompt}</span>
                        <span class="console-line">{line}</span>
                        {badge}
                        {code_badge}
                    </div>
                    <pre class="console-reply" class=("console-reply-error", is_error) data-testid="console-reply">{shown}</pre>
                    {elapsed}
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
