//! An exercise's panel on its lesson page: the contract, the library
//! editor, Load into my Redis, Grade and the report.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::{by_testid, click, paste, strings, text_of, TAB};
use crate::support::browser::Browser;

/// A grading run can take up to half a minute; the browser's usual wait
/// is shorter.
const GRADE_WAIT: Duration = Duration::from_secs(60);

/// What Redis answered a Load, as shown beside the button.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoadAnswer {
    pub text: String,
    pub is_error: bool,
}

/// One check of a report as the page shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownCheck {
    pub id: String,
    pub status: String,
    pub message: String,
    pub hint: Option<String>,
    pub step: Option<String>,
}

/// A grading report as the page shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShownReport {
    pub status: String,
    pub summary: String,
    pub checks: Vec<ShownCheck>,
    /// Drawn figures (canvases with a backing store).
    pub figures: usize,
}

impl ShownReport {
    /// The checks that did not pass, by id.
    pub fn failing(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.status != "pass")
            .map(|c| c.id.as_str())
            .collect()
    }
}

const REPORT: &str = "(() => { const r = document.querySelector('[data-testid=grade-report]'); \
    return { status: r.dataset.status, \
      summary: r.querySelector('[data-testid=grade-summary]').textContent, \
      checks: Array.from(r.querySelectorAll('[data-testid=grade-check]')).map(c => ({ \
        id: c.dataset.check, status: c.dataset.status, \
        message: c.querySelector('.grade-message').textContent, \
        hint: c.querySelector('[data-testid=grade-hint]')?.textContent ?? null, \
        step: c.querySelector('.grade-step')?.getAttribute('href') ?? null })), \
      figures: Array.from(r.querySelectorAll('[data-testid=grade-figure]')).filter(f => f.width > 0).length }; })()";

pub struct ExercisePanel<'a> {
    pub browser: &'a Browser,
}

impl<'a> ExercisePanel<'a> {
    /// The panel of the lesson on screen, once it is there.
    pub async fn open(browser: &'a Browser) -> ExercisePanel<'a> {
        browser.wait_for("[data-testid=exercise-editor]").await;
        ExercisePanel { browser }
    }

    /// The names of the functions in the contract.
    pub async fn contract_functions(&self) -> Vec<String> {
        strings(
            self.browser
                .js("return Array.from(document.querySelectorAll('[data-testid=exercise-contract] tbody tr td:first-child')).map(td => td.textContent);")
                .await,
        )
    }

    pub async fn library(&self) -> String {
        text_of(
            self.browser
                .js(&format!("return {}.value;", by_testid("exercise-editor")))
                .await,
        )
    }

    /// Replaces the library as a paste would (one input event).
    pub async fn set_library(&self, code: &str) {
        paste(self.browser, "exercise-editor", code).await;
    }

    /// Puts the caret at the end of the library and presses Tab there.
    pub async fn press_tab_at_end(&self) {
        let editor = self.browser.wait_for("[data-testid=exercise-editor]").await;
        self.browser
            .js(&format!(
                "const el = {}; el.focus(); el.setSelectionRange(el.value.length, el.value.length);",
                by_testid("exercise-editor")
            ))
            .await;
        editor.send_keys(TAB).await.unwrap();
    }

    /// Which element has the focus (its data-testid).
    pub async fn focused(&self) -> String {
        text_of(
            self.browser
                .js("return document.activeElement?.dataset?.testid ?? '';")
                .await,
        )
    }

    /// Clicks Load into my Redis and returns Redis's answer beside it.
    pub async fn load(&self) -> LoadAnswer {
        let answer = by_testid("exercise-load-answer");
        let before = self
            .browser
            .js(&format!("return Number({answer}?.dataset.load ?? 0);"))
            .await
            .as_u64()
            .unwrap_or(0);
        click(self.browser, "[data-testid=exercise-load]").await;
        self.browser
            .wait_until(
                &format!("Number({answer}?.dataset.load ?? 0) > {before}"),
                "Redis's answer to Load",
            )
            .await;
        serde_json::from_value(
            self.browser
                .js(&format!(
                    "const a = {answer}; return {{ text: a.textContent, is_error: a.dataset.error === 'true' }};"
                ))
                .await,
        )
        .unwrap()
    }

    /// Clicks Grade (scrolled into view, as a learner would).
    pub async fn grade(&self) {
        self.browser
            .js(&format!(
                "{}.scrollIntoView({{ block: 'center' }});",
                by_testid("exercise-grade")
            ))
            .await;
        click(self.browser, "[data-testid=exercise-grade]").await;
    }

    /// The progress shown while grading ("Grading… 3 s").
    pub async fn wait_progress(&self) -> String {
        let progress = by_testid("exercise-progress");
        self.browser
            .wait_until(&format!("{progress} !== null"), "grading progress")
            .await;
        text_of(
            self.browser
                .js(&format!("return {progress}?.textContent ?? '';"))
                .await,
        )
    }

    /// The report, once grading is over (or the server's refusal).
    pub async fn wait_report(&self) -> Result<ShownReport, String> {
        let deadline = Instant::now() + GRADE_WAIT;
        let done = format!(
            "return {} === null && ({} !== null || {} !== null);",
            by_testid("exercise-progress"),
            by_testid("grade-report"),
            by_testid("exercise-grade-error")
        );
        while self.browser.js(&done).await != Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "no grading report within {GRADE_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let error = self
            .browser
            .js(&format!(
                "return {}?.textContent ?? null;",
                by_testid("exercise-grade-error")
            ))
            .await;
        if let Some(error) = error.as_str() {
            return Err(error.to_owned());
        }
        // Figures are drawn in an effect just after the report appears.
        self.browser
            .wait_until(
                "Array.from(document.querySelectorAll('[data-testid=grade-figure]')).every(f => f.width > 0)",
                "the report's figures drawn",
            )
            .await;
        Ok(serde_json::from_value(self.browser.js(&format!("return {REPORT};")).await).unwrap())
    }

    /// Scrolls so the report's score is at the top of the window.
    pub async fn show_report(&self) {
        self.browser
            .js(&format!(
                "{}.scrollIntoView({{ block: 'start' }}); window.scrollBy(0, -80);",
                by_testid("grade-report")
            ))
            .await;
    }
}
