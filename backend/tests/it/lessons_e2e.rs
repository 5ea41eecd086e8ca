//! Lessons end to end in headless Chromium: Run a block (on the server, as
//! the lesson says), the lesson's notice when it opens, previous/next,
//! progress that survives a reload, a Try-it task, deep links, and a phone.

use protocol::{LessonPage as Lesson, LessonSummary};

use crate::support::browser::Browser;
use crate::support::pages::{ChartPanel, ConsolePage, LessonPage, Outline, ShownEntry};
use crate::support::{default_config, fixture, TestApp};

/// The app on the two-lesson fixture course (a task, steps, a next lesson).
pub(crate) async fn fixture_app() -> TestApp {
    let mut config = default_config();
    config.lessons_dir = fixture("tasks");
    let app = TestApp::with_config(config).await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "run `make test` to build dist/"
    );
    app
}

#[tokio::test]
async fn run_navigate_keep_progress_and_complete_a_task() {
    let app = fixture_app().await;
    let browser = Browser::open(
        &format!("{}/lesson/counters#one-command-no-race", app.base),
        1280,
        860,
    )
    .await;
    let console = ConsolePage::new(&browser);
    let lesson = LessonPage::new(&browser);

    // Run the first block: its replies appear in the console.
    lesson.run_block(0).await;
    console
        .wait_last_reply("(integer) 2", "the block's replies")
        .await;
    lesson.wait_status("in progress").await;

    // A task: Check fails first, then passes after the learner's command.
    lesson.check_task().await;
    lesson.wait_task_result(false).await;
    assert_eq!(
        lesson.solution_state().await,
        (false, "Show solution".to_owned(), "false".to_owned())
    );
    lesson.toggle_solution().await;
    assert_eq!(
        lesson.solution_state().await,
        (true, "Hide solution".to_owned(), "true".to_owned())
    );
    lesson.run_solution().await;
    console
        .wait_last_reply("(integer) 10", "the solution's reply")
        .await;
    lesson.check_task().await;
    lesson.wait_task_result(true).await;
    lesson.wait_status("completed").await;
    browser.screenshot("lesson-task.png").await;
    lesson.toggle_solution().await;
    assert_eq!(
        lesson.solution_state().await,
        (false, "Show solution".to_owned(), "false".to_owned())
    );

    // Next and previous.
    lesson.next().await;
    lesson.wait_title("Second").await;
    lesson.previous().await;
    lesson.wait_title("Counters").await;

    // Progress survives a reload and shows in the outline.
    browser.client.goto(&app.base).await.unwrap();
    let outline = Outline::new(&browser);
    outline
        .wait_progress("completed,visited", "progress in the outline")
        .await;
    browser.client.refresh().await.unwrap();
    outline
        .wait_progress("completed,visited", "progress after a reload")
        .await;
    browser.close().await;
}

/// What the lesson test compares: a reply's text, with a refusal's code
/// as the runner prints it.
fn runner_text(entry: &ShownEntry) -> String {
    match &entry.code {
        Some(code) => format!("{} ({code})", entry.reply),
        None => entry.reply.clone(),
    }
}

