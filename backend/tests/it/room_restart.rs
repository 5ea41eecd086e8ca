//! The class board survives `kill -9` of the real server: a room with three
//! learners, their steps, a passed task and a raised hand, the server
//! SIGKILLed, started again on the same data directory, and the board
//! comes back whole (and the join code still opens the room).

use protocol::{Board, LessonPage, RoomCreated};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::server::{ServerDirs, ServerProcess};

const TOKEN: &str = "restart-test-instructor-token";

async fn board(server: &ServerProcess, room: &str) -> Board {
    let response = server
        .http
        .get(server.url(&format!("/api/rooms/{room}/board")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET board");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("Board JSON")
}

/// The first lesson with a task, and the lines that pass its first task.
async fn a_task(server: &ServerProcess) -> (LessonPage, Vec<String>) {
    let page = server
        .lessons()
        .await
        .into_iter()
        .find(|p| !p.tasks.is_empty() && !p.steps.is_empty())
        .expect("a lesson with a task");
    let lines = page
        .setup
        .iter()
        .chain(&page.tasks[0].solution)
        .cloned()
        .collect();
    (page, lines)
}

#[tokio::test]
async fn the_board_survives_kill_9_of_the_server() {
    let dirs = ServerDirs::new();
    let options = dirs
        .options()
        .flag("--instructor-token", TOKEN)
        .flag("--sandboxes-per-ip", "8");
    let mut server = ServerProcess::start(&options).await;
    let created: RoomCreated = server
        .http
        .post(server.url("/api/rooms"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "Crash course"}))
        .send()
        .await
        .expect("POST /api/rooms")
        .json()
        .await
        .expect("RoomCreated");
    let (page, lines) = a_task(&server).await;
    let slug = page.summary.slug.clone();
    let mut tokens = Vec::new();
    for (i, name) in ["Ada", "Grace", "Edsger"].into_iter().enumerate() {
        let learner = server.new_learner(json!({})).await;
        let joined = server
            .http
            .post(server.url("/api/rooms/join"))
            .bearer_auth(&learner.token)
            .json(&json!({"code": created.code, "name": name}))
            .send()
            .await
            .expect("join");
        assert_eq!(joined.status(), StatusCode::OK);
        let step = &page.steps[i.min(page.steps.len() - 1)];
        let saved = server.progress(&learner.token, &slug, step).await.unwrap();
        assert_eq!(saved.status(), StatusCode::OK);
        tokens.push(learner.token);
    }
    // Ada passes the task; Grace raises a hand.
    let session = server.new_session(Some(&tokens[0])).await.session;
    for line in &lines {
        server.exec(&session, line).await;
    }
    let checked = server.check_task(&session, &slug, 0).await.unwrap();
    assert_eq!(checked.status(), StatusCode::OK);
    let hand = server
        .http
        .post(server.url(&format!("/api/rooms/{}/hand", created.room)))
        .bearer_auth(&tokens[1])
        .json(&json!({"raised": true}))
        .send()
        .await
        .expect("hand");
    assert_eq!(hand.status(), StatusCode::NO_CONTENT);
    let before = board(&server, &created.room).await;
    assert_eq!(before.learners.len(), 3);
    assert_eq!(
        before.learners[0].tasks_passed, 1,
        "{:?}",
        before.learners[0]
    );

    server.kill9();
    let server = ServerProcess::start(&options).await;
    let after = board(&server, &created.room).await;
    let lasting = |b: &Board| {
        b.learners
            .iter()
            .map(|r| {
                (
                    r.learner.clone(),
                    r.name.clone(),
                    r.lesson.clone(),
                    r.step.clone(),
                    r.tasks_passed,
                    r.hand_raised,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(lasting(&after), lasting(&before));
    assert!(after.learners[1].hand_raised);
    assert_eq!(after.summary.tasks.values().sum::<u32>(), 1);
    // The code still opens the room.
    let late = server.new_learner(json!({})).await;
    let joined = server
        .http
        .post(server.url("/api/rooms/join"))
        .bearer_auth(&late.token)
        .json(&json!({"code": created.code, "name": "Barbara"}))
        .send()
        .await
        .expect("join");
    assert_eq!(joined.status(), StatusCode::OK);
}
