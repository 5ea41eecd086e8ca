//! The console end to end in headless Chromium: typing, history,
//! completion, hints, pasted blocks, strict mode, transactions, reset, a
//! sandbox killed from outside, reloads, pages left one after another,
//! and a refused session.

use crate::support::browser::Browser;
use crate::support::pages::{ConsolePage, LessonPage, ARROW_UP, TAB};
use crate::support::TestApp;

#[tokio::test]
async fn the_console_behaves_like_redis_cli_and_better() {
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);

    // A command and its redis-cli reply, with a round-trip badge.
    assert_eq!(console.run("HSET user:1 a 1").await, "(integer) 1");
    browser.wait_for(".console-latency").await;

    // ↑ recalls the line.
    console.input().await.send_keys(ARROW_UP).await.unwrap();
    assert_eq!(console.value().await, "HSET user:1 a 1");
    console.set_value("").await;

    // Tab completes from the engine's COMMAND DOCS.
    let input = console.input().await;
    input.send_keys("HGETA").await.unwrap();
    input.send_keys(TAB).await.unwrap();
    console.wait_value("HGETALL ").await;
    console.set_value("").await;

    // A hint after `ZADD `.
    console.input().await.send_keys("ZADD ").await.unwrap();
    console.wait_hint_starting("key ").await;
    let hint = console.hint().await;
    assert!(hint.contains("score member"), "{hint}");
    console.set_value("").await;

    // A multi-line EVAL with comments runs as one command.
    let block = "# count a visit\nEVAL \"\nlocal n = redis.call('INCR', KEYS[1])\nreturn n\n\" 1 visits\n# and read it back\nGET visits";
    console.paste_and_run(block, 2).await;
    assert_eq!(console.last_replies(2).await, ["(integer) 1", "\"1\""]);

    // Strict mode sends the comment line to Redis, like redis-cli.
    console.toggle_strict().await;
    console.paste_and_run("# just a comment", 1).await;
    let reply = console.last_reply().await;
    assert!(
        reply.starts_with("(error) ERR unknown command '#'"),
        "{reply}"
    );
    console.toggle_strict().await;

    // MULTI shows the TX prompt and QUEUED.
    assert_eq!(console.run("MULTI").await, "OK");
    console.wait_prompt("redis-tutor(TX)> ").await;
    assert_eq!(console.run("INCR visits").await, "QUEUED");
    assert_eq!(console.run("EXEC").await, "1) (integer) 2");
    console.wait_prompt("redis-tutor> ").await;

    // A reply that took half a second or more gets redis-cli's `(1.00s)`
    // line under it; a quick one does not.
    assert_eq!(console.run("BLPOP nothing 1").await, "(nil)");
    let elapsed = browser
        .wait_for("[data-testid=console-elapsed]")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        elapsed.starts_with("(1.") && elapsed.ends_with("s)"),
        "{elapsed}"
    );
    assert_eq!(
        browser
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=console-elapsed]"))
            .await
            .unwrap()
            .len(),
        1,
        "only the slow reply is timed"
    );
    browser.screenshot("console.png").await;

    // Reset (confirmed) empties the sandbox.
    console.reset_confirmed().await;
    console.wait_notice("reset", "the reset notice").await;
    assert_eq!(console.run("DBSIZE").await, "(integer) 0");

    // Kill the sandbox from outside: a restart notice, then it works.
    let id = console.session_id().await.expect("a session");
    let session = app.state.sessions.get(&id).expect("the page's session");
    let pid = session.sandbox_pid().await;
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(console.run("SET after restart").await, "OK");
    let notices = console.notices().await;
    assert!(
        notices
            .iter()
            .any(|(t, _)| t.contains("restarted and its data reset")),
        "{notices:?}"
    );
    assert_eq!(console.run("GET after").await, "\"restart\"");

    // Usable on a 360 px phone: nothing wider than the screen.
    browser.client.set_window_size(360, 740).await.unwrap();
    browser
        .client
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    console.input().await;
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
    let console = ConsolePage::new(&browser);
    assert_eq!(console.run("SET before 1").await, "OK");

    // The server ends the session (as the reaper would after 15 idle minutes).
    let id = console.session_id().await.expect("a session");
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
    console
        .wait_notice("new, empty one", "the new-sandbox notice")
        .await;
    console.wait_connected().await;
    assert_eq!(console.run("EXISTS before").await, "(integer) 0");
    assert_eq!(
        console.first_reply().await,
        "OK",
        "the transcript survived the reconnect"
    );
    assert_ne!(console.session_id().await.expect("a new session"), id);
    browser.close().await;
}

#[tokio::test]
async fn a_reload_keeps_the_transcript_its_scroll_and_the_servers_transaction() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);
    for i in 0..30 {
        console.run(&format!("SET k{i} {i}")).await;
    }
    assert_eq!(console.run("MULTI").await, "OK");
    console.wait_prompt("redis-tutor(TX)> ").await;
    console.scroll_log_to(200).await;
    let scrolled = console.log_scroll_top().await;
    let before = console.entries().await;

    browser.client.refresh().await.unwrap();
    console.wait_connected().await;
    // The server says the session is still inside MULTI.
    console.wait_prompt("redis-tutor(TX)> ").await;
    assert_eq!(console.entries().await, before, "the transcript came back");
    assert_eq!(console.log_scroll_top().await, scrolled, "and its scroll");
    assert_eq!(console.run("INCR k1").await, "QUEUED");
    assert_eq!(console.run("EXEC").await, "1) (integer) 2");
    console.wait_prompt("redis-tutor> ").await;
    browser.close().await;
}

