//! The console end to end in headless Chromium: typing, history,
//! completion, hints, pasted blocks, strict mode, transactions, reset, and
//! a sandbox killed from outside.

use fantoccini::Locator;

use crate::support::browser::Browser;
use crate::support::TestApp;

const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
const ARROW_UP: &str = "\u{E013}";

const REPLIES: &str = "document.querySelectorAll('[data-testid=console-reply]')";
const LAST_REPLY: &str =
    "(() => { const r = document.querySelectorAll('[data-testid=console-reply]'); return r.length ? r[r.length - 1].textContent : ''; })()";

struct Console<'a> {
    browser: &'a Browser,
}

impl Console<'_> {
    async fn input(&self) -> fantoccini::elements::Element {
        self.browser.wait_for("[data-testid=console-input]").await
    }

    async fn value(&self) -> String {
        let v = self
            .browser
            .js("return document.querySelector('[data-testid=console-input]').value;")
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn replies(&self) -> u64 {
        self.browser
            .js(&format!("return {REPLIES}.length;"))
            .await
            .as_u64()
            .unwrap_or(0)
    }

    async fn last_reply(&self) -> String {
        let v = self.browser.js(&format!("return {LAST_REPLY};")).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Types a line, presses Enter, and waits for its reply.
    async fn run(&self, line: &str) -> String {
        let before = self.replies().await;
        let input = self.input().await;
        input.send_keys(line).await.unwrap();
        input.send_keys(ENTER).await.unwrap();
        self.browser
            .wait_until(
                &format!("{REPLIES}.length > {before}"),
                &format!("a reply to `{line}`"),
            )
            .await;
        self.last_reply().await
    }

    /// Puts a multi-line block in the input (as a paste would) and runs it.
    async fn paste_and_run(&self, text: &str, replies: u64) {
        let before = self.replies().await;
        let json = serde_json::to_string(text).unwrap();
        self.browser
            .js(&format!(
                "const el = document.querySelector('[data-testid=console-input]'); el.value = {json}; el.dispatchEvent(new Event('input', {{ bubbles: true }}));"
            ))
            .await;
        self.input().await.send_keys(ENTER).await.unwrap();
        self.browser
            .wait_until(
                &format!("{REPLIES}.length >= {}", before + replies),
                "the block's replies",
            )
            .await;
    }
}

#[tokio::test]
async fn the_console_behaves_like_redis_cli_and_better() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = Console { browser: &browser };

    // A command and its redis-cli reply, with a latency badge.
    assert_eq!(console.run("HSET user:1 a 1").await, "(integer) 1");
    browser.wait_for(".console-latency").await;

    // ↑ recalls the line.
    console.input().await.send_keys(ARROW_UP).await.unwrap();
    assert_eq!(console.value().await, "HSET user:1 a 1");
    browser.js("const el = document.querySelector('[data-testid=console-input]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true }));").await;

    // Tab completes from the engine's COMMAND DOCS.
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-hint]') !== null",
            "the prompt",
        )
        .await;
    let input = console.input().await;
    input.send_keys("HGETA").await.unwrap();
    browser.wait_until("true", "idle").await;
    input.send_keys(TAB).await.unwrap();
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-input]').value === 'HGETALL '",
            "Tab to complete HGETA",
        )
        .await;
    browser.js("const el = document.querySelector('[data-testid=console-input]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true }));").await;

    // A hint after `ZADD `.
    console.input().await.send_keys("ZADD ").await.unwrap();
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-hint]').textContent.startsWith('key ')",
            "the ZADD hint",
        )
        .await;
    let hint = browser
        .js("return document.querySelector('[data-testid=console-hint]').textContent;")
        .await;
    assert!(hint.as_str().unwrap().contains("score member"), "{hint}");
    browser.js("const el = document.querySelector('[data-testid=console-input]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true }));").await;

    // A multi-line EVAL with comments runs as one command.
    let block = "# count a visit\nEVAL \"\nlocal n = redis.call('INCR', KEYS[1])\nreturn n\n\" 1 visits\n# and read it back\nGET visits";
    console.paste_and_run(block, 2).await;
    let replies: serde_json::Value = browser
        .js(&format!(
            "return Array.from({REPLIES}).slice(-2).map(r => r.textContent);"
        ))
        .await;
    assert_eq!(replies, serde_json::json!(["(integer) 1", "\"1\""]));

    // Strict mode sends the comment line to Redis, like redis-cli.
    browser
        .wait_for("[data-testid=strict-toggle]")
        .await
        .click()
        .await
        .unwrap();
    console.paste_and_run("# just a comment", 1).await;
    assert!(
        console
            .last_reply()
            .await
            .starts_with("(error) ERR unknown command '#'"),
        "{}",
        console.last_reply().await
    );
    browser
        .wait_for("[data-testid=strict-toggle]")
        .await
        .click()
        .await
        .unwrap();

    // MULTI shows the TX prompt and QUEUED.
    assert_eq!(console.run("MULTI").await, "OK");
    browser
        .wait_until(
            "document.querySelector('label.console-prompt').textContent === 'redis-tutor(TX)> '",
            "the TX prompt",
        )
        .await;
    assert_eq!(console.run("INCR visits").await, "QUEUED");
    assert_eq!(console.run("EXEC").await, "1) (integer) 2");
    browser
        .wait_until(
            "document.querySelector('label.console-prompt').textContent === 'redis-tutor> '",
            "the normal prompt",
        )
        .await;
    browser.screenshot("console.png").await;

    // Reset (confirmed) empties the sandbox.
    browser.js("window.confirm = () => true;").await;
    browser
        .wait_for("[data-testid=reset-sandbox]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "Array.from(document.querySelectorAll('[data-testid=console-notice]')).some(n => n.textContent.includes('reset'))",
            "the reset notice",
        )
        .await;
    assert_eq!(console.run("DBSIZE").await, "(integer) 0");

    // Kill the sandbox from outside: a restart notice, then it works.
    let id = browser
        .js("return JSON.parse(localStorage.getItem('redis-tutor.session'));")
        .await;
    let session = app
        .state
        .sessions
        .get(id.as_str().unwrap())
        .expect("the page's session");
    let pid = session.sandbox_pid().await;
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(console.run("SET after restart").await, "OK");
    let notices = browser
        .client
        .find_all(Locator::Css("[data-testid=console-notice]"))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for n in notices {
        texts.push(n.text().await.unwrap());
    }
    assert!(
        texts
            .iter()
            .any(|t| t.contains("restarted and its data reset")),
        "{texts:?}"
    );
    assert_eq!(console.run("GET after").await, "\"restart\"");

    // Usable on a 360 px phone: nothing wider than the screen.
    browser.client.set_window_size(360, 740).await.unwrap();
    browser
        .client
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    browser.wait_for("[data-testid=console-input]").await;
    browser
        .wait_until(
            "document.documentElement.scrollWidth <= window.innerWidth",
            "no horizontal scroll at 360 px",
        )
        .await;
    browser.screenshot("console-360.png").await;
    browser.close().await;
}

