//! What the lesson page does inside the server-rendered lesson body (plain
//! HTML, not Leptos views): permalink anchors on headings, the solution
//! toggle, a block's reply shown under the block, the deep-link scroll.

use leptos::wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use crate::transcript_store::Entry;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Gives every heading with an id a `#` link to itself, to copy, and sets
/// the solution buttons' initial `aria-expanded`.
pub fn decorate(body: &Element) {
    let Some(document) = document() else {
        return;
    };
    if let Ok(headings) = body.query_selector_all("h2[id], h3[id]") {
        for i in 0..headings.length() {
            let Some(heading) = headings.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            if heading
                .query_selector(".heading-anchor")
                .ok()
                .flatten()
                .is_some()
            {
                continue;
            }
            let id = heading.id();
            if let Ok(anchor) = document.create_element("a") {
                let _ = anchor.set_attribute("class", "heading-anchor");
                let _ = anchor.set_attribute("href", &format!("#{id}"));
                let _ = anchor.set_attribute("aria-label", "Link to this section");
                anchor.set_text_content(Some("#"));
                let _ = heading.append_child(&anchor);
            }
        }
    }
    if let Ok(buttons) = body.query_selector_all(".task-show-solution") {
        for i in 0..buttons.length() {
            if let Some(button) = buttons.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = button.set_attribute("aria-expanded", "false");
            }
        }
    }
}

/// Shows or hides a task's solution; the button says which it will do.
pub fn toggle_solution(button: &Element) {
    let Some(solution) = button
        .closest(".task")
        .ok()
        .flatten()
        .and_then(|t| t.query_selector(".task-solution").ok().flatten())
    else {
        return;
    };
    let shown = solution
        .toggle_attribute("hidden")
        .map(|hidden| !hidden)
        .unwrap_or(false);
    let _ = button.set_attribute("aria-expanded", if shown { "true" } else { "false" });
    button.set_text_content(Some(if shown {
        "Hide solution"
    } else {
        "Show solution"
    }));
}

/// The block's reply right under the block: on a narrow screen the console
/// is far below, and the learner is looking at the button they pressed.
pub fn show_result(block: &Element, entries: &[Entry]) {
    let Some(document) = document() else {
        return;
    };
    let result = match block
        .next_element_sibling()
        .filter(|next| next.class_list().contains("run-result"))
    {
        Some(existing) => existing,
        None => {
            let Ok(created) = document.create_element("pre") else {
                return;
            };
            let _ = created.set_attribute("class", "run-result");
            let _ = created.set_attribute("data-testid", "run-result");
            let _ = created.set_attribute("aria-live", "polite");
            let _ = block.insert_adjacent_element("afterend", &created);
            created
        }
    };
    let text = entries
        .iter()
        .map(Entry::plain_text)
        .collect::<Vec<_>>()
        .join("\n");
    result.set_text_content(Some(&text));
    if let Some(element) = result.dyn_ref::<HtmlElement>() {
        if !in_view(element) {
            element.scroll_into_view_with_bool(false);
        }
    }
}

fn in_view(element: &HtmlElement) -> bool {
    let rect = element.get_bounding_client_rect();
    let height = web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    rect.top() >= 0.0 && rect.top() < height
}

/// Deep links: the body arrives after the first paint, so scroll to the
/// step named in the URL once it is in the page (CSS `scroll-margin-top`
/// keeps its title clear of the sticky header).
pub fn scroll_to_hash() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(hash) = window.location().hash() else {
        return;
    };
    let id = hash.trim_start_matches('#');
    if id.is_empty() {
        return;
    }
    if let Some(step) = document().and_then(|d| d.get_element_by_id(id)) {
        step.scroll_into_view();
    }
}
