//! Page objects for the browser tests: every selector and in-page script
//! the tests use lives here, so a change of markup is one edit, and the
//! tests read as what a learner does ("run this line", "click Run on block
//! 2") rather than as DOM queries.

use serde_json::Value;

use super::browser::Browser;

mod charts;
mod class;
mod console;
mod exercise;
mod learner;
mod lesson;

pub use charts::ChartPanel;
pub use class::{ClassPanel, InstructorScreen, ProjectorScreen};
pub use console::{ConsolePage, ShownEntry};
pub use exercise::ExercisePanel;
pub use learner::LearnerPanel;
pub use lesson::{LessonPage, Outline};

pub const ENTER: &str = "\u{E007}";
pub const TAB: &str = "\u{E004}";
pub const ARROW_UP: &str = "\u{E013}";

/// `document.querySelector('[data-testid=<id>]')` as JS.
pub fn by_testid(id: &str) -> String {
    format!("document.querySelector('[data-testid={id}]')")
}

pub(crate) fn text_of(value: Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

pub(crate) fn strings(value: Value) -> Vec<String> {
    serde_json::from_value(value).unwrap_or_default()
}

/// Puts `text` in the field `testid` as a paste would (one input event,
/// past any `maxlength`).
pub async fn paste(browser: &Browser, testid: &str, text: &str) {
    let json = serde_json::to_string(text).unwrap();
    browser
        .js(&format!(
            "const el = {}; el.value = {json}; el.dispatchEvent(new Event('input', {{ bubbles: true }}));",
            by_testid(testid)
        ))
        .await;
}

/// Clicks the element `css` once it is there, as a learner would.
pub async fn click(browser: &Browser, css: &str) {
    browser.wait_for(css).await.click().await.unwrap();
}

/// Waits until the JS expression `expr` equals `expected`.
pub async fn wait_equals(browser: &Browser, expr: &str, expected: &str, what: &str) {
    let json = serde_json::to_string(expected).unwrap();
    browser
        .wait_until(&format!("{expr} === {json}"), what)
        .await;
}
