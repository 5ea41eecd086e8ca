//! A class in session, as its screens show it: the instructor's page (the
//! room, the demo console, follow-me, scenarios, the board and the raised
//! hands), the projector, and a learner's class panel beside a lesson.

use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use serde_json::Value;

use super::{click, strings, text_of, wait_equals, ENTER};
use crate::support::browser::Browser;

/// `text` as a JS string literal, for scripts and selectors built here.
fn js_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// `document.querySelector(css)?.textContent ?? ''` as JS.
fn text_js(css: &str) -> String {
    format!(
        "(document.querySelector({})?.textContent ?? '')",
        js_string(css)
    )
}

/// The text of the first element matching `css` ('' when there is none).
async fn text(browser: &Browser, css: &str) -> String {
    text_of(browser.js(&format!("return {};", text_js(css))).await)
}

/// JS for the live lines under `console` (a `.live-console`'s selector),
/// as `[command, reply, is_error]`.
fn live_lines_js(console: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll({})).map(l => [\
            l.querySelector('.live-command').textContent, \
            l.querySelector('.live-reply').textContent, \
            l.classList.contains('live-line-error')])",
        js_string(&format!("{console} .live-line"))
    )
}

/// JS: whether a live line under `console` shows `command` answered by
/// `reply`.
fn shows_line_js(console: &str, command: &str, reply: &str) -> String {
    format!(
        "{}.some(([c, r]) => c === {} && r === {})",
        live_lines_js(console),
        js_string(command),
        js_string(reply)
    )
}

/// JS: whether the QR code image `img.room-qr` has loaded a picture.
const QR_LOADED: &str = "(() => { const i = document.querySelector('img.room-qr'); \
    return !!i && i.complete && i.naturalWidth > 0; })()";

/// Sets a `<select>` to `value` as a choice would (one change event), once
/// that option is there.
async fn choose(browser: &Browser, select: &str, value: &str) {
    let option = format!("{select} option[value={}]", js_string(value));
    browser
        .wait_until(
            &format!("document.querySelector({}) !== null", js_string(&option)),
            &format!("the option `{value}` in `{select}`"),
        )
        .await;
    browser
        .js(&format!(
            "const s = document.querySelector({}); s.value = {}; \
             s.dispatchEvent(new Event('change', {{ bubbles: true }}));",
            js_string(select),
            js_string(value)
        ))
        .await;
}

/// How the room's screens tell a class to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinShown {
    pub code: String,
    pub join_url: String,
}

/// Waits until a join card shows a code, and returns it with the link,
/// after checking the QR code loaded.
async fn join_card(browser: &Browser) -> JoinShown {
    browser
        .wait_until(
            &format!("{}.trim().length > 0", text_js(".room-code")),
            "the join code",
        )
        .await;
    browser.wait_until(QR_LOADED, "the QR code image").await;
    JoinShown {
        code: text(browser, ".room-code").await,
        join_url: text(browser, ".room-join-url").await,
    }
}

/// The instructor's screen, `/instructor`.
pub struct InstructorScreen<'a> {
    pub browser: &'a Browser,
}

/// One learner's row on the class board.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ShownRow {
    pub learner: String,
    pub name: String,
    pub online: bool,
    pub following: bool,
    pub hand_raised: bool,
}

const BOARD_ROWS: &str =
    "Array.from(document.querySelectorAll('table.class-board tr.board-row')).map(r => ({ \
    learner: r.dataset.learner, \
    name: r.querySelector('.col-name').textContent, \
    online: r.querySelector('.col-follow').dataset.online === 'true', \
    following: r.querySelector('.col-follow').dataset.following === 'true', \
    hand_raised: r.querySelector('.col-hand').dataset.raised === 'true' }))";

