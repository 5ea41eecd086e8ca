//! `Simulations`: the simulators one socket has running. It owns the
//! running simulation, the latency probe, the channels that steer them
//! (spikes, stream actions) and the run counter, and it runs one-shot
//! measurements. Dropping it stops everything, and stops a script a
//! simulation may have left running in the sandbox.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use protocol::{AnomalySim, ChartFrame, MemoryKind, RateLimitSim};
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::streams::StreamAction;
use super::SimError;
use crate::session::Session;

/// Run numbers keep each run's keys apart from earlier runs' in the same
/// sandbox, across every socket.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// A frame sink for a simulator: false once nobody listens any more.
type FrameSink = Box<dyn FnMut(ChartFrame) -> bool + Send>;

/// A measurement that answers with one frame.
#[derive(Debug, Clone, Copy)]
pub enum Measurement {
    GrowMemory { kind: MemoryKind, max: u32 },
    CompareEmbeddings,
    CompareReads { n: u32 },
}

pub struct Simulations {
    session: Arc<Session>,
    frames: mpsc::Sender<ChartFrame>,
    running: Option<JoinHandle<()>>,
    probe: Option<JoinHandle<()>>,
    spikes: Option<mpsc::Sender<()>>,
    stream_actions: Option<mpsc::Sender<StreamAction>>,
}

impl Simulations {
    pub fn new(session: Arc<Session>, frames: mpsc::Sender<ChartFrame>) -> Simulations {
        Simulations {
            session,
            frames,
            running: None,
            probe: None,
            spikes: None,
            stream_actions: None,
        }
    }

    pub async fn start_rate_limit(&mut self, sim: RateLimitSim) -> Result<(), SimError> {
        self.stop();
        let handle = self
            .spawn(move |conn, run, send| super::rate_limit::run_live(conn, sim, run, send))
            .await?;
        self.running = Some(handle);
        Ok(())
    }

    pub async fn start_anomaly(&mut self, sim: AnomalySim) -> Result<(), SimError> {
        self.stop();
        let (spikes, spike_rx) = mpsc::channel(8);
        let handle = self
            .spawn(move |conn, run, send| super::anomaly::run_live(conn, sim, run, spike_rx, send))
            .await?;
        self.spikes = Some(spikes);
        self.running = Some(handle);
        Ok(())
    }

    pub async fn start_streams(&mut self, duration_ms: u64) -> Result<(), SimError> {
        self.stop();
        let (actions, action_rx) = mpsc::channel(8);
        let handle = self
            .spawn(move |conn, run, send| {
                super::streams::run_live(conn, run, duration_ms, action_rx, send)
            })
            .await?;
        self.stream_actions = Some(actions);
        self.running = Some(handle);
        Ok(())
    }

    /// Stops the running simulation (the probe keeps going). Aborting its
    /// task does not stop a script it already sent, so that is stopped in
    /// the sandbox too, the way the console stops a runaway.
    pub fn stop(&mut self) {
        if let Some(handle) = self.running.take() {
            handle.abort();
            let session = self.session.clone();
            tokio::spawn(async move { session.stop_runaway().await });
        }
        self.spikes = None;
        self.stream_actions = None;
    }

    pub fn inject_spike(&self) -> Result<(), SimError> {
        match self.spikes.as_ref().map(|s| s.try_send(())) {
            Some(Ok(())) => Ok(()),
            _ => Err(SimError::NotRunning(
                "Start the anomaly generator first, then inject a spike.",
            )),
        }
    }

    pub fn steer_streams(&self, action: StreamAction) -> Result<(), SimError> {
        match self.stream_actions.as_ref().map(|a| a.try_send(action)) {
            Some(Ok(())) => Ok(()),
            _ => Err(SimError::NotRunning("Start the streams simulation first.")),
        }
    }

    /// Turns the background PING probe on or off.
    pub async fn probe(&mut self, on: bool) -> Result<(), SimError> {
        if let Some(handle) = self.probe.take() {
            handle.abort();
        }
        if on {
            let handle = self
                .spawn(|conn, _, send| super::latency::run_probe(conn, send))
                .await?;
            self.probe = Some(handle);
        }
        Ok(())
    }

    /// Runs one measurement and returns its frame.
    pub async fn measure(&self, measurement: Measurement) -> Result<ChartFrame, SimError> {
        let mut conn = self.connection().await?;
        let result = match measurement {
            Measurement::GrowMemory { kind, max } => {
                super::memory::grow(&mut conn, kind, max).await
            }
            Measurement::CompareEmbeddings => super::memory::compare_embeddings(&mut conn).await,
            Measurement::CompareReads { n } => super::latency::compare_reads(&mut conn, n).await,
        };
        if matches!(result, Err(SimError::Redis(_))) {
            self.session.stop_runaway().await;
        }
        result
    }

    /// A connection of the simulators' own, under the sandbox's command
    /// deadline: a command past it fails, and the runaway is stopped the
    /// way the console stops one.
    async fn connection(&self) -> Result<MultiplexedConnection, SimError> {
        let mut conn = self.session.sandbox_connection().await?;
        conn.set_response_timeout(self.session.limits().command_deadline());
        Ok(conn)
    }

    /// Runs a simulator in its own task. A full frame channel drops the
    /// frame (a slow browser skips frames instead of building a backlog);
    /// the last frame says how the run ended.
    async fn spawn<F, Fut>(&self, run: F) -> Result<JoinHandle<()>, SimError>
    where
        F: FnOnce(MultiplexedConnection, u64, FrameSink) -> Fut,
        Fut: Future<Output = Result<(), SimError>> + Send + 'static,
    {
        let conn = self.connection().await?;
        let number = RUNS.fetch_add(1, Ordering::Relaxed);
        let frames = self.frames.clone();
        let send: FrameSink = Box::new(move |frame| {
            !matches!(
                frames.try_send(frame),
                Err(mpsc::error::TrySendError::Closed(_))
            )
        });
        let future = run(conn, number, send);
        let done = self.frames.clone();
        let session = self.session.clone();
        Ok(tokio::spawn(async move {
            let reason = match future.await {
                Ok(()) => "finished".to_owned(),
                Err(e) => {
                    if matches!(e, SimError::Redis(_)) {
                        session.stop_runaway().await;
                    }
                    format!("stopped: {e}")
                }
            };
            let _ = done.send(ChartFrame::Done { reason }).await;
        }))
    }
}

/// The socket closed: its last viewer is gone, so nothing of its
/// simulations may keep running.
impl Drop for Simulations {
    fn drop(&mut self) {
        self.stop();
        if let Some(handle) = self.probe.take() {
            handle.abort();
        }
    }
}
