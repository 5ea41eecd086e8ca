//! The console panel: toolbar, transcript, prompt.

use leptos::prelude::*;

use super::prompt::Prompt;
use super::transcript::Transcript;
use crate::console::ConsoleState;
use crate::link::LinkStatus;

#[component]
pub fn Console() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let status_class = move || match state.status.get() {
        LinkStatus::Connected => "console-status console-status-ok",
        LinkStatus::Connecting => "console-status console-status-wait",
        LinkStatus::Reconnecting => "console-status console-status-bad",
    };
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .navigator()
                .clipboard()
                .write_text(&state.transcript_text());
        }
    };
    let reset = move |_| {
        let confirmed = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Reset your sandbox? All of its data will be deleted.")
                    .ok()
            })
            .unwrap_or(false);
        if confirmed {
            state.reset();
        }
    };
    view! {
        <section class="console" aria-label="Redis console">
            <header class="console-toolbar">
                <span class=status_class role="status" aria-live="polite" data-testid="console-status">
                    {move || state.status.get().label()}
                </span>
                <label
                    class="console-strict"
                    title="Off: full-line # comments are skipped, a trailing \\ joins the next line, and a multi-line \"…\" string (an EVAL script) stays one argument. On: every line goes to Redis exactly as redis-cli would send it."
                >
                    <input
                        type="checkbox"
                        data-testid="strict-toggle"
                        prop:checked=move || state.strict.get()
                        on:change=move |ev| state.strict.set(event_target_checked(&ev))
                    />
                    " redis-cli strict"
                </label>
                <span class="console-actions">
                    <button type="button" on:click=copy title="Copy the transcript">"Copy"</button>
                    <button type="button" on:click=move |_| state.clear() title="Clear the screen (Ctrl+L)">
                        "Clear"
                    </button>
                    <button type="button" class="console-danger" data-testid="reset-sandbox" on:click=reset>
                        "Reset sandbox"
                    </button>
                </span>
            </header>
            <p class="console-help">
                {move || {
                    if state.strict.get() {
                        "Strict: each line is sent as redis-cli would send it."
                    } else {
                        "Paste mode: # comment lines are skipped, a trailing \\ joins lines, multi-line \"…\" strings stay together."
                    }
                }}
            </p>
            <Transcript/>
            <Prompt/>
        </section>
    }
}
