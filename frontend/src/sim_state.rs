//! The live charts' state (provided once as context, beside the console's):
//! the frames of the running simulation, latency samples, the last
//! comparisons, and the requests that start, steer and stop simulators.

use leptos::prelude::*;
use protocol::sim_limits::{MEMORY_GROW_DEFAULT, STREAMS_DEFAULT_MS};
use protocol::{AnomalySim, ChartFrame, ClientMessage, MemoryKind, RateLimitSim, ServerMessage};

use crate::link::{Connection, Pushed};

/// Frames kept for the charts (two minutes of 250 ms buckets).
const MAX_FRAMES: usize = 480;
/// Samples kept for the latency charts.
const MAX_SAMPLES: usize = 3_000;

/// One latency measurement for the charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySample {
    /// Seconds since the page loaded.
    pub t: f64,
    /// The server's round trip to the sandbox, in µs.
    pub micros: u64,
    /// A background PING rather than a learner's command.
    pub probe: bool,
}

/// The feature-serving comparison: N reads three ways, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub n: u32,
    pub sequential: u64,
    pub pipeline: u64,
    pub hmget: u64,
}

fn page_seconds() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() / 1000.0)
        .unwrap_or_else(|| js_sys::Date::now() / 1000.0)
}

#[derive(Clone, Copy)]
pub struct SimState {
    /// Frames of the running (or last) simulation.
    pub frames: RwSignal<Vec<ChartFrame>>,
    pub running: RwSignal<bool>,
    pub status: RwSignal<String>,
    pub latencies: RwSignal<Vec<LatencySample>>,
    pub probe_on: RwSignal<bool>,
    pub comparison: RwSignal<Option<Comparison>>,
    /// The last growth curve per collection kind.
    pub memory: RwSignal<Vec<ChartFrame>>,
    pub embeddings: RwSignal<Option<ChartFrame>>,
    connection: Connection,
}

impl SimState {
    pub fn new(connection: Connection) -> SimState {
        SimState {
            frames: RwSignal::new(Vec::new()),
            running: RwSignal::new(false),
            status: RwSignal::new(String::new()),
            latencies: RwSignal::new(Vec::new()),
            probe_on: RwSignal::new(false),
            comparison: RwSignal::new(None),
            memory: RwSignal::new(Vec::new()),
            embeddings: RwSignal::new(None),
            connection,
        }
    }

    /// What the connection pushes that concerns the charts.
    pub fn on_pushed(&self, pushed: &Pushed) {
        if let Pushed::Frame(frame) = pushed {
            self.apply(frame.clone());
        }
    }

    fn apply(&self, frame: ChartFrame) {
        match frame {
            ChartFrame::Latency { probe, .. } => {
                let now = page_seconds();
                let count = probe.len() as f64;
                self.record(probe.into_iter().enumerate().map(|(i, micros)| {
                    LatencySample {
                        // Spread the batch over the half second it covers.
                        t: now - 0.5 * (count - i as f64) / count.max(1.0),
                        micros,
                        probe: true,
                    }
                }));
            }
            ChartFrame::Compare {
                n,
                sequential_us,
                pipeline_us,
                hmget_us,
            } => self.comparison.set(Some(Comparison {
                n,
                sequential: sequential_us,
                pipeline: pipeline_us,
                hmget: hmget_us,
            })),
            ChartFrame::Done { reason } => {
                if self.running.get_untracked() {
                    self.running.set(false);
                    self.status.set(format!("Simulation {reason}."));
                }
            }
            // One curve per collection kind: a new run replaces the last.
            ChartFrame::Memory { kind, .. } => self.memory.update(|all| {
                all.retain(|f| !matches!(f, ChartFrame::Memory { kind: k, .. } if *k == kind));
                all.push(frame);
            }),
            ChartFrame::Embeddings { .. } => self.embeddings.set(Some(frame)),
            frame => self.frames.update(|frames| {
                frames.push(frame);
                // A live chart needs the last couple of minutes at most.
                if frames.len() > MAX_FRAMES {
                    let excess = frames.len() - MAX_FRAMES;
                    frames.drain(..excess);
                }
            }),
        }
    }

