//! The socket's wire: JSON text frames in and out, and what the loop in
//! `ws.rs` reacts to.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use protocol::{ClientMessage, Notice, ServerMessage};
use tokio_tungstenite::tungstenite;

/// One thing the socket's loop reacts to.
pub(super) enum Event {
    Frame(protocol::ChartFrame),
    Notice(Notice),
    Client(ClientMessage),
    /// The running request finished (boxed: replies are large).
    Answer(Box<super::handlers::Answer>),
    Violation(String),
    /// A frame over the size cap, refused from its header (close 1009).
    TooBig,
    Closed,
    Tick,
}

/// Sends one message as a JSON text frame; false once the socket is gone
/// or its peer has not taken the message `within` (`heartbeat::send`).
pub(super) async fn send(
    socket: &mut WebSocket,
    within: Duration,
    message: &ServerMessage,
) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => crate::heartbeat::send(socket, Message::Text(text.into()), within).await,
        Err(_) => false,
    }
}

/// What the browser sent, as an event; `None` for keep-alive frames.
pub(super) fn read(incoming: Option<Result<Message, axum::Error>>) -> Option<Event> {
    Some(match incoming {
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
            Ok(message) => Event::Client(message),
            Err(e) => Event::Violation(format!(
                "Not a console message ({}). Expected JSON like {{\"type\":\"exec\",\"seq\":1,\"line\":\"PING\"}}.",
                crate::http::body::plain(&e)
            )),
        },
        Some(Ok(Message::Binary(_))) => Event::Violation(
            "Binary messages are not part of the console protocol; send JSON text.".into(),
        ),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return None,
        Some(Err(e)) if too_big(&e) => Event::TooBig,
        Some(Ok(Message::Close(_)) | Err(_)) | None => Event::Closed,
    })
}

/// Whether the socket refused a frame or message for its size.
fn too_big(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|inner| matches!(inner, tungstenite::Error::Capacity(_)))
}

/// How fast the loop reads a socket (`ws_messages_per_sec`, with a burst):
/// once the budget is spent, the socket is not read until a message's
/// worth has come back, so a flood waits in the client's own buffers and
/// costs the server no more than the budget.
pub(super) struct Pace {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Pace {
    pub(super) fn new(per_sec: u32, burst: u32) -> Pace {
        let burst = f64::from(burst.max(1));
        Pace {
            per_sec: f64::from(per_sec.max(1)),
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Whether a message may be read now (the budget refilled to now).
    pub(super) fn may_read(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.per_sec;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        self.tokens >= 1.0
    }

    /// Counts one message read.
    pub(super) fn spend(&mut self) {
        self.tokens -= 1.0;
    }

    /// How long until the next message may be read.
    pub(super) fn wait(&self) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / self.per_sec).max(0.0))
    }
}
