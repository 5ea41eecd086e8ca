//! The input line: Enter runs, Shift+Enter adds a line, ↑/↓ walk history,
//! Tab completes, Ctrl+L clears, and a grey hint shows the arguments still
//! to type (all from the engine's COMMAND DOCS).

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::console_state::ConsoleState;
use crate::transcript_store::Tone;

#[component]
pub fn Prompt() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let input = RwSignal::new(String::new());
    // Position in history while walking it; None when editing fresh text.
    let cursor = RwSignal::new(None::<usize>);
    let area: NodeRef<leptos::html::Textarea> = NodeRef::new();

    let hint = Memo::new(move |_| {
        let text = input.get();
        if text.contains('\n') {
            return String::new();
        }
        state
            .catalog
            .with(|c| c.as_ref().and_then(|c| c.hint(&text)))
            .unwrap_or_default()
    });

    let set_text = move |text: String| {
        input.set(text.clone());
        if let Some(el) = area.get() {
            el.set_value(&text);
            let end = u32::try_from(text.len()).unwrap_or(0);
            let _ = el.set_selection_range(end, end);
        }
    };

    let on_keydown = move |ev: KeyboardEvent| {
        let key = ev.key();
        let caret = area
            .get()
            .and_then(|el| el.selection_start().ok().flatten())
            .unwrap_or(0) as usize;
        let text = input.get_untracked();
        match key.as_str() {
            "Enter" if !ev.shift_key() => {
                ev.prevent_default();
                if !text.trim().is_empty() {
                    state.run_text(text);
                }
                cursor.set(None);
                set_text(String::new());
            }
            "ArrowUp" if !text[..caret.min(text.len())].contains('\n') => {
                let history = state.history.get_untracked();
                if history.is_empty() {
                    return;
                }
                ev.prevent_default();
                let next = match cursor.get_untracked() {
                    None => history.len() - 1,
                    Some(i) => i.saturating_sub(1),
                };
                cursor.set(Some(next));
                set_text(history[next].clone());
            }
            "ArrowDown" if !text[caret.min(text.len())..].contains('\n') => {
                let Some(i) = cursor.get_untracked() else {
                    return;
                };
                ev.prevent_default();
                let history = state.history.get_untracked();
                if i + 1 < history.len() {
                    cursor.set(Some(i + 1));
                    set_text(history[i + 1].clone());
                } else {
                    cursor.set(None);
                    set_text(String::new());
                }
            }
            "Tab" => {
                let completion = state
                    .catalog
                    .with_untracked(|c| c.as_ref().and_then(|c| c.complete(&text)));
                if let Some(completion) = completion {
                    ev.prevent_default();
                    if !completion.candidates.is_empty() {
                        state.notice(Tone::Info, completion.candidates.join("  "));
                    }
                    set_text(completion.text);
                } else if !text.is_empty() {
                    // Nothing to complete: keep focus here rather than
                    // tabbing away mid-command.
                    ev.prevent_default();
                }
            }
            "l" | "L" if ev.ctrl_key() => {
                ev.prevent_default();
                state.clear();
            }
            _ => {}
        }
    };

    view! {
        <div class="console-prompt-row">
            <label class="console-prompt" for="console-input">{move || {
                crate::console_state::prompt_for(state.in_multi.get())
            }}</label>
            <div class="console-field">
                <div class="console-mirror" aria-hidden="true">
                    <span class="console-mirror-typed">{move || input.get()}</span>
                    <span class="console-hint" data-testid="console-hint">{move || hint.get()}</span>
                </div>
                <textarea
                    id="console-input"
                    class="console-textarea"
                    data-testid="console-input"
                    node_ref=area
                    rows="1"
                    spellcheck="false"
                    autocomplete="off"
                    aria-label="Redis command. Enter runs it, Shift+Enter adds a line, arrow keys walk history, Tab completes."
                    placeholder="Type a command, e.g. PING"
                    on:input=move |ev| {
                        cursor.set(None);
                        input.set(event_target_value(&ev));
                    }
                    on:keydown=on_keydown
                ></textarea>
            </div>
        </div>
    }
}
