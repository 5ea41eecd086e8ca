//! One class across three real nodes on one shared control store: the
//! instructor's page on node A, the learners' on nodes B and C. What the
//! instructor does on A (follow-me, the demo console, a scenario's frames,
//! "Reset all", removing a learner, ending the room) reaches the pages on
//! B and C through
//! Redis Pub/Sub; a page that opens on B is welcomed where the class is;
//! and the board and the instructor's presence on A count the learners on
//! B, arriving and leaving.

use std::time::Duration;

use protocol::{
    Algorithm, Board, BoardRow, ErrorCode, Place, RateLimitSim, RoomClientMessage as C,
    RoomCreated, RoomServerMessage as S, Scenario,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::nodes::Nodes;
use crate::support::room_ws::RoomClient;
use crate::support::server::ServerProcess;
use crate::support::ws::WsClient;

const TOKEN: &str = "rooms-nodes-instructor-token";

/// A room page on `server`: the socket and the server's first answer.
async fn page(server: &ServerProcess, room: &str, token: &str) -> (RoomClient, S) {
    let url = format!(
        "{}/ws/room?room={room}",
        server.base.replacen("http", "ws", 1)
    );
    let mut client = RoomClient::open(&url).await;
    client
        .send(&C::Hello {
            token: token.to_owned(),
        })
        .await;
    let first = client.next().await;
    (client, first)
}

/// A learner made and joined to `code` through `server`: (token, id).
async fn member(server: &ServerProcess, code: &str, name: &str) -> (String, String) {
    let learner = server.new_learner(json!({})).await;
    let joined = server
        .http
        .post(server.url("/api/rooms/join"))
        .bearer_auth(&learner.token)
        .json(&json!({"code": code, "name": name}))
        .send()
        .await
        .expect("join");
    assert_eq!(joined.status(), StatusCode::OK);
    (learner.token, learner.learner)
}

async fn board_row(server: &ServerProcess, room: &str, learner: &str) -> BoardRow {
    let response = server
        .http
        .get(server.url(&format!("/api/rooms/{room}/board")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET board");
    assert_eq!(response.status(), StatusCode::OK);
    let board: Board = response.json().await.expect("Board JSON");
    board
        .learners
        .into_iter()
        .find(|r| r.learner == learner)
        .expect("the learner's row")
}

/// Polls the board on `server` until `learner`'s row passes `check`.
async fn board_until(
    server: &ServerProcess,
    room: &str,
    learner: &str,
    check: impl Fn(&BoardRow) -> bool,
) -> BoardRow {
    let mut row = board_row(server, room, learner).await;
    for _ in 0..100 {
        if check(&row) {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        row = board_row(server, room, learner).await;
    }
    panic!("the board never showed what was expected: {row:?}");
}

/// Waits for the instructor's presence count to read `want`.
async fn presence(instructor: &mut RoomClient, want: (u32, u32)) {
    instructor
        .wait_for(|m| match m {
            S::Presence {
                connected,
                following,
            } => ((connected, following) == want).then_some(()),
            _ => None,
        })
        .await;
}

async fn goto_of(page: &mut RoomClient) -> Place {
    page.wait_for(|m| match m {
        S::Goto { place } => Some(place),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_class_spans_three_nodes() {
    let nodes = Nodes::start(
        3,
        &[("--instructor-token", TOKEN), ("--sandboxes-per-ip", "8")],
    )
    .await;
    let (a, b, c) = (&nodes.servers[0], &nodes.servers[1], &nodes.servers[2]);
    let created: RoomCreated = a
        .http
        .post(a.url("/api/rooms"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "Across nodes"}))
        .send()
        .await
        .expect("POST /api/rooms")
        .json()
        .await
        .expect("RoomCreated");
    let room = created.room.as_str();
    let lesson = b
        .lessons()
        .await
        .into_iter()
        .find(|p| p.steps.len() >= 2)
        .expect("a lesson with two steps");
    let place = |i: usize| Place {
        lesson: lesson.summary.slug.clone(),
        step: Some(lesson.steps[i].clone()),
    };

    let (mut instructor, welcome) = page(a, room, TOKEN).await;
    assert!(matches!(welcome, S::Welcome { .. }), "{welcome:?}");
    // Set on A before any page of the room is open on B: B reads it from
    // the store when its first page opens.
    let to = place(0);
    instructor.ack(|seq| C::Goto { seq, place: to }).await;

    let (ada, ada_id) = member(b, &created.code, "Ada").await;
    let (mut ada_page, welcome) = page(b, room, &ada).await;
    match welcome {
        S::Welcome {
            position,
            following,
            ..
        } => {
            assert_eq!(position, Some(place(0)));
            assert!(following);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    // A on the learner's arrival on B: presence, and the board.
    presence(&mut instructor, (1, 1)).await;
    let row = board_until(a, room, &ada_id, |r| r.online).await;
    assert!(row.following, "{row:?}");

    // Follow-me crosses, and a page opened on B later starts there.
    let to = place(1);
    instructor.ack(|seq| C::Goto { seq, place: to }).await;
    assert_eq!(goto_of(&mut ada_page).await, place(1));
    let (second, welcome) = page(b, room, &ada).await;
    assert!(
        matches!(&welcome, S::Welcome { position: Some(p), .. } if *p == place(1)),
        "{welcome:?}"
    );
    drop(second);

    // The demo console, run on A, shows on B as it happens.
    let demo = match instructor.request(|seq| C::Demo { seq }).await {
        S::Demo { session, .. } => session,
        other => panic!("expected the demo session, got {other:?}"),
    };
    assert_eq!(a.exec(&demo, "SET greeting hello").await.status(), 200);
    let line = ada_page
        .wait_for(|m| match m {
            S::Console { line } => Some(line),
            _ => None,
        })
        .await;
    assert_eq!(
        (line.line.as_str(), line.text.as_str()),
        ("SET greeting hello", "OK")
    );

    // A scenario runs once, on A; B's page draws the same frames.
    let sim = RateLimitSim {
        rate: 40.0,
        users: 2,
        limit: 5,
        window_ms: 1_000,
        algorithms: vec![Algorithm::FixedWindow],
        duration_ms: 1_000,
        bursty: true,
        custom_script: None,
    };
    instructor
        .ack(|seq| C::Scenario {
            seq,
            scenario: Scenario::RateLimit { sim },
        })
        .await;
    let on_a = instructor.frames_until_done().await;
    let on_b = ada_page.frames_until_done().await;
    assert!(on_a.len() > 3, "frames flowed: {}", on_a.len());
    assert_eq!(on_a, on_b, "B drew exactly A's frames");

    // A learner on a third node, C: follow-me reaches it too, and "Reset
    // all" resets every member's sandbox wherever its session lives.
    let (cy, cy_id) = member(c, &created.code, "Cy").await;
    let (mut cy_page, welcome) = page(c, room, &cy).await;
    assert!(
        matches!(&welcome, S::Welcome { position: Some(p), .. } if *p == place(1)),
        "{welcome:?}"
    );
    presence(&mut instructor, (2, 2)).await;
    let to = place(0);
    instructor.ack(|seq| C::Goto { seq, place: to }).await;
    assert_eq!(goto_of(&mut ada_page).await, place(0));
    assert_eq!(goto_of(&mut cy_page).await, place(0));
    // Cy's console starts through B (its page is on C): with B the least
    // loaded but for Ada, the nodes keep it there.
    let sessions = [
        b.new_session(Some(&ada)).await.session,
        b.new_session(Some(&cy)).await.session,
    ];
    assert_eq!(nodes.owner_of(&sessions[1]).await, "node-b");
    for session in &sessions {
        assert_eq!(a.exec(session, "SET mine 1").await.status(), 200);
    }
    let slug = lesson.summary.slug.clone();
    let done = instructor
        .request(|seq| C::ResetAll { seq, lesson: slug })
        .await;
    assert!(
        matches!(
            done,
            S::Done {
                count: 2,
                failed: 0,
                ..
            }
        ),
        "both members reset: {done:?}"
    );
    for session in &sessions {
        let after: protocol::ExecResponse = a
            .exec(session, "EXISTS mine")
            .await
            .json()
            .await
            .expect("ExecResponse");
        assert_eq!(after.text, "(integer) 0", "a fresh sandbox");
    }
    // Cy's console errors on B reach the board on A, although B holds no
    // page of Cy's: the node holding a console writes its facts.
    for _ in 0..3 {
        let failed: protocol::ExecResponse = a
            .exec(&sessions[1], "NOSUCHCOMMAND")
            .await
            .json()
            .await
            .expect("ExecResponse");
        assert!(failed.text.starts_with("(error)"), "{failed:?}");
    }
    let mut row = board_row(a, room, &cy_id).await;
    for _ in 0..200 {
        if row.errors_5m >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        row = board_row(a, room, &cy_id).await;
    }
    assert!(row.errors_5m >= 3 && row.online, "{row:?}");
    // The pace lock holds for Cy's console on B, where no page of Cy's
    // is open: B reads the lock from the store.
    let lock = place(0);
    instructor
        .ack(|seq| C::Pace {
            seq,
            place: Some(lock),
        })
        .await;
    let past_lock = lesson
        .blocks
        .iter()
        .position(|block| block.step.as_ref() == Some(&lesson.steps[1]))
        .expect("a block in the second step");
    let mut cy_console = WsClient::connect(&format!(
        "{}/ws?session={}",
        b.base.replacen("http", "ws", 1),
        sessions[1]
    ))
    .await;
    let seq = cy_console.seq();
    let refused = cy_console
        .request(protocol::ClientMessage::RunBlock {
            seq,
            lesson: lesson.summary.slug.clone(),
            block: past_lock,
        })
        .await;
    match refused {
        protocol::ServerMessage::Error { error, .. } => {
            assert_eq!(error.code, ErrorCode::Forbidden, "{}", error.message);
        }
        other => panic!("expected the pace lock, got {other:?}"),
    }
    drop(cy_console);
    instructor.ack(|seq| C::Pace { seq, place: None }).await;
    drop(cy_page);
    presence(&mut instructor, (1, 1)).await;

    // A learner on B breaking away shows on A's board.
    ada_page.ack(|seq| C::Follow { seq, on: false }).await;
    presence(&mut instructor, (1, 0)).await;
    board_until(a, room, &ada_id, |r| r.online && !r.following).await;

    // Removed through A: the page on C closes.
    let (bob, bob_id) = member(c, &created.code, "Bob").await;
    let (mut bob_page, _) = page(c, room, &bob).await;
    presence(&mut instructor, (2, 1)).await;
    let removed = a
        .http
        .delete(a.url(&format!("/api/rooms/{room}/learners/{bob_id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("DELETE learner");
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let refusal = bob_page
        .wait_for(|m| match m {
            S::Error { error, .. } => Some(error.code),
            _ => None,
        })
        .await;
    assert_eq!(refusal, ErrorCode::Forbidden);
    assert!(bob_page.try_next().await.is_none(), "Bob's page closes");
    presence(&mut instructor, (1, 0)).await;

    // The learner's pages on B close: A is told, and the board agrees.
    drop(ada_page);
    presence(&mut instructor, (0, 0)).await;
    board_until(a, room, &ada_id, |r| !r.online).await;

    // Ended through A: the page on B is told and closes.
    let (mut ada_page, _) = page(b, room, &ada).await;
    // Back, still broken away (as on one node).
    presence(&mut instructor, (1, 0)).await;
    let ended = a
        .http
        .post(a.url(&format!("/api/rooms/{room}/end")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    ada_page
        .wait_for(|m| matches!(m, S::Ended).then_some(()))
        .await;
    assert!(ada_page.try_next().await.is_none(), "the page closes");
}
