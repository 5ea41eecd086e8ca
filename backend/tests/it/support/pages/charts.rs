//! A live chart's panel.

use serde_json::Value;

use super::{by_testid, text_of};
use crate::support::browser::Browser;

/// One live chart's panel, found by its canvas.
pub struct ChartPanel<'a> {
    pub browser: &'a Browser,
    pub canvas: &'static str,
}

impl<'a> ChartPanel<'a> {
    pub async fn open(browser: &'a Browser, canvas: &'static str) -> ChartPanel<'a> {
        browser.wait_for(&format!("[data-testid={canvas}]")).await;
        ChartPanel { browser, canvas }
    }

    /// The canvas's pixels, to compare before and after.
    pub async fn picture(&self) -> Value {
        self.browser
            .js(&format!("return {}.toDataURL();", by_testid(self.canvas)))
            .await
    }

    pub async fn wait_redrawn(&self, before: &Value, what: &str) {
        self.browser
            .wait_until(
                &format!("{}.toDataURL() !== {before}", by_testid(self.canvas)),
                what,
            )
            .await;
    }

    /// Clicks a control by script (the sticky header may cover it).
    pub async fn click(&self, testid: &str) {
        self.browser
            .js(&format!("{}.click();", by_testid(testid)))
            .await;
    }

    pub async fn set_number(&self, testid: &str, value: &str) {
        self.browser
            .js(&format!(
                "const d = {}; d.value = '{value}'; d.dispatchEvent(new Event('change', {{ bubbles: true }}));",
                by_testid(testid)
            ))
            .await;
    }

    pub async fn text(&self, testid: &str) -> String {
        text_of(
            self.browser
                .js(&format!("return {}?.textContent ?? '';", by_testid(testid)))
                .await,
        )
    }

    pub async fn exists(&self, testid: &str) -> bool {
        self.browser
            .js(&format!("return {} !== null;", by_testid(testid)))
            .await
            == Value::Bool(true)
    }

    pub async fn wait_exists(&self, testid: &str, what: &str) {
        self.browser
            .wait_until(&format!("{} !== null", by_testid(testid)), what)
            .await;
    }

    /// Waits until `predicate` (JS, with `t` the element's text) holds for
    /// the element `testid`.
    pub async fn wait_text(&self, testid: &str, predicate: &str, what: &str) {
        self.browser
            .wait_until(
                &format!(
                    "((t) => {predicate})({}?.textContent ?? '')",
                    by_testid(testid)
                ),
                what,
            )
            .await;
    }

    pub async fn wait_status(&self, containing: &str) {
        self.browser
            .wait_until(
                &format!(
                    "({}.closest('.chart-panel').querySelector('.chart-status')?.textContent ?? '').includes('{containing}')",
                    by_testid(self.canvas)
                ),
                &format!("the status to say `{containing}`"),
            )
            .await;
    }

    /// (checked, disabled) of a checkbox.
    pub async fn checkbox(&self, testid: &str) -> (bool, bool) {
        serde_json::from_value(
            self.browser
                .js(&format!(
                    "const c = {}; return [c.checked, c.disabled];",
                    by_testid(testid)
                ))
                .await,
        )
        .unwrap()
    }

    /// Scrolls the panel to the top of the window, below the header.
    pub async fn show(&self) {
        self.browser
            .js(&format!(
                "window.scrollTo(0, {}.closest('.chart-panel').offsetTop - document.querySelector('.shell-header').offsetHeight - 8);",
                by_testid(self.canvas)
            ))
            .await;
    }

    /// The canvas is drawn at the size it is shown, times the pixel ratio.
    pub async fn is_drawn_at_display_size(&self) -> bool {
        self.browser
            .js(&format!(
                "const c = {}; const r = window.devicePixelRatio || 1; \
                 return c.clientWidth > 0 && Math.abs(c.width - Math.round(c.clientWidth * r)) <= 1 \
                     && Math.abs(c.height - Math.round(c.clientHeight * r)) <= 1;",
                by_testid(self.canvas)
            ))
            .await
            == Value::Bool(true)
    }
}
