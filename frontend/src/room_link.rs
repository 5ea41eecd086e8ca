//! The class's socket, `GET /ws/room?room=<id>`: says hello with a token,
//! matches replies to requests by `seq`, hands everything else to its
//! owner, and reconnects by itself (saying hello again) after a drop.
//! One loop per socket turns its input and the owner's requests into an
//! `Event` that one `match` handles. (The server pings; the browser
//! answers by itself.)

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::{pin_mut, select, FutureExt, SinkExt, StreamExt};
use gloo::net::websocket::futures::WebSocket;
use gloo::net::websocket::Message;
use gloo::timers::future::TimeoutFuture;
use leptos::prelude::*;
use protocol::{ErrorCode, RoomClientMessage, RoomServerMessage};

use crate::link::local_error;
use crate::page_socket;
use crate::room_status::backoff_ms;
pub use crate::room_status::RoomStatus;

/// What the owner's requests put on the socket.
enum Outgoing {
    Text(String),
    Close,
}

/// How one socket's life ended.
enum Outcome {
    /// Dropped or never opened; `welcomed` if the server had said welcome.
    Dropped {
        welcomed: bool,
    },
    Refused(String),
    Ended,
    /// The owner closed it.
    Closed,
}

enum Event {
    Incoming(Option<Result<Message, gloo::net::websocket::WebSocketError>>),
    Outgoing(Option<Outgoing>),
}

#[derive(Default)]
struct Inner {
    /// The open socket's queue (set from its opening, so `close` reaches
    /// a socket still waiting for its welcome).
    outbox: RefCell<Option<mpsc::UnboundedSender<Outgoing>>>,
    /// The server said welcome on this socket: requests may go.
    ready: Cell<bool>,
    pending: RefCell<HashMap<u64, oneshot::Sender<RoomServerMessage>>>,
    next_seq: Cell<u64>,
    closed: Cell<bool>,
}

impl Inner {
    async fn request(&self, make: impl FnOnce(u64) -> RoomClientMessage) -> RoomServerMessage {
        let seq = self.next_seq.get() + 1;
        self.next_seq.set(seq);
        let (tx, rx) = oneshot::channel();
        let sent = match (
            self.outbox.borrow().as_ref().filter(|_| self.ready.get()),
            serde_json::to_string(&make(seq)),
        ) {
            (Some(outbox), Ok(text)) => outbox.unbounded_send(Outgoing::Text(text)).is_ok(),
            _ => false,
        };
        if !sent {
            return RoomServerMessage::Error {
                seq,
                error: local_error(
                    ErrorCode::NotConnected,
                    "The class connection is not open right now; it reconnects by itself, so try again in a moment.",
                ),
            };
        }
        self.pending.borrow_mut().insert(seq, tx);
        rx.await.unwrap_or(RoomServerMessage::Error {
            seq,
            error: local_error(
                ErrorCode::ConnectionLost,
                "The connection to the class dropped before the reply arrived; it is reconnecting.",
            ),
        })
    }

    /// Hands a reply to its waiter; returns what nobody asked for.
    fn resolve(&self, message: RoomServerMessage) -> Option<RoomServerMessage> {
        let seq = match &message {
            RoomServerMessage::Ack { seq }
            | RoomServerMessage::Done { seq, .. }
            | RoomServerMessage::Demo { seq, .. }
            | RoomServerMessage::Error { seq, .. } => *seq,
            _ => return Some(message),
        };
        match self.pending.borrow_mut().remove(&seq) {
            Some(waiter) => {
                let _ = waiter.send(message);
                None
            }
            // An error nobody waits for is still worth showing; a late
            // ack is not.
            None => matches!(message, RoomServerMessage::Error { .. }).then_some(message),
        }
    }

    fn fail_pending(&self) {
        // Dropping the senders makes every waiter see `connection_lost`.
        self.pending.borrow_mut().clear();
        *self.outbox.borrow_mut() = None;
        self.ready.set(false);
    }

