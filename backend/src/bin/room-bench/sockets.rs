//! The benchmark's room sockets. Each one says hello, is welcomed, and is
//! then read by a task of its own that timestamps every push the
//! benchmark measures (`goto`, `console`, `frame`) the moment it arrives.
//! The instructor's socket also sends requests and hands back answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use protocol::{ChartFrame, RoomClientMessage, RoomServerMessage};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long the welcome, or an answer to a request, may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// Which chart a frame was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    RateLimit,
    Memory,
    Done,
    Other,
}

/// A push as one page saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// Follow-me, with the step it moved to.
    Goto(Option<String>),
    /// A demo console line, as typed.
    Console(String),
    Frame(FrameKind),
    Presence,
    /// The pace lock, said again: the server's sign that this page fell
    /// behind the room's buffer and skipped ahead (the benchmark never
    /// sets a pace itself).
    Pace,
}

/// Everything one page received, in order, with when.
pub type Log = Vec<(Instant, Push)>;

/// Pushes received, summed over a group of pages, so the benchmark knows
/// when a phase has reached everyone.
#[derive(Default)]
pub struct Tally {
    pub gotos: AtomicUsize,
    pub consoles: AtomicUsize,
    pub memory_frames: AtomicUsize,
    pub done_frames: AtomicUsize,
    /// Who is connected and follows: the instructor's board, which every
    /// page receives too.
    pub presence: AtomicUsize,
}

