//! One room socket: `Hello` first (the token decides who speaks), then
//! one loop that forwards the room's stream, answers requests, mirrors a
//! watched learner's console for the instructor, and keeps the socket
//! alive. Requests themselves are handled in `requests.rs`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use protocol::{
    ErrorBody, ErrorCode, RoomClientMessage, RoomRole, RoomServerMessage, SessionEvent,
};
use tokio::sync::{broadcast, mpsc};

use super::requests::Requests;
use super::LiveRoom;
use crate::control::learners::LearnerRef;
use crate::heartbeat::{self, Heartbeat};
use crate::live::greeting::Greeting;
use crate::state::AppState;

/// The first message must arrive within this.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// Pages one learner may have open in a room at once.
pub const SOCKETS_PER_LEARNER: u32 = 4;
/// Answers of slow requests (resetting the class) waiting to be sent.
const ANSWERS: usize = 16;

/// Who a socket speaks for.
#[derive(Debug, Clone)]
pub enum Who {
    Instructor,
    Learner(LearnerRef),
}

impl Who {
    pub fn role(&self) -> RoomRole {
        match self {
            Who::Instructor => RoomRole::Instructor,
            Who::Learner(_) => RoomRole::Learner,
        }
    }
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

/// One message as JSON; false once the socket is gone or its peer has not
/// taken the message `within` (`heartbeat::send`).
async fn send(socket: &mut WebSocket, within: Duration, message: &RoomServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => heartbeat::send(socket, Message::Text(text.into()), within).await,
        Err(_) => false,
    }
}

/// Reads `Hello` and decides who the socket speaks for.
async fn hello(socket: &mut WebSocket, state: &AppState, room: &str) -> Result<Who, ErrorBody> {
    let expected = r#"The first message must be {"type":"hello","token":"<your learner token or the instructor's>"}."#;
    let token = match tokio::time::timeout(HELLO_WITHIN, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(&text) {
            Ok(RoomClientMessage::Hello { token }) => token,
            _ => return Err(refusal(ErrorCode::ProtocolViolation, expected)),
        },
        Err(_) => {
            return Err(refusal(
                ErrorCode::ProtocolViolation,
                format!("No hello within {} s. {expected}", HELLO_WITHIN.as_secs()),
            ))
        }
        _ => return Err(refusal(ErrorCode::ProtocolViolation, expected)),
    };
    if state.instructor.matches(&token) {
        return Ok(Who::Instructor);
    }
    let store = |e: crate::control::StoreError| refusal(ErrorCode::StoreUnavailable, e.to_string());
    let learner = state
        .control
        .learner_for_token(&token)
        .await
        .map_err(store)?
        .ok_or_else(|| {
            refusal(
                ErrorCode::Unauthorized,
                "That token is not known: open the join link again to rejoin the class.",
            )
        })?;
    match state.control.room_of(&learner.id).await.map_err(store)? {
        Some(id) if id == room => Ok(Who::Learner(learner)),
        _ => Err(refusal(
            ErrorCode::Forbidden,
            "You are not in this class: join it with its code first.",
        )),
    }
}

/// Serves one room socket until it closes or the room ends.
pub async fn serve(
    mut socket: WebSocket,
    state: AppState,
    room_id: String,
    name: String,
    ip: IpAddr,
    greeting: Greeting,
) {
    // A page that takes no message for a whole ping interval is gone, as
    // one that says nothing for that long.
    let within = Duration::from_millis(state.sessions.pool().spec().limits.ws_ping_every_ms);
    let who = match hello(&mut socket, &state, &room_id).await {
        Ok(who) => {
            // Said hello: it now counts as the learner's or instructor's.
            drop(greeting);
            who
        }
        Err(error) => {
            let _ = send(
                &mut socket,
                within,
                &RoomServerMessage::Error { seq: 0, error },
            )
            .await;
            let _ = heartbeat::send(&mut socket, Message::Close(None), within).await;
            return;
        }
    };
    let room = state.classrooms.open(&state, &room_id);
    // Counted before the welcome, so the welcome carries the room's state
    // even when the instructor's page is on another node.
    let _page = room.open_page().await;
    let following = match &who {
        Who::Learner(learner) => {
            if room.sockets_of(&learner.id) >= SOCKETS_PER_LEARNER {
                let error = refusal(
                    ErrorCode::TooManySockets,
                    format!("You have this class open in {SOCKETS_PER_LEARNER} pages already; close one first."),
                );
                let _ = send(
                    &mut socket,
                    within,
                    &RoomServerMessage::Error { seq: 0, error },
                )
                .await;
                return;
            }
            room.arrive(&learner.id)
        }
        Who::Instructor => false,
    };
    let hand_raised = match &who {
        Who::Learner(learner) => state
            .control
            .raised_hands(&room_id)
            .await
            .is_ok_and(|hands| hands.iter().any(|(id, _)| *id == learner.id)),
        Who::Instructor => false,
    };
    let welcome = RoomServerMessage::Welcome {
        room: room_id,
        name,
        role: who.role(),
        position: room.position(),
        pace: room.pace(),
        following,
        hand_raised,
        console: room.recent_console(),
    };
    if send(&mut socket, within, &welcome).await {
        let requests = Requests::new(state, room.clone(), who.clone(), ip);
        run(&mut socket, &room, requests, &who, within).await;
    }
    if let Who::Learner(learner) = &who {
        room.depart(&learner.id);
    }
    let _ = heartbeat::send(&mut socket, Message::Close(None), within).await;
}

