//! A class in session, in four real browsers: the instructor creates a
//! room, three learners join it with its link, follow the instructor (one
//! breaks away and comes back), see the demo console and the scenario's
//! chart live, raise a hand; the instructor sees it all on the board, the
//! results download, the projector shows the room, and a removed learner
//! is told so.

use std::time::{Duration, Instant};

use protocol::LessonPage;
use reqwest::Method;

use crate::support::browser::Browser;
use crate::support::pages::{ChartPanel, ClassPanel, InstructorScreen, ProjectorScreen};
use crate::support::{TestApp, INSTRUCTOR_TOKEN};

const ROOM_NAME: &str = "Redis for AI, Tuesday";
const NAMES: [&str; 3] = ["Ada", "Grace", "Linus"];
/// The lesson the instructor takes the class to: it has a live chart.
const LESSON: &str = "rate-limiting";
const DEMO_LINE: &str = "SET greeting \"hello class\"";

async fn lesson(app: &TestApp, slug: &str) -> LessonPage {
    app.get(&format!("/api/lessons/{slug}"))
        .await
        .json()
        .await
        .expect("the lesson's JSON")
}

#[tokio::test]
async fn an_instructor_teaches_three_learners_in_four_browsers() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    assert!(
        app.state.dist_dir.join("index.html").is_file(),
        "dist/ is not built: run `make test` (it runs `trunk build --release` first)"
    );
    let page = lesson(&app, LESSON).await;
    // A step far down the lesson, so following it means scrolling.
    let step = page
        .steps
        .iter()
        .find(|s| s.contains("boundary"))
        .expect("the rate-limiting lesson has its boundary step")
        .clone();
    let before = page.prev.clone().expect("a lesson before rate-limiting");

    let (teacher, ada, grace, linus) = tokio::join!(
        Browser::launch(),
        Browser::launch(),
        Browser::launch(),
        Browser::launch()
    );

    // 1. The room, and how to join it.
    let instructor = InstructorScreen::open(&teacher, &app.base, INSTRUCTOR_TOKEN).await;
    let (room, shown) = instructor.create_room(ROOM_NAME).await;
    assert_eq!(shown.code.len(), 6, "{shown:?}");
    assert_eq!(shown.join_url, format!("{}/join#{}", app.base, shown.code));

    // 2. Three learners join with the link and land beside a lesson.
    let learners = [
        ClassPanel::new(&ada),
        ClassPanel::new(&grace),
        ClassPanel::new(&linus),
    ];
    tokio::join!(
        learners[0].join(&shown.join_url, &shown.code, NAMES[0]),
        learners[1].join(&shown.join_url, &shown.code, NAMES[1]),
        learners[2].join(&shown.join_url, &shown.code, NAMES[2]),
    );
    for learner in &learners {
        assert_eq!(learner.room_name().await, ROOM_NAME);
        assert!(learner.path().await.starts_with("/lesson/"));
        assert!(learner.following().await, "learners start following");
    }

    // 3. Follow-me: the board, the push, one learner away and back.
    instructor.wait_board(&NAMES).await;
    for name in NAMES {
        instructor
            .wait_row(
                name,
                "r.online && r.following",
                &format!("{name} online, following"),
            )
            .await;
    }
    let said = instructor.send_class_to(LESSON, &step).await;
    assert_eq!(said, format!("Sent the class to {LESSON} › {step}"));
    assert!(
        instructor
            .position()
            .await
            .contains(&format!("{LESSON} › {step}")),
        "{}",
        instructor.position().await
    );
    for learner in &learners {
        learner.wait_lesson(LESSON).await;
        learner.wait_step_in_view(&step).await;
    }
    let away = &learners[1];
    away.toggle_follow().await;
    assert!(away.has_return_button().await);
    away.go_to_previous_lesson().await;
    away.wait_lesson(&before).await;
    instructor
        .wait_row(
            NAMES[1],
            "r.online && !r.following",
            "Grace on her own on the board",
        )
        .await;
    let rows = instructor.rows().await;
    assert!(
        rows.iter()
            .filter(|r| r.name != NAMES[1])
            .all(|r| r.following),
        "{rows:?}"
    );
    away.return_to_instructor().await;
    away.wait_lesson(LESSON).await;
    away.wait_step_in_view(&step).await;
    assert!(away.following().await);
    assert!(!away.has_return_button().await);
    instructor
        .wait_row(
            NAMES[1],
            "r.following",
            "Grace following again on the board",
        )
        .await;

    // 4. The demo console reaches every learner.
    instructor.run_demo(DEMO_LINE, "OK").await;
    for learner in &learners {
        learner.wait_console_line(DEMO_LINE, "OK").await;
    }
    ada.screenshot("following-learner.png").await;

    // 5. The rate-limit scenario draws on every learner's chart.
    let charts = [
        ChartPanel::open(&ada, "rate-chart").await,
        ChartPanel::open(&grace, "rate-chart").await,
        ChartPanel::open(&linus, "rate-chart").await,
    ];
    let mut pictures = Vec::new();
    for chart in &charts {
        pictures.push(chart.picture().await);
    }
    instructor.start_rate_limit().await;
    for (chart, picture) in charts.iter().zip(&pictures) {
        chart.wait_status("scenario is running").await;
        chart
            .wait_redrawn(
                picture,
                "the learner's chart to draw the instructor's scenario",
            )
            .await;
        chart
            .wait_exists("rate-counter-FixedWindow", "the fixed window's counts")
            .await;
    }

    // 6. The projector, in the tab the instructor's link opens: the code
    //    and link read from the server, the class's place, the demo
    //    console's latest lines and the running scenario's chart.
    let projector = ProjectorScreen::open_from(&instructor).await;
    assert_eq!(projector.join_card().await, shown);
    projector.wait_console_line(DEMO_LINE, "OK").await;
    projector.wait_place(&step).await;
    assert!(!projector.has_status().await, "the projector is connected");
    projector.wait_rate_chart().await;
    teacher.screenshot("projector.png").await;
    projector.close().await;

    // 7. A raised hand, on the board and in the queue; still raised after
    //    a reload, with the demo console's latest lines shown again.
    let hand = &learners[2];
    hand.set_hand(true).await;
    instructor
        .wait_row(NAMES[2], "r.hand_raised", "Linus's hand on the board")
        .await;
    instructor.wait_hands().await;
    let linus_id = instructor.learner_id(NAMES[2]).await;
    assert_eq!(
        instructor.hands().await,
        vec![(linus_id.clone(), NAMES[2].to_owned())]
    );
    let rows = instructor.rows().await;
    assert!(
        rows.iter().filter(|r| r.hand_raised).count() == 1,
        "only Linus's hand: {rows:?}"
    );
    instructor.show_board().await;
    teacher.screenshot("class-board.png").await;
    hand.reload().await;
    hand.wait_hand(true).await;
    hand.wait_console_line(DEMO_LINE, "OK").await;

    // 8. The results, one row per learner.
    let csv = app
        .as_instructor(Method::GET, &format!("/api/rooms/{room}/export.csv"))
        .send()
        .await
        .expect("the export answers");
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("name,steps_done,tasks_passed,"),
        "{csv}"
    );
    let mut names: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.split(',').next().unwrap_or_default())
        .collect();
    names.sort_unstable();
    assert_eq!(names, NAMES, "{csv}");

    // 9. A learner the instructor removes is told so, and stays out.
    let removed = app
        .as_instructor(
            Method::DELETE,
            &format!("/api/rooms/{room}/learners/{linus_id}"),
        )
        .send()
        .await
        .expect("the removal answers");
    assert!(removed.status().is_success(), "{}", removed.status());
    let sentence = "The instructor removed you from this class.";
    hand.wait_status(sentence).await;
    assert_eq!(hand.actions().await, Vec::<String>::new());
    // Past the first retry's wait: a retry would say "not in this class".
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(hand.status().await, sentence);

    // 10. The instructor's app is its own; its header leads back to the
    // course, in the learner's app.
    let lessons = instructor.go_to_course().await;
    assert_eq!(lessons, app.state.course.lessons.len(), "the whole outline");

    let elapsed = started.elapsed();
    eprintln!("four browsers, one class: {elapsed:?}");
    for browser in [teacher, ada, grace, linus] {
        browser.close().await;
    }
}