impl Tally {
    fn count(&self, push: &Push) {
        let counter = match push {
            Push::Goto(_) => &self.gotos,
            Push::Console(_) => &self.consoles,
            Push::Frame(FrameKind::Memory) => &self.memory_frames,
            Push::Frame(FrameKind::Done) => &self.done_frames,
            Push::Presence => &self.presence,
            Push::Frame(_) | Push::Pace => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn push_of(message: RoomServerMessage) -> Option<Push> {
    Some(match message {
        RoomServerMessage::Goto { place } => Push::Goto(place.step),
        RoomServerMessage::Console { line } => Push::Console(line.line),
        RoomServerMessage::Frame { frame } => Push::Frame(match frame {
            ChartFrame::RateLimit { .. } => FrameKind::RateLimit,
            ChartFrame::Memory { .. } => FrameKind::Memory,
            ChartFrame::Done { .. } => FrameKind::Done,
            _ => FrameKind::Other,
        }),
        RoomServerMessage::Pace { .. } => Push::Pace,
        RoomServerMessage::Presence { .. } => Push::Presence,
        _ => return None,
    })
}

/// The `seq` of an answer to a request; `None` for a push.
fn seq_of(message: &RoomServerMessage) -> Option<u64> {
    match message {
        RoomServerMessage::Ack { seq }
        | RoomServerMessage::Demo { seq, .. }
        | RoomServerMessage::Done { seq, .. }
        | RoomServerMessage::Error { seq, .. } => Some(*seq),
        _ => None,
    }
}

/// Connects to `url` and says hello with `token`; the socket once the
/// server welcomed it.
async fn open(url: &str, token: &str) -> anyhow::Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connect to {url} (is `ulimit -n` high enough?)"))?;
    let hello = serde_json::to_string(&RoomClientMessage::Hello {
        token: token.to_owned(),
    })?;
    socket.send(Message::Text(hello.into())).await?;
    loop {
        let next = tokio::time::timeout(ANSWER_WITHIN, socket.next())
            .await
            .map_err(|_| anyhow!("no welcome within {} s", ANSWER_WITHIN.as_secs()))?;
        match next {
            Some(Ok(Message::Text(text))) => {
                return match serde_json::from_str(&text)? {
                    RoomServerMessage::Welcome { .. } => Ok(socket),
                    other => bail!("the server answered hello with {other:?}"),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("the socket failed before the welcome: {e}"),
            None => bail!("the server closed the socket before the welcome"),
        }
    }
}

/// What one reading task does besides logging.
struct Pump {
    tally: Arc<Tally>,
    /// Requests to send (the instructor's socket only).
    outgoing: Option<mpsc::UnboundedReceiver<String>>,
    /// Where answers go (the instructor's socket only).
    answers: Option<mpsc::UnboundedSender<RoomServerMessage>>,
}

async fn next_request(outgoing: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match outgoing {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads `socket` until `stop` flips or the socket closes; the log.
async fn pump(mut socket: Socket, mut pump: Pump, mut stop: watch::Receiver<bool>) -> Log {
    let mut log = Log::with_capacity(256);
    loop {
        tokio::select! {
            incoming = socket.next() => {
                let at = Instant::now();
                let Some(Ok(message)) = incoming else { break };
                let Message::Text(text) = message else { continue };
                let Ok(message) = serde_json::from_str::<RoomServerMessage>(&text) else {
                    continue;
                };
                if seq_of(&message).is_some() {
                    if let Some(answers) = &pump.answers {
                        let _ = answers.send(message);
                    }
                } else if let Some(push) = push_of(message) {
                    pump.tally.count(&push);
                    log.push((at, push));
                }
            }
            Some(text) = next_request(&mut pump.outgoing) => {
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            _ = stop.changed() => break,
        }
    }
    let _ = socket.close(None).await;
    log
}

/// A learner's page: welcomed, and read by its own task.
pub async fn learner(
    url: &str,
    token: &str,
    tally: Arc<Tally>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<Log>> {
    let socket = open(url, token).await?;
    let pump_of = Pump {
        tally,
        outgoing: None,
        answers: None,
    };
    Ok(tokio::spawn(pump(socket, pump_of, stop)))
}

/// The instructor's page: sends requests, and logs the room's pushes like
/// any page (its frame count is the reference for loss).
pub struct Instructor {
    pub tally: Arc<Tally>,
    outgoing: mpsc::UnboundedSender<String>,
    answers: mpsc::UnboundedReceiver<RoomServerMessage>,
    early: HashMap<u64, RoomServerMessage>,
    task: JoinHandle<Log>,
    next_seq: u64,
}

impl Instructor {
    pub async fn open(
        url: &str,
        token: &str,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Instructor> {
        let socket = open(url, token).await?;
        let (outgoing, requests) = mpsc::unbounded_channel();
        let (answers_tx, answers) = mpsc::unbounded_channel();
        let tally = Arc::new(Tally::default());
        let pump_of = Pump {
            tally: tally.clone(),
            outgoing: Some(requests),
            answers: Some(answers_tx),
        };
        Ok(Instructor {
            tally,
            outgoing,
            answers,
            early: HashMap::new(),
            task: tokio::spawn(pump(socket, pump_of, stop)),
            next_seq: 1,
        })
    }

    /// Sends the request `make` builds with a fresh `seq`; its `seq`.
    pub fn send(&mut self, make: impl FnOnce(u64) -> RoomClientMessage) -> anyhow::Result<u64> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let text = serde_json::to_string(&make(seq))?;
        self.outgoing
            .send(text)
            .map_err(|_| anyhow!("the instructor's socket closed"))?;
        Ok(seq)
    }

    /// The answer to request `seq`; an `Error` answer is an error.
    pub async fn answer(&mut self, seq: u64) -> anyhow::Result<RoomServerMessage> {
        let answer = match self.early.remove(&seq) {
            Some(answer) => answer,
            None => loop {
                let next = tokio::time::timeout(ANSWER_WITHIN, self.answers.recv())
                    .await
                    .map_err(|_| anyhow!("no answer to request {seq} within 15 s"))?
                    .ok_or_else(|| anyhow!("the instructor's socket closed"))?;
                match seq_of(&next) {
                    Some(s) if s == seq => break next,
                    Some(s) => {
                        self.early.insert(s, next);
                    }
                    None => {}
                }
            },
        };
        match answer {
            RoomServerMessage::Error { error, .. } => {
                bail!("the server refused request {seq}: {}", error.message)
            }
            other => Ok(other),
        }
    }

    /// Sends a request and waits for its answer.
    pub async fn request(
        &mut self,
        make: impl FnOnce(u64) -> RoomClientMessage,
    ) -> anyhow::Result<RoomServerMessage> {
        let seq = self.send(make)?;
        self.answer(seq).await
    }

    /// The log, once `stop` flipped.
    pub async fn finish(self) -> Log {
        self.task.await.unwrap_or_default()
    }
}
