//! Exercise grading: what an exercise asks for (its function contract and
//! its checks) and the report a grading run answers with.

use serde::{Deserialize, Serialize};

/// `GET /api/exercises` → a list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseInfo {
    /// `feature-store`, `rate-limiter`, `recommendations`.
    pub id: String,
    pub title: String,
    /// The slug of the lesson that teaches it.
    pub lesson: String,
    /// The functions the learner's library must define.
    pub functions: Vec<FunctionSpec>,
    /// What the grader checks, in order.
    pub checks: Vec<CheckInfo>,
}

/// One function of an exercise's contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSpec {
    pub name: String,
    /// How the grader calls it, e.g. `FCALL rl_sliding 1 <key> <window ms> <limit> <request id>`.
    pub called_as: String,
    /// What it must return.
    pub returns: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
}

/// How a grading run, or one check, ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStatus {
    Pass,
    Fail,
    /// The grader could not run it (no sandbox, a deadline of its own):
    /// not the learner's fault, and not counted as an attempt.
    Error,
}

/// `POST /api/exercises/{id}/grade` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeReport {
    pub exercise: String,
    pub status: GradeStatus,
    /// Checks passed.
    pub score: u32,
    /// Checks in all.
    pub max_score: u32,
    pub checks: Vec<CheckReport>,
    /// Measurements taken while grading (latency, memory).
    pub figures: Vec<Figure>,
    /// sha-256 (hex) of the graded libraries' `FUNCTION DUMP`.
    pub submission: String,
    /// When, in Unix milliseconds.
    pub graded_at: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub status: GradeStatus,
    /// What was observed, in numbers, and why it matters.
    pub message: String,
    /// A nudge that does not hand out the code (empty when passed).
    pub hint: String,
    /// Where the lesson teaches it: `/lesson/<slug>#<step>`.
    pub step: String,
}

/// A measured series, drawn as a small chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub id: String,
    pub title: String,
    /// Unit of the values (`µs`, `bytes`, `ms`).
    pub unit: String,
    /// `(label, value)` pairs in the order to draw them.
    pub points: Vec<(String, f64)>,
}
