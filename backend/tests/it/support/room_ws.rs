//! `RoomClient`: a page's room socket as a test drives it. It connects,
//! says hello with a token, takes the answer (`Welcome` or the refusal),
//! sends typed `RoomClientMessage`s and reads typed `RoomServerMessage`s
//! with a timeout.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{RoomClientMessage, RoomServerMessage};
use tokio_tungstenite::tungstenite::Message;

use super::TestApp;

use super::ws::Socket;

/// How long any one message may take to arrive.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(15);

pub struct RoomClient {
    socket: Socket,
    next_seq: u64,
}

fn seq_of(message: &impl serde::Serialize) -> Option<u64> {
    serde_json::to_value(message).ok()?.get("seq")?.as_u64()
}

impl TestApp {
    /// `GET /ws/room?room=<room>` as a URL.
    pub fn room_ws_url(&self, room: &str) -> String {
        format!(
            "{}/ws/room?room={room}",
            self.base.replace("http://", "ws://")
        )
    }

    /// A room socket that said hello with `token`: the client and the
    /// server's first answer (`Welcome`, or an `Error` before the close).
    pub async fn room_socket(&self, room: &str, token: &str) -> (RoomClient, RoomServerMessage) {
        let mut client = RoomClient::open(&self.room_ws_url(room)).await;
        client
            .send(&RoomClientMessage::Hello {
                token: token.to_owned(),
            })
            .await;
        let first = client.next().await;
        (client, first)
    }

    /// A room socket that was welcomed.
    pub async fn room_member(&self, room: &str, token: &str) -> RoomClient {
        let (client, first) = self.room_socket(room, token).await;
        assert!(
            matches!(first, RoomServerMessage::Welcome { .. }),
            "expected a welcome, got {first:?}"
        );
        client
    }
}

impl RoomClient {
    pub async fn open(url: &str) -> RoomClient {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("room socket connects: {url}: {e}"));
        RoomClient {
            socket,
            next_seq: 1,
        }
    }

    pub fn seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    pub async fn send(&mut self, message: &RoomClientMessage) {
        let text = serde_json::to_string(message).expect("RoomClientMessage JSON");
        self.send_text(&text).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("the socket takes a message");
    }

    /// The next message, or `None` once the server closed the socket.
    pub async fn try_next(&mut self) -> Option<RoomServerMessage> {
        loop {
            let message = tokio::time::timeout(MESSAGE_TIMEOUT, self.socket.next())
                .await
                .expect("a message (or the close) in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).expect("a RoomServerMessage"))
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Reads for `how_long` as a live page would; whether it stayed open.
    pub async fn stays_open(&mut self, how_long: Duration) -> bool {
        super::ws::stays_open(&mut self.socket, how_long).await
    }

    /// Waits (five seconds at most, whatever arrives meanwhile) until the
    /// server closes the socket.
    pub async fn expect_closed(&mut self) {
        assert!(
            !self.stays_open(Duration::from_secs(5)).await,
            "the server closes the socket in time"
        );
    }

    pub async fn next(&mut self) -> RoomServerMessage {
        self.try_next().await.expect("the socket stays open")
    }

    /// The first message `pick` accepts, skipping others (presence, frames).
    pub async fn wait_for<T>(&mut self, mut pick: impl FnMut(RoomServerMessage) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    /// The next `count` messages `pick` accepts, in order, skipping others.
    pub async fn collect<T>(
        &mut self,
        count: usize,
        mut pick: impl FnMut(RoomServerMessage) -> Option<T>,
    ) -> Vec<T> {
        let mut found = Vec::with_capacity(count);
        while found.len() < count {
            found.push(self.wait_for(&mut pick).await);
        }
        found
    }

    /// Every chart frame up to and including the scenario's `Done`.
    pub async fn frames_until_done(&mut self) -> Vec<protocol::ChartFrame> {
        let mut frames = Vec::new();
        loop {
            let frame = self
                .wait_for(|m| match m {
                    RoomServerMessage::Frame { frame } => Some(frame),
                    _ => None,
                })
                .await;
            let done = matches!(frame, protocol::ChartFrame::Done { .. });
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// Sends a request (its `seq` set by `make`) and returns the answer
    /// with that `seq`.
    pub async fn request(
        &mut self,
        make: impl FnOnce(u64) -> RoomClientMessage,
    ) -> RoomServerMessage {
        let seq = self.seq();
        let message = make(seq);
        self.send(&message).await;
        self.wait_for(|m| (seq_of(&m) == Some(seq)).then_some(m))
            .await
    }

    /// Like `request`, and the answer must be `Ack`.
    pub async fn ack(&mut self, make: impl FnOnce(u64) -> RoomClientMessage) {
        let answer = self.request(make).await;
        assert!(
            matches!(answer, RoomServerMessage::Ack { .. }),
            "expected an ack, got {answer:?}"
        );
    }
}
