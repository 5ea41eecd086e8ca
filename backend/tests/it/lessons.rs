//! The server refuses to start on a broken course and says where it broke.

use backend::AppState;

use crate::support::{default_config, fixture};

async fn startup_error(lessons: &str) -> String {
    let mut config = default_config();
    config.lessons_dir = fixture(lessons);
    match AppState::build(&config).await {
        Ok(_) => panic!("{lessons}: a broken course must not load"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn broken_front_matter_names_file_and_line() {
    let err = startup_error("broken-front-matter").await;
    assert!(err.contains("broken.md:5"), "{err}");
    assert!(err.contains("requirs"), "{err}");
    assert!(err.contains("refusing to start"), "{err}");
}

#[tokio::test]
async fn a_lesson_missing_from_summary_is_named() {
    let err = startup_error("unlisted-lesson").await;
    assert!(err.contains("forgotten.md"), "{err}");
}

#[tokio::test]
async fn the_real_course_loads() {
    let state = AppState::build(&default_config())
        .await
        .expect("lessons/ is valid");
    assert!(!state.course.lessons.is_empty());
}
