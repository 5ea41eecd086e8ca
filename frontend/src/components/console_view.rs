//! The console panel: toolbar, lockout banner, transcript, prompt. Showing
//! it is what connects the page to a sandbox.

use gloo::timers::callback::Timeout;
use leptos::prelude::*;

use super::prompt::Prompt;
use super::transcript::Transcript;
use crate::console_state::ConsoleState;
use crate::link::{Connection, LinkStatus};

/// How long "Copied" stays on the Copy button, in ms.
const COPIED_MS: u32 = 1_500;

#[component]
pub fn ConsoleView() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let connection = expect_context::<Connection>();
    connection.start();
    let status = connection.status;
    Effect::new(move |_| {
        if status.get() == LinkStatus::Connected {
            crate::perf::mark_once(crate::perf::CONSOLE_READY);
        }
    });
    let status_class = move || match status.get() {
        LinkStatus::Connected => "console-status console-status-ok",
        LinkStatus::Idle | LinkStatus::Connecting => "console-status console-status-wait",
        LinkStatus::Reconnecting | LinkStatus::Refused { .. } => {
            "console-status console-status-bad"
        }
    };
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .navigator()
                .clipboard()
                .write_text(&state.transcript_text());
            copied.set(true);
            Timeout::new(COPIED_MS, move || copied.set(false)).forget();
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
    let lockout = move || match status.get() {
        LinkStatus::Refused {
            message,
            retry_in_s,
        } => Some(view! {
            <p class="console-lockout" role="alert" data-testid="console-lockout">
                {message}
                <span class="console-lockout-retry">{format!(" Trying again in {retry_in_s} s.")}</span>
            </p>
        }),
        _ => None,
    };
    view! {
        <section class="console" aria-label="Redis console">
            <header class="console-toolbar">
                <span class=status_class role="status" aria-live="polite" data-testid="console-status">
                    {move || status.get().label()}
                </span>
                <label
                    class="console-strict"
                    title="For what you type or paste here (a lesson's Run button follows the lesson). Off: full-line # comments are skipped, a trailing \\ joins the next line, and a multi-line \"…\" string (an EVAL script) stays one argument. On: every line goes to Redis exactly as redis-cli would send it."
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
                    <button type="button" on:click=copy title="Copy the transcript" data-testid="console-copy">
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
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
                        "Strict: each line you type or paste is sent as redis-cli would send it."
                    } else {
                        "Paste mode: # comment lines are skipped, a trailing \\ joins lines, multi-line \"…\" strings stay together."
                    }
                }}
            </p>
            {lockout}
            <Transcript/>
            <Prompt/>
        </section>
    }
}
