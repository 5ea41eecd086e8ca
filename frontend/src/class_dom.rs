//! What the class does inside the server-rendered lesson body: the pace
//! lock (every step after the instructor's place greyed out, its Run
//! buttons off) and solutions the instructor revealed. Both are applied
//! again whenever the body or the room's state changes, so a lesson opened
//! after the push shows them too.

use leptos::wasm_bindgen::JsCast;
use protocol::Place;
use web_sys::Element;

const LOCKED: &str = "step-locked";
/// The first locked block, which carries the "paused here" banner.
const LOCKED_FIRST: &str = "step-locked-first";
/// Marks the Run buttons the lock turned off (and only those come back).
const PACED_ATTR: &str = "data-paced";
const PACED_TITLE: &str =
    "The instructor paused the class here: this step opens when they move on.";

/// Given the body's children as the ids of their `##` step headings
/// (`None` for any other block), the index of the first child to lock:
/// the step heading after `step`'s, or the first step when `step` is
/// `None`. `None` when nothing is locked (the last step, or an unknown one:
/// better open than wrongly shut).
pub fn lock_from(children: &[Option<String>], step: Option<&str>) -> Option<usize> {
    let after = match step {
        None => 0,
        Some(step) => children.iter().position(|c| c.as_deref() == Some(step))? + 1,
    };
    children
        .iter()
        .enumerate()
        .skip(after)
        .find(|(_, c)| c.is_some())
        .map(|(i, _)| i)
}

fn children(body: &Element) -> Vec<Element> {
    let list = body.children();
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

fn step_id(element: &Element) -> Option<String> {
    (element.tag_name().eq_ignore_ascii_case("h2") && !element.id().is_empty())
        .then(|| element.id())
}

fn each(root: &Element, selector: &str, mut f: impl FnMut(&Element)) {
    if let Ok(list) = root.query_selector_all(selector) {
        for i in 0..list.length() {
            if let Some(element) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                f(&element);
            }
        }
    }
}

/// Locks every step of lesson `lesson` after `pace`'s place, and unlocks
/// what an earlier lock closed.
pub fn apply_pace(body: &Element, lesson: &str, pace: Option<&Place>) {
    let blocks = children(body);
    for block in &blocks {
        let _ = block.class_list().remove_2(LOCKED, LOCKED_FIRST);
    }
    each(body, &format!("[{PACED_ATTR}]"), |button| {
        let _ = button.remove_attribute(PACED_ATTR);
        let _ = button.remove_attribute("disabled");
        let _ = button.remove_attribute("title");
    });
    let Some(place) = pace.filter(|p| p.lesson == lesson) else {
        return;
    };
    let ids: Vec<Option<String>> = blocks.iter().map(step_id).collect();
    let Some(first) = lock_from(&ids, place.step.as_deref()) else {
        return;
    };
    for (i, block) in blocks.iter().enumerate().skip(first) {
        let _ = block.class_list().add_1(LOCKED);
        if i == first {
            let _ = block.class_list().add_1(LOCKED_FIRST);
        }
        let mut lock = |button: &Element| {
            if !button.has_attribute("disabled") {
                let _ = button.set_attribute(PACED_ATTR, "true");
                let _ = button.set_attribute("disabled", "");
                let _ = button.set_attribute("title", PACED_TITLE);
            }
        };
        if block.class_list().contains("run-button") {
            lock(block);
        }
        each(block, ".run-button", &mut lock);
    }
}

/// Shows the solution of every revealed task of lesson `lesson`; a task's
/// index is the order of the `.task` blocks on the page.
pub fn apply_reveals(body: &Element, lesson: &str, revealed: &[(String, usize)]) {
    let mut tasks = Vec::new();
    each(body, ".task", |task| tasks.push(task.clone()));
    for task in revealed
        .iter()
        .filter(|(l, _)| l == lesson)
        .filter_map(|(_, index)| tasks.get(*index))
    {
        if let Some(solution) = task.query_selector(".task-solution").ok().flatten() {
            let _ = solution.remove_attribute("hidden");
        }
        if let Some(button) = task.query_selector(".task-show-solution").ok().flatten() {
            let _ = button.set_attribute("aria-expanded", "true");
            button.set_text_content(Some("Hide solution"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lock_from;

    fn body() -> Vec<Option<String>> {
        // intro, ## a, text, ## b, block, ## c
        vec![
            None,
            Some("a".into()),
            None,
            Some("b".into()),
            None,
            Some("c".into()),
        ]
    }

    #[test]
    fn locks_from_the_step_after_the_place() {
        assert_eq!(lock_from(&body(), Some("a")), Some(3));
        assert_eq!(lock_from(&body(), Some("b")), Some(5));
    }

    #[test]
    fn a_place_without_a_step_locks_every_step() {
        assert_eq!(lock_from(&body(), None), Some(1));
    }

    #[test]
    fn the_last_step_or_an_unknown_one_locks_nothing() {
        assert_eq!(lock_from(&body(), Some("c")), None);
        assert_eq!(lock_from(&body(), Some("nope")), None);
    }
}
