//! The editor of an exercise's library: a monospace textarea where Tab
//! indents (two spaces, as the lessons' Lua does) instead of leaving the
//! field. Escape then Tab, or Shift+Tab, still moves focus on, so a
//! keyboard user is never trapped in it.

use leptos::ev::KeyboardEvent;
use leptos::html::Textarea;
use leptos::prelude::*;

const INDENT: &str = "  ";

#[component]
pub fn LibraryEditor(
    /// The library's source, kept in step with what is typed.
    code: RwSignal<String>,
    /// The textarea, for the panel to point at an error's line.
    node: NodeRef<Textarea>,
    /// The exercise, for the field's accessible name.
    title: String,
) -> impl IntoView {
    let tab_leaves = StoredValue::new(false);
    let on_keydown = move |ev: KeyboardEvent| {
        let key = ev.key();
        if key == "Escape" {
            tab_leaves.set_value(true);
            return;
        }
        let plain = !(ev.shift_key() || ev.ctrl_key() || ev.alt_key() || ev.meta_key());
        if key == "Tab" && plain && !tab_leaves.get_value() {
            if let Some(area) = node.get_untracked() {
                ev.prevent_default();
                let start = area.selection_start().ok().flatten().unwrap_or(0);
                let end = area.selection_end().ok().flatten().unwrap_or(start);
                if area
                    .set_range_text_with_start_and_end(INDENT, start, end)
                    .is_ok()
                {
                    let caret = start + INDENT.len() as u32;
                    let _ = area.set_selection_range(caret, caret);
                    code.set(area.value());
                }
            }
        }
        tab_leaves.set_value(false);
    };
    view! {
        <textarea
            class="exercise-editor"
            data-testid="exercise-editor"
            node_ref=node
            spellcheck="false"
            autocomplete="off"
            autocapitalize="off"
            rows="18"
            aria-label=format!("Your library for {title}")
            aria-describedby="exercise-editor-keys"
            prop:value=move || code.get()
            on:input=move |ev| code.set(event_target_value(&ev))
            on:keydown=on_keydown
        ></textarea>
        <p class="exercise-editor-keys" id="exercise-editor-keys">
            "Tab indents; Esc then Tab (or Shift+Tab) leaves the editor. Your library is kept in this browser."
        </p>
    }
}

/// Selects line `line` (1-based) of the editor and brings it into view,
/// so "line 3" in Redis's error is one click away.
pub fn select_line(area: &web_sys::HtmlTextAreaElement, line: usize) {
    let text = area.value();
    // Selection offsets count UTF-16 units, not bytes.
    let mut offset = 0u32;
    let mut range = None;
    for (i, content) in text.split('\n').enumerate() {
        let len = content.encode_utf16().count() as u32;
        if i + 1 == line {
            range = Some((offset, offset + len));
            break;
        }
        offset += len + 1;
    }
    if let Some((start, end)) = range {
        let _ = area.focus();
        let _ = area.set_selection_range(start, end);
        // Lines are about 1.5em tall; put the line a few lines from the top.
        let line_px = f64::from(area.scroll_height()) / text.split('\n').count().max(1) as f64;
        area.set_scroll_top((line_px * (line.saturating_sub(3)) as f64) as i32);
    }
}
