//! The one JSON error shape every HTTP endpoint and WebSocket reply uses,
//! and the closed set of codes a program can match on.

use serde::{Deserialize, Serialize};

/// Every error code the server sends. Serialized in snake_case, so the
/// JSON is `"code":"rate_limited"`; programs match on the variant, never on
/// the text. The HTTP status is decided from this enum in one place
/// (`backend/src/http/error.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // --- the line itself
    EmptyLine,
    InvalidArguments,
    InvalidRepeat,
    LineTooLong,
    TooManyArguments,
    // --- the policy
    CommandRefused,
    SubcommandRefused,
    ConfigRefused,
    InfoRefused,
    BlockingForever,
    BlockingTimeout,
    TransactionFull,
    // --- pacing
    RateLimited,
    Busy,
    // --- the sandbox
    SandboxRestarted,
    SandboxUnavailable,
    ReplyTooLarge,
    UnreadableReply,
    // --- admission
    ServerFull,
    SpawnRate,
    TooManySandboxes,
    TooManySockets,
    ShuttingDown,
    // --- requests
    NotFound,
    Unauthorized,
    InvalidRequest,
    MethodNotAllowed,
    HeadersTooLarge,
    ProtocolViolation,
    // --- the control store and learners
    /// The control store could not confirm a write (or is unreachable).
    StoreUnavailable,
    /// A learner token is not allowed to do this.
    Forbidden,
    // --- classrooms
    /// The room's roster is locked: it takes no new learners.
    RoomLocked,
    /// The room has as many learners as it may hold.
    RoomFull,
    // --- lessons and charts
    SetupFailed,
    SimulationFailed,
    // --- the browser's own
    /// The WebSocket dropped before the reply arrived (never sent by the
    /// server; the browser makes it).
    ConnectionLost,
    /// The WebSocket is not open right now (browser-made).
    NotConnected,
    /// A code this build does not know (a newer server): shown as is.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code but `Unknown`, in declaration order.
    pub const ALL: [ErrorCode; 37] = [
        ErrorCode::EmptyLine,
        ErrorCode::InvalidArguments,
        ErrorCode::InvalidRepeat,
        ErrorCode::LineTooLong,
        ErrorCode::TooManyArguments,
        ErrorCode::CommandRefused,
        ErrorCode::SubcommandRefused,
        ErrorCode::ConfigRefused,
        ErrorCode::InfoRefused,
        ErrorCode::BlockingForever,
        ErrorCode::BlockingTimeout,
        ErrorCode::TransactionFull,
        ErrorCode::RateLimited,
        ErrorCode::Busy,
        ErrorCode::SandboxRestarted,
        ErrorCode::SandboxUnavailable,
        ErrorCode::ReplyTooLarge,
        ErrorCode::UnreadableReply,
        ErrorCode::ServerFull,
        ErrorCode::SpawnRate,
        ErrorCode::TooManySandboxes,
        ErrorCode::TooManySockets,
        ErrorCode::ShuttingDown,
        ErrorCode::NotFound,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotAllowed,
        ErrorCode::HeadersTooLarge,
        ErrorCode::ProtocolViolation,
        ErrorCode::StoreUnavailable,
        ErrorCode::Forbidden,
        ErrorCode::RoomLocked,
        ErrorCode::RoomFull,
        ErrorCode::SetupFailed,
        ErrorCode::SimulationFailed,
        ErrorCode::ConnectionLost,
        ErrorCode::NotConnected,
    ];

    /// The wire name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            EmptyLine => "empty_line",
            InvalidArguments => "invalid_arguments",
            InvalidRepeat => "invalid_repeat",
            LineTooLong => "line_too_long",
            TooManyArguments => "too_many_arguments",
            CommandRefused => "command_refused",
            SubcommandRefused => "subcommand_refused",
            ConfigRefused => "config_refused",
            InfoRefused => "info_refused",
            BlockingForever => "blocking_forever",
            BlockingTimeout => "blocking_timeout",
            TransactionFull => "transaction_full",
            RateLimited => "rate_limited",
            Busy => "busy",
            SandboxRestarted => "sandbox_restarted",
            SandboxUnavailable => "sandbox_unavailable",
            ReplyTooLarge => "reply_too_large",
            UnreadableReply => "unreadable_reply",
            ServerFull => "server_full",
            SpawnRate => "spawn_rate",
            TooManySandboxes => "too_many_sandboxes",
            TooManySockets => "too_many_sockets",
            ShuttingDown => "shutting_down",
            NotFound => "not_found",
            Unauthorized => "unauthorized",
            InvalidRequest => "invalid_request",
            MethodNotAllowed => "method_not_allowed",
            HeadersTooLarge => "headers_too_large",
            ProtocolViolation => "protocol_violation",
            StoreUnavailable => "store_unavailable",
            Forbidden => "forbidden",
            RoomLocked => "room_locked",
            RoomFull => "room_full",
            SetupFailed => "setup_failed",
            SimulationFailed => "simulation_failed",
            ConnectionLost => "connection_lost",
            NotConnected => "not_connected",
            Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// Programs written against the JSON compare codes with their wire names.
impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `{"error":{"code":"…","message":"…"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable snake_case code a program can match on.
    pub code: ErrorCode,
    /// A sentence for a human: what went wrong and what to do instead.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody::new(code, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_the_documented_shape() {
        let json =
            serde_json::to_string(&ApiError::new(ErrorCode::NotFound, "No such lesson.")).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"not_found","message":"No such lesson."}}"#
        );
    }

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert!(code == code.as_str());
        }
        let unknown: ErrorCode = serde_json::from_str("\"from_the_future\"").unwrap();
        assert_eq!(unknown, ErrorCode::Unknown);
    }
}
