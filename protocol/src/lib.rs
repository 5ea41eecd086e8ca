//! Typed messages shared by the redis-tutor browser app and its server.
//!
//! This crate is serde-only on purpose: it compiles for wasm32 and native,
//! so neither side can drift from the other's idea of a message.

pub mod args;
pub mod charts;
pub mod commands;
pub mod engine;
pub mod error;
pub mod lesson;
pub mod paste;
pub mod reply;
pub mod session;

pub use args::{parse_line, split_args, CommandLine, SplitError};
pub use charts::{
    Algorithm, AnomalySim, AnomalyStats, ChartFrame, ConsumerView, MemoryKind, MemoryPoint,
    RateCounts, RateLimitSim,
};
pub use commands::{ArgDoc, CommandCatalog, CommandDoc, Completion};
pub use engine::EngineInfo;
pub use error::{ApiError, ErrorBody};
pub use lesson::{CheckResult, LessonBlock, LessonPage, LessonSummary, LessonTask, TaskResult};
pub use reply::{format_cli, Reply};
pub use session::{
    ClientMessage, ExecRequest, ExecResponse, Notice, NoticeKind, ServerMessage, SessionCreated,
    SessionEvent,
};