    fn close(&self) {
        self.closed.set(true);
        if let Some(outbox) = self.outbox.borrow_mut().take() {
            let _ = outbox.unbounded_send(Outgoing::Close);
        }
        self.pending.borrow_mut().clear();
    }
}

type Handler = Rc<dyn Fn(RoomServerMessage)>;

/// One room socket, opened for a room and a token.
#[derive(Clone, Copy)]
pub struct RoomLink {
    inner: StoredValue<Rc<Inner>, leptos::prelude::LocalStorage>,
    pub status: RwSignal<RoomStatus>,
}

impl RoomLink {
    pub fn new() -> RoomLink {
        RoomLink {
            inner: StoredValue::new_local(Rc::new(Inner::default())),
            status: RwSignal::new(RoomStatus::Idle),
        }
    }

    /// Connects to `room` as `token` (closing any socket open before);
    /// every message that is not a reply goes to `on_message`, `Welcome`
    /// included.
    pub fn open(
        &self,
        room: String,
        token: String,
        on_message: impl Fn(RoomServerMessage) + 'static,
    ) {
        self.close();
        let inner = Rc::new(Inner::default());
        self.inner.set_value(inner.clone());
        self.status.set(RoomStatus::Connecting);
        leptos::task::spawn_local(run(inner, self.status, room, token, Rc::new(on_message)));
    }

    /// Closes the socket for good (the page left, the learner left the room).
    pub fn close(&self) {
        if let Some(inner) = self.inner.try_get_value() {
            inner.close();
        }
        let _ = self.status.try_set(RoomStatus::Idle);
    }

    /// Sends a request and waits for the answer with the same `seq`.
    pub async fn request(&self, make: impl FnOnce(u64) -> RoomClientMessage) -> RoomServerMessage {
        match self.inner.try_get_value() {
            Some(inner) => inner.request(make).await,
            None => RoomServerMessage::Error {
                seq: 0,
                error: local_error(
                    ErrorCode::NotConnected,
                    "This page has closed its class connection.",
                ),
            },
        }
    }
}

fn room_url(room: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let room: String = js_sys::encode_uri_component(room).into();
    Some(format!(
        "{scheme}://{}/ws/room?room={room}",
        location.host().ok()?
    ))
}

/// Refusals that no retry can change: a wrong key, not a member, no such room.
fn is_final(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unauthorized | ErrorCode::Forbidden | ErrorCode::NotFound
    )
}

/// The server's own word (no request's answer: `seq` 0) that this socket
/// may not stay, such as the instructor removing the learner: the socket
/// closes after it, and saying hello again would be refused too.
fn standing_refusal(message: &RoomServerMessage) -> Option<&str> {
    match message {
        RoomServerMessage::Error { seq: 0, error } if is_final(error.code) => {
            Some(error.message.as_str())
        }
        _ => None,
    }
}

/// Keeps the socket up until the room ends, the server refuses us or the
/// owner closes it.
async fn run(
    inner: Rc<Inner>,
    status: RwSignal<RoomStatus>,
    room: String,
    token: String,
    on_message: Handler,
) {
    let mut failures = 0u32;
    loop {
        let outcome = match room_url(&room).and_then(|url| page_socket::open(&url)) {
            // `_left` closes the socket when the page is left.
            Some((socket, _left)) => live(&inner, socket, &token, &on_message, status).await,
            None => Outcome::Dropped { welcomed: false },
        };
        inner.fail_pending();
        if inner.closed.get() {
            return;
        }
        let after = match outcome {
            Outcome::Closed => return,
            Outcome::Ended => RoomStatus::Ended,
            Outcome::Refused(why) => RoomStatus::Refused(why),
            Outcome::Dropped { welcomed } => {
                failures = if welcomed { 1 } else { failures + 1 };
                RoomStatus::Reconnecting
            }
        };
        let again = after == RoomStatus::Reconnecting;
        // A page that is gone (its signals disposed) stops trying.
        if status.try_set(after).is_some() || !again {
            return;
        }
        TimeoutFuture::new(backoff_ms(failures)).await;
        if inner.closed.get() {
            return;
        }
    }
}

