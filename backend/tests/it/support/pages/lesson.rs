//! A lesson page and the course outline.

use fantoccini::elements::Element;
use serde_json::Value;

use super::{by_testid, click, strings, text_of, wait_equals};
use crate::support::browser::Browser;

/// A lesson page (its body is the server's HTML).
pub struct LessonPage<'a> {
    pub browser: &'a Browser,
}

impl<'a> LessonPage<'a> {
    pub fn new(browser: &'a Browser) -> LessonPage<'a> {
        LessonPage { browser }
    }

    fn block(index: usize) -> String {
        format!(".runnable[data-block='{index}']")
    }

    pub async fn title(&self) -> String {
        self.browser
            .wait_for(".lesson-title")
            .await
            .text()
            .await
            .unwrap()
    }

    pub async fn wait_title(&self, title: &str) {
        wait_equals(
            self.browser,
            "document.querySelector('.lesson-title')?.textContent",
            title,
            &format!("the lesson `{title}`"),
        )
        .await;
    }

    /// Clicks Run on block `index` (scrolled into view first, as a learner
    /// would).
    pub async fn run_block(&self, index: usize) {
        let button = format!("{} .run-button", Self::block(index));
        self.browser
            .js(&format!(
                "document.querySelector(\"{button}\").scrollIntoView({{ block: 'center' }});"
            ))
            .await;
        click(self.browser, &button).await;
    }

    /// The reply shown under block `index`, once it is there.
    pub async fn wait_run_result(&self, index: usize) -> String {
        let result = format!("{} + .run-result", Self::block(index));
        self.browser
            .wait_until(
                &format!("document.querySelector(\"{result}\")?.textContent.length > 0"),
                "the reply under the block",
            )
            .await;
        text_of(
            self.browser
                .js(&format!(
                    "return document.querySelector(\"{result}\").textContent;"
                ))
                .await,
        )
    }

    /// Whether the reply under block `index` is visible in the window.
    pub async fn run_result_in_view(&self, index: usize) -> bool {
        let result = format!("{} + .run-result", Self::block(index));
        self.browser
            .js(&format!(
                "const r = document.querySelector(\"{result}\").getBoundingClientRect(); \
                 return r.height > 0 && r.top >= 0 && r.top < window.innerHeight;"
            ))
            .await
            == Value::Bool(true)
    }

    pub async fn wait_status(&self, status: &str) {
        wait_equals(
            self.browser,
            &format!("{}?.textContent", by_testid("lesson-status")),
            status,
            &format!("the lesson status `{status}`"),
        )
        .await;
    }

    pub async fn check_task(&self) {
        click(self.browser, ".task .task-check").await;
    }

    pub async fn wait_task_result(&self, passed: bool) {
        self.browser
            .wait_until(
                &format!("document.querySelector('.task-result')?.dataset.passed === '{passed}'"),
                if passed {
                    "a passed check"
                } else {
                    "a failed check"
                },
            )
            .await;
    }

    pub async fn toggle_solution(&self) {
        click(self.browser, ".task .task-show-solution").await;
    }

    /// (visible, the button's label, its aria-expanded).
    pub async fn solution_state(&self) -> (bool, String, String) {
        serde_json::from_value(
            self.browser
                .js("const b = document.querySelector('.task-show-solution'); \
                     return [!document.querySelector('.task-solution').hidden, b.textContent, b.getAttribute('aria-expanded')];")
                .await,
        )
        .unwrap()
    }

    pub async fn run_solution(&self) {
        click(self.browser, ".task-solution .run-button").await;
    }

    pub async fn next(&self) {
        click(self.browser, ".lesson-next").await;
    }

    pub async fn previous(&self) {
        click(self.browser, ".lesson-prev").await;
    }

    pub async fn start_fresh(&self) {
        click(self.browser, "[data-testid=start-fresh]").await;
    }

    /// The permalink anchors' targets, in order.
    pub async fn heading_anchors(&self) -> Vec<String> {
        strings(
            self.browser
                .js("return Array.from(document.querySelectorAll('.lesson-body .heading-anchor')).map(a => a.getAttribute('href'));")
                .await,
        )
    }

    /// How far below the top of the window the element `id` is, and the
    /// sticky header's height, in CSS pixels.
    pub async fn heading_offset(&self, id: &str) -> (f64, f64) {
        serde_json::from_value(
            self.browser
                .js(&format!(
                    "return [document.getElementById('{id}').getBoundingClientRect().top, \
                     document.querySelector('.shell-header').getBoundingClientRect().height];"
                ))
                .await,
        )
        .unwrap()
    }
}

/// The course outline (home page).
pub struct Outline<'a> {
    pub browser: &'a Browser,
}

impl<'a> Outline<'a> {
    pub fn new(browser: &'a Browser) -> Outline<'a> {
        Outline { browser }
    }

    pub async fn first_lesson(&self) -> Element {
        self.browser
            .wait_for("[data-testid=lesson-list] .outline-item .outline-name")
            .await
    }

    pub async fn lesson_count(&self) -> usize {
        self.browser
            .js("return document.querySelectorAll('.outline-item').length;")
            .await
            .as_u64()
            .unwrap_or(0) as usize
    }

    pub async fn wait_engine_badge(&self) {
        self.browser.wait_for(".engine-badge").await;
    }

    pub async fn wait_progress(&self, joined: &str, what: &str) {
        wait_equals(self.browser, "Array.from(document.querySelectorAll('[data-testid=outline-progress]')).map(e => e.textContent).join(',')", joined, what).await;
    }

    /// Waits until the outline shows `expected` (such as "best 12/12") as
    /// the best grade of an exercise.
    pub async fn wait_best_score(&self, expected: &str) {
        wait_equals(
            self.browser,
            "Array.from(document.querySelectorAll('[data-testid=outline-score]')).map(e => e.textContent).join(',')",
            expected,
            &format!("the best grade `{expected}` in the outline"),
        )
        .await;
    }
}