/// What the page sent: a request (answered now or later), or the end.
/// Whether the socket stays open.
async fn on_incoming(
    incoming: Option<Result<Message, axum::Error>>,
    socket: &mut WebSocket,
    requests: &mut Requests,
    later: &mpsc::Sender<RoomServerMessage>,
    within: Duration,
) -> bool {
    match incoming {
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<RoomClientMessage>(&text) {
            Ok(message) => match requests.handle(message, later).await {
                Some(reply) => send(socket, within, &reply).await,
                None => true,
            },
            Err(e) => {
                let error = refusal(
                    ErrorCode::ProtocolViolation,
                    format!(
                        "Not a room message ({}). Expected JSON like {{\"type\":\"ping\",\"seq\":1}}.",
                        crate::http::body::plain(&e)
                    ),
                );
                let _ = send(socket, within, &RoomServerMessage::Error { seq: 0, error }).await;
                false
            }
        },
        Some(Ok(Message::Binary(_))) => {
            let error = refusal(
                ErrorCode::ProtocolViolation,
                "Binary messages are not part of the room protocol; send JSON text.",
            );
            let _ = send(socket, within, &RoomServerMessage::Error { seq: 0, error }).await;
            false
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => true,
        Some(Ok(Message::Close(_)) | Err(_)) | None => false,
    }
}

/// The next event of the learner being watched (never, when none is).
async fn watched(
    watch: &mut Option<(String, broadcast::Receiver<SessionEvent>)>,
) -> Option<RoomServerMessage> {
    let Some((learner, events)) = watch.as_mut() else {
        return std::future::pending().await;
    };
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Some(line) = super::demo::console_line(event) {
                    return Some(RoomServerMessage::Watched {
                        learner: learner.clone(),
                        line,
                    });
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => {
                *watch = None;
                return None;
            }
        }
    }
}

/// Resolves when `me` is removed from the room (never for the instructor).
async fn removed(removals: &mut broadcast::Receiver<String>, me: &Who) {
    let Who::Learner(me) = me else {
        return std::future::pending().await;
    };
    loop {
        match removals.recv().await {
            Ok(learner) if learner == me.id => return,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

async fn run(
    socket: &mut WebSocket,
    room: &Arc<LiveRoom>,
    mut requests: Requests,
    who: &Who,
    within: Duration,
) {
    let mut stream = room.subscribe();
    let mut ended = room.ended();
    let mut removals = room.removals();
    let mut presence = room.presence();
    presence.mark_changed();
    let (answers_tx, mut answers) = mpsc::channel(ANSWERS);
    let mut heartbeat = Heartbeat::start(within);
    loop {
        let open = tokio::select! {
            received = stream.recv() => match received {
                Ok(text) => heartbeat::send(socket, Message::Text(text), within).await,
                // Behind: skip ahead, then say where the class is now.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let position = room.position().map(|place| RoomServerMessage::Goto { place });
                    let pace = RoomServerMessage::Pace { place: room.pace() };
                    let went = match position {
                        Some(goto) => send(socket, within, &goto).await,
                        None => true,
                    };
                    went && send(socket, within, &pace).await
                }
                Err(broadcast::error::RecvError::Closed) => false,
            },
            incoming = socket.recv() => {
                heartbeat.heard();
                on_incoming(incoming, socket, &mut requests, &answers_tx, within).await
            }
            Some(answer) = answers.recv() => send(socket, within, &answer).await,
            Some(line) = watched(&mut requests.watching) => send(socket, within, &line).await,
            () = async { let _ = ended.wait_for(|ended| *ended).await; } => {
                let _ = send(socket, within, &RoomServerMessage::Ended).await;
                false
            }
            () = removed(&mut removals, who) => {
                let error = refusal(ErrorCode::Forbidden, "The instructor removed you from this class.");
                let _ = send(socket, within, &RoomServerMessage::Error { seq: 0, error }).await;
                false
            }
            // Only the instructor is told who is connected and follows.
            Ok(()) = presence.changed(), if matches!(who, Who::Instructor) => {
                let (connected, following) = *presence.borrow_and_update();
                send(socket, within, &RoomServerMessage::Presence { connected, following }).await
            }
            () = heartbeat.tick() => {
                !heartbeat.peer_gone()
                    && heartbeat::send(socket, Message::Ping(Vec::new().into()), within).await
            }
        };
        if !open {
            return;
        }
    }
}