/// One socket, from hello to its end.
async fn live(
    inner: &Inner,
    mut socket: WebSocket,
    token: &str,
    on_message: &Handler,
    status: RwSignal<RoomStatus>,
) -> Outcome {
    let hello = RoomClientMessage::Hello {
        token: token.to_owned(),
    };
    let Ok(hello) = serde_json::to_string(&hello) else {
        return Outcome::Closed;
    };
    if socket.send(Message::Text(hello)).await.is_err() {
        return Outcome::Dropped { welcomed: false };
    }
    let (outbox, mut queue) = mpsc::unbounded::<Outgoing>();
    *inner.outbox.borrow_mut() = Some(outbox);
    let mut welcomed = false;
    loop {
        let event = {
            let incoming = socket.next().fuse();
            let outgoing = queue.next().fuse();
            pin_mut!(incoming, outgoing);
            select! {
                message = incoming => Event::Incoming(message),
                out = outgoing => Event::Outgoing(out),
            }
        };
        match event {
            // Closed while this message waited: the page may be gone.
            Event::Incoming(_) if inner.closed.get() => return Outcome::Closed,
            Event::Incoming(Some(Ok(Message::Text(text)))) => {
                let Ok(message) = serde_json::from_str::<RoomServerMessage>(&text) else {
                    continue;
                };
                match message {
                    RoomServerMessage::Welcome { .. } => {
                        welcomed = true;
                        inner.ready.set(true);
                        let _ = status.try_set(RoomStatus::Connected);
                        on_message(message);
                    }
                    RoomServerMessage::Ended => {
                        on_message(message);
                        return Outcome::Ended;
                    }
                    RoomServerMessage::Error { error, .. } if !welcomed => {
                        return if is_final(error.code) {
                            Outcome::Refused(error.message)
                        } else {
                            Outcome::Dropped { welcomed }
                        };
                    }
                    other => {
                        if let Some(pushed) = inner.resolve(other) {
                            if let Some(why) = standing_refusal(&pushed) {
                                return Outcome::Refused(why.to_owned());
                            }
                            on_message(pushed);
                        }
                    }
                }
            }
            Event::Incoming(Some(Ok(Message::Bytes(_)))) => {}
            Event::Incoming(_) => return Outcome::Dropped { welcomed },
            Event::Outgoing(Some(Outgoing::Text(text))) => {
                if socket.send(Message::Text(text)).await.is_err() {
                    return Outcome::Dropped { welcomed };
                }
            }
            Event::Outgoing(Some(Outgoing::Close) | None) => {
                let _ = socket.close(Some(1000), None);
                return Outcome::Closed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(seq: u64, code: ErrorCode) -> RoomServerMessage {
        RoomServerMessage::Error {
            seq,
            error: local_error(code, "The instructor removed you from this class."),
        }
    }

    #[test]
    fn a_removal_after_the_welcome_stops_the_retries_with_its_sentence() {
        assert_eq!(
            standing_refusal(&error(0, ErrorCode::Forbidden)),
            Some("The instructor removed you from this class.")
        );
    }

    #[test]
    fn a_refused_request_or_a_passing_error_keeps_the_socket() {
        assert_eq!(standing_refusal(&error(7, ErrorCode::Forbidden)), None);
        assert_eq!(standing_refusal(&error(0, ErrorCode::ShuttingDown)), None);
        assert_eq!(standing_refusal(&RoomServerMessage::Ended), None);
    }

    #[test]
    fn only_authorization_refusals_stop_the_retries() {
        assert!(is_final(ErrorCode::Forbidden));
        assert!(is_final(ErrorCode::Unauthorized));
        assert!(!is_final(ErrorCode::StoreUnavailable));
        assert!(!is_final(ErrorCode::ShuttingDown));
    }
}
