//! A class in session: raising a hand (members only, listed oldest first
//! for the instructor, on the board, lowered by a removal or the room's
//! end) and room members behind one address admitted by the room rather
//! than by the per-address caps.

use protocol::{Hands, RoomCreated, SessionCreated};
use reqwest::{Method, StatusCode};

use crate::rooms::{board, code_of, join, new_learner, new_room};
use crate::support::TestApp;

async fn hand(app: &TestApp, token: &str, room: &str, raised: bool) -> reqwest::Response {
    app.http
        .post(format!("{}/api/rooms/{room}/hand", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({"raised": raised}))
        .send()
        .await
        .unwrap()
}

async fn hands(app: &TestApp, room: &str) -> Vec<(String, String)> {
    let response = app
        .as_instructor(Method::GET, &format!("/api/rooms/{room}/hands"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list: Hands = response.json().await.unwrap();
    assert!(list.hands.iter().all(|h| h.raised_at > 0));
    list.hands
        .into_iter()
        .map(|h| (h.learner, h.name))
        .collect()
}

/// A learner in `room` under `name`: (token, learner id).
pub(crate) async fn member(app: &TestApp, room: &RoomCreated, name: &str) -> (String, String) {
    let token = new_learner(app).await;
    assert_eq!(join(app, &token, &room.code, name).await.status(), 200);
    let id = board(app, &room.room)
        .await
        .learners
        .into_iter()
        .find(|row| row.name == name)
        .expect("on the board")
        .learner;
    (token, id)
}

async fn end(app: &TestApp, room: &str) {
    let end = app.as_instructor(Method::POST, &format!("/api/rooms/{room}/end"));
    assert_eq!(end.send().await.unwrap().status(), 204);
}

pub(crate) async fn session_for(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/sessions", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_member_raises_and_lowers_a_hand_and_the_board_shows_it() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (token, ada) = member(&app, &room, "Ada").await;
    assert_eq!(hand(&app, &token, &room.room, true).await.status(), 204);
    assert_eq!(hands(&app, &room.room).await, [(ada, "Ada".to_owned())]);
    assert!(board(&app, &room.room).await.learners[0].hand_raised);
    assert_eq!(hand(&app, &token, &room.room, false).await.status(), 204);
    assert!(hands(&app, &room.room).await.is_empty());
    assert!(!board(&app, &room.room).await.learners[0].hand_raised);
}

#[tokio::test]
async fn hands_are_listed_oldest_first_and_a_second_raise_keeps_its_place() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada_token, ada) = member(&app, &room, "Ada").await;
    let (bob_token, bob) = member(&app, &room, "Bob").await;
    assert_eq!(hand(&app, &bob_token, &room.room, true).await.status(), 204);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(hand(&app, &ada_token, &room.room, true).await.status(), 204);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(hand(&app, &bob_token, &room.room, true).await.status(), 204);
    let order: Vec<String> = hands(&app, &room.room)
        .await
        .into_iter()
        .map(|(learner, _)| learner)
        .collect();
    assert_eq!(order, [bob, ada]);
}

#[tokio::test]
async fn only_a_member_may_raise_a_hand() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    member(&app, &room, "Ada").await;
    let stranger = new_learner(&app).await;
    assert_eq!(
        code_of(hand(&app, &stranger, &room.room, true).await).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    assert!(hands(&app, &room.room).await.is_empty());
    let list = app
        .http
        .get(format!("{}/api/rooms/{}/hands", app.base, room.room))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.status(),
        StatusCode::FORBIDDEN,
        "the list is the instructor's"
    );
}

#[tokio::test]
async fn removing_a_learner_or_ending_the_room_lowers_their_hand() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (ada_token, ada) = member(&app, &room, "Ada").await;
    let (bob_token, bob) = member(&app, &room, "Bob").await;
    for token in [&ada_token, &bob_token] {
        assert_eq!(hand(&app, token, &room.room, true).await.status(), 204);
    }
    let remove = format!("/api/rooms/{}/learners/{ada}", room.room);
    let removed = app.as_instructor(Method::DELETE, &remove).send().await;
    assert_eq!(removed.unwrap().status(), 204);
    assert_eq!(hands(&app, &room.room).await, [(bob, "Bob".to_owned())]);
    assert_eq!(
        code_of(hand(&app, &ada_token, &room.room, true).await).await,
        (StatusCode::FORBIDDEN, "forbidden".into()),
        "a removed learner is no longer a member"
    );
    end(&app, &room.room).await;
    assert!(hands(&app, &room.room).await.is_empty());
    assert!(!board(&app, &room.room).await.learners[0].hand_raised);
}

#[tokio::test]
async fn room_members_behind_one_address_are_admitted_by_the_room() {
    let app = TestApp::with_limits(|limits| limits.sandboxes_per_ip = 1).await;
    let room = new_room(&app).await;
    for name in ["Ada", "Bob"] {
        let (token, id) = member(&app, &room, name).await;
        let response = session_for(&app, &token).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        let created: SessionCreated = response.json().await.unwrap();
        assert_eq!(created.learner.as_deref(), Some(id.as_str()));
    }
    let outsider = new_learner(&app).await;
    assert_eq!(
        code_of(session_for(&app, &outsider).await).await.1,
        "too_many_sandboxes"
    );
}

#[tokio::test]
async fn room_members_behind_one_address_all_get_their_consoles() {
    let app = TestApp::with_limits(|limits| {
        limits.sandboxes_per_ip = 1;
        limits.sockets_per_ip = 1;
    })
    .await;
    let room = new_room(&app).await;
    let mut consoles = Vec::new();
    for name in ["Ada", "Bob", "Cy"] {
        let (token, _) = member(&app, &room, name).await;
        let created: SessionCreated = session_for(&app, &token).await.json().await.unwrap();
        // Each console is a WebSocket; one address holds all three.
        consoles.push(app.ws(&created.session).await);
    }
    assert_eq!(consoles.len(), 3);
}

#[tokio::test]
async fn after_the_room_ends_members_are_capped_per_address_again() {
    let app = TestApp::with_limits(|limits| limits.sandboxes_per_ip = 1).await;
    let room = new_room(&app).await;
    let (ada, _) = member(&app, &room, "Ada").await;
    let (bob, _) = member(&app, &room, "Bob").await;
    assert_eq!(session_for(&app, &ada).await.status(), StatusCode::CREATED);
    end(&app, &room.room).await;
    assert_eq!(
        code_of(session_for(&app, &bob).await).await.1,
        "too_many_sandboxes"
    );
}
