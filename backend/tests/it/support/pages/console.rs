//! The console, on the console page or beside a lesson.

use super::{by_testid, click, paste, strings, text_of, wait_equals, ENTER};
use crate::support::browser::Browser;
use fantoccini::elements::Element;

/// One transcript entry as the page shows it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ShownEntry {
    pub prompt: String,
    pub line: String,
    pub reply: String,
    pub is_error: bool,
    /// The refusal's code badge, if any.
    pub code: Option<String>,
    /// The round-trip badge's tooltip, if any.
    pub badge_title: Option<String>,
}

const ENTRIES: &str = "Array.from(document.querySelectorAll('.console-entry')).map(e => ({ \
    prompt: e.querySelector('.console-prompt').textContent, \
    line: e.querySelector('.console-line').textContent, \
    reply: e.querySelector('[data-testid=console-reply]').textContent, \
    is_error: e.querySelector('[data-testid=console-reply]').classList.contains('console-reply-error'), \
    code: e.querySelector('.console-code')?.textContent ?? null, \
    badge_title: e.querySelector('.console-latency')?.title ?? null }))";
const REPLIES: &str = "document.querySelectorAll('[data-testid=console-reply]')";
const NOTICES: &str = "Array.from(document.querySelectorAll('[data-testid=console-notice]'))";

/// The console, on the console page or beside a lesson.
pub struct ConsolePage<'a> {
    pub browser: &'a Browser,
}

