//! `GET /ws?session=<id>`: the console over a WebSocket. One loop per
//! socket turns socket input, chart frames, the session's notices, its end
//! and a keep-alive tick into events handled by one `match`; each request
//! goes through `dispatch`, which answers it with one reply (a
//! measurement's frame comes just before its acknowledgement).
//!
//! A request runs while the loop goes on: frames, notices and pings still
//! flow, and the socket is read again once the reply is sent. Notices
//! reach a socket once each (`told.rs`): those its own request caused ride
//! in the reply, and everything that happens to the session comes by its
//! event stream, a restart at once even while a block is running.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;
use futures_util::future::{Fuse, FutureExt};
use protocol::{ClientMessage, ErrorBody, ErrorCode, ServerMessage};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

mod handlers;
mod told;
mod wire;

use super::{auth, HttpError};
use crate::heartbeat::{self, Heartbeat};
use crate::session::Session;
use crate::sim::streams::StreamAction;
use crate::sim::{Measurement, Simulations};
use crate::state::AppState;
use handlers::{ack, Answer, Console};
use told::{Running, Told};
use wire::{read, send, Event, Pace};

/// Largest message a browser may send (a line is capped at 64 KiB). Also
/// the largest frame: a bigger one is refused from its header, before its
/// payload is read (tungstenite's default would buffer up to 16 MiB first).
const MAX_MESSAGE: usize = 80 * 1024;
/// The close code for a frame over `MAX_MESSAGE` (RFC 6455: too big).
const CLOSE_TOO_BIG: u16 = 1009;
/// Bytes read from the socket at a time. tungstenite zero-fills this much
/// before every read, including the one that finds nothing left: at its
/// 128 KiB default that memset was the largest single cost per command in
/// a profile. A console message fits in one or two reads of this size;
/// a long paste takes a few more.
const READ_BUFFER: usize = 4 * 1024;
/// Frames waiting for a slow browser; newer ones are dropped beyond this.
const FRAME_BUFFER: usize = 32;

#[derive(Deserialize)]
pub struct WsQuery {
    session: String,
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    Query(query): Query<WsQuery>,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, HttpError> {
    let session = state
        .sessions
        .get(&query.session)
        .ok_or_else(|| auth::unknown_session(&state))?;
    let permit = state.sessions.admit_socket(&session.id, peer.ip())?;
    session.mark_socket();
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            serve(socket, session, state).await;
            // The socket counts against its caps until it is gone.
            drop(permit);
        }))
}

async fn serve(mut socket: WebSocket, session: Arc<Session>, state: AppState) {
    let mut ended = session.ended();
    let mut notices = session.subscribe_notices();
    let limits = session.limits();
    let mut heartbeat = Heartbeat::start(Duration::from_millis(limits.ws_ping_every_ms));
    let within = heartbeat.send_within();
    let mut pace = Pace::new(limits.ws_messages_per_sec, limits.ws_message_burst);
    let (frames_tx, mut frames) = mpsc::channel(FRAME_BUFFER);
    let in_multi = session.in_multi().await;
    let sims = Simulations::new(session.clone(), frames_tx);
    // The console is here while idle, and lent to the request running:
    // one at a time, so replies keep the order of their requests, while
    // the loop goes on forwarding frames and notices (a block can run
    // for seconds; a restart in it must not wait for its reply).
    let mut idle = Some(Console {
        session: session.clone(),
        state,
        sims,
    });
    let mut running = pin!(Fuse::terminated());
    let mut told = Told::default();
    let mut busy = Running::Nothing;
    let mut open = send(
        &mut socket,
        within,
        &ServerMessage::SessionState { in_multi },
    )
    .await;
    while open {
        let may_read = idle.is_some() && pace.may_read();
        let event = tokio::select! {
            (console, answer) = running.as_mut() => {
                idle = Some(console);
                busy = Running::Nothing;
                Event::Answer(Box::new(answer))
            },
            Some(frame) = frames.recv() => Event::Frame(frame),
            incoming = socket.recv(), if may_read => {
                heartbeat.heard();
                pace.spend();
                match read(incoming) {
                    Some(event) => event,
                    None => continue,
                }
            },
            () = tokio::time::sleep(pace.wait()), if idle.is_some() && !may_read => continue,
            received = notices.recv() => match received {
                Ok(notice) => Event::Notice(notice),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => Event::Closed,
            },
            _ = ended.wait_for(|ended| *ended) => Event::Closed,
            () = heartbeat.tick() => Event::Tick,
        };
        session.touch();
        open = match event {
            Event::Client(message) => {
                // Read only while idle, so the console is here.
                if let Some(console) = idle.take() {
                    busy = how_long(&message);
                    running.set(console.dispatch(message).fuse());
                }
                true
            }
            Event::Answer(answer) => {
                // Nothing was read while it ran.
                heartbeat.heard();
                let Answer {
                    frame,
                    mut reply,
                    also,
                } = *answer;
                let after = told.settle(&mut reply, also);
                let framed = match frame {
                    Some(frame) => send(&mut socket, within, &ServerMessage::Frame { frame }).await,
                    None => true,
                };
                let mut sent = framed && send(&mut socket, within, &reply).await;
                for notice in after {
                    sent =
                        sent && send(&mut socket, within, &ServerMessage::Notice { notice }).await;
                }
                sent
            }
            Event::Frame(frame) => send(&mut socket, within, &ServerMessage::Frame { frame }).await,
            Event::Notice(notice) => match told.on_stream(notice, busy) {
                Some(notice) => send(&mut socket, within, &ServerMessage::Notice { notice }).await,
                None => true,
            },
            Event::Tick => {
                // Not reading (a request runs, or the pace holds the
                // socket): an answer may be waiting unread, so this
                // interval does not count.
                if !may_read {
                    heartbeat.heard();
                }
                !heartbeat.peer_gone()
                    && heartbeat::send(&mut socket, Message::Ping(Vec::new().into()), within).await
            }
            Event::Violation(message) => {
                let error = ErrorBody::new(ErrorCode::ProtocolViolation, message);
                let _ = send(&mut socket, within, &ServerMessage::Error { seq: 0, error }).await;
                false
            }
            Event::TooBig => {
                let reason = format!(
                    "messages on the console socket are limited to {} KiB",
                    MAX_MESSAGE / 1024
                );
                let close = axum::extract::ws::CloseFrame {
                    code: CLOSE_TOO_BIG,
                    reason: reason.into(),
                };
                let _ = heartbeat::send(&mut socket, Message::Close(Some(close)), within).await;
                return;
            }
            Event::Closed => false,
        };
    }
    let _ = heartbeat::send(&mut socket, Message::Close(None), within).await;
}

