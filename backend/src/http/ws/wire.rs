//! The socket's wire: JSON text frames in and out, and what the loop in
//! `ws.rs` reacts to.

use axum::extract::ws::{Message, WebSocket};
use protocol::{ClientMessage, Notice, ServerMessage};

/// One thing the socket's loop reacts to.
pub(super) enum Event {
    Frame(protocol::ChartFrame),
    Notice(Notice),
    Client(ClientMessage),
    Violation(String),
    Closed,
    Tick,
}

/// Sends one message as a JSON text frame; false once the socket is gone.
pub(super) async fn send(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// What the browser sent, as an event; `None` for keep-alive frames.
pub(super) fn read(incoming: Option<Result<Message, axum::Error>>) -> Option<Event> {
    Some(match incoming {
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
            Ok(message) => Event::Client(message),
            Err(e) => Event::Violation(format!("Not a console message ({e}). Expected JSON like {{\"type\":\"exec\",\"seq\":1,\"line\":\"PING\"}}.")),
        },
        Some(Ok(Message::Binary(_))) => Event::Violation(
            "Binary messages are not part of the console protocol; send JSON text.".into(),
        ),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return None,
        Some(Ok(Message::Close(_)) | Err(_)) | None => Event::Closed,
    })
}
