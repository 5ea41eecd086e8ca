//! `GET /ws?session=<id>`: the console over a WebSocket. One loop per
//! socket turns socket input, session notices and a keep-alive tick into
//! events handled by one `match`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use protocol::{ClientMessage, ErrorBody, ServerMessage, SessionEvent};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::HttpError;
use crate::gateway::Origin;
use crate::session::Session;
use crate::state::AppState;

/// Largest message a browser may send (a line is capped at 64 KiB).
const MAX_MESSAGE: usize = 80 * 1024;
const PING_EVERY: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
pub struct WsQuery {
    session: String,
}

pub async fn upgrade(
    ws: WebSocketUpgrade,
    Query(query): Query<WsQuery>,
    State(state): State<AppState>,
) -> Result<Response, HttpError> {
    let session = state.sessions.get(&query.session).ok_or(HttpError::Unauthorized(
        "Unknown or expired session: create one with POST /api/sessions, then connect to /ws?session=<id>.",
    ))?;
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, session, state)))
}

/// Frames waiting for a slow browser; newer ones are dropped beyond this.
const FRAME_BUFFER: usize = 32;

enum Event {
    Frame(protocol::ChartFrame),
    Client(ClientMessage),
    Violation(String),
    Closed,
    Notice(protocol::Notice),
    Tick,
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Aborts the running simulation when dropped (the socket closed).
struct Simulation(tokio::task::JoinHandle<()>);

impl Drop for Simulation {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a simulator in its own task, its frames going to `frames`. A full
/// channel drops the frame: a slow browser skips frames instead of
/// building a backlog. The last frame says how the run ended.
fn spawn_frames<F, Fut>(
    frames: tokio::sync::mpsc::Sender<protocol::ChartFrame>,
    run: F,
) -> Simulation
where
    F: FnOnce(Box<dyn FnMut(protocol::ChartFrame) -> bool + Send>) -> Fut,
    Fut:
        std::future::Future<Output = Result<(), crate::sim::rate_limit::SimError>> + Send + 'static,
{
    let done = frames.clone();
    let send = Box::new(move |frame| {
        !matches!(
            frames.try_send(frame),
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_))
        )
    });
    let future = run(send);
    Simulation(tokio::spawn(async move {
        let reason = match future.await {
            Ok(()) => "finished".to_owned(),
            Err(e) => format!("stopped: {e}"),
        };
        let _ = done.send(protocol::ChartFrame::Done { reason }).await;
    }))
}

/// Starts a simulator on its own connection to the session's sandbox,
/// with a run number that keeps its keys apart from earlier runs.
async fn start_simulator<F, Fut>(
    session: &Session,
    frames: &tokio::sync::mpsc::Sender<protocol::ChartFrame>,
    seq: u64,
    run: F,
) -> (Option<Simulation>, ServerMessage)
where
    F: FnOnce(
        redis::aio::MultiplexedConnection,
        u64,
        Box<dyn FnMut(protocol::ChartFrame) -> bool + Send>,
    ) -> Fut,
    Fut:
        std::future::Future<Output = Result<(), crate::sim::rate_limit::SimError>> + Send + 'static,
{
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    match session.sandbox_connection().await {
        Ok(conn) => {
            let number = RUNS.fetch_add(1, Ordering::Relaxed);
            let running = spawn_frames(frames.clone(), move |send| run(conn, number, send));
            (Some(running), ServerMessage::Started { seq })
        }
        Err(e) => (None, failed(seq, e.to_string())),
    }
}

/// A measurement that answers once: its frame, then `Started { seq }` so
/// the request resolves.
async fn one_shot<F, Fut>(socket: &mut WebSocket, session: &Session, seq: u64, run: F) -> bool
where
    F: FnOnce(redis::aio::MultiplexedConnection) -> Fut,
    Fut: std::future::Future<
        Output = Result<protocol::ChartFrame, crate::sim::rate_limit::SimError>,
    >,
{
    let result = match session.sandbox_connection().await {
        Ok(conn) => run(conn).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(frame) => {
            send(socket, &ServerMessage::Frame { frame }).await
                && send(socket, &ServerMessage::Started { seq }).await
        }
        Err(message) => send(socket, &failed(seq, message)).await,
    }
}

fn failed(seq: u64, message: String) -> ServerMessage {
    ServerMessage::Error {
        seq,
        error: ErrorBody {
            code: "simulation_failed".into(),
            message,
        },
    }
}

