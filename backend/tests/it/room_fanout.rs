//! A full room's fan-out, for correctness (the timings are
//! `redis-tutor-room-bench`'s): with 50 learners on their room sockets,
//! every follow-me push, every demo console line and every scenario frame
//! reaches every one of them, in order, with none lost.

use protocol::{
    Algorithm, ChartFrame, Place, RateLimitSim, RoomClientMessage as C, RoomServerMessage as S,
    Scenario,
};

use crate::rooms::{join, new_learner, new_room};
use crate::support::room_ws::RoomClient;
use crate::support::{default_config, TestApp, INSTRUCTOR_TOKEN};

const LEARNERS: usize = 50;

/// A room of `LEARNERS` learners, each with a room socket open, and the
/// instructor's.
struct FullRoom {
    app: TestApp,
    instructor: RoomClient,
    pages: Vec<RoomClient>,
}

async fn full_room() -> FullRoom {
    let mut config = default_config();
    // One test address plays the whole class.
    config.joins_per_min_per_ip = 2 * LEARNERS as u32;
    let app = TestApp::with_config(config).await;
    let room = new_room(&app).await;
    let mut pages = Vec::with_capacity(LEARNERS);
    for i in 0..LEARNERS {
        let token = new_learner(&app).await;
        let joined = join(&app, &token, &room.code, &format!("Learner {i:02}")).await;
        assert_eq!(joined.status(), 200, "learner {i} joins");
        pages.push(app.room_member(&room.room, &token).await);
    }
    let instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    FullRoom {
        app,
        instructor,
        pages,
    }
}

/// The first lesson with at least two steps, as two places.
fn two_places(app: &TestApp) -> [Place; 2] {
    let lesson = app
        .state
        .course
        .lessons
        .iter()
        .find(|l| l.blocks.steps.len() >= 2)
        .expect("a lesson with two steps");
    let at = |i: usize| Place {
        lesson: lesson.meta.slug.clone(),
        step: Some(lesson.blocks.steps[i].clone()),
    };
    [at(0), at(1)]
}

#[tokio::test]
async fn every_learner_receives_every_goto_in_order() {
    let FullRoom {
        app,
        mut instructor,
        mut pages,
    } = full_room().await;
    let [first, second] = two_places(&app);
    let sent: Vec<Place> = (0..5)
        .map(|k| if k % 2 == 0 { &first } else { &second }.clone())
        .collect();
    for place in &sent {
        let place = place.clone();
        instructor.ack(|seq| C::Goto { seq, place }).await;
    }
    for (i, page) in pages.iter_mut().enumerate() {
        let got = page
            .collect(sent.len(), |m| match m {
                S::Goto { place } => Some(place),
                _ => None,
            })
            .await;
        assert_eq!(got, sent, "learner {i}");
    }
}

#[tokio::test]
async fn every_learner_receives_every_demo_console_line() {
    let FullRoom {
        app,
        mut instructor,
        mut pages,
    } = full_room().await;
    let demo = match instructor.request(|seq| C::Demo { seq }).await {
        S::Demo { session, .. } => session,
        other => panic!("expected the demo session, got {other:?}"),
    };
    let lines: Vec<String> = (0..5).map(|i| format!("SET fanout:{i} {i}")).collect();
    for line in &lines {
        assert_eq!(app.exec(&demo, line).await.text, "OK");
    }
    for (i, page) in pages.iter_mut().enumerate() {
        let got = page
            .collect(lines.len(), |m| match m {
                S::Console { line } => Some((line.line, line.text)),
                _ => None,
            })
            .await;
        let want: Vec<(String, String)> =
            lines.iter().map(|l| (l.clone(), "OK".to_owned())).collect();
        assert_eq!(got, want, "learner {i}");
    }
}

#[tokio::test]
async fn every_learner_receives_exactly_the_instructors_frames() {
    let FullRoom {
        app: _app,
        mut instructor,
        mut pages,
    } = full_room().await;
    let sim = RateLimitSim {
        rate: 100.0,
        users: 5,
        limit: 10,
        window_ms: 500,
        algorithms: vec![Algorithm::FixedWindow, Algorithm::TokenBucket],
        duration_ms: 1_500,
        bursty: false,
        custom_script: None,
    };
    instructor
        .ack(|seq| C::Scenario {
            seq,
            scenario: Scenario::RateLimit { sim },
        })
        .await;
    let reference = instructor.frames_until_done().await;
    assert!(
        reference.len() > 3 && matches!(reference.last(), Some(ChartFrame::Done { .. })),
        "the scenario sent frames, then Done: {reference:?}"
    );
    for (i, page) in pages.iter_mut().enumerate() {
        assert_eq!(
            page.frames_until_done().await,
            reference,
            "learner {i} saw the instructor's frames, none lost"
        );
    }
}
