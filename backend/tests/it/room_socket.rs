//! The live room socket (`GET /ws/room`): hello decides who speaks, every
//! instructor message is refused to learners, and what the instructor does
//! (follow-me, the demo console, scenarios, reveal, pace, reset, autoplay,
//! watching a learner) reaches the room's pages.

use protocol::{
    Algorithm, ErrorCode, Place, RateLimitSim, RoomClientMessage as C, RoomRole,
    RoomServerMessage as S, Scenario,
};
use reqwest::Method;

use crate::rooms::{board, new_learner, new_room};
use crate::rooms_live::{member, session_for};
use crate::support::{TestApp, INSTRUCTOR_TOKEN};

/// The error code of a refusal, or a panic.
fn code(message: S) -> ErrorCode {
    match message {
        S::Error { error, .. } => error.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A console session for a member's learner token.
async fn console(app: &TestApp, token: &str) -> String {
    let response = session_for(app, token).await;
    assert_eq!(response.status(), 201);
    response
        .json::<protocol::SessionCreated>()
        .await
        .unwrap()
        .session
}

fn first_step(app: &TestApp, lesson: &str) -> Place {
    Place {
        lesson: lesson.into(),
        step: app
            .state
            .course
            .find(lesson)
            .unwrap()
            .blocks
            .steps
            .first()
            .cloned(),
    }
}

#[tokio::test]
async fn hello_decides_who_speaks_and_strangers_are_refused() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (token, _) = member(&app, &room, "Ada").await;

    let (_, welcome) = app.room_socket(&room.room, &token).await;
    match welcome {
        S::Welcome {
            role, following, ..
        } => {
            assert_eq!(role, RoomRole::Learner);
            assert!(following, "learners start out following");
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    // A raised hand is part of the welcome, so a reloaded page shows it.
    let raised = app
        .http
        .post(format!("{}/api/rooms/{}/hand", app.base, room.room))
        .bearer_auth(&token)
        .json(&serde_json::json!({"raised": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(raised.status(), 204);
    let (_, welcome) = app.room_socket(&room.room, &token).await;
    assert!(
        matches!(
            welcome,
            S::Welcome {
                hand_raised: true,
                ..
            }
        ),
        "{welcome:?}"
    );
    let (_, welcome) = app.room_socket(&room.room, INSTRUCTOR_TOKEN).await;
    assert!(matches!(
        welcome,
        S::Welcome {
            role: RoomRole::Instructor,
            ..
        }
    ));

    let (mut unknown, refused) = app.room_socket(&room.room, "not-a-token").await;
    assert_eq!(code(refused), ErrorCode::Unauthorized);
    assert!(unknown.try_next().await.is_none(), "the socket closes");

    let outsider = new_learner(&app).await;
    let (_, refused) = app.room_socket(&room.room, &outsider).await;
    assert_eq!(code(refused), ErrorCode::Forbidden);

    // The first message must be hello.
    let mut rude = crate::support::room_ws::RoomClient::open(&app.room_ws_url(&room.room)).await;
    rude.send_text(r#"{"type":"ping","seq":1}"#).await;
    assert_eq!(code(rude.next().await), ErrorCode::ProtocolViolation);

    // No such room: the upgrade itself is refused.
    let response = app.get(&format!("/ws/room?room={}", "0".repeat(32))).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_learner_can_use_none_of_the_instructors_messages() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (token, id) = member(&app, &room, "Mallory").await;
    let mut learner = app.room_member(&room.room, &token).await;
    let place = Place {
        lesson: "sets".into(),
        step: None,
    };
    let steer: Vec<Box<dyn FnOnce(u64) -> C>> = vec![
        Box::new(|seq| C::Demo { seq }),
        Box::new(|seq| C::Goto {
            seq,
            place: place.clone(),
        }),
        Box::new(|seq| C::ResetAll {
            seq,
            lesson: "sets".into(),
        }),
        Box::new(|seq| C::Reveal {
            seq,
            lesson: "sets".into(),
            task: 0,
        }),
        Box::new(|seq| C::Pace { seq, place: None }),
        Box::new(|seq| C::Scenario {
            seq,
            scenario: Scenario::Stop,
        }),
        Box::new(|seq| C::Autoplay {
            seq,
            lesson: "sets".into(),
            pace_ms: 1_000,
        }),
        Box::new(|seq| C::AutoplayPause { seq, paused: true }),
        Box::new(|seq| C::AutoplayStop { seq }),
        Box::new(move |seq| C::Watch {
            seq,
            learner: Some(id),
        }),
    ];
    for make in steer {
        let answer = learner.request(make).await;
        assert_eq!(code(answer), ErrorCode::Forbidden);
    }
    // What a learner may do still works.
    learner.ack(|seq| C::Ping { seq }).await;
    learner.ack(|seq| C::Follow { seq, on: false }).await;
}

#[tokio::test]
async fn follow_me_moves_followers_and_the_board_shows_who_follows() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, ada_id) = member(&app, &room, "Ada").await;
    let (bob, bob_id) = member(&app, &room, "Bob").await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let mut ada_page = app.room_member(&room.room, &ada).await;
    let mut bob_page = app.room_member(&room.room, &bob).await;
    bob_page.ack(|seq| C::Follow { seq, on: false }).await;
    // The instructor is told who is connected and follows.
    instructor
        .wait_for(|m| {
            matches!(
                m,
                S::Presence {
                    connected: 2,
                    following: 1
                }
            )
            .then_some(())
        })
        .await;

    let place = first_step(&app, "sets");
    let to = place.clone();
    instructor.ack(|seq| C::Goto { seq, place: to }).await;
    for page in [&mut ada_page, &mut bob_page] {
        let got = page
            .wait_for(|m| match m {
                S::Goto { place } => Some(place),
                _ => None,
            })
            .await;
        assert_eq!(got, place);
    }

    let rows = board(&app, &room.room).await.learners;
    let row = |id: &str| rows.iter().find(|r| r.learner == id).unwrap().clone();
    assert!(row(&ada_id).online && row(&ada_id).following);
    assert!(row(&bob_id).online && !row(&bob_id).following);

    // A page opened later starts where the instructor is.
    let (_, welcome) = app.room_socket(&room.room, &ada).await;
    assert!(matches!(welcome, S::Welcome { position: Some(p), .. } if p == place));

    // Only real places.
    let answer = instructor
        .request(|seq| C::Goto {
            seq,
            place: Place {
                lesson: "sets".into(),
                step: Some("no-such-step".into()),
            },
        })
        .await;
    assert_eq!(code(answer), ErrorCode::NotFound);
    let answer = instructor
        .request(|seq| C::Goto {
            seq,
            place: Place {
                lesson: "no-such-lesson".into(),
                step: None,
            },
        })
        .await;
    assert_eq!(code(answer), ErrorCode::NotFound);

    // Gone pages are gone from the board.
    drop(ada_page);
    drop(bob_page);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rows = board(&app, &room.room).await.learners;
    assert!(rows.iter().all(|r| !r.online));
}

#[tokio::test]
async fn the_demo_console_reaches_every_page_as_it_happens() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let mut ada_page = app.room_member(&room.room, &ada).await;
    let demo = match instructor.request(|seq| C::Demo { seq }).await {
        S::Demo { session, .. } => session,
        other => panic!("expected the demo session, got {other:?}"),
    };
    // Asking again gives the same sandbox.
    let again = instructor.request(|seq| C::Demo { seq }).await;
    assert!(matches!(again, S::Demo { session, .. } if session == demo));

    assert_eq!(app.exec(&demo, "SET greeting hello").await.text, "OK");
    app.exec_raw(&demo, "NOSUCHCOMMAND").await;
    // A page that opens late is shown the latest lines.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, welcome) = app.room_socket(&room.room, &ada).await;
    match welcome {
        S::Welcome { console, .. } => {
            let lines: Vec<&str> = console.iter().map(|l| l.line.as_str()).collect();
            assert_eq!(lines, ["SET greeting hello", "NOSUCHCOMMAND"]);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    for page in [&mut ada_page, &mut instructor] {
        let ok = page
            .wait_for(|m| match m {
                S::Console { line } => Some(line),
                _ => None,
            })
            .await;
        assert_eq!(
            (ok.line.as_str(), ok.text.as_str(), ok.is_error),
            ("SET greeting hello", "OK", false)
        );
        let bad = page
            .wait_for(|m| match m {
                S::Console { line } => Some(line),
                _ => None,
            })
            .await;
        assert_eq!(bad.line, "NOSUCHCOMMAND");
        assert!(bad.is_error, "{bad:?}");
    }
}

#[tokio::test]
async fn a_scenario_runs_once_and_every_page_gets_the_same_frames() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let (bob, _) = member(&app, &room, "Bob").await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let mut pages = vec![
        app.room_member(&room.room, &ada).await,
        app.room_member(&room.room, &bob).await,
    ];
    let sim = RateLimitSim {
        rate: 40.0,
        users: 2,
        limit: 5,
        window_ms: 1_000,
        algorithms: vec![Algorithm::FixedWindow, Algorithm::TokenBucket],
        duration_ms: 1_500,
        bursty: true,
        custom_script: None,
    };
    instructor
        .ack(|seq| C::Scenario {
            seq,
            scenario: Scenario::RateLimit { sim },
        })
        .await;
    let mut seen = Vec::new();
    for page in &mut pages {
        seen.push(page.frames_until_done().await);
    }
    assert!(seen[0].len() > 3, "frames flowed: {}", seen[0].len());
    assert_eq!(
        seen[0], seen[1],
        "both pages saw the same frames, none lost"
    );
    // Only one simulator ran: on the demo sandbox, none on the learners'.
    assert_eq!(app.state.sessions.len(), 1, "the demo sandbox alone");
}

#[tokio::test]
async fn reveal_and_pace_reach_the_pages_and_are_checked() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let mut page = app.room_member(&room.room, &ada).await;
    let tasks = app.state.course.find("sets").unwrap().blocks.tasks.len();
    assert!(tasks > 0, "the sets lesson has a task");

    instructor
        .ack(|seq| C::Reveal {
            seq,
            lesson: "sets".into(),
            task: 0,
        })
        .await;
    let revealed = page
        .wait_for(|m| match m {
            S::Reveal { lesson, task } => Some((lesson, task)),
            _ => None,
        })
        .await;
    assert_eq!(revealed, ("sets".to_owned(), 0));
    let answer = instructor
        .request(|seq| C::Reveal {
            seq,
            lesson: "sets".into(),
            task: tasks,
        })
        .await;
    assert_eq!(code(answer), ErrorCode::NotFound);

    let lock = first_step(&app, "sets");
    let to = lock.clone();
    instructor
        .ack(|seq| C::Pace {
            seq,
            place: Some(to),
        })
        .await;
    let paced = page
        .wait_for(|m| match m {
            S::Pace { place } => Some(place),
            _ => None,
        })
        .await;
    assert_eq!(paced, Some(lock.clone()));
    let (_, welcome) = app.room_socket(&room.room, &ada).await;
    assert!(matches!(welcome, S::Welcome { pace: Some(p), .. } if p == lock));

    // The lock holds on the server too: a block past it is refused, one
    // at it runs.
    let blocks = &app.state.course.find("sets").unwrap().blocks;
    let index_at = |step: &String| {
        blocks
            .runnable
            .iter()
            .position(|b| b.step.as_ref() == Some(step))
            .unwrap()
    };
    let (open, locked) = (index_at(&blocks.steps[0]), index_at(&blocks.steps[1]));
    let mut ada_console = app.ws(&console(&app, &ada).await).await;
    let seq = ada_console.seq();
    let refused = ada_console
        .request(protocol::ClientMessage::RunBlock {
            seq,
            lesson: "sets".into(),
            block: locked,
        })
        .await;
    match refused {
        protocol::ServerMessage::Error { error, .. } => {
            assert_eq!(error.code, ErrorCode::Forbidden);
            assert!(error.message.contains("paused"), "{}", error.message);
        }
        other => panic!("expected the pace lock, got {other:?}"),
    }
    let seq = ada_console.seq();
    let ran = ada_console
        .request(protocol::ClientMessage::RunBlock {
            seq,
            lesson: "sets".into(),
            block: open,
        })
        .await;
    assert!(
        matches!(ran, protocol::ServerMessage::BlockRan { .. }),
        "{ran:?}"
    );
    instructor.ack(|seq| C::Pace { seq, place: None }).await;
    let unlocked = page
        .wait_for(|m| match m {
            S::Pace { place } => Some(place),
            _ => None,
        })
        .await;
    assert_eq!(unlocked, None);
}

#[tokio::test]
async fn reset_all_gives_every_member_the_lessons_starting_data() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let (bob, _) = member(&app, &room, "Bob").await;
    let consoles = [console(&app, &ada).await, console(&app, &bob).await];
    for session in &consoles {
        app.exec(session, "SET scratch 1").await;
    }
    let mut ada_console = app.ws(&consoles[0]).await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let answer = instructor
        .request(|seq| C::ResetAll {
            seq,
            lesson: "latency".into(),
        })
        .await;
    assert!(
        matches!(
            answer,
            S::Done {
                count: 2,
                failed: 0,
                ..
            }
        ),
        "{answer:?}"
    );
    for session in &consoles {
        assert_eq!(
            app.exec(session, "EXISTS scratch").await.text,
            "(integer) 0"
        );
        assert_eq!(
            app.exec(session, "HGET lat:user:12345:features age")
                .await
                .text,
            "\"28\""
        );
    }
    // The learner's own console was told why its data changed.
    loop {
        if let protocol::ServerMessage::Notice { notice } = ada_console.next().await {
            assert!(notice.message.contains("instructor"), "{}", notice.message);
            break;
        }
    }
}

#[tokio::test]
async fn the_instructor_watches_one_learners_console_and_the_board_counts_errors() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, ada_id) = member(&app, &room, "Ada").await;
    let session = console(&app, &ada).await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let watched = ada_id.clone();
    instructor
        .ack(|seq| C::Watch {
            seq,
            learner: Some(watched),
        })
        .await;
    app.exec(&session, "SET k v").await;
    let (who, line) = instructor
        .wait_for(|m| match m {
            S::Watched { learner, line } => Some((learner, line)),
            _ => None,
        })
        .await;
    assert_eq!(
        (who.as_str(), line.line.as_str(), line.text.as_str()),
        (ada_id.as_str(), "SET k v", "OK")
    );

    // A learner of another room, or nobody, cannot be watched.
    let other = new_learner(&app).await;
    let answer = instructor
        .request(|seq| C::Watch {
            seq,
            learner: Some(other),
        })
        .await;
    assert_eq!(code(answer), ErrorCode::NotFound);

    // Five errors in a row: counted, and stuck (the default streak).
    for _ in 0..5 {
        app.exec_raw(&session, "INCR k").await;
    }
    let row = board(&app, &room.room)
        .await
        .learners
        .into_iter()
        .find(|r| r.learner == ada_id)
        .unwrap();
    assert_eq!(row.errors_5m, 5);
    assert!(row.stuck, "{row:?}");
    app.exec(&session, "SET k 1").await;
    let row = board(&app, &room.room).await.learners.remove(0);
    assert_eq!(row.errors_5m, 5, "the window still holds them");
    assert!(!row.stuck, "a success ends the streak: {row:?}");
}

#[tokio::test]
async fn autoplay_runs_a_lessons_blocks_in_the_demo_sandbox_and_can_be_paused() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let mut instructor = app.room_member(&room.room, INSTRUCTOR_TOKEN).await;
    let mut page = app.room_member(&room.room, &ada).await;
    let answer = instructor
        .request(|seq| C::Autoplay {
            seq,
            lesson: "sets".into(),
            pace_ms: 10,
        })
        .await;
    assert_eq!(code(answer), ErrorCode::InvalidRequest, "too fast a pace");
    instructor
        .ack(|seq| C::Autoplay {
            seq,
            lesson: "sets".into(),
            pace_ms: 500,
        })
        .await;
    // The learner's page follows the blocks' steps and sees their lines.
    let goto = page
        .wait_for(|m| match m {
            S::Goto { place } if place.step.is_some() => Some(place),
            _ => None,
        })
        .await;
    assert_eq!(goto.lesson, "sets");
    let line = page
        .wait_for(|m| match m {
            S::Console { line } => Some(line),
            _ => None,
        })
        .await;
    assert!(!line.line.is_empty());
    instructor
        .ack(|seq| C::AutoplayPause { seq, paused: true })
        .await;
    let paused = page
        .wait_for(|m| match m {
            S::Autoplay { state } if state.paused => Some(state),
            _ => None,
        })
        .await;
    assert!(!paused.finished);
    instructor
        .ack(|seq| C::AutoplayPause { seq, paused: false })
        .await;
    let finished = page
        .wait_for(|m| match m {
            S::Autoplay { state } if state.finished => Some(state),
            _ => None,
        })
        .await;
    assert_eq!(
        finished.blocks,
        app.state.course.find("sets").unwrap().blocks.runnable.len()
    );
}