/// A learner who loads one page after another (reloads, links opened in
/// the same tab) must never meet the session's socket cap: each page left
/// gives its socket back at once, even one the browser keeps in its
/// back/forward cache. Before, the sockets of pages that had run a command
/// stayed open on the server, and the fifth page's console was refused
/// ("Reconnecting…") until they timed out.
#[tokio::test]
async fn pages_left_one_after_another_give_their_sockets_back_at_once() {
    let app = TestApp::spawn().await;
    let cap = app.state.sessions.pool().spec().limits.sockets_per_session;
    let pages = ["hashes", "lists"].map(|slug| format!("{}/lesson/{slug}", app.base));
    let browser = Browser::open(&pages[0], 1280, 860).await;
    let console = ConsolePage::new(&browser);
    let lesson = LessonPage::new(&browser);
    let id = console.session_id().await.expect("a session");
    for page in 0..cap + 3 {
        // A block run with the lesson's Run button, as a learner would.
        lesson.run_block(0).await;
        lesson.wait_run_result(0).await;
        browser.client.goto(&pages[page % 2]).await.unwrap();
        console.wait_connected().await;
    }
    assert_eq!(console.session_id().await.as_deref(), Some(id.as_str()));
    // Only this page's socket is left (closes travel in the background).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut open = app.state.sessions.sockets_for(&id);
    while open > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        open = app.state.sessions.sockets_for(&id);
    }
    assert_eq!(open, 1, "the sockets of the pages left are closed");
    browser.close().await;
}

/// A learner who opens their console in more tabs than its sandbox
/// serves is told so in the extra tab (not that the sandbox expired),
/// keeps the same sandbox, and connects by itself once a tab closes.
#[tokio::test]
async fn a_tab_past_the_socket_cap_waits_for_one_to_close_and_keeps_the_sandbox() {
    let app = TestApp::with_limits(|limits| limits.sockets_per_session = 1).await;
    let url = format!("{}/console", app.base);
    let browser = Browser::open(&url, 1280, 860).await;
    let console = ConsolePage::new(&browser);
    assert_eq!(console.run("SET kept 1").await, "OK");
    let id = console.session_id().await.expect("a session");

    let first = browser.client.window().await.expect("the first tab");
    let second = browser.client.new_window(true).await.expect("a new tab");
    browser
        .client
        .switch_to_window(second.handle.clone())
        .await
        .unwrap();
    browser.client.goto(&url).await.unwrap();
    let banner = console.wait_lockout().await;
    assert!(banner.contains("already open in as many tabs"), "{banner}");
    assert_eq!(console.session_id().await.as_deref(), Some(id.as_str()));

    // The first tab closes: this one connects by itself, to the same sandbox.
    browser.client.switch_to_window(first).await.unwrap();
    browser
        .client
        .close_window()
        .await
        .expect("close the first tab");
    browser
        .client
        .switch_to_window(second.handle)
        .await
        .unwrap();
    console.wait_connected().await;
    assert_eq!(console.run("GET kept").await, "\"1\"");
    let notices = console.notices().await;
    assert!(
        notices.iter().all(|(text, _)| !text.contains("expired")),
        "{notices:?}"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_round_trip_badge_says_what_it_measures_and_copy_says_copied() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);
    console.run("PING").await;
    let entries = console.entries().await;
    let title = entries[0].badge_title.clone().expect("a round-trip badge");
    assert!(
        title.starts_with("Round trip from the server to your Redis (network + Redis)"),
        "{title}"
    );
    console.copy().await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-copy]').textContent === 'Copied'",
            "Copy to say Copied",
        )
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-testid=console-copy]').textContent === 'Copy'",
            "Copy to go back",
        )
        .await;
    assert_eq!(console.copy_label().await, "Copy");
    browser.close().await;
}

#[tokio::test]
async fn a_refused_session_shows_the_servers_reason_and_a_countdown() {
    let app = TestApp::with_limits(|limits| limits.sandboxes_per_ip = 1).await;
    // This machine's one sandbox is already taken.
    app.new_session().await;
    let browser = Browser::visit(&format!("{}/console", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);
    let banner = console.wait_lockout().await;
    assert!(banner.contains("Trying again in"), "{banner}");
    assert!(!banner.contains("Reconnecting"), "{banner}");
    assert_eq!(console.status().await, "No sandbox");
    // The countdown counts.
    let first = banner.clone();
    browser
        .wait_until(
            &format!(
                "document.querySelector('[data-testid=console-lockout]')?.textContent !== {}",
                serde_json::to_string(&first).unwrap()
            ),
            "the countdown to move",
        )
        .await;
    browser.close().await;
}
