//! A class, live: the messages of `GET /ws/room?room=<id>`, the socket
//! every page in a room opens (a learner's lesson page, the instructor's
//! screen, the projector). The first message authenticates (`Hello`), so
//! no token ever sits in a URL or a server log.
//!
//! What flows: the instructor's position (follow-me), every line of the
//! room's demo console, the demo sandbox's chart frames (scenarios),
//! solutions revealed, the pace lock, autoplay's progress; and, for the
//! instructor alone, a learner's console mirrored read-only.

use serde::{Deserialize, Serialize};

use crate::charts::{AnomalySim, ChartFrame, MemoryKind, RateLimitSim};
use crate::error::ErrorBody;
use crate::session::Notice;

/// Who a room socket speaks for, decided by the token in `Hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    /// The instructor's token: may steer the room.
    Instructor,
    /// A learner's token, a member of the room.
    Learner,
}

/// A place in the course: a lesson and, optionally, a step anchor in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub lesson: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// What the instructor starts on the room's demo sandbox; its chart frames
/// reach every screen in the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "snake_case")]
pub enum Scenario {
    /// The rate-limit simulator (a burst at the window boundary with
    /// `bursty`).
    RateLimit { sim: RateLimitSim },
    /// The anomaly generator.
    Anomaly { sim: AnomalySim },
    /// A spike in the running anomaly generator's next sample.
    Spike,
    /// The streams simulation: a producer and three consumers.
    Streams { duration_ms: u64 },
    /// Kill stream consumer `consumer` (0-based): it stops acknowledging.
    KillConsumer { consumer: usize },
    /// Hand the dead consumer's pending messages to a live one.
    Recover,
    /// Grow a collection past its compact encoding, measuring as it grows.
    GrowMemory { kind: MemoryKind, max: u32 },
    /// Stop whatever simulation runs.
    Stop,
}

/// Browser → server over the room socket. Every request but `Hello`
/// carries a `seq` its answer echoes (`Ack`, `Done` or `Error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomClientMessage {
    /// The first message: a learner's token (a member of the room) or the
    /// instructor's. Answered by `Welcome`, or an error and the close.
    Hello {
        token: String,
    },
    Ping {
        seq: u64,
    },
    /// Learner: follow the instructor (`true`) or break away (`false`).
    Follow {
        seq: u64,
        on: bool,
    },
    /// Instructor: the demo sandbox's session id, made if there is none;
    /// answered by `Demo`. The instructor's console uses it on `/ws`.
    Demo {
        seq: u64,
    },
    /// Instructor: move every follower to `place`.
    Goto {
        seq: u64,
        place: Place,
    },
    /// Instructor: reset every member's live sandbox and load `lesson`'s
    /// starting data; answered by `Done` with how many.
    ResetAll {
        seq: u64,
        lesson: String,
    },
    /// Instructor: show task `task` (0-based) of `lesson`'s solution on
    /// every page.
    Reveal {
        seq: u64,
        lesson: String,
        task: usize,
    },
    /// Instructor: lock every step after `place` (`None` unlocks).
    Pace {
        seq: u64,
        place: Option<Place>,
    },
    /// Instructor: start a scenario on the demo sandbox.
    Scenario {
        seq: u64,
        scenario: Scenario,
    },
    /// Instructor: run `lesson`'s blocks one by one in the demo sandbox,
    /// `pace_ms` apart, moving followers along.
    Autoplay {
        seq: u64,
        lesson: String,
        pace_ms: u64,
    },
    /// Instructor: pause (`true`) or resume (`false`) autoplay.
    AutoplayPause {
        seq: u64,
        paused: bool,
    },
    /// Instructor: stop autoplay.
    AutoplayStop {
        seq: u64,
    },
    /// Instructor: mirror learner `learner`'s console on this socket
    /// (`None` stops).
    Watch {
        seq: u64,
        learner: Option<String>,
    },
}

/// One console line as a room sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleLine {
    /// The line as typed.
    pub line: String,
    /// What redis-cli would print (or the refusal's sentence).
    pub text: String,
    pub is_error: bool,
}

/// Where autoplay is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoplayState {
    pub lesson: String,
    /// The block about to run or running (0-based).
    pub block: usize,
    pub blocks: usize,
    pub paused: bool,
    /// True once the last block ran or it was stopped.
    pub finished: bool,
}

/// Server → browser over the room socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomServerMessage {
    /// Answers `Hello`: the room as it stands.
    Welcome {
        room: String,
        name: String,
        role: RoomRole,
        /// The instructor's position, if they set one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<Place>,
        /// The pace lock, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pace: Option<Place>,
        /// Whether this learner follows (learners start following).
        following: bool,
        /// Whether this learner's hand is raised.
        #[serde(default)]
        hand_raised: bool,
        /// The demo console's latest lines, oldest first, so a page that
        /// opens late (the projector) shows what was just typed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        console: Vec<ConsoleLine>,
    },
    Ack {
        seq: u64,
    },
    /// A request that did work for many: how many it reached.
    Done {
        seq: u64,
        count: u32,
        failed: u32,
    },
    /// Answers `Demo`.
    Demo {
        seq: u64,
        session: String,
    },
    Error {
        seq: u64,
        error: ErrorBody,
    },
    /// Follow-me: the instructor is at `place`.
    Goto {
        place: Place,
    },
    /// A line of the room's demo console.
    Console {
        #[serde(flatten)]
        line: ConsoleLine,
    },
    /// A chart frame from the demo sandbox's scenario.
    Frame {
        frame: ChartFrame,
    },
    /// Show this task's solution.
    Reveal {
        lesson: String,
        task: usize,
    },
    /// Steps after `place` are locked (`None`: nothing is).
    Pace {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<Place>,
    },
    Autoplay {
        state: AutoplayState,
    },
    /// Something the room wants said (the instructor reset your sandbox).
    Notice {
        notice: Notice,
    },
    /// Instructor: who is connected and who follows.
    Presence {
        connected: u32,
        following: u32,
    },
    /// Instructor: a line of the learner being watched.
    Watched {
        learner: String,
        #[serde(flatten)]
        line: ConsoleLine,
    },
    /// The room ended; the socket closes after this.
    Ended,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_snake_case_and_round_trip() {
        let hello: RoomClientMessage =
            serde_json::from_str(r#"{"type":"hello","token":"t"}"#).unwrap();
        assert_eq!(hello, RoomClientMessage::Hello { token: "t".into() });
        let goto = RoomClientMessage::Goto {
            seq: 3,
            place: Place {
                lesson: "hashes".into(),
                step: Some("hset".into()),
            },
        };
        let json = serde_json::to_value(&goto).unwrap();
        assert_eq!(json["type"], "goto");
        assert_eq!(json["place"]["lesson"], "hashes");
        let back: RoomClientMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, goto);
        let scenario: RoomClientMessage =
            serde_json::from_str(r#"{"type":"scenario","seq":1,"scenario":{"scenario":"spike"}}"#)
                .unwrap();
        assert_eq!(
            scenario,
            RoomClientMessage::Scenario {
                seq: 1,
                scenario: Scenario::Spike
            }
        );
    }

    #[test]
    fn a_console_line_is_flat_in_its_message() {
        let out = RoomServerMessage::Console {
            line: ConsoleLine {
                line: "PING".into(),
                text: "PONG".into(),
                is_error: false,
            },
        };
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["type"], "console");
        assert_eq!(json["text"], "PONG");
        assert_eq!(
            serde_json::from_value::<RoomServerMessage>(json).unwrap(),
            out
        );
    }
}