async fn serve(mut socket: WebSocket, session: Arc<Session>, state: AppState) {
    let mut events = session.subscribe();
    let mut tick = tokio::time::interval(PING_EVERY);
    tick.tick().await;
    let (frames_tx, mut frames) = tokio::sync::mpsc::channel(FRAME_BUFFER);
    // Held for its Drop: replacing or dropping it stops the simulation.
    let mut _simulation: Option<Simulation> = None;
    let mut _probe: Option<Simulation> = None;
    let mut spikes: Option<tokio::sync::mpsc::Sender<()>> = None;
    let mut stream_actions: Option<tokio::sync::mpsc::Sender<crate::sim::streams::StreamAction>> =
        None;
    loop {
        let event = tokio::select! {
            Some(frame) = frames.recv() => Event::Frame(frame),
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(message) => Event::Client(message),
                    Err(e) => Event::Violation(format!("Not a console message ({e}). Expected JSON like {{\"type\":\"exec\",\"seq\":1,\"line\":\"PING\"}}.")),
                },
                Some(Ok(Message::Binary(_))) => Event::Violation("Binary messages are not part of the console protocol; send JSON text.".into()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Event::Closed,
            },
            received = events.recv() => match received {
                Ok(SessionEvent::Notice { notice }) => Event::Notice(notice),
                Ok(SessionEvent::Ended) => Event::Closed,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => Event::Closed,
            },
            _ = tick.tick() => Event::Tick,
        };
        session.touch();
        let keep_going = match event {
            Event::Client(ClientMessage::Exec { seq, line }) => {
                let reply = match state
                    .gateway
                    .run_line(&session, &line, Origin::Learner)
                    .await
                {
                    Ok(result) => ServerMessage::Result { seq, result },
                    Err(e) => ServerMessage::Error {
                        seq,
                        error: e.body(),
                    },
                };
                // This socket's own notices came back in the reply.
                events = events.resubscribe();
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::Reset { seq }) => {
                let reply = match session.reset().await {
                    Ok(_) => ServerMessage::ResetDone { seq },
                    Err(e) => ServerMessage::Error {
                        seq,
                        error: ErrorBody {
                            code: "sandbox_unavailable".into(),
                            message: e.to_string(),
                        },
                    },
                };
                events = events.resubscribe();
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::Ping { seq }) => {
                send(&mut socket, &ServerMessage::Pong { seq }).await
            }
            Event::Client(ClientMessage::StartRateLimit { seq, sim }) => {
                _simulation = None;
                let (running, reply) =
                    start_simulator(&session, &frames_tx, seq, move |conn, run, send| {
                        crate::sim::rate_limit::run_live(conn, sim, run, send)
                    })
                    .await;
                _simulation = running;
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::StartAnomaly { seq, sim }) => {
                _simulation = None;
                let (spike_tx, spike_rx) = tokio::sync::mpsc::channel(8);
                spikes = Some(spike_tx);
                let (running, reply) =
                    start_simulator(&session, &frames_tx, seq, move |conn, run, send| {
                        crate::sim::anomaly::run_live(conn, sim, run, spike_rx, send)
                    })
                    .await;
                _simulation = running;
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::InjectSpike { seq }) => {
                let reply = match spikes.as_ref().map(|s| s.try_send(())) {
                    Some(Ok(())) => ServerMessage::Started { seq },
                    _ => failed(
                        seq,
                        "Start the anomaly generator first, then inject a spike.".into(),
                    ),
                };
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::StartStreams { seq, duration_ms }) => {
                _simulation = None;
                let (tx, rx) = tokio::sync::mpsc::channel(8);
                stream_actions = Some(tx);
                let (running, reply) =
                    start_simulator(&session, &frames_tx, seq, move |conn, run, send| {
                        crate::sim::streams::run_live(conn, run, duration_ms, rx, send)
                    })
                    .await;
                _simulation = running;
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::KillConsumer { seq, consumer }) => {
                let action = crate::sim::streams::StreamAction::Kill(consumer);
                let reply = match stream_actions.as_ref().map(|a| a.try_send(action)) {
                    Some(Ok(())) => ServerMessage::Started { seq },
                    _ => failed(seq, "Start the streams simulation first.".into()),
                };
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::Recover { seq }) => {
                let action = crate::sim::streams::StreamAction::Recover;
                let reply = match stream_actions.as_ref().map(|a| a.try_send(action)) {
                    Some(Ok(())) => ServerMessage::Started { seq },
                    _ => failed(seq, "Start the streams simulation first.".into()),
                };
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::StopSimulation { seq }) => {
                _simulation = None;
                send(&mut socket, &ServerMessage::Pong { seq }).await
            }
            Event::Client(ClientMessage::LatencyProbe { seq, on }) => {
                _probe = None;
                let reply = if on {
                    match session.sandbox_connection().await {
                        Ok(conn) => {
                            _probe = Some(spawn_frames(frames_tx.clone(), move |send| {
                                crate::sim::latency::run_probe(conn, send)
                            }));
                            ServerMessage::Started { seq }
                        }
                        Err(e) => failed(seq, e.to_string()),
                    }
                } else {
                    ServerMessage::Started { seq }
                };
                send(&mut socket, &reply).await
            }
            Event::Client(ClientMessage::GrowMemory { seq, kind, max }) => {
                one_shot(&mut socket, &session, seq, move |mut conn| async move {
                    crate::sim::memory::grow(&mut conn, kind, max).await
                })
                .await
            }
            Event::Client(ClientMessage::CompareEmbeddings { seq }) => {
                one_shot(&mut socket, &session, seq, |mut conn| async move {
                    crate::sim::memory::compare_embeddings(&mut conn).await
                })
                .await
            }
            Event::Client(ClientMessage::CompareReads { seq, n }) => {
                one_shot(&mut socket, &session, seq, move |mut conn| async move {
                    crate::sim::latency::compare_reads(&mut conn, n).await
                })
                .await
            }
            Event::Frame(frame) => send(&mut socket, &ServerMessage::Frame { frame }).await,
            Event::Notice(notice) => send(&mut socket, &ServerMessage::Notice { notice }).await,
            Event::Tick => socket.send(Message::Ping(Vec::new().into())).await.is_ok(),
            Event::Violation(message) => {
                let error = ErrorBody {
                    code: "protocol_violation".into(),
                    message,
                };
                let _ = send(&mut socket, &ServerMessage::Error { seq: 0, error }).await;
                false
            }
            Event::Closed => false,
        };
        if !keep_going {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    }
}
