//! `WsClient`: the console's WebSocket as a test drives it. It connects,
//! takes the `SessionState` the server sends first, sends typed
//! `ClientMessage`s and reads typed `ServerMessage`s with a timeout.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads `socket` for `how_long`, answering the server's pings as a
/// browser does (tungstenite queues the pong as it reads the ping);
/// whether it was still open at the end.
pub(super) async fn stays_open(socket: &mut Socket, how_long: Duration) -> bool {
    let until = tokio::time::Instant::now() + how_long;
    loop {
        match tokio::time::timeout_at(until, socket.next()).await {
            Err(_) => return true,
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => return false,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// How long any one message may take to arrive.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WsClient {
    socket: Socket,
    /// `in_multi` of the `SessionState` the server sent when the socket opened.
    pub opened_in_multi: bool,
    next_seq: u64,
}

/// The `seq` a message carries, if its kind has one.
fn seq_of(message: &impl serde::Serialize) -> Option<u64> {
    serde_json::to_value(message).ok()?.get("seq")?.as_u64()
}

impl WsClient {
    /// Opens `url` and takes the `SessionState` the server sends first.
    pub async fn connect(url: &str) -> WsClient {
        Self::try_connect(url)
            .await
            .unwrap_or_else(|(status, body)| panic!("websocket connects: {status} {body}"))
    }

    /// Opens `url` like `connect`, or the refused upgrade's (status, body).
    pub async fn try_connect(url: &str) -> Result<WsClient, (u16, String)> {
        match tokio_tungstenite::connect_async(url).await {
            Ok((socket, _)) => {
                let mut client = WsClient {
                    socket,
                    opened_in_multi: false,
                    next_seq: 1,
                };
                match client.next().await {
                    ServerMessage::SessionState { in_multi } => client.opened_in_multi = in_multi,
                    other => panic!("a socket opens with SessionState, got {other:?}"),
                }
                Ok(client)
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err((
                response.status().as_u16(),
                response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            )),
            Err(e) => panic!("websocket connects: {url}: {e}"),
        }
    }

    /// A fresh sequence number for a request.
    pub fn seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        let text = serde_json::to_string(message).expect("ClientMessage JSON");
        self.send_text(&text).await;
    }

    /// Sends a text frame as is (for malformed input).
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("the socket takes a message");
    }

    /// The next server message, whatever it is.
    pub async fn next(&mut self) -> ServerMessage {
        loop {
            let message = tokio::time::timeout(MESSAGE_TIMEOUT, self.socket.next())
                .await
                .expect("a message in time")
                .expect("the socket stays open")
                .expect("a valid frame");
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).expect("a ServerMessage");
            }
        }
    }

    /// Sends `message` and returns the reply with its `seq`; chart frames,
    /// notices and other pushed messages on the way are skipped.
    pub async fn request(&mut self, message: ClientMessage) -> ServerMessage {
        let seq = seq_of(&message).expect("a request has a seq");
        self.send(&message).await;
        loop {
            let reply = self.next().await;
            if seq_of(&reply) == Some(seq) {
                return reply;
            }
        }
    }

    /// Runs one console line and returns its reply.
    pub async fn exec(&mut self, line: &str) -> ServerMessage {
        let seq = self.seq();
        self.request(ClientMessage::Exec {
            seq,
            line: line.into(),
        })
        .await
    }

    /// Reads for `how_long` as a live page would; whether it stayed open.
    pub async fn stays_open(&mut self, how_long: Duration) -> bool {
        stays_open(&mut self.socket, how_long).await
    }

    /// Waits until the server closes the socket.
    pub async fn expect_closed(&mut self) {
        // One deadline for the whole wait: pings keep arriving on a socket
        // the server forgot to close.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("the server closes the socket in time");
            match next {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(Message::Text(text))) => {
                    let message: ServerMessage = serde_json::from_str(&text).expect("JSON");
                    assert!(
                        matches!(
                            message,
                            ServerMessage::Notice { .. } | ServerMessage::Frame { .. }
                        ),
                        "expected the socket to close, got {message:?}"
                    );
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
