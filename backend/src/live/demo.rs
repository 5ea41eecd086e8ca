//! The room's demo sandbox: the instructor's own session, whose every
//! console line and chart frame reaches every page in the room.
//!
//! It is an ordinary session (same gateway, same limits), admitted by the
//! room. Two taps turn it into room traffic: its event stream (each
//! command, refusal and notice becomes a `console` or `notice` message)
//! and its simulations' frame channel (each frame becomes a `frame`
//! message). The simulator runs once; the hub fans its frames out.

use std::net::IpAddr;
use std::sync::{Arc, Weak};

use protocol::{ConsoleLine, ErrorCode, RoomServerMessage, Scenario, SessionEvent};
use tokio::sync::{broadcast, mpsc};

use super::LiveRoom;
use crate::session::registry::Admission;
use crate::session::{RegistryError, Session, SessionRegistry};
use crate::sim::streams::StreamAction;
use crate::sim::{Measurement, SimError, Simulations};

/// Frames waiting to be fanned out; the hub never blocks, so this only
/// absorbs a burst.
const FRAME_BUFFER: usize = 64;

/// Why a live request failed, with its code.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("The demo sandbox could not start: {0}")]
    Sandbox(#[from] RegistryError),
    #[error("{0}")]
    Simulation(#[from] SimError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

impl LiveError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LiveError::Sandbox(e) => e.code(),
            LiveError::Simulation(_) => ErrorCode::SimulationFailed,
            LiveError::NotFound(_) => ErrorCode::NotFound,
            LiveError::Invalid(_) => ErrorCode::InvalidRequest,
        }
    }
}

struct DemoSandbox {
    session: Arc<Session>,
    sims: Simulations,
}

/// The room's demo sandbox, made on first use and again after it ended.
#[derive(Default)]
pub(super) struct DemoSlot {
    slot: tokio::sync::Mutex<Option<DemoSandbox>>,
}

impl LiveRoom {
    /// The demo sandbox's session id, if one is live.
    pub async fn demo_id(&self) -> Option<String> {
        let slot = self.demo.slot.lock().await;
        slot.as_ref().map(|d| d.session.id.clone())
    }

    /// The room's demo session: the live one, or a new one admitted by
    /// the room (host-wide caps still hold).
    pub async fn demo_session(
        self: &Arc<Self>,
        sessions: &SessionRegistry,
        ip: IpAddr,
    ) -> Result<Arc<Session>, LiveError> {
        let mut slot = self.demo.slot.lock().await;
        if let Some(demo) = slot.as_ref() {
            if let Some(live) = sessions.get(&demo.session.id) {
                return Ok(live);
            }
        }
        let admission = Admission::Room {
            room: self.id.clone(),
        };
        let session = sessions.create_for(ip, None, admission).await?;
        tokio::spawn(tap_events(Arc::downgrade(self), session.subscribe()));
        let (frames_tx, frames) = mpsc::channel(FRAME_BUFFER);
        tokio::spawn(tap_frames(Arc::downgrade(self), frames));
        let sims = Simulations::new(session.clone(), frames_tx);
        *slot = Some(DemoSandbox {
            session: session.clone(),
            sims,
        });
        Ok(session)
    }

    /// Starts (or steers) a scenario on the demo sandbox.
    pub async fn scenario(
        self: &Arc<Self>,
        sessions: &SessionRegistry,
        ip: IpAddr,
        scenario: Scenario,
    ) -> Result<(), LiveError> {
        self.demo_session(sessions, ip).await?;
        let mut slot = self.demo.slot.lock().await;
        let Some(demo) = slot.as_mut() else {
            return Err(LiveError::NotFound("The demo sandbox ended.".into()));
        };
        let sims = &mut demo.sims;
        match scenario {
            Scenario::RateLimit { sim } => sims.start_rate_limit(sim).await?,
            Scenario::Anomaly { sim } => sims.start_anomaly(sim).await?,
            Scenario::Spike => sims.inject_spike()?,
            Scenario::Streams { duration_ms } => sims.start_streams(duration_ms).await?,
            Scenario::KillConsumer { consumer } => {
                sims.steer_streams(StreamAction::Kill(consumer))?
            }
            Scenario::Recover => sims.steer_streams(StreamAction::Recover)?,
            Scenario::GrowMemory { kind, max } => {
                let frame = sims.measure(Measurement::GrowMemory { kind, max }).await?;
                self.publish(&RoomServerMessage::Frame { frame });
            }
            Scenario::Stop => sims.stop(),
        }
        Ok(())
    }
}

/// The demo session's commands, refusals and notices, as room messages,
/// until the session ends or the room is gone.
async fn tap_events(room: Weak<LiveRoom>, mut events: broadcast::Receiver<SessionEvent>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(room) = room.upgrade() else { return };
        match event {
            SessionEvent::Ended => return,
            SessionEvent::Notice { notice } => room.publish(&RoomServerMessage::Notice { notice }),
            other => {
                if let Some(line) = console_line(other) {
                    room.console(line);
                }
            }
        }
    }
}

/// A session event as the room shows it (also used to mirror a learner).
pub(super) fn console_line(event: SessionEvent) -> Option<ConsoleLine> {
    match event {
        SessionEvent::Command {
            line,
            text,
            is_error,
            ..
        } => Some(ConsoleLine {
            line,
            text,
            is_error,
        }),
        SessionEvent::Refused { line, error } => Some(ConsoleLine {
            line,
            text: error.message,
            is_error: true,
        }),
        SessionEvent::Notice { .. } | SessionEvent::Ended => None,
    }
}

/// The demo simulations' frames, to every page.
async fn tap_frames(room: Weak<LiveRoom>, mut frames: mpsc::Receiver<protocol::ChartFrame>) {
    while let Some(frame) = frames.recv().await {
        let Some(room) = room.upgrade() else { return };
        room.publish(&RoomServerMessage::Frame { frame });
    }
}