    /// A learner's command took `micros` (server to sandbox and back).
    pub fn record_command(&self, micros: u64) {
        self.record(std::iter::once(LatencySample {
            t: page_seconds(),
            micros,
            probe: false,
        }));
    }

    fn record(&self, samples: impl Iterator<Item = LatencySample>) {
        self.latencies.update(|all| {
            all.extend(samples);
            if all.len() > MAX_SAMPLES {
                let excess = all.len() - MAX_SAMPLES;
                all.drain(..excess);
            }
        });
    }

    /// Sends a request answered by `Ack`; an error is shown as the status
    /// and handed to `on_error`.
    fn command(
        &self,
        make: impl FnOnce(u64) -> ClientMessage + 'static,
        on_error: impl FnOnce() + 'static,
    ) {
        let state = *self;
        leptos::task::spawn_local(async move {
            if let ServerMessage::Error { error, .. } = state.connection.request(make).await {
                state.status.set(error.message);
                on_error();
            }
        });
    }

    /// The background PING probe, like `redis-cli --latency`.
    pub fn set_probe(&self, on: bool) {
        let probe_on = self.probe_on;
        probe_on.set(on);
        self.command(
            move |seq| ClientMessage::LatencyProbe { seq, on },
            move || probe_on.set(false),
        );
    }

    /// Times N feature reads as N commands, a pipeline and one HMGET.
    pub fn compare_reads(&self, n: u32) {
        self.command(move |seq| ClientMessage::CompareReads { seq, n }, || {});
    }

    /// Starts a simulation whose frames arrive in `frames`, replacing the
    /// previous one's.
    fn start(&self, make: impl FnOnce(u64) -> ClientMessage + 'static) {
        let state = *self;
        state.frames.set(Vec::new());
        state.running.set(true);
        state.status.set("Starting…".into());
        leptos::task::spawn_local(async move {
            match state.connection.request(make).await {
                ServerMessage::Ack { .. } => state.status.set("Running.".into()),
                ServerMessage::Error { error, .. } => {
                    state.running.set(false);
                    state.status.set(error.message);
                }
                _ => {}
            }
        });
    }

    pub fn start_rate_limit(&self, sim: RateLimitSim) {
        self.start(|seq| ClientMessage::StartRateLimit { seq, sim });
    }

    /// The anomaly generator; spikes come from `inject_spike`.
    pub fn start_anomaly(&self, sim: AnomalySim) {
        self.start(|seq| ClientMessage::StartAnomaly { seq, sim });
    }

    pub fn inject_spike(&self) {
        self.command(|seq| ClientMessage::InjectSpike { seq }, || {});
    }

    /// Starts the streams simulation (producer and three consumers).
    pub fn start_streams(&self) {
        self.start(|seq| ClientMessage::StartStreams {
            seq,
            duration_ms: STREAMS_DEFAULT_MS,
        });
    }

    pub fn kill_consumer(&self, consumer: usize) {
        self.command(
            move |seq| ClientMessage::KillConsumer { seq, consumer },
            || {},
        );
    }

    pub fn recover(&self) {
        self.command(|seq| ClientMessage::Recover { seq }, || {});
    }

    /// Grows a collection past every compact-encoding threshold.
    pub fn grow_memory(&self, kind: MemoryKind) {
        self.command(
            move |seq| ClientMessage::GrowMemory {
                seq,
                kind,
                max: MEMORY_GROW_DEFAULT,
            },
            || {},
        );
    }

    pub fn compare_embeddings(&self) {
        self.command(|seq| ClientMessage::CompareEmbeddings { seq }, || {});
    }

    pub fn stop(&self) {
        let state = *self;
        leptos::task::spawn_local(async move {
            state
                .connection
                .request(|seq| ClientMessage::StopSimulation { seq })
                .await;
            state.running.set(false);
            state.status.set("Stopped.".into());
        });
    }
}
