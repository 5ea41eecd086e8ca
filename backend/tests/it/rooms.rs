//! Classroom rooms: the instructor's routes (instructor token only), joining
//! with a code (case, lock, capacity, pace, names), the board and the CSV
//! export from what the store knows, and a room surviving a restart.

use protocol::{ApiError, Board, GradeReport, GradeStatus, LearnerCreated, RoomCreated};
use reqwest::{Method, StatusCode};

use crate::support::{default_config, TestApp};

pub(crate) async fn new_learner(app: &TestApp) -> String {
    let response = app
        .http
        .post(format!("{}/api/learners", app.base))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<LearnerCreated>().await.unwrap().token
}

pub(crate) async fn new_room(app: &TestApp) -> RoomCreated {
    let response = app
        .as_instructor(Method::POST, "/api/rooms")
        .json(&serde_json::json!({"name": "Tuesday class", "lessons": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub(crate) async fn join(app: &TestApp, token: &str, code: &str, name: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/rooms/join", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({"code": code, "name": name}))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let error: ApiError = response.json().await.expect("the JSON error shape");
    (status, error.error.code.to_string())
}

pub(crate) async fn board(app: &TestApp, room: &str) -> Board {
    let response = app
        .as_instructor(Method::GET, &format!("/api/rooms/{room}/board"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_room_gets_a_code_and_a_join_link_from_the_host() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    assert_eq!(room.code.len(), 6);
    assert!(!room.code.contains(['0', 'O', '1', 'I', 'L']));
    assert_eq!(room.join_url, format!("{}/join#{}", app.base, room.code));
    assert_eq!(room.room.len(), 32);
}

#[tokio::test]
async fn every_room_route_wants_the_instructor_token() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (session, learner_token) = app.new_learner_session().await;
    let id = &room.room;
    let routes = [
        (Method::POST, "/api/rooms".to_owned(), r#"{"name":"x"}"#),
        (Method::GET, format!("/api/rooms/{id}/board"), ""),
        (Method::GET, format!("/api/rooms/{id}/export.csv"), ""),
        (
            Method::POST,
            format!("/api/rooms/{id}/lock"),
            r#"{"locked":true}"#,
        ),
        (Method::DELETE, format!("/api/rooms/{id}/learners/abc"), ""),
        (Method::POST, format!("/api/rooms/{id}/end"), ""),
        (Method::GET, format!("/api/rooms/{id}/hands"), ""),
    ];
    for (method, path, body) in &routes {
        let request = || {
            app.http
                .request(method.clone(), format!("{}{path}", app.base))
                .header("content-type", "application/json")
                .body(body.to_string())
        };
        let (status, code) = code_of(request().send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{path}"
        );
        for token in [&learner_token, &session, "wrong"] {
            let response = request().bearer_auth(token).send().await.unwrap();
            let status = response.status();
            let error: ApiError = response.json().await.unwrap();
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
            assert!(error
                .error
                .message
                .starts_with("Only the instructor's token"));
        }
    }
    // And with it, each one answers as documented.
    let ok = |m: Method, p: &str| app.as_instructor(m, p);
    assert_eq!(
        ok(Method::GET, &routes[1].1).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        ok(Method::GET, &routes[2].1).send().await.unwrap().status(),
        200
    );
    let lock = ok(Method::POST, &routes[3].1).json(&serde_json::json!({"locked": false}));
    assert_eq!(lock.send().await.unwrap().status(), 204);
    assert_eq!(
        ok(Method::POST, &routes[5].1)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        ok(Method::GET, &routes[6].1).send().await.unwrap().status(),
        200
    );
    let unknown = ok(
        Method::GET,
        "/api/rooms/00000000000000000000000000000000/board",
    );
    assert_eq!(code_of(unknown.send().await.unwrap()).await.1, "not_found");
}

#[tokio::test]
async fn room_names_and_lessons_are_checked() {
    let app = TestApp::spawn().await;
    for body in [
        serde_json::json!({"name": ""}),
        serde_json::json!({"name": "x".repeat(81)}),
        serde_json::json!({"name": "a\nb"}),
        serde_json::json!({"name": "ok", "lessons": ["no-such-lesson"]}),
    ] {
        let response = app
            .as_instructor(Method::POST, "/api/rooms")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(response).await,
            (StatusCode::BAD_REQUEST, "invalid_request".into()),
            "{body}"
        );
    }
    let slug = &app.state.course.lessons[0].meta.slug;
    let response = app
        .as_instructor(Method::POST, "/api/rooms")
        .json(&serde_json::json!({"name": "ok", "lessons": [slug]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn joining_matches_codes_in_any_case_and_renames_the_learner() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let token = new_learner(&app).await;
    let response = join(&app, &token, &room.code.to_lowercase(), "Ada").await;
    assert_eq!(response.status(), StatusCode::OK);
    let joined: protocol::RoomJoined = response.json().await.unwrap();
    assert_eq!(joined.room, room.room);
    let me: protocol::Me = app.get_json_as(&token, "/api/me").await;
    assert_eq!(me.name.as_deref(), Some("Ada"));
    assert_eq!(board(&app, &room.room).await.learners[0].name, "Ada");
}

#[tokio::test]
async fn unknown_ended_and_locked_rooms_and_bad_names_are_refused() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let token = new_learner(&app).await;
    assert_eq!(
        code_of(join(&app, &token, "ZZZZZZ", "Ada").await).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        code_of(join(&app, &token, &room.code, "a\tb").await)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let long = "x".repeat(41);
    assert_eq!(
        code_of(join(&app, &token, &room.code, &long).await).await.0,
        StatusCode::BAD_REQUEST
    );
    let path = format!("/api/rooms/{}/lock", room.room);
    let lock = app
        .as_instructor(Method::POST, &path)
        .json(&serde_json::json!({"locked": true}));
    assert_eq!(lock.send().await.unwrap().status(), 204);
    assert_eq!(
        code_of(join(&app, &token, &room.code, "Ada").await).await,
        (StatusCode::FORBIDDEN, "room_locked".into())
    );
    let end = app.as_instructor(Method::POST, &format!("/api/rooms/{}/end", room.room));
    assert_eq!(end.send().await.unwrap().status(), 204);
    assert_eq!(
        code_of(join(&app, &token, &room.code, "Ada").await).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_full_room_takes_nobody_else_but_its_members() {
    let mut config = default_config();
    config.room_capacity = 1;
    let app = TestApp::with_config(config).await;
    let room = new_room(&app).await;
    let (first, second) = (new_learner(&app).await, new_learner(&app).await);
    assert_eq!(join(&app, &first, &room.code, "Ada").await.status(), 200);
    assert_eq!(
        code_of(join(&app, &second, &room.code, "Bob").await).await,
        (StatusCode::CONFLICT, "room_full".into())
    );
    assert_eq!(
        join(&app, &first, &room.code, "Ada L.").await.status(),
        200,
        "a member gets back in"
    );
    let remove = format!(
        "/api/rooms/{}/learners/{}",
        room.room,
        board(&app, &room.room).await.learners[0].learner
    );
    assert_eq!(
        app.as_instructor(Method::DELETE, &remove)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(join(&app, &second, &room.code, "Bob").await.status(), 200);
}

#[tokio::test]
async fn guessing_codes_is_paced_per_address() {
    let app = TestApp::spawn().await;
    let token = new_learner(&app).await;
    let limit = app.state.rooms.joins_per_min;
    for _ in 0..limit {
        assert_eq!(
            join(&app, &token, "ZZZZZZ", "Ada").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        code_of(join(&app, &token, "ZZZZZZ", "Ada").await).await,
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
}

/// Only wrong codes spend the address's budget: a class behind one
/// address (a campus NAT) joins with the right code, every learner of it,
/// however many arrive in the minute.
#[tokio::test]
async fn a_class_behind_one_address_joins_past_the_guessing_limit() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let limit = app.state.rooms.joins_per_min;
    for i in 0..limit + 5 {
        let token = new_learner(&app).await;
        let name = format!("Learner {i}");
        assert_eq!(
            join(&app, &token, &room.code, &name).await.status(),
            200,
            "{name}"
        );
    }
}

/// A learner in `room` with a step, a passed task and a graded exercise.
async fn busy_learner(app: &TestApp, room: &RoomCreated, name: &str) -> (String, String) {
    let token = new_learner(app).await;
    assert_eq!(join(app, &token, &room.code, name).await.status(), 200);
    let lesson = &app.state.course.lessons[0];
    let step = lesson.blocks.steps.last().expect("a lesson has steps");
    let progress = app
        .http
        .post(format!("{}/api/me/progress", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"lesson": lesson.meta.slug, "step": step}))
        .send()
        .await
        .unwrap();
    assert_eq!(progress.status(), 200);
    let who = app
        .state
        .control
        .learner_for_token(&token)
        .await
        .unwrap()
        .unwrap();
    app.state
        .control
        .record_result(&who, &lesson.meta.slug, 0, true)
        .await
        .unwrap();
    let report = GradeReport {
        exercise: "rate-limiter".into(),
        status: GradeStatus::Fail,
        score: 3,
        max_score: 5,
        checks: Vec::new(),
        figures: Vec::new(),
        submission: String::new(),
        graded_at: 1,
        duration_ms: 1,
    };
    app.state
        .control
        .record_report(&who, &report)
        .await
        .unwrap();
    (who.id, step.clone())
}

#[tokio::test]
async fn the_board_shows_each_learners_step_tasks_and_scores() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    let (learner, step) = busy_learner(&app, &room, "Ada").await;
    let rows = board(&app, &room.room).await.learners;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.learner, learner);
    assert_eq!(
        row.lesson.as_deref(),
        Some(app.state.course.lessons[0].meta.slug.as_str())
    );
    assert_eq!(row.step.as_deref(), Some(step.as_str()));
    assert_eq!(row.tasks_passed, 1);
    assert_eq!(
        row.scores.get("rate-limiter").map(String::as_str),
        Some("3/5")
    );
    assert!(row.last_active > 0);
    assert!(!row.stuck && !row.hand_raised && row.errors_5m == 0);
}

#[tokio::test]
async fn the_csv_quotes_names_and_neutralises_formulas() {
    let app = TestApp::spawn().await;
    let room = new_room(&app).await;
    busy_learner(&app, &room, "Lovelace, \"Ada\"").await;
    busy_learner(&app, &room, "=HYPERLINK(1)").await;
    let response = app
        .as_instructor(Method::GET, &format!("/api/rooms/{}/export.csv", room.room))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header = lines[0];
    assert!(
        header.starts_with("name,steps_done,tasks_passed,"),
        "{header}"
    );
    for exercise in backend::grading::exercises() {
        assert!(header.contains(exercise.id), "{header}");
    }
    assert!(header.ends_with("minutes_spent"));
    assert!(
        lines[1].starts_with("\"Lovelace, \"\"Ada\"\"\",1,1,"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("'=HYPERLINK(1),1,1,"), "{}", lines[2]);
    assert!(lines[1].contains(",3,"), "the best score: {}", lines[1]);
}

#[tokio::test]
async fn a_room_and_its_board_survive_a_restart() {
    let config = default_config();
    let app = TestApp::with_config(config.clone()).await;
    let room = new_room(&app).await;
    let (learner, step) = busy_learner(&app, &room, "Ada").await;
    app.state.shutdown().await;
    drop(app);
    let again = TestApp::with_config(config).await;
    let rows = board(&again, &room.room).await.learners;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].learner.as_str(), rows[0].name.as_str()),
        (learner.as_str(), "Ada")
    );
    assert_eq!(rows[0].step.as_deref(), Some(step.as_str()));
    assert_eq!(rows[0].tasks_passed, 1);
    let token = new_learner(&again).await;
    assert_eq!(
        join(&again, &token, &room.code, "Bob").await.status(),
        200,
        "the code still opens it"
    );
}