/// Whether a request's reply can be far behind what it causes: one line
/// or a reset is answered right after; a block, a lesson's setup or a
/// measurement runs many commands first.
fn how_long(message: &ClientMessage) -> Running {
    match message {
        ClientMessage::Exec { .. } | ClientMessage::Reset { .. } | ClientMessage::Ping { .. } => {
            Running::Short
        }
        _ => Running::Long,
    }
}

impl Console {
    /// Every request and its one reply (plus a measurement's frame). Takes
    /// the console and gives it back, so the loop can hold the running
    /// request without borrowing the console from itself.
    async fn dispatch(mut self, message: ClientMessage) -> (Console, Answer) {
        use ClientMessage as C;
        let reply = match message {
            C::Exec { seq, line } => self.exec(seq, &line).await,
            C::Reset { seq } => {
                let answer = self.reset(seq).await;
                return (self, answer);
            }
            C::Ping { seq } => ServerMessage::Pong { seq },
            C::OpenLesson { seq, lesson } => self.open_lesson(seq, &lesson).await,
            C::RunBlock { seq, lesson, block } => self.run_block(seq, &lesson, block).await,
            C::StartRateLimit { seq, sim } => ack(seq, self.sims.start_rate_limit(sim).await),
            C::StartAnomaly { seq, sim } => ack(seq, self.sims.start_anomaly(sim).await),
            C::StartStreams { seq, duration_ms } => {
                ack(seq, self.sims.start_streams(duration_ms).await)
            }
            C::StopSimulation { seq } => {
                self.sims.stop();
                ServerMessage::Ack { seq }
            }
            C::InjectSpike { seq } => ack(seq, self.sims.inject_spike()),
            C::KillConsumer { seq, consumer } => {
                ack(seq, self.sims.steer_streams(StreamAction::Kill(consumer)))
            }
            C::Recover { seq } => ack(seq, self.sims.steer_streams(StreamAction::Recover)),
            C::LatencyProbe { seq, on } => ack(seq, self.sims.probe(on).await),
            C::GrowMemory { seq, kind, max } => {
                let answer = self
                    .measure(seq, Measurement::GrowMemory { kind, max })
                    .await;
                return (self, answer);
            }
            C::CompareEmbeddings { seq } => {
                let answer = self.measure(seq, Measurement::CompareEmbeddings).await;
                return (self, answer);
            }
            C::CompareReads { seq, n } => {
                let answer = self.measure(seq, Measurement::CompareReads { n }).await;
                return (self, answer);
            }
        };
        (self, Answer::reply(reply))
    }
}