#[tokio::test]
async fn every_strict_block_of_the_course_runs_as_redis_cli_would() {
    let app = TestApp::spawn().await;
    let lessons: Vec<LessonSummary> = app.get("/api/lessons").await.json().await.unwrap();
    let mut pages = Vec::new();
    for summary in &lessons {
        let page: Lesson = app
            .get(&format!("/api/lessons/{}", summary.slug))
            .await
            .json()
            .await
            .unwrap();
        if page.blocks.iter().any(|b| b.strict) {
            pages.push(page);
        }
    }
    let strict_blocks: usize = pages
        .iter()
        .map(|p| p.blocks.iter().filter(|b| b.strict).count())
        .sum();
    assert_eq!(strict_blocks, 12, "the course's strict blocks");

    // The strict checkbox stays off: the block's own setting must decide.
    let first = &pages[0].summary.slug;
    let browser = Browser::open(&format!("{}/lesson/{first}", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);
    let lesson = LessonPage::new(&browser);
    let mut checked = 0;
    for page in &pages {
        let slug = &page.summary.slug;
        browser
            .client
            .goto(&format!("{}/lesson/{slug}", app.base))
            .await
            .unwrap();
        lesson.wait_title(&page.summary.title).await;
        console.wait_connected().await;
        for (index, block) in page.blocks.iter().enumerate().filter(|(_, b)| b.strict) {
            let before = console.entries().await.len();
            lesson.run_block(index).await;
            lesson.wait_run_result(index).await;
            let ran: Vec<ShownEntry> = console.entries().await.split_off(before);
            let where_ = format!("{slug} block {index}:\n{}", block.source);
            // One entry per physical line, as redis-cli sends them.
            let lines = protocol::paste::console_lines(&block.source, true);
            let shown: Vec<&str> = ran.iter().map(|e| e.line.as_str()).collect();
            assert_eq!(shown, lines, "{where_}");
            if let Some(expected) = &block.expect_error {
                let errors: Vec<String> =
                    ran.iter().filter(|e| e.is_error).map(runner_text).collect();
                assert!(!errors.is_empty(), "{where_}: no error");
                for error in &errors {
                    assert!(error.contains(expected.as_str()), "{where_}: {error}");
                }
            }
            if let Some(expected) = &block.output {
                let got: Vec<String> = ran.iter().map(runner_text).collect();
                assert_eq!(got.join("\n").trim_end(), expected.trim_end(), "{where_}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, strict_blocks);
    browser.close().await;
}

#[tokio::test]
async fn opening_a_lesson_loads_its_data_ends_a_transaction_and_says_so() {
    let app = fixture_app().await;
    let browser = Browser::open(&format!("{}/console", app.base), 1280, 860).await;
    let console = ConsolePage::new(&browser);
    assert_eq!(console.run("MULTI").await, "OK");
    console.wait_prompt("redis-tutor(TX)> ").await;

    // Leaving for a lesson: the server loads its data, ends the open
    // transaction, says so in an info notice, and the prompt follows.
    browser
        .client
        .goto(&format!("{}/lesson/counters", app.base))
        .await
        .unwrap();
    console.wait_connected().await;
    console.wait_prompt("redis-tutor> ").await;
    browser
        .wait_until(
            "document.querySelectorAll('.console-notice-info').length > 0",
            "the lesson's notice",
        )
        .await;
    let notices = console.notices().await;
    assert!(notices.iter().all(|(_, info)| *info), "{notices:?}");
    assert_eq!(console.run("GET count:seed").await, "\"5\"");

    // Start fresh says what it did, as information.
    let before = console.notices().await.len();
    LessonPage::new(&browser).start_fresh().await;
    browser
        .wait_until(
            &format!("document.querySelectorAll('[data-testid=console-notice]').length > {before}"),
            "the Start fresh notice",
        )
        .await;
    let (text, info) = console.notices().await.pop().unwrap();
    assert!(info, "Start fresh is not a warning: {text}");
    browser.close().await;
}

#[tokio::test]
async fn a_deep_link_lands_below_the_header_and_headings_have_permalinks() {
    let app = fixture_app().await;
    let browser = Browser::open(
        &format!("{}/lesson/counters#a-mistake", app.base),
        1280,
        700,
    )
    .await;
    let lesson = LessonPage::new(&browser);
    browser
        .wait_until(
            "document.querySelectorAll('.lesson-body .heading-anchor').length >= 2",
            "permalinks",
        )
        .await;
    assert_eq!(
        lesson.heading_anchors().await,
        ["#one-command-no-race", "#a-mistake"]
    );
    browser
        .wait_until(
            "Math.abs(document.getElementById('a-mistake').getBoundingClientRect().top - document.querySelector('.shell-header').getBoundingClientRect().height) < 40",
            "the step to scroll to just below the header",
        )
        .await;
    let (top, header) = lesson.heading_offset("a-mistake").await;
    assert!(
        top >= header,
        "the title is under the header: {top} < {header}"
    );
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_run_shows_the_reply_where_the_learner_looks() {
    let app = fixture_app().await;
    let browser = Browser::open(&format!("{}/lesson/counters", app.base), 390, 844).await;
    let lesson = LessonPage::new(&browser);
    let header: f64 = browser
        .js("return document.querySelector('.shell-header').getBoundingClientRect().height;")
        .await
        .as_f64()
        .unwrap();
    assert!(header <= 60.0, "the sticky header is {header} px tall");

    lesson.run_block(0).await;
    let result = lesson.wait_run_result(0).await;
    assert!(result.ends_with("(integer) 2"), "{result}");
    assert!(
        lesson.run_result_in_view(0).await,
        "the reply is not in view"
    );
    browser.screenshot("lesson-phone-run.png").await;

    // Charts are drawn at the size they are shown, at the pixel ratio.
    browser
        .client
        .goto(&format!("{}/console", app.base))
        .await
        .unwrap();
    ConsolePage::new(&browser).wait_connected().await;
    for canvas in [
        "latency-chart",
        "rate-chart",
        "anomaly-chart",
        "streams-chart",
        "memory-chart",
    ] {
        let panel = ChartPanel::open(&browser, canvas).await;
        assert!(panel.is_drawn_at_display_size().await, "{canvas}");
    }
    browser.close().await;
}
