//! Console sessions: the exec request/response shapes, WebSocket messages,
//! notices and the events observers (an instructor's class) can follow.

use serde::{Deserialize, Serialize};

use crate::charts::{AnomalySim, ChartFrame, MemoryKind, RateLimitSim};
use crate::error::ErrorBody;
use crate::reply::Reply;

/// `POST /api/sessions` → 201. With a learner token as the bearer the
/// session belongs to that learner (and a learner's live session is handed
/// back rather than a second one started); without one, an anonymous
/// learner is created and its token comes back once, here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreated {
    /// Unguessable id; send it as `Authorization: Bearer <id>` to
    /// `/api/exec`, and as `?session=` to the WebSocket.
    pub session: String,
    /// The learner the session belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner: Option<String>,
    /// The new anonymous learner's token, when the request had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learner_token: Option<String>,
}

/// `GET /api/sessions` (`Authorization: Bearer <session>`): the session
/// is alive, and how many of its WebSockets are open against its cap. A
/// page whose socket was refused tells "open in too many tabs" (wait for
/// one to close) from "gone" (a 401: start a new one) by asking this, as a
/// browser is not told why a WebSocket upgrade failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    pub sockets: u32,
    pub sockets_per_session: u32,
}

/// `POST /api/exec` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// One console line, exactly as typed (`3 PING`, `SET k "a b"`).
    pub line: String,
}

/// The outcome of one console line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecResponse {
    /// The reply (the last one, when the line had a repeat count).
    pub reply: Reply,
    /// `format_cli` output for every run of the line, as redis-cli prints
    /// it, without the trailing newline.
    pub text: String,
    /// Server-side time spent in Redis, in microseconds, over all runs.
    pub micros: u64,
    /// Whether the session is inside MULTI after this line (the console
    /// shows redis-cli's `(TX)` prompt).
    #[serde(default)]
    pub in_multi: bool,
    /// How often the line ran (redis-cli's `N COMMAND`).
    #[serde(default = "one")]
    pub repeat: u64,
    /// Things the learner must be told, such as a sandbox restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The sandbox process was replaced; its data is gone.
    Restarted,
    /// The learner asked for a fresh sandbox.
    Reset,
    /// A script ran past the deadline and was stopped with SCRIPT KILL.
    ScriptKilled,
    /// Something the server did for the learner, worth knowing but not a
    /// warning (a lesson's starting data loaded).
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// A sentence for the learner, with the reason when known.
    pub message: String,
}

/// What happened in a session, for observers (mirroring a console).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    Command {
        line: String,
        text: String,
        micros: u64,
        is_error: bool,
    },
    Refused {
        line: String,
        error: ErrorBody,
    },
    Notice {
        notice: Notice,
    },
    /// The session was deleted or reaped; its sandbox is gone.
    Ended,
}

/// Browser → server over `GET /ws?session=<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Exec {
        seq: u64,
        line: String,
    },
    Reset {
        seq: u64,
    },
    Ping {
        seq: u64,
    },
    /// Start a rate-limit simulation; frames follow until it ends.
    StartRateLimit {
        seq: u64,
        sim: RateLimitSim,
    },
    /// Stop any running simulation.
    StopSimulation {
        seq: u64,
    },
    /// Turn the background latency probe (PING every 100 ms) on or off.
    LatencyProbe {
        seq: u64,
        on: bool,
    },
    /// Time N feature reads as N commands, one pipeline and one HMGET.
    CompareReads {
        seq: u64,
        n: u32,
    },
    /// Start the anomaly-detection generator.
    StartAnomaly {
        seq: u64,
        sim: AnomalySim,
    },
    /// Add a spike to the running generator's next sample.
    InjectSpike {
        seq: u64,
    },
    /// Start the streams simulation (a producer and three consumers).
    StartStreams {
        seq: u64,
        duration_ms: u64,
    },
    /// Kill consumer `consumer` (0-based): it stops acknowledging.
    KillConsumer {
        seq: u64,
        consumer: usize,
    },
    /// Hand a dead consumer's pending messages to a live one (XAUTOCLAIM).
    Recover {
        seq: u64,
    },
    /// Grow a collection past its compact encoding, measuring as it grows.
    GrowMemory {
        seq: u64,
        kind: MemoryKind,
        max: u32,
    },
    /// Store one embedding three ways and compare their sizes.
    CompareEmbeddings {
        seq: u64,
    },
    /// The learner opened lesson `lesson` (its slug): load its starting
    /// data if this sandbox does not have it yet, and end a transaction
    /// left open elsewhere. Answered by `LessonOpened`.
    OpenLesson {
        seq: u64,
        lesson: String,
    },
    /// Run block `block` (0-based, as in `LessonPage::blocks`) of lesson
    /// `lesson` exactly as the lesson test runs it: a strict block line by
    /// line as written, any other with the paste conveniences. Answered by
    /// `BlockRan`.
    RunBlock {
        seq: u64,
        lesson: String,
        block: usize,
    },
}

/// One line of a block run by `RunBlock`: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockLine {
    /// The line as sent to the gateway.
    pub line: String,
    /// The reply, when the gateway ran the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ExecResponse>,
    /// The refusal or failure, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// Server → browser. Replies echo the request's `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Result {
        seq: u64,
        #[serde(flatten)]
        result: ExecResponse,
    },
    Error {
        seq: u64,
        error: ErrorBody,
    },
    /// The sandbox was replaced by a fresh one (answers `Reset`).
    ResetDone {
        seq: u64,
    },
    /// Answers `Ping`.
    Pong {
        seq: u64,
    },
    Notice {
        notice: Notice,
    },
    /// The request was carried out: a simulation started or stopped, a
    /// spike or a consumer kill was delivered, a measurement's frame was
    /// sent just before this.
    Ack {
        seq: u64,
    },
    /// A live chart frame.
    Frame {
        frame: ChartFrame,
    },
    /// Sent once when a socket opens: the session's state on the server,
    /// so a reloaded page shows the real `(TX)` prompt.
    SessionState {
        in_multi: bool,
    },
    /// Answers `OpenLesson`. `notice` says what was done (starting data
    /// loaded, an open transaction discarded), if anything.
    LessonOpened {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<Notice>,
        in_multi: bool,
    },
    /// Answers `RunBlock`: every line of the block in order. A block stops
    /// at its first failure only where the lesson test would.
    BlockRan {
        seq: u64,
        lines: Vec<BlockLine>,
        in_multi: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_response_has_the_documented_shape() {
        let response = ExecResponse {
            reply: Reply::Integer { value: 1 },
            text: "(integer) 1".into(),
            micros: 12,
            in_multi: false,
            repeat: 1,
            notices: vec![],
        };
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["reply"]["type"], "integer");
        assert_eq!(json["text"], "(integer) 1");
        assert_eq!(json["micros"], 12);
        assert!(json.get("notices").is_none());
    }

    #[test]
    fn websocket_messages_are_tagged_and_echo_seq() {
        let msg: ClientMessage =
            serde_json::from_str(r#"{"type":"exec","seq":7,"line":"PING"}"#).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Exec {
                seq: 7,
                line: "PING".into()
            }
        );
        let out = ServerMessage::Result {
            seq: 7,
            result: ExecResponse {
                reply: Reply::status("PONG"),
                text: "PONG".into(),
                micros: 3,
                in_multi: false,
                repeat: 1,
                notices: vec![],
            },
        };
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["type"], "result");
        assert_eq!(json["seq"], 7);
        assert_eq!(json["text"], "PONG");
        let back: ServerMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, out);
    }
}
