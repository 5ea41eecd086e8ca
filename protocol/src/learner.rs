//! Learners over HTTP: identity, progress and results as the server keeps
//! them in its control store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /api/learners` body: `{}` or `{"name": "Ada"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLearner {
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /api/learners` → 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerCreated {
    /// The learner's public id.
    pub learner: String,
    /// The learner's secret: send it as `Authorization: Bearer <token>` to
    /// `/api/me…` and `POST /api/sessions`. The server keeps only its hash.
    pub token: String,
}

/// `GET /api/me` → 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub learner: String,
    pub name: Option<String>,
    /// Step anchors run, per lesson slug, in the order they were first run.
    pub progress: BTreeMap<String, Vec<String>>,
    /// The latest check of every task the learner checked.
    pub results: Vec<TaskOutcome>,
}

/// One task's latest check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutcome {
    pub lesson: String,
    /// The task's index in the lesson (0-based).
    pub task: usize,
    pub passed: bool,
    /// When it was checked, in Unix milliseconds.
    pub at_ms: u64,
}

/// `POST /api/me/progress` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressStep {
    /// A lesson slug.
    pub lesson: String,
    /// One of that lesson's step anchors (`LessonPage::steps`).
    pub step: String,
}

/// `PATCH /api/me` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeChange {
    /// A display name (at most 40 characters, no control characters), or
    /// null to clear it.
    pub name: Option<String>,
}

/// `GET /healthz` → 200, also when degraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `degraded` while the control store is unreachable
    /// (consoles still work; learner writes answer 503).
    pub status: String,
    /// `ok` or `down`.
    pub control_store: String,
}