#[tokio::test]
async fn ending_the_room_closes_its_pages_and_the_qr_and_exports_are_there_before() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada, ada_id) = member(&app, &room, "Ada").await;

    let mine: protocol::MyRoom = app.get_json_as(&ada, "/api/rooms/mine").await;
    assert_eq!(
        (mine.room.as_str(), mine.name.as_str()),
        (room.room.as_str(), "Tuesday class")
    );
    let stranger = new_learner(&app).await;
    let response = app
        .http
        .get(format!("{}/api/rooms/mine", app.base))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let info: protocol::RoomInfo = app
        .get_json_as(INSTRUCTOR_TOKEN, &format!("/api/rooms/{}", room.room))
        .await;
    assert_eq!(
        (info.code.as_str(), info.learners, info.locked),
        (room.code.as_str(), 1, false)
    );
    assert_eq!(info.join_url, room.join_url);
    let as_learner = app
        .http
        .get(format!("{}/api/rooms/{}", app.base, room.room))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(as_learner.status(), 403);

    let qr = app.get(&format!("/api/rooms/{}/qr.svg", room.room)).await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    let export: protocol::ClassExport = app
        .get_json_as(
            INSTRUCTOR_TOKEN,
            &format!("/api/rooms/{}/export.json", room.room),
        )
        .await;
    assert_eq!(export.learners.len(), 1);
    assert_eq!(export.learners[0].learner, ada_id);
    let as_learner = app
        .http
        .get(format!("{}/api/rooms/{}/export.json", app.base, room.room))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(as_learner.status(), 403);

    // A removed learner's page closes, saying why.
    let (bob, bob_id) = member(&app, &room, "Bob").await;
    let mut bob_page = app.room_member(&room.room, &bob).await;
    let remove = app.as_instructor(
        Method::DELETE,
        &format!("/api/rooms/{}/learners/{bob_id}", room.room),
    );
    assert_eq!(remove.send().await.unwrap().status(), 204);
    let refused = bob_page
        .wait_for(|m| matches!(m, S::Error { .. }).then_some(m))
        .await;
    assert_eq!(code(refused), ErrorCode::Forbidden);
    assert!(
        bob_page.try_next().await.is_none(),
        "the removed page closes"
    );

    let mut page = app.room_member(&room.room, &ada).await;
    let end = app.as_instructor(Method::POST, &format!("/api/rooms/{}/end", room.room));
    assert_eq!(end.send().await.unwrap().status(), 204);
    page.wait_for(|m| matches!(m, S::Ended).then_some(())).await;
    assert!(page.try_next().await.is_none(), "the socket closes");
    let response = app.get(&format!("/ws/room?room={}", room.room)).await;
    assert_eq!(response.status(), 404);
}