impl<'a> InstructorScreen<'a> {
    /// Opens the instructor link (`/instructor#<token>`) in `browser`.
    pub async fn open(browser: &'a Browser, base: &str, token: &str) -> InstructorScreen<'a> {
        browser
            .client
            .set_window_size(1400, 1000)
            .await
            .expect("window size");
        browser
            .client
            .goto(&format!("{base}/instructor#{token}"))
            .await
            .expect("the instructor page loads");
        InstructorScreen { browser }
    }

    /// Follows the header's "Course" link out of the instructor's app:
    /// a full page load into the learner's app, whose outline lists the
    /// lessons (the instructor's app has no such route).
    pub async fn go_to_course(&self) -> usize {
        click(self.browser, ".shell-nav a[href='/']").await;
        let outline = super::lesson::Outline::new(self.browser);
        outline.first_lesson().await;
        outline.lesson_count().await
    }

    /// Creates a room named `name`; returns its id (from the address bar)
    /// once the room socket is live and the card shows how to join.
    pub async fn create_room(&self, name: &str) -> (String, JoinShown) {
        let field = self.browser.wait_for("#room-name").await;
        field.send_keys(name).await.unwrap();
        click(self.browser, "#room-create").await;
        wait_equals(
            self.browser,
            &text_js(".room-name"),
            name,
            "the room's name",
        )
        .await;
        wait_equals(
            self.browser,
            &text_js(".room-status"),
            "Live",
            "the room socket",
        )
        .await;
        let shown = join_card(self.browser).await;
        let url = self.browser.client.current_url().await.unwrap();
        let room = url
            .query_pairs()
            .find(|(k, _)| k == "room")
            .map(|(_, v)| v.into_owned())
            .expect("the room's id in the address bar");
        (room, shown)
    }

    /// The board's rows, in the order shown.
    pub async fn rows(&self) -> Vec<ShownRow> {
        serde_json::from_value(self.browser.js(&format!("return {BOARD_ROWS};")).await)
            .expect("board rows")
    }

    /// Waits until the board lists exactly `names` (in any order).
    pub async fn wait_board(&self, names: &[&str]) {
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_unstable();
        wait_equals(
            self.browser,
            &format!("JSON.stringify({BOARD_ROWS}.map(r => r.name).sort())"),
            &serde_json::to_string(&sorted).unwrap(),
            "the board's rows",
        )
        .await;
    }

    /// Waits until the row of `name` satisfies `predicate` (JS, with `r`
    /// the row as `rows` reads it).
    pub async fn wait_row(&self, name: &str, predicate: &str, what: &str) {
        self.browser
            .wait_until(
                &format!(
                    "{BOARD_ROWS}.some(r => r.name === {} && ({predicate}))",
                    js_string(name)
                ),
                what,
            )
            .await;
    }

    /// The learner id of `name`'s row.
    pub async fn learner_id(&self, name: &str) -> String {
        self.rows()
            .await
            .into_iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} is not on the board"))
            .learner
    }

    /// Follow-me: sends the class to `step` of `lesson`; returns what the
    /// screen says about it.
    pub async fn send_class_to(&self, lesson: &str, step: &str) -> String {
        choose(self.browser, "#goto-lesson", lesson).await;
        choose(self.browser, "#goto-step", step).await;
        self.browser
            .js("document.querySelector('.follow-result')?.remove();")
            .await;
        click(self.browser, "#goto-push").await;
        self.browser
            .wait_until(
                &format!("{}.length > 0", text_js(".follow-result")),
                "follow-me's answer",
            )
            .await;
        text(self.browser, ".follow-result").await
    }

    /// What the screen says about where the class is.
    pub async fn position(&self) -> String {
        text(self.browser, ".instructor-position").await
    }

    /// Types `line` in the demo console and presses Enter, once the demo
    /// sandbox is ready; waits until its own console shows the reply.
    pub async fn run_demo(&self, line: &str, reply: &str) {
        self.browser
            .wait_until(
                "document.querySelector('#demo-input')?.placeholder.startsWith('HSET')",
                "the demo sandbox",
            )
            .await;
        let input = self.browser.wait_for("#demo-input").await;
        input.send_keys(&format!("{line}{ENTER}")).await.unwrap();
        self.browser
            .wait_until(
                &shows_line_js(".demo-console .live-console", line, reply),
                "the demo console's line",
            )
            .await;
    }

    /// Starts the rate-limit scenario and waits for its chart here.
    pub async fn start_rate_limit(&self) {
        click(self.browser, ".scenario-rate-limit").await;
        self.browser.wait_for("[data-testid=room-rate-chart]").await;
    }

    /// The raised hands queue: (learner id, name), oldest first.
    pub async fn hands(&self) -> Vec<(String, String)> {
        serde_json::from_value(
            self.browser
                .js(
                    "return Array.from(document.querySelectorAll('ol.hands-queue > li')).map(l => \
                     [l.dataset.learner, l.querySelector('.hand-name').textContent]);",
                )
                .await,
        )
        .expect("the hands queue")
    }

    /// Waits until the hands queue holds someone.
    pub async fn wait_hands(&self) {
        self.browser
            .wait_until(
                "document.querySelectorAll('ol.hands-queue > li').length > 0",
                "a raised hand in the queue",
            )
            .await;
    }

