//! The connection to the server: a session (its id kept in localStorage so
//! a reload keeps the sandbox) and a WebSocket that reconnects by itself.
//! Requests carry a sequence number; replies resolve the matching waiter.
//! Nothing connects until a console is on screen, or about to be (the page
//! being loaded has one: `Connection::start`), so reading the outline never
//! costs the learner one of their sandboxes.

use crate::api::{self, sessions::Standing};
use crate::credentials;
use crate::early::Sent;
use crate::identity::LearnerPromise;
use crate::page_socket;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use gloo::net::http::Request;
use gloo::net::websocket::Message;
use gloo::timers::future::TimeoutFuture;
use leptos::prelude::*;
use protocol::{
    ApiError, ChartFrame, ClientMessage, ErrorBody, ErrorCode, Notice, NoticeKind, ServerMessage,
    SessionCreated,
};

/// Longest wait between two attempts to get a sandbox, in seconds.
const RETRY_MAX_S: u32 = 60;
/// How long a tab whose sandbox is open in too many others waits before
/// trying again (a tab closed gives its place back at once).
const FULL_RETRY_S: u32 = 5;

/// What the connection indicator shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// No console has been shown yet, so no sandbox was asked for.
    Idle,
    Connecting,
    Connected,
    Reconnecting,
    /// The server would not give this browser a sandbox (too many of them,
    /// the host is full…): its own words, and when the next try is.
    Refused {
        message: String,
        retry_in_s: u32,
    },
}

impl LinkStatus {
    pub fn label(&self) -> &'static str {
        match self {
            LinkStatus::Idle | LinkStatus::Connecting => "Connecting…",
            LinkStatus::Connected => "Connected",
            LinkStatus::Reconnecting => "Reconnecting…",
            LinkStatus::Refused { .. } => "No sandbox",
        }
    }
}

/// A failure made in the browser, shaped like the server's.
pub fn local_error(code: ErrorCode, message: &str) -> ErrorBody {
    ErrorBody {
        code,
        message: message.to_owned(),
    }
}

/// What the server sends without being asked, and what the link itself
/// has to tell.
pub enum Pushed {
    Notice(Notice),
    Frame(ChartFrame),
    /// The server's transaction state, sent when a socket opens.
    SessionState {
        in_multi: bool,
    },
    /// A socket is up and answering; `fresh` when it is a new sandbox (so
    /// the lesson on screen must load its data again).
    Connected {
        fresh: bool,
    },
}

#[derive(Default)]
struct Link {
    outbox: RefCell<Option<mpsc::UnboundedSender<String>>>,
    pending: RefCell<HashMap<u64, oneshot::Sender<ServerMessage>>>,
    next_seq: Cell<u64>,
}