/// The room socket's heartbeat: a page that stopped answering pings is
/// closed (and leaves the room's presence), one that answers stays.
#[tokio::test]
async fn a_room_page_that_stopped_answering_pings_is_closed() {
    let app = TestApp::with_limits(|limits| limits.ws_ping_every_ms = 100).await;
    let room = new_room(&app).await;
    let (token, _) = member(&app, &room, "Ada").await;
    let mut alive = app.room_member(&room.room, &token).await;
    let mut silent = app.room_member(&room.room, &token).await;
    assert!(
        alive.stays_open(std::time::Duration::from_secs(1)).await,
        "a page that answers pings keeps its socket"
    );
    silent.expect_closed().await;
    // The live page still gets answers.
    alive.ack(|seq| C::Ping { seq }).await;
}

/// Room sockets that have not said hello speak for nobody, so one address
/// may keep only a room's capacity of them waiting; the next is refused
/// with a sentence, and a socket that says hello gives its place back.
#[tokio::test]
async fn one_address_keeps_only_so_many_room_sockets_waiting_for_hello() {
    const GREETING_PER_IP: usize = 5;
    let mut config = crate::support::default_config();
    config.room_capacity = GREETING_PER_IP as u32;
    let app = TestApp::with_config(config).await;
    let room = new_room(&app).await;
    let url = app.room_ws_url(&room.room);
    let mut waiting = Vec::new();
    for _ in 0..GREETING_PER_IP {
        waiting.push(crate::support::room_ws::RoomClient::open(&url).await);
    }
    let ip = "127.0.0.1".parse().unwrap();
    assert_eq!(app.state.classrooms.greetings.waiting(ip), GREETING_PER_IP);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(
                body.contains("too_many_sockets") && body.contains("hello"),
                "{body}"
            );
        }
        other => panic!("the next waiting socket is refused: {other:?}"),
    }
    // One says hello (a learner of the room): its place comes back.
    let (token, _) = member(&app, &room, "Ada").await;
    let mut first = waiting.remove(0);
    first.send(&C::Hello { token }).await;
    assert!(matches!(first.next().await, S::Welcome { .. }));
    assert_eq!(
        app.state.classrooms.greetings.waiting(ip),
        GREETING_PER_IP - 1
    );
    let _next = crate::support::room_ws::RoomClient::open(&url).await;
}
