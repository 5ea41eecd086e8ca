//! What the redis-tutor browser app and its server share: the typed
//! messages of both boundaries (HTTP and WebSocket), the error codes, the
//! simulator bounds, and the pure logic both sides run on a console line
//! (redis-cli's argument splitting and paste rules, `format_cli`, command
//! hints).
//!
//! It depends on serde alone, so it compiles for wasm32 and native and
//! neither side can drift from the other's idea of a message.

pub mod args;
pub mod charts;
pub mod commands;
pub mod engine;
pub mod error;
pub mod grading;
pub mod learner;
pub mod lesson;
pub mod live;
pub mod paste;
pub mod reply;
pub mod rooms;
pub mod session;
pub mod sim_limits;

pub use args::{parse_line, split_args, CommandLine, SplitError};
pub use charts::{
    Algorithm, AnomalySim, AnomalyStats, ChartFrame, ConsumerView, MemoryKind, MemoryPoint,
    RateCounts, RateLimitSim,
};
pub use commands::{ArgDoc, CommandCatalog, CommandDoc, Completion};
pub use engine::EngineInfo;
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use grading::{
    CheckInfo, CheckReport, ExerciseInfo, Figure, FunctionSpec, GradeReport, GradeStatus,
};
pub use learner::{Health, LearnerCreated, Me, MeChange, NewLearner, ProgressStep, TaskOutcome};
pub use lesson::{CheckResult, LessonBlock, LessonPage, LessonSummary, LessonTask, TaskResult};
pub use live::{
    AutoplayState, ConsoleLine, Place, RoomClientMessage, RoomRole, RoomServerMessage, Scenario,
};
pub use reply::{format_cli, format_cli_for, output_mode, OutputMode, Reply};
pub use rooms::{
    Board, BoardRow, BoardSummary, ClassExport, ExportRow, ExportScore, HandChange, Hands,
    JoinRoom, MyRoom, NewRoom, RaisedHand, RoomCreated, RoomInfo, RoomJoined, RoomLock,
};
pub use session::{
    BlockLine, ClientMessage, ExecRequest, ExecResponse, Notice, NoticeKind, ServerMessage,
    SessionCreated, SessionEvent, SessionStatus,
};