impl<'a> ConsolePage<'a> {
    pub fn new(browser: &'a Browser) -> ConsolePage<'a> {
        ConsolePage { browser }
    }

    pub async fn wait_connected(&self) {
        self.browser
            .wait_until(
                &format!(
                    "{}?.textContent === 'Connected'",
                    by_testid("console-status")
                ),
                "the console to connect",
            )
            .await;
    }

    pub async fn input(&self) -> Element {
        self.browser.wait_for("[data-testid=console-input]").await
    }

    pub async fn value(&self) -> String {
        text_of(
            self.browser
                .js(&format!("return {}.value;", by_testid("console-input")))
                .await,
        )
    }

    /// Puts `text` in the input as a paste would (one input event).
    pub async fn set_value(&self, text: &str) {
        paste(self.browser, "console-input", text).await;
    }

    pub async fn replies(&self) -> u64 {
        self.browser
            .js(&format!("return {REPLIES}.length;"))
            .await
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn last_reply(&self) -> String {
        text_of(
            self.browser
                .js(&format!(
                    "const r = {REPLIES}; return r.length ? r[r.length - 1].textContent : '';"
                ))
                .await,
        )
    }

    /// The last `n` replies, oldest first.
    pub async fn last_replies(&self, n: usize) -> Vec<String> {
        strings(
            self.browser
                .js(&format!(
                    "return Array.from({REPLIES}).slice(-{n}).map(r => r.textContent);"
                ))
                .await,
        )
    }

    pub async fn first_reply(&self) -> String {
        text_of(
            self.browser
                .js(&format!("return {REPLIES}[0]?.textContent ?? '';"))
                .await,
        )
    }

    pub async fn wait_last_reply(&self, expected: &str, what: &str) {
        let json = serde_json::to_string(expected).unwrap();
        self.browser
            .wait_until(
                &format!("(() => {{ const r = {REPLIES}; return r.length && r[r.length - 1].textContent === {json}; }})()"),
                what,
            )
            .await;
    }

    pub async fn wait_replies(&self, at_least: u64, what: &str) {
        self.browser
            .wait_until(&format!("{REPLIES}.length >= {at_least}"), what)
            .await;
    }

    /// Every command entry on screen.
    pub async fn entries(&self) -> Vec<ShownEntry> {
        serde_json::from_value(self.browser.js(&format!("return {ENTRIES};")).await)
            .expect("entries")
    }

    /// Types a line, presses Enter, and waits for its reply.
    pub async fn run(&self, line: &str) -> String {
        let before = self.replies().await;
        let input = self.input().await;
        input.send_keys(line).await.unwrap();
        input.send_keys(ENTER).await.unwrap();
        self.wait_replies(before + 1, &format!("a reply to `{line}`"))
            .await;
        self.last_reply().await
    }

    /// Puts a multi-line block in the input (as a paste would) and runs it.
    pub async fn paste_and_run(&self, text: &str, replies: u64) {
        let before = self.replies().await;
        self.set_value(text).await;
        self.input().await.send_keys(ENTER).await.unwrap();
        self.wait_replies(before + replies, "the block's replies")
            .await;
    }

    pub async fn hint(&self) -> String {
        text_of(
            self.browser
                .js(&format!(
                    "return {}?.textContent ?? '';",
                    by_testid("console-hint")
                ))
                .await,
        )
    }

    pub async fn wait_hint_starting(&self, prefix: &str) {
        self.browser
            .wait_until(
                &format!(
                    "({}?.textContent ?? '').startsWith({})",
                    by_testid("console-hint"),
                    serde_json::to_string(prefix).unwrap()
                ),
                &format!("a hint starting `{prefix}`"),
            )
            .await;
    }

    pub async fn wait_value(&self, expected: &str) {
        wait_equals(
            self.browser,
            &format!("{}.value", by_testid("console-input")),
            expected,
            &format!("the input to read `{expected}`"),
        )
        .await;
    }

    pub async fn wait_prompt(&self, expected: &str) {
        wait_equals(
            self.browser,
            "document.querySelector('label.console-prompt')?.textContent",
            expected,
            &format!("the prompt `{expected}`"),
        )
        .await;
    }

    pub async fn toggle_strict(&self) {
        click(self.browser, "[data-testid=strict-toggle]").await;
    }

    /// Reset sandbox, with the confirmation accepted.
    pub async fn reset_confirmed(&self) {
        self.browser.js("window.confirm = () => true;").await;
        click(self.browser, "[data-testid=reset-sandbox]").await;
    }

    pub async fn copy(&self) {
        self.browser
            .js(&format!("{}.click();", by_testid("console-copy")))
            .await;
    }

    pub async fn copy_label(&self) -> String {
        text_of(
            self.browser
                .js(&format!(
                    "return {}.textContent;",
                    by_testid("console-copy")
                ))
                .await,
        )
    }

    /// Every notice's text and whether it has the info style.
    pub async fn notices(&self) -> Vec<(String, bool)> {
        serde_json::from_value(
            self.browser
                .js(&format!(
                    "return {NOTICES}.map(n => [n.textContent, n.classList.contains('console-notice-info')]);"
                ))
                .await,
        )
        .unwrap_or_default()
    }

    pub async fn wait_notice(&self, containing: &str, what: &str) {
        self.browser
            .wait_until(
                &format!(
                    "{NOTICES}.some(n => n.textContent.includes({}))",
                    serde_json::to_string(containing).unwrap()
                ),
                what,
            )
            .await;
    }

    pub async fn session_id(&self) -> Option<String> {
        self.browser
            .js("return JSON.parse(localStorage.getItem('redis-tutor.session'));")
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn status(&self) -> String {
        text_of(
            self.browser
                .js(&format!(
                    "return {}?.textContent ?? '';",
                    by_testid("console-status")
                ))
                .await,
        )
    }

    /// The lockout banner's text, once it shows.
    pub async fn wait_lockout(&self) -> String {
        self.browser.wait_for("[data-testid=console-lockout]").await;
        text_of(
            self.browser
                .js(&format!(
                    "return {}.textContent;",
                    by_testid("console-lockout")
                ))
                .await,
        )
    }

    pub async fn log_scroll_top(&self) -> i64 {
        self.browser
            .js(&format!(
                "return Math.round({}.scrollTop);",
                by_testid("console-log")
            ))
            .await
            .as_i64()
            .unwrap_or(-1)
    }

    pub async fn scroll_log_to(&self, top: i64) {
        self.browser
            .js(&format!(
                "const l = {}; l.scrollTop = {top}; l.dispatchEvent(new Event('scroll'));",
                by_testid("console-log")
            ))
            .await;
    }
}
