//! Classroom rooms over HTTP: what an instructor creates and reads (the
//! board, the raised hands), and what a learner sends to join one with
//! its code and to raise a hand in it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /api/rooms` body (instructor bearer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRoom {
    /// 1 to 80 characters, no control characters.
    pub name: String,
    /// Lesson slugs the class will follow, in order; each must exist.
    #[serde(default)]
    pub lessons: Vec<String>,
}

/// `POST /api/rooms` → 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCreated {
    /// The room's id: the instructor's handle in `/api/rooms/{id}/…`.
    pub room: String,
    /// The join code learners type: 6 characters from
    /// `23456789ABCDEFGHJKMNPQRSTUVWXYZ` (no 0/O, 1/I/L), any case.
    pub code: String,
    /// `<origin>/join#<code>`: the link to show the class.
    pub join_url: String,
}

/// `GET /api/rooms/{id}` (instructor) → 200: the room as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub room: String,
    pub name: String,
    pub code: String,
    pub join_url: String,
    pub lessons: Vec<String>,
    pub locked: bool,
    pub ended: bool,
    pub capacity: u32,
    /// Learners on the roster.
    pub learners: u32,
}

/// `POST /api/rooms/join` body (learner bearer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRoom {
    /// The room's join code, matched case-insensitively.
    pub code: String,
    /// The learner's name in the class (the learner name rules: at most
    /// 40 characters, no control characters); it also becomes their
    /// display name.
    pub name: String,
}

/// `POST /api/rooms/join` → 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomJoined {
    pub room: String,
}

/// `POST /api/rooms/{id}/lock` body: a locked roster takes no new learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLock {
    pub locked: bool,
}

/// `GET /api/rooms/mine` (learner bearer) → 200: the room the learner is
/// in (404 when none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoom {
    pub room: String,
    /// The room's name, as the instructor gave it.
    pub name: String,
}

/// `GET /api/rooms/{id}/board` → 200: one row per learner in the roster,
/// in the order they joined, and the class at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub learners: Vec<BoardRow>,
    #[serde(default)]
    pub summary: BoardSummary,
}

/// The strip above the board: how many learners are at each step, and how
/// many passed each task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSummary {
    /// `"lesson#step"` → learners whose latest step it is.
    pub steps: BTreeMap<String, u32>,
    /// `"lesson/task"` → learners who passed it.
    pub tasks: BTreeMap<String, u32>,
}

/// One learner on the instructor's board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    /// The learner's id.
    pub learner: String,
    /// The name they joined with.
    pub name: String,
    /// The lesson of their latest progress step, if any.
    pub lesson: Option<String>,
    /// Their latest progress step's anchor, if any.
    pub step: Option<String>,
    /// Tasks ever passed, across lessons.
    pub tasks_passed: u64,
    /// Best grading score per exercise id, as `"score/max"` (exercises
    /// never graded are absent).
    pub scores: BTreeMap<String, String>,
    /// Their last activity, in Unix milliseconds (0 if unknown).
    pub last_active: u64,
    /// Console errors (error replies and refusals) in the last five
    /// minutes, from their live console.
    pub errors_5m: u32,
    /// Whether they seem stuck: present but no new step for
    /// `--stuck-minutes`, or `--stuck-errors` errors in a row.
    pub stuck: bool,
    /// Whether their hand is raised (`POST /api/rooms/{id}/hand`).
    pub hand_raised: bool,
    /// Whether a page of theirs is connected to the room now.
    #[serde(default)]
    pub online: bool,
    /// Whether they follow the instructor (follow-me).
    #[serde(default)]
    pub following: bool,
}

/// `GET /api/rooms/{id}/export.json` → 200: what the CSV holds, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassExport {
    pub learners: Vec<ExportRow>,
}

/// One learner in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRow {
    pub learner: String,
    pub name: String,
    pub steps_done: u64,
    pub tasks_passed: u64,
    /// Best score per exercise graded: checks passed and out of how many.
    pub scores: BTreeMap<String, ExportScore>,
    /// From joining (or the first step, if earlier) to the last activity.
    pub minutes_spent: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportScore {
    pub score: u32,
    pub max: u32,
}

/// `POST /api/rooms/{id}/hand` body (learner bearer, a member of the room).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandChange {
    /// True raises the hand (a second raise keeps the first one's time),
    /// false lowers it.
    pub raised: bool,
}

/// `GET /api/rooms/{id}/hands` → 200: the raised hands, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hands {
    pub hands: Vec<RaisedHand>,
}

/// One raised hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedHand {
    /// The learner's id.
    pub learner: String,
    /// The name they joined with.
    pub name: String,
    /// When they raised it, in Unix milliseconds.
    pub raised_at: u64,
}
