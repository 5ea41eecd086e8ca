//! One learner's console socket (`GET /ws?session=<id>`), driven from the
//! learner's own task as a browser tab would: a request goes out with the
//! next `seq` and the socket is read until the answer with that `seq`
//! arrives; pushes that come meanwhile (notices, chart frames) are kept
//! with the moment they arrived. Think time is spent reading too, so a
//! dropped socket is noticed at once, not at the next request.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, Notice, ServerMessage};
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long the first message, or an answer to a request, may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// Why the socket is no use any more, or could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The upgrade was answered with this status: 401 means the session
    /// is not known (a restarted server), 429 a stated socket limit.
    #[error("the upgrade was refused with {0}")]
    Refused(u16),
    #[error("the socket closed: {0}")]
    Closed(String),
    #[error("no answer within {} s", ANSWER_WITHIN.as_secs())]
    Timeout,
}

/// Something the server sent without being asked.
#[derive(Debug, Clone)]
pub enum Push {
    Notice(Notice),
    /// A chart frame (its content is the chart's business).
    Frame,
}

pub struct Link {
    socket: Socket,
    seq: u64,
    /// Pushes since the caller last took them, with when they arrived.
    pushes: Vec<(Instant, Push)>,
}

impl Link {
    /// Opens the socket and reads its first message, `session_state`.
    pub async fn open(ws_base: &str, session: &str) -> Result<Link, LinkError> {
        let url = format!("{ws_base}/ws?session={session}");
        let socket = match tokio_tungstenite::connect_async(&url).await {
            Ok((socket, _)) => socket,
            Err(tungstenite::Error::Http(response)) => {
                return Err(LinkError::Refused(response.status().as_u16()))
            }
            Err(e) => return Err(LinkError::Closed(e.to_string())),
        };
        let mut link = Link {
            socket,
            seq: 0,
            pushes: Vec::new(),
        };
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            match link.next(deadline).await? {
                ServerMessage::SessionState { .. } => return Ok(link),
                other => link.keep(other),
            }
        }
    }

    /// Sends the request `make(seq)` and waits for its answer.
    pub async fn request(
        &mut self,
        make: impl FnOnce(u64) -> ClientMessage,
    ) -> Result<ServerMessage, LinkError> {
        self.seq += 1;
        let seq = self.seq;
        let text = serde_json::to_string(&make(seq)).unwrap_or_default();
        self.socket
            .send(Message::text(text))
            .await
            .map_err(|e| LinkError::Closed(e.to_string()))?;
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            let message = self.next(deadline).await?;
            if seq_of(&message) == Some(seq) {
                return Ok(message);
            }
            self.keep(message);
        }
    }

    /// Reads (keeping pushes) for `think`: the learner reads the page.
    pub async fn idle(&mut self, think: Duration) -> Result<(), LinkError> {
        let until = Instant::now() + think;
        loop {
            match tokio::time::timeout_at(until.into(), self.socket.next()).await {
                Err(_) => return Ok(()),
                Ok(incoming) => {
                    if let Some(message) = decode(incoming)? {
                        self.keep(message);
                    }
                }
            }
        }
    }

    /// `idle`, but back early (true) once a `restarted` notice is here:
    /// a learner told their sandbox was replaced tries it at once.
    pub async fn idle_or_restart(&mut self, think: Duration) -> Result<bool, LinkError> {
        let until = Instant::now() + think;
        loop {
            let told = self.pushes.iter().any(
                |(_, p)| matches!(p, Push::Notice(n) if n.kind == protocol::NoticeKind::Restarted),
            );
            if told {
                return Ok(true);
            }
            match tokio::time::timeout_at(until.into(), self.socket.next()).await {
                Err(_) => return Ok(false),
                Ok(incoming) => {
                    if let Some(message) = decode(incoming)? {
                        self.keep(message);
                    }
                }
            }
        }
    }

    /// Reads until a frame arrives or `within` passes (a simulator's first
    /// frame); true if one did.
    pub async fn frame_within(&mut self, within: Duration) -> Result<bool, LinkError> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if self.pushes.iter().any(|(_, p)| matches!(p, Push::Frame)) {
                return Ok(true);
            }
            let left = until.saturating_duration_since(Instant::now());
            self.idle(left.min(Duration::from_millis(50))).await?;
        }
        Ok(self.pushes.iter().any(|(_, p)| matches!(p, Push::Frame)))
    }

    /// The pushes received since the last call.
    pub fn take_pushes(&mut self) -> Vec<(Instant, Push)> {
        std::mem::take(&mut self.pushes)
    }

    /// Closes the socket the polite way.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.socket.close(None)).await;
    }

    fn keep(&mut self, message: ServerMessage) {
        let push = match message {
            ServerMessage::Notice { notice } => Push::Notice(notice),
            ServerMessage::Frame { .. } => Push::Frame,
            _ => return,
        };
        self.pushes.push((Instant::now(), push));
    }

    /// The next message from the server, before `deadline`.
    async fn next(&mut self, deadline: Instant) -> Result<ServerMessage, LinkError> {
        loop {
            let incoming = tokio::time::timeout_at(deadline.into(), self.socket.next())
                .await
                .map_err(|_| LinkError::Timeout)?;
            if let Some(message) = decode(incoming)? {
                return Ok(message);
            }
        }
    }
}

/// A text frame as a `ServerMessage`; `None` for control frames.
fn decode(
    incoming: Option<Result<Message, tungstenite::Error>>,
) -> Result<Option<ServerMessage>, LinkError> {
    match incoming {
        None => Err(LinkError::Closed("end of stream".into())),
        Some(Err(e)) => Err(LinkError::Closed(e.to_string())),
        Some(Ok(Message::Close(frame))) => Err(LinkError::Closed(format!(
            "the server closed it ({})",
            frame.map_or_else(|| "no reason".into(), |f| f.reason.to_string())
        ))),
        Some(Ok(Message::Text(text))) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LinkError::Closed(format!("unreadable message {text}: {e}"))),
        Some(Ok(_)) => Ok(None),
    }
}

/// The `seq` an answer echoes; `None` for pushes.
fn seq_of(message: &ServerMessage) -> Option<u64> {
    use ServerMessage as S;
    match message {
        S::Result { seq, .. }
        | S::Error { seq, .. }
        | S::ResetDone { seq }
        | S::Pong { seq }
        | S::Ack { seq }
        | S::LessonOpened { seq, .. }
        | S::BlockRan { seq, .. } => Some(*seq),
        S::Notice { .. } | S::Frame { .. } | S::SessionState { .. } => None,
    }
}
