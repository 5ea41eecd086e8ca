//! The console's link to the server: a session (kept in localStorage so a
//! reload keeps the sandbox) and a WebSocket that reconnects by itself.
//! Requests carry a sequence number; replies resolve the matching waiter.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use gloo::net::http::Request;
use gloo::net::websocket::futures::WebSocket;
use gloo::net::websocket::Message;
use gloo::storage::{LocalStorage, Storage};
use gloo::timers::future::TimeoutFuture;
use leptos::prelude::*;
use protocol::{ClientMessage, ErrorBody, Notice, ServerMessage, SessionCreated};

const SESSION_KEY: &str = "redis-tutor.session";

/// The console's session id, once it has one.
pub fn session_id() -> Option<String> {
    LocalStorage::get::<String>(SESSION_KEY).ok()
}

/// What the connection indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    Connected,
    Reconnecting,
}

impl LinkStatus {
    pub fn label(self) -> &'static str {
        match self {
            LinkStatus::Connecting => "Connecting…",
            LinkStatus::Connected => "Connected",
            LinkStatus::Reconnecting => "Reconnecting…",
        }
    }
}

/// A failure to show in the transcript.
pub fn local_error(code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

#[derive(Default)]
pub struct Link {
    outbox: RefCell<Option<mpsc::UnboundedSender<String>>>,
    pending: RefCell<HashMap<u64, oneshot::Sender<ServerMessage>>>,
    next_seq: Cell<u64>,
}

impl Link {
    /// Sends a message and waits for the reply with the same `seq`.
    pub async fn request(&self, make: impl FnOnce(u64) -> ClientMessage) -> ServerMessage {
        let seq = self.next_seq.get() + 1;
        self.next_seq.set(seq);
        let (tx, rx) = oneshot::channel();
        let sent = match (
            self.outbox.borrow().as_ref(),
            serde_json::to_string(&make(seq)),
        ) {
            (Some(outbox), Ok(text)) => outbox.unbounded_send(text).is_ok(),
            _ => false,
        };
        if !sent {
            return ServerMessage::Error {
                seq,
                error: local_error(
                    "not_connected",
                    "The console is not connected to your sandbox right now; it reconnects by itself, so try again in a moment.",
                ),
            };
        }
        self.pending.borrow_mut().insert(seq, tx);
        rx.await.unwrap_or(ServerMessage::Error {
            seq,
            error: local_error(
                "connection_lost",
                "The connection dropped before the reply arrived. The command may or may not have run; the console is reconnecting.",
            ),
        })
    }

    fn resolve(&self, message: ServerMessage) -> Option<Pushed> {
        let seq = match &message {
            ServerMessage::Result { seq, .. }
            | ServerMessage::Error { seq, .. }
            | ServerMessage::ResetDone { seq }
            | ServerMessage::Started { seq }
            | ServerMessage::Pong { seq } => *seq,
            ServerMessage::Notice { notice } => return Some(Pushed::Notice(notice.clone())),
            ServerMessage::Frame { frame } => return Some(Pushed::Frame(frame.clone())),
        };
        match self.pending.borrow_mut().remove(&seq) {
            Some(waiter) => {
                let _ = waiter.send(message);
                None
            }
            // Errors without a request (seq 0) are worth showing.
            None => match message {
                ServerMessage::Error { error, .. } => Some(Pushed::Notice(Notice {
                    kind: protocol::NoticeKind::Restarted,
                    message: error.message,
                })),
                _ => None,
            },
        }
    }

    fn fail_pending(&self) {
        // Dropping the senders makes every waiter see `connection_lost`.
        self.pending.borrow_mut().clear();
        *self.outbox.borrow_mut() = None;
    }
}

fn ws_url(session: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}/ws?session={session}",
        location.host().ok()?
    ))
}

async fn new_session() -> Option<String> {
    let response = Request::post("/api/sessions").send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let created: SessionCreated = response.json().await.ok()?;
    let _ = LocalStorage::set(SESSION_KEY, &created.session);
    Some(created.session)
}

/// What the server sends without being asked.
pub enum Pushed {
    Notice(Notice),
    Frame(protocol::ChartFrame),
}

/// Keeps the link up for the life of the page. `on_push` receives pushed
/// notices (sandbox restarted, a new session) and chart frames.
pub fn run(link: Rc<Link>, status: RwSignal<LinkStatus>, on_push: impl Fn(Pushed) + 'static) {
    leptos::task::spawn_local(async move {
        let mut failures = 0u32;
        loop {
            let session = match LocalStorage::get::<String>(SESSION_KEY).ok() {
                Some(id) => Some(id),
                None => new_session().await,
            };
            let Some(session) = session else {
                status.set(LinkStatus::Reconnecting);
                TimeoutFuture::new(2_000).await;
                continue;
            };
            let Some(socket) = ws_url(&session).and_then(|url| WebSocket::open(&url).ok()) else {
                status.set(LinkStatus::Reconnecting);
                TimeoutFuture::new(2_000).await;
                continue;
            };
            let (mut write, mut read) = socket.split();
            let (outbox, mut queue) = mpsc::unbounded::<String>();
            *link.outbox.borrow_mut() = Some(outbox);
            leptos::task::spawn_local(async move {
                while let Some(text) = queue.next().await {
                    if write.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
            });
            // The first Pong proves the session is alive.
            let probe = link.clone();
            leptos::task::spawn_local(async move {
                if let ServerMessage::Pong { .. } =
                    probe.request(|seq| ClientMessage::Ping { seq }).await
                {
                    status.set(LinkStatus::Connected);
                }
            });
            let mut answered = false;
            while let Some(Ok(Message::Text(text))) = read.next().await {
                answered = true;
                failures = 0;
                if let Ok(message) = serde_json::from_str::<ServerMessage>(&text) {
                    if let Some(pushed) = link.resolve(message) {
                        on_push(pushed);
                    }
                }
            }
            link.fail_pending();
            status.set(LinkStatus::Reconnecting);
            if !answered {
                failures += 1;
                if failures >= 2 {
                    // The session is gone (expired or the server restarted).
                    LocalStorage::delete(SESSION_KEY);
                    failures = 0;
                    on_push(Pushed::Notice(Notice {
                        kind: protocol::NoticeKind::Restarted,
                        message:
                            "Your previous sandbox had expired, so you now have a new, empty one."
                                .to_owned(),
                    }));
                }
            }
            TimeoutFuture::new(if answered { 300 } else { 1_500 }).await;
        }
    });
}
