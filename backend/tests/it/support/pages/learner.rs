//! The learner menu in the header: name, save status, the continue link,
//! "Forget me"; and what the browser keeps about the learner.

use super::{by_testid, click, paste, text_of, wait_equals};
use crate::support::browser::Browser;

/// The learner menu (a `<details>` in the header).
pub struct LearnerPanel<'a> {
    pub browser: &'a Browser,
}

impl<'a> LearnerPanel<'a> {
    pub fn new(browser: &'a Browser) -> LearnerPanel<'a> {
        LearnerPanel { browser }
    }

    /// Opens the menu, as a click on the name would.
    pub async fn open(&self) {
        self.browser.wait_for("[data-testid=learner]").await;
        let open = self
            .browser
            .js(&format!("return {}.open;", by_testid("learner")))
            .await;
        if open != serde_json::Value::Bool(true) {
            click(self.browser, "[data-testid=learner] summary").await;
        }
    }

    /// Waits until the header shows `name`.
    pub async fn wait_name(&self, name: &str) {
        wait_equals(
            self.browser,
            &format!("{}?.textContent", by_testid("learner-name")),
            name,
            &format!("the learner name `{name}` in the header"),
        )
        .await;
    }

    /// Whether the header's name contains markup (it must be text only).
    pub async fn name_has_elements(&self) -> bool {
        self.browser
            .js(&format!(
                "return {}.children.length > 0;",
                by_testid("learner-name")
            ))
            .await
            == serde_json::Value::Bool(true)
    }

    /// Types `name` into the form and saves it; returns what the form says.
    pub async fn set_name(&self, name: &str) -> String {
        self.open().await;
        let input = self
            .browser
            .wait_for("[data-testid=learner-name-input]")
            .await;
        input.clear().await.unwrap();
        input.send_keys(name).await.unwrap();
        self.save_name().await
    }

    /// Puts `name` in the field as a paste would (past its `maxlength`),
    /// saves, and returns what the form says.
    pub async fn paste_name(&self, name: &str) -> String {
        self.open().await;
        paste(self.browser, "learner-name-input", name).await;
        self.save_name().await
    }

    async fn save_name(&self) -> String {
        self.browser
            .js(&format!(
                "const m = {}; if (m) m.remove();",
                by_testid("learner-name-message")
            ))
            .await;
        click(self.browser, "[data-testid=learner-name-save]").await;
        self.browser
            .wait_until(
                &format!(
                    "{}?.textContent.length > 0",
                    by_testid("learner-name-message")
                ),
                "the name form's answer",
            )
            .await;
        text_of(
            self.browser
                .js(&format!(
                    "return {}.textContent;",
                    by_testid("learner-name-message")
                ))
                .await,
        )
    }

    /// Waits until everything run so far is stored on the server: the
    /// indicator says so and nothing waits in the outbox.
    pub async fn wait_saved(&self) {
        self.browser
            .wait_until(
                &format!(
                    "{}?.dataset.sync === 'saved' && localStorage.getItem('redis-tutor.outbox') === null",
                    by_testid("learner-sync")
                ),
                "progress saved on the server",
            )
            .await;
    }

    /// Makes every progress write fail as if the network were down (the
    /// app's requests go through `window.fetch`).
    pub async fn cut_progress_writes(&self) {
        self.browser
            .js("window.realFetch = window.realFetch || window.fetch; \
                 window.fetch = (req, init) => String(req && req.url || req).includes('/api/me/progress') \
                     ? Promise.reject(new TypeError('offline (test)')) : window.realFetch(req, init);")
            .await;
    }

    pub async fn restore_progress_writes(&self) {
        self.browser
            .js("if (window.realFetch) window.fetch = window.realFetch;")
            .await;
    }

    /// Waits until the indicator says progress is waiting in this browser.
    pub async fn wait_offline(&self) {
        wait_equals(
            self.browser,
            &format!("{}?.dataset.sync", by_testid("learner-sync")),
            "offline",
            "the offline indicator",
        )
        .await;
    }

    /// The steps waiting to be sent, as `lesson#step`.
    pub async fn outbox(&self) -> Vec<String> {
        super::strings(
            self.browser
                .js("return JSON.parse(localStorage.getItem('redis-tutor.outbox') || '[]').map(s => s.lesson + '#' + s.step);")
                .await,
        )
    }

    /// The "Continue on another device" link, once the learner has one.
    pub async fn continue_url(&self) -> String {
        self.open().await;
        let field = by_testid("learner-continue-url");
        self.browser
            .wait_until(&format!("{field}?.value.length > 0"), "the continue link")
            .await;
        text_of(self.browser.js(&format!("return {field}.value;")).await)
    }

    /// The progress line in the menu.
    pub async fn progress_line(&self) -> String {
        text_of(
            self.browser
                .js(&format!(
                    "return {}?.textContent;",
                    by_testid("learner-progress")
                ))
                .await,
        )
    }

    /// "Forget me", with the confirmation accepted; returns what it says.
    pub async fn forget_confirmed(&self) -> String {
        self.open().await;
        self.browser.js("window.confirm = () => true;").await;
        click(self.browser, "[data-testid=learner-forget]").await;
        let result = by_testid("learner-forget-result");
        self.browser
            .wait_until(
                &format!("{result}?.textContent.length > 0"),
                "Forget me's answer",
            )
            .await;
        text_of(
            self.browser
                .js(&format!("return {result}.textContent;"))
                .await,
        )
    }

    /// The learner token this browser keeps.
    pub async fn stored_token(&self) -> Option<String> {
        let value = self
            .browser
            .js("return localStorage.getItem('redis-tutor.learner');")
            .await;
        // gloo stores JSON: a quoted string.
        value
            .as_str()
            .and_then(|s| serde_json::from_str::<String>(s).ok())
    }

    /// Forgets everything this browser kept (as a cleared site data would).
    pub async fn clear_storage(&self) {
        self.browser.js("localStorage.clear();").await;
    }
}