impl Link {
    async fn request(&self, make: impl FnOnce(u64) -> ClientMessage) -> ServerMessage {
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
                    ErrorCode::NotConnected,
                    "The console is not connected to your sandbox right now; it reconnects by itself, so try again in a moment.",
                ),
            };
        }
        self.pending.borrow_mut().insert(seq, tx);
        rx.await.unwrap_or(ServerMessage::Error {
            seq,
            error: local_error(
                ErrorCode::ConnectionLost,
                "The connection dropped before the reply arrived. The command may or may not have run; the console is reconnecting.",
            ),
        })
    }

    /// Hands a reply to its waiter; returns what nobody asked for.
    fn resolve(&self, message: ServerMessage) -> Option<Pushed> {
        let seq = match &message {
            ServerMessage::Result { seq, .. }
            | ServerMessage::Error { seq, .. }
            | ServerMessage::ResetDone { seq }
            | ServerMessage::Ack { seq }
            | ServerMessage::Pong { seq }
            | ServerMessage::LessonOpened { seq, .. }
            | ServerMessage::BlockRan { seq, .. } => *seq,
            ServerMessage::Notice { notice } => return Some(Pushed::Notice(notice.clone())),
            ServerMessage::Frame { frame } => return Some(Pushed::Frame(frame.clone())),
            ServerMessage::SessionState { in_multi } => {
                return Some(Pushed::SessionState {
                    in_multi: *in_multi,
                })
            }
        };
        match self.pending.borrow_mut().remove(&seq) {
            Some(waiter) => {
                let _ = waiter.send(message);
                None
            }
            // Errors without a request (seq 0) are worth showing.
            None => match message {
                ServerMessage::Error { error, .. } => Some(Pushed::Notice(Notice {
                    kind: NoticeKind::Restarted,
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

type PushHandler = Rc<dyn Fn(Pushed)>;

/// The page's one connection, shared by the console and the charts.
#[derive(Clone, Copy)]
pub struct Connection {
    link: StoredValue<Rc<Link>, leptos::prelude::LocalStorage>,
    pub status: RwSignal<LinkStatus>,
    handler: StoredValue<Option<PushHandler>, leptos::prelude::LocalStorage>,
}

impl Connection {
    pub fn new() -> Connection {
        Connection {
            link: StoredValue::new_local(Rc::new(Link::default())),
            status: RwSignal::new(LinkStatus::Idle),
            handler: StoredValue::new_local(None),
        }
    }

    /// Where pushed messages go (set once, before `start`).
    pub fn on_push(&self, handler: impl Fn(Pushed) + 'static) {
        self.handler.set_value(Some(Rc::new(handler)));
    }

    /// Sends a message and waits for the reply with the same `seq`.
    pub async fn request(&self, make: impl FnOnce(u64) -> ClientMessage) -> ServerMessage {
        let link = self.link.get_value();
        link.request(make).await
    }

    /// Connects, once: called when a console comes into view.
    pub fn start(&self) {
        if self.status.get_untracked() != LinkStatus::Idle {
            return;
        }
        self.status.set(LinkStatus::Connecting);
        let first = FirstSession {
            sent: crate::early::take_session(),
            learner: crate::identity::promise_learner(),
        };
        let handler = self.handler.get_value();
        let push = move |pushed| {
            if let Some(handler) = &handler {
                handler(pushed);
            }
        };
        leptos::task::spawn_local(run(self.link.get_value(), self.status, push, first));
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

/// Why no sandbox was given, and how long the server asks us to wait.
struct Refusal {
    message: String,
    retry_after_s: Option<u32>,
}

fn unreachable(e: impl std::fmt::Display) -> Refusal {
    Refusal {
        message: format!("The server could not be reached ({e})."),
        retry_after_s: None,
    }
}

/// Where the connection's first session comes from on a first visit.
#[derive(Default)]
struct FirstSession {
    /// The `POST /api/sessions` index.html sent already (without a token).
    sent: Option<Sent>,
    /// The learner that session creates, promised to `ensure_token`.
    learner: Option<LearnerPromise>,
}

/// `POST /api/sessions` as this browser's learner, whose live session (in
/// another tab or on another device) is handed back rather than a second
/// one started. Without a learner token (a first visit, whose `first`
/// session brings the learner, or the store is down) the server makes an
/// anonymous learner and sends its token once, here.
async fn new_session(first: FirstSession) -> Result<String, Refusal> {
    let FirstSession { mut sent, learner } = first;
    let mut token = if learner.is_some() || sent.is_some() {
        None
    } else {
        crate::identity::ensure_token().await.ok()
    };
    let response = loop {
        let response = match sent.take() {
            Some(sent) => sent.response().await.map_err(unreachable)?,
            None => {
                let mut request = Request::post("/api/sessions");
                if let Some(token) = &token {
                    request = request.header("Authorization", &format!("Bearer {token}"));
                }
                request.send().await.map_err(unreachable)?
            }
        };
        // An erased learner's token: carry on as a new, anonymous one.
        if response.status() == 401 && token.take().is_some() {
            credentials::clear_token();
            continue;
        }
        break response;
    };
    if !response.ok() {
        let retry_after_s = response
            .headers()
            .get("retry-after")
            .and_then(|s| s.trim().parse().ok());
        let status = response.status();
        let message = match response.json::<ApiError>().await {
            Ok(err) => err.error.message,
            Err(_) => format!("The server answered {status}."),
        };
        return Err(Refusal {
            message,
            retry_after_s,
        });
    }
    let created: SessionCreated = response.json().await.map_err(|e| Refusal {
        message: format!("The server sent something unexpected ({e})."),
        retry_after_s: None,
    })?;
    match (&created.learner_token, learner) {
        (Some(token), Some(promise)) => promise.keep(token),
        (Some(token), None) => credentials::set_token(token),
        // A broken promise: `ensure_token` creates the learner itself.
        (None, _) => {}
    }
    credentials::set_session_id(&created.session);
    Ok(created.session)
}

/// Shows the refusal with a countdown, one second at a time.
async fn count_down(status: RwSignal<LinkStatus>, message: String, seconds: u32) {
    for left in (1..=seconds).rev() {
        status.set(LinkStatus::Refused {
            message: message.clone(),
            retry_in_s: left,
        });
        TimeoutFuture::new(1_000).await;
    }
    status.set(LinkStatus::Connecting);
}

/// Keeps the link up for the life of the page.
async fn run(
    link: Rc<Link>,
    status: RwSignal<LinkStatus>,
    push: impl Fn(Pushed) + 'static,
    mut first: FirstSession,
) {
    let push = Rc::new(push);
    let mut failures = 0u32;
    let mut refusals = 0u32;
    loop {
        let (session, fresh) = match credentials::session_id() {
            Some(id) => (id, false),
            None => match new_session(std::mem::take(&mut first)).await {
                Ok(id) => {
                    refusals = 0;
                    (id, true)
                }
                Err(refusal) => {
                    // Back off: the limits that refuse us are per minute.
                    refusals += 1;
                    let wait = refusal
                        .retry_after_s
                        .unwrap_or_else(|| (5 << refusals.min(4)).min(RETRY_MAX_S));
                    count_down(status, refusal.message, wait).await;
                    continue;
                }
            },
        };
        // `_left` closes the socket when the page is left; it lives as
        // long as this socket's turn of the loop.
        let Some((socket, _left)) = ws_url(&session).and_then(|url| page_socket::open(&url)) else {
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
        // The first answer on this socket (its session state, or the Pong)
        // proves the session is alive.
        let connected = Rc::new(Cell::new(false));
        let mark_connected = {
            let connected = connected.clone();
            let push = push.clone();
            move || {
                if !connected.replace(true) {
                    status.set(LinkStatus::Connected);
                    push(Pushed::Connected { fresh });
                }
            }
        };
        {
            let link = link.clone();
            let mark_connected = mark_connected.clone();
            leptos::task::spawn_local(async move {
                if let ServerMessage::Pong { .. } =
                    link.request(|seq| ClientMessage::Ping { seq }).await
                {
                    mark_connected();
                }
            });
        }
        let mut answered = false;
        while let Some(Ok(Message::Text(text))) = read.next().await {
            answered = true;
            failures = 0;
            if let Ok(message) = serde_json::from_str::<ServerMessage>(&text) {
                let opening = matches!(message, ServerMessage::SessionState { .. });
                if let Some(pushed) = link.resolve(message) {
                    push(pushed);
                }
                if opening {
                    mark_connected();
                }
            }
        }
        link.fail_pending();
        status.set(LinkStatus::Reconnecting);
        if !answered {
            failures += 1;
            if failures >= 2 {
                failures = 0;
                match api::sessions::standing(&session).await {
                    Standing::Gone => {
                        // Expired, or the server restarted without it.
                        credentials::forget_session();
                        push(Pushed::Notice(Notice {
                            kind: NoticeKind::Restarted,
                            message: "Your previous sandbox had expired, so you now have a new, empty one."
                                .to_owned(),
                        }));
                    }
                    Standing::Full { cap } => {
                        let message = format!(
                            "Your sandbox is already open in as many tabs as it serves at once ({cap}). Close one and this tab connects by itself."
                        );
                        count_down(status, message, FULL_RETRY_S).await;
                        continue;
                    }
                    Standing::Unclear => {}
                }
            }
        }
        TimeoutFuture::new(if answered { 300 } else { 1_500 }).await;
    }
}
