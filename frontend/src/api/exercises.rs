//! Graded exercises: their contracts (`GET /api/exercises`) and a grading
//! run (`POST /api/exercises/{id}/grade`, as the console's session, which
//! grades what that sandbox has loaded). The learner's results are a
//! learner route, in `api::learner`.

use protocol::{ExerciseInfo, GradeReport};

use super::{get_json, post_json, ApiFailure};

pub async fn exercises() -> Result<Vec<ExerciseInfo>, ApiFailure> {
    get_json("/api/exercises").await
}

/// Grades the library loaded in this session's sandbox. It can take up to
/// half a minute; a second run within the server's throttle answers with
/// the server's sentence (how long to wait).
pub async fn grade(id: &str) -> Result<GradeReport, ApiFailure> {
    post_json(&format!("/api/exercises/{id}/grade")).await
}
