//! The grading API: the exercise contracts, a grade of what a sandbox has
//! loaded, pacing, and reports kept for the learner.

use protocol::{ExerciseInfo, GradeReport, GradeStatus};

use crate::support::TestApp;

async fn grade(app: &TestApp, session: &str, exercise: &str) -> reqwest::Response {
    app.post_as(session, &format!("/api/exercises/{exercise}/grade"))
        .await
}

#[tokio::test]
async fn the_exercises_state_their_function_contracts_and_checks() {
    let app = TestApp::spawn().await;
    let exercises: Vec<ExerciseInfo> = app.get("/api/exercises").await.json().await.unwrap();
    let ids: Vec<&str> = exercises.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["feature-store", "rate-limiter", "recommendations"]);
    let functions: Vec<&str> = exercises
        .iter()
        .flat_map(|e| e.functions.iter().map(|f| f.name.as_str()))
        .collect();
    assert_eq!(
        functions,
        [
            "fs_write",
            "fs_read",
            "rl_sliding",
            "rl_bucket",
            "rec_apply"
        ]
    );
    for exercise in &exercises {
        assert!(!exercise.checks.is_empty(), "{}", exercise.id);
        assert!(
            app.state.course.find(&exercise.lesson).is_some(),
            "{} names lesson {}",
            exercise.id,
            exercise.lesson
        );
    }
}

#[tokio::test]
async fn every_check_links_to_a_step_of_its_lesson_which_ends_with_grade() {
    let app = TestApp::spawn().await;
    for exercise in backend::grading::exercises() {
        let lesson = app.state.course.find(exercise.lesson).expect("lesson");
        for check in exercise.checks {
            assert!(
                lesson.blocks.steps.iter().any(|s| s == check.step),
                "{}: check {} links to #{}, not a step of {}: {:?}",
                exercise.id,
                check.id,
                check.step,
                exercise.lesson,
                lesson.blocks.steps
            );
        }
        assert_eq!(
            lesson.blocks.steps.last().map(String::as_str),
            Some("grade"),
            "{} ends with Grade",
            exercise.lesson
        );
    }
}

#[tokio::test]
async fn grading_with_nothing_loaded_fails_every_check_and_says_what_to_load() {
    let app = TestApp::spawn().await;
    let (session, _) = app.new_learner_session().await;
    let response = grade(&app, &session, "rate-limiter").await;
    assert_eq!(response.status(), 200);
    let report: GradeReport = response.json().await.unwrap();
    assert_eq!(report.status, GradeStatus::Fail);
    assert_eq!(report.score, 0);
    assert!(report.max_score > 0);
    for check in &report.checks {
        assert!(check.message.contains("rl_sliding"), "{check:?}");
        assert!(
            check.step.starts_with("/lesson/exercise-rate-limiter#"),
            "{check:?}"
        );
    }
}

#[tokio::test]
async fn grading_is_paced_and_every_report_is_kept_for_the_learner() {
    let app = TestApp::spawn().await;
    let (session, learner) = app.new_learner_session().await;
    assert_eq!(grade(&app, &session, "feature-store").await.status(), 200);
    let again = grade(&app, &session, "feature-store").await;
    assert_eq!(again.status(), 429);
    let err: protocol::ApiError = again.json().await.unwrap();
    assert_eq!(err.error.code, "rate_limited");
    assert!(err.error.message.contains("10 s"), "{}", err.error.message);
    let results: Vec<GradeReport> = app.get_json_as(&learner, "/api/me/results").await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].exercise, "feature-store");
}

#[tokio::test]
async fn unknown_exercises_and_missing_sessions_are_refused_as_json() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let response = grade(&app, &session, "nope").await;
    assert_eq!(response.status(), 404);
    let err: protocol::ApiError = response.json().await.unwrap();
    assert!(err.error.message.contains("/api/exercises"));
    let anonymous = app
        .http
        .post(format!("{}/api/exercises/rate-limiter/grade", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