#[tokio::test]
async fn a_lost_session_reconnects_to_a_new_sandbox_and_keeps_the_transcript() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = Console { browser: &browser };
    assert_eq!(console.run("SET before 1").await, "OK");

    // The server ends the session (as the reaper would after 15 idle minutes).
    let id = browser
        .js("return JSON.parse(localStorage.getItem('redis-tutor.session'));")
        .await;
    let id = id.as_str().unwrap().to_owned();
    let deleted = app
        .http
        .delete(format!("{}/api/sessions", app.base))
        .bearer_auth(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    // The socket drops; the console reconnects, finds the session gone,
    // starts a new one, says so, and keeps what was on screen.
    browser
        .wait_until(
            "Array.from(document.querySelectorAll('[data-testid=console-notice]')).some(n => n.textContent.includes('new, empty one'))",
            "the new-sandbox notice",
        )
        .await;
    browser.wait_connected().await;
    assert_eq!(console.run("EXISTS before").await, "(integer) 0");
    let first = browser
        .js("return document.querySelector('[data-testid=console-reply]').textContent;")
        .await;
    assert_eq!(first, "OK", "the transcript survived the reconnect");
    let new_id = browser
        .js("return JSON.parse(localStorage.getItem('redis-tutor.session'));")
        .await;
    assert_ne!(new_id.as_str().unwrap(), id);
    browser.close().await;
}