    /// Scrolls the class board to the top of the window.
    pub async fn show_board(&self) {
        self.browser
            .js("document.querySelector('.class-board-section').scrollIntoView({ block: 'start' });")
            .await;
    }
}

/// The projector view, `/projector?room=<id>`, in the tab the instructor's
/// "Open the projector view" link opens.
pub struct ProjectorScreen<'a> {
    pub browser: &'a Browser,
    /// The instructor's tab, to go back to.
    instructor: WindowHandle,
}

impl<'a> ProjectorScreen<'a> {
    /// Clicks "Open the projector view" and switches to the tab it opens
    /// (which gets the instructor key from its opener).
    pub async fn open_from(instructor: &InstructorScreen<'a>) -> ProjectorScreen<'a> {
        let browser = instructor.browser;
        let home = browser.client.window().await.expect("the current tab");
        let before = browser.client.windows().await.expect("the tabs");
        // Clear of the sticky header, then a real click, as a popup needs.
        browser
            .js("document.querySelector('a#open-projector').scrollIntoView({ block: 'center' });")
            .await;
        click(browser, "a#open-projector").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let tab = loop {
            let now = browser.client.windows().await.expect("the tabs");
            if let Some(tab) = now.into_iter().find(|w| !before.contains(w)) {
                break tab;
            }
            assert!(Instant::now() < deadline, "the projector tab never opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        browser
            .client
            .switch_to_window(tab)
            .await
            .expect("switch to the projector tab");
        browser.wait_for(".projector").await;
        ProjectorScreen {
            browser,
            instructor: home,
        }
    }

    /// Closes the projector's tab and goes back to the instructor's.
    pub async fn close(self) {
        self.browser
            .client
            .close_window()
            .await
            .expect("close the tab");
        self.browser
            .client
            .switch_to_window(self.instructor)
            .await
            .expect("back to the instructor's tab");
    }

    /// The code and link it shows (read from the server, so any screen
    /// with the instructor key shows them).
    pub async fn join_card(&self) -> JoinShown {
        join_card(self.browser).await
    }

    /// Waits until the projector's console shows `command` answered by
    /// `reply`.
    pub async fn wait_console_line(&self, command: &str, reply: &str) {
        self.browser
            .wait_until(
                &shows_line_js(".projector .live-console", command, reply),
                "the demo console's line on the projector",
            )
            .await;
    }

    /// Waits until the place line mentions `text`.
    pub async fn wait_place(&self, text: &str) {
        self.browser
            .wait_until(
                &format!(
                    "{}.includes({})",
                    text_js(".projector-place"),
                    js_string(text)
                ),
                &format!("the projector's place to mention `{text}`"),
            )
            .await;
    }

    /// Waits until the running rate-limit scenario's chart shows.
    pub async fn wait_rate_chart(&self) {
        self.browser
            .wait_for(".projector [data-testid=room-rate-chart]")
            .await;
        wait_equals(
            self.browser,
            &text_js(".projector .room-charts-status"),
            "The instructor's scenario is running.",
            "the projector's chart status",
        )
        .await;
    }

    /// Whether a status line (a connection problem) shows.
    pub async fn has_status(&self) -> bool {
        self.browser
            .js("return document.querySelector('.projector-status') !== null;")
            .await
            == Value::Bool(true)
    }
}

/// A learner's class: joining, and the class panel beside a lesson.
pub struct ClassPanel<'a> {
    pub browser: &'a Browser,
}

impl<'a> ClassPanel<'a> {
    pub fn new(browser: &'a Browser) -> ClassPanel<'a> {
        ClassPanel { browser }
    }

    /// Opens the join link, types `name` and joins; waits until the
    /// learner is on a lesson page with the class panel connected.
    pub async fn join(&self, join_url: &str, code: &str, name: &str) {
        self.browser
            .client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        self.browser
            .client
            .goto(join_url)
            .await
            .expect("the join page loads");
        wait_equals(
            self.browser,
            "document.querySelector('#join-code')?.value",
            code,
            "the code from the link in the form",
        )
        .await;
        let field = self.browser.wait_for("#join-name").await;
        field.clear().await.unwrap();
        field.send_keys(name).await.unwrap();
        click(self.browser, "#join-submit").await;
        self.wait_connected().await;
    }

    /// Waits until the panel shows and its room socket is up (no status
    /// line: that only says what is wrong).
    pub async fn wait_connected(&self) {
        self.browser
            .wait_until(
                "document.querySelector('.lesson-body') !== null \
                 && document.querySelector('.class-panel #follow-toggle') !== null \
                 && document.querySelector('.class-panel .class-status') === null",
                "the class panel, connected, beside a lesson",
            )
            .await;
    }

    pub async fn room_name(&self) -> String {
        text(self.browser, ".class-panel .class-name").await
    }

    /// Waits until the page shows lesson `slug` (its address and its body).
    pub async fn wait_lesson(&self, slug: &str) {
        self.browser
            .wait_until(
                &format!(
                    "location.pathname === {} && document.querySelector({}) !== null",
                    js_string(&format!("/lesson/{slug}")),
                    js_string(&format!(".lesson-body[data-lesson=\"{slug}\"]"))
                ),
                &format!("the lesson `{slug}`"),
            )
            .await;
    }

    /// Waits until step `step` of the lesson on screen is scrolled into
    /// the window (the page scrolled down to reach it).
    pub async fn wait_step_in_view(&self, step: &str) {
        self.browser
            .wait_until(
                &format!(
                    "(() => {{ const s = document.querySelector('.lesson-body [id=' + {} + ']'); \
                     if (!s) return false; const r = s.getBoundingClientRect(); \
                     return window.scrollY > 0 && r.top >= 0 && r.top < window.innerHeight; }})()",
                    js_string(&js_string(step))
                ),
                &format!("the step `{step}` in view"),
            )
            .await;
    }

    pub async fn path(&self) -> String {
        self.browser
            .client
            .current_url()
            .await
            .unwrap()
            .path()
            .to_owned()
    }

    /// Whether the follow toggle says the learner follows.
    pub async fn following(&self) -> bool {
        self.browser
            .js("return document.querySelector('#follow-toggle').getAttribute('aria-pressed');")
            .await
            == Value::String("true".into())
    }

    /// Clicks the follow toggle and waits until it has flipped.
    pub async fn toggle_follow(&self) {
        let was = self.following().await;
        click(self.browser, "#follow-toggle").await;
        wait_equals(
            self.browser,
            "document.querySelector('#follow-toggle').getAttribute('aria-pressed')",
            &(!was).to_string(),
            "the follow toggle to flip",
        )
        .await;
    }

    /// Leaves the instructor's lesson for the one before it, as a learner
    /// on their own would.
    pub async fn go_to_previous_lesson(&self) {
        self.browser.wait_for(".lesson-nav .lesson-prev").await;
        self.browser
            .js("document.querySelector('.lesson-nav .lesson-prev').click();")
            .await;
    }

    pub async fn return_to_instructor(&self) {
        click(self.browser, "#return-to-instructor").await;
    }

    pub async fn has_return_button(&self) -> bool {
        self.browser
            .js("return document.querySelector('#return-to-instructor') !== null;")
            .await
            == Value::Bool(true)
    }

    /// Waits until the panel's console shows `command` answered by `reply`.
    pub async fn wait_console_line(&self, command: &str, reply: &str) {
        self.browser
            .wait_until(
                &shows_line_js(".class-panel .live-console", command, reply),
                &format!("`{command}` in the class panel's console"),
            )
            .await;
    }

    /// Clicks "Raise your hand" (or lower it) and waits until the button
    /// says it is `raised`.
    pub async fn set_hand(&self, raised: bool) {
        click(self.browser, "#raise-hand").await;
        self.wait_hand(raised).await;
    }

    pub async fn wait_hand(&self, raised: bool) {
        self.browser
            .wait_until(
                &format!(
                    "document.querySelector('#raise-hand')?.classList.contains('raised') === {raised} \
                     && document.querySelector('#raise-hand').getAttribute('aria-pressed') === '{raised}'"
                ),
                &format!("the hand button to say raised={raised}"),
            )
            .await;
    }

    /// Reloads the page and waits for the panel to connect again.
    pub async fn reload(&self) {
        self.browser.client.refresh().await.expect("reload");
        self.wait_connected().await;
    }

    /// The panel's status line (what went wrong), once it says `text`.
    pub async fn wait_status(&self, text: &str) {
        wait_equals(
            self.browser,
            &text_js(".class-panel .class-status"),
            text,
            &format!("the class status `{text}`"),
        )
        .await;
    }

    pub async fn status(&self) -> String {
        text(self.browser, ".class-panel .class-status").await
    }

    /// The panel's buttons still shown (follow, return, hand).
    pub async fn actions(&self) -> Vec<String> {
        strings(
            self.browser
                .js("return Array.from(document.querySelectorAll('.class-panel .class-actions button')).map(b => b.id);")
                .await,
        )
    }
}
