//! The console's shared state (one per page, provided as context) and what
//! it does: run pasted blocks line by line, keep history, follow MULTI,
//! reset the sandbox. Components only read these signals and call these
//! methods; all network work goes through `link`.

use std::rc::Rc;

use gloo::storage::{LocalStorage as BrowserStorage, Storage};
use leptos::prelude::*;
use protocol::{
    AnomalySim, ChartFrame, ClientMessage, CommandCatalog, NoticeKind, RateLimitSim, ServerMessage,
};

use crate::link::{self, Link, LinkStatus, Pushed};

const HISTORY_KEY: &str = "redis-tutor.history";
const HISTORY_MAX: usize = 200;
/// Frames kept for the charts (two minutes of 250 ms buckets).
const MAX_FRAMES: usize = 480;

/// One latency measurement for the charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySample {
    /// Seconds since the page loaded.
    pub t: f64,
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

/// Samples kept for the latency charts.
const MAX_SAMPLES: usize = 3_000;

fn page_seconds() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() / 1000.0)
        .unwrap_or_else(|| js_sys::Date::now() / 1000.0)
}

/// How a notice line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// A command and what came back.
    Command {
        prompt: String,
        line: String,
        text: String,
        is_error: bool,
        /// Server-side latency, when Redis answered.
        micros: Option<u64>,
        /// Refusals and parse errors carry a code.
        code: Option<String>,
    },
    Notice {
        tone: Tone,
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub kind: EntryKind,
}

#[derive(Clone, Copy)]
pub struct ConsoleState {
    pub entries: RwSignal<Vec<Entry>>,
    pub status: RwSignal<LinkStatus>,
    pub in_multi: RwSignal<bool>,
    pub strict: RwSignal<bool>,
    /// Lines still to run from the current block.
    pub running: RwSignal<usize>,
    pub catalog: RwSignal<Option<CommandCatalog>>,
    pub history: RwSignal<Vec<String>>,
    /// Chart frames of the running (or last) simulation.
    pub frames: RwSignal<Vec<ChartFrame>>,
    pub sim_running: RwSignal<bool>,
    pub sim_status: RwSignal<String>,
    pub latencies: RwSignal<Vec<LatencySample>>,
    pub probe_on: RwSignal<bool>,
    pub comparison: RwSignal<Option<Comparison>>,
    /// The last growth curve per collection kind, and the embedding sizes.
    pub memory: RwSignal<Vec<ChartFrame>>,
    pub embeddings: RwSignal<Option<ChartFrame>>,
    next_id: StoredValue<u64>,
    link: StoredValue<Rc<Link>, LocalStorage>,
}

impl ConsoleState {
    /// Creates the state and starts the connection.
    pub fn start() -> ConsoleState {
        let state = ConsoleState {
            entries: RwSignal::new(Vec::new()),
            status: RwSignal::new(LinkStatus::Connecting),
            in_multi: RwSignal::new(false),
            strict: RwSignal::new(false),
            running: RwSignal::new(0),
            catalog: RwSignal::new(None),
            history: RwSignal::new(BrowserStorage::get(HISTORY_KEY).unwrap_or_default()),
            frames: RwSignal::new(Vec::new()),
            sim_running: RwSignal::new(false),
            sim_status: RwSignal::new(String::new()),
            latencies: RwSignal::new(Vec::new()),
            probe_on: RwSignal::new(false),
            comparison: RwSignal::new(None),
            memory: RwSignal::new(Vec::new()),
            embeddings: RwSignal::new(None),
            next_id: StoredValue::new(0),
            link: StoredValue::new_local(Rc::new(Link::default())),
        };
        link::run(
            state.link.get_value(),
            state.status,
            move |pushed| match pushed {
                Pushed::Notice(notice) => {
                    if notice.kind != NoticeKind::ScriptKilled {
                        state.in_multi.set(false);
                    }
                    state.notice(Tone::Warn, notice.message);
                }
                Pushed::Frame(ChartFrame::Latency { probe, .. }) => {
                    let now = page_seconds();
                    let count = probe.len() as f64;
                    state.record_latency(probe.into_iter().enumerate().map(|(i, micros)| {
                        LatencySample {
                            // Spread the batch over the half second it covers.
                            t: now - 0.5 * (count - i as f64) / count.max(1.0),
                            micros,
                            probe: true,
                        }
                    }));
                }
                Pushed::Frame(ChartFrame::Compare {
                    n,
                    sequential_us,
                    pipeline_us,
                    hmget_us,
                }) => {
                    state.comparison.set(Some(Comparison {
                        n,
                        sequential: sequential_us,
                        pipeline: pipeline_us,
                        hmget: hmget_us,
                    }));
                }
                Pushed::Frame(ChartFrame::Done { reason }) if state.sim_running.get_untracked() => {
                    state.sim_running.set(false);
                    state.sim_status.set(format!("Simulation {reason}."));
                }
                Pushed::Frame(frame @ ChartFrame::Memory { .. }) => state.memory.update(|all| {
                    if let ChartFrame::Memory { kind, .. } = &frame {
                        all.retain(
                            |f| !matches!(f, ChartFrame::Memory { kind: k, .. } if k == kind),
                        );
                    }
                    all.push(frame);
                }),
                Pushed::Frame(frame @ ChartFrame::Embeddings { .. }) => {
                    state.embeddings.set(Some(frame))
                }
                Pushed::Frame(ChartFrame::Done { .. }) => {}
                Pushed::Frame(frame) => state.frames.update(|frames| {
                    frames.push(frame);
                    // A live chart needs the last couple of minutes at most.
                    if frames.len() > MAX_FRAMES {
                        let excess = frames.len() - MAX_FRAMES;
                        frames.drain(..excess);
                    }
                }),
            },
        );
        leptos::task::spawn_local(async move {
            if let Ok(catalog) = crate::api::commands().await {
                state.catalog.set(Some(catalog));
            }
        });
        state
    }

    pub fn prompt(&self) -> String {
        if self.in_multi.get_untracked() {
            "redis-tutor(TX)> ".to_owned()
        } else {
            "redis-tutor> ".to_owned()
        }
    }

    fn push(&self, kind: EntryKind) {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        self.entries
            .update(|entries| entries.push(Entry { id, kind }));
    }

    pub fn notice(&self, tone: Tone, text: impl Into<String>) {
        self.push(EntryKind::Notice {
            tone,
            text: text.into(),
        });
    }

    pub fn clear(&self) {
        self.entries.set(Vec::new());
    }

    /// The whole transcript as plain text, as redis-cli would have printed it.
    pub fn transcript_text(&self) -> String {
        self.entries.with_untracked(|entries| {
            entries
                .iter()
                .map(|e| match &e.kind {
                    EntryKind::Command {
                        prompt, line, text, ..
                    } => format!("{prompt}{line}\n{text}"),
                    EntryKind::Notice { text, .. } => format!("# {text}"),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn remember(&self, line: &str) {
        // Never keep secrets: any line with an AUTH argument stays out.
        let has_secret = protocol::split_args(line.as_bytes())
            .map(|args| args.iter().any(|a| a.eq_ignore_ascii_case(b"auth")))
            .unwrap_or(true);
        if has_secret || line.trim().is_empty() {
            return;
        }
        self.history.update(|history| {
            if history.last().map(String::as_str) != Some(line) {
                history.push(line.to_owned());
            }
            if history.len() > HISTORY_MAX {
                let excess = history.len() - HISTORY_MAX;
                history.drain(..excess);
            }
            let _ = BrowserStorage::set(HISTORY_KEY, &*history);
        });
    }

    /// Runs a typed or pasted block: every line in order, each reply shown,
    /// stopping at nothing (as redis-cli does with a paste).
    pub fn run_text(&self, text: String) {
        let state = *self;
        let lines = protocol::paste::console_lines(&text, self.strict.get_untracked());
        if lines.is_empty() {
            return;
        }
        self.remember(text.trim_end_matches('\n'));
        self.running.update(|n| *n += lines.len());
        leptos::task::spawn_local(async move {
            for line in lines {
                state.run_line(line).await;
                state.running.update(|n| *n = n.saturating_sub(1));
            }
        });
    }

    async fn run_line(&self, line: String) {
        let prompt = self.prompt();
        // Parse errors are shown before sending, with redis-cli's words.
        match protocol::parse_line(line.as_bytes()) {
            Err(e) => {
                self.push(EntryKind::Command {
                    prompt,
                    line,
                    text: e.message().to_owned(),
                    is_error: true,
                    micros: None,
                    code: None,
                });
                return;
            }
            Ok(parsed) if parsed.args.is_empty() => return,
            Ok(_) => {}
        }
        let link = self.link.get_value();
        let reply = link
            .request(|seq| ClientMessage::Exec {
                seq,
                line: line.clone(),
            })
            .await;
        match reply {
            ServerMessage::Result { result, .. } => {
                self.in_multi.set(result.in_multi);
                if result.micros > 0 {
                    self.record_latency(std::iter::once(LatencySample {
                        t: page_seconds(),
                        micros: result.micros,
                        probe: false,
                    }));
                }
                self.push(EntryKind::Command {
                    prompt,
                    line: line.clone(),
                    text: result.text,
                    is_error: result.reply.is_error(),
                    micros: Some(result.micros),
                    code: None,
                });
                for notice in result.notices {
                    self.notice(Tone::Warn, notice.message);
                }
                let deprecation = self
                    .catalog
                    .with_untracked(|c| c.as_ref().and_then(|c| c.deprecation(&line)));
                if let Some(text) = deprecation {
                    self.notice(Tone::Info, text);
                }
            }
            ServerMessage::Error { error, .. } => {
                if error.code == "sandbox_restarted" {
                    self.in_multi.set(false);
                }
                self.push(EntryKind::Command {
                    prompt,
                    line,
                    text: error.message,
                    is_error: true,
                    micros: None,
                    code: Some(error.code),
                });
            }
            _ => {}
        }
    }

    fn record_latency(&self, samples: impl Iterator<Item = LatencySample>) {
        self.latencies.update(|all| {
            all.extend(samples);
            if all.len() > MAX_SAMPLES {
                let excess = all.len() - MAX_SAMPLES;
                all.drain(..excess);
            }
        });
    }

    /// The background PING probe, like `redis-cli --latency`.
    pub fn set_probe(&self, on: bool) {
        let state = *self;
        state.probe_on.set(on);
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            if let ServerMessage::Error { error, .. } = link
                .request(|seq| ClientMessage::LatencyProbe { seq, on })
                .await
            {
                state.probe_on.set(false);
                state.notice(Tone::Warn, error.message);
            }
        });
    }

    /// Times N feature reads as N commands, a pipeline and one HMGET.
    pub fn compare_reads(&self, n: u32) {
        let state = *self;
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            if let ServerMessage::Error { error, .. } = link
                .request(|seq| ClientMessage::CompareReads { seq, n })
                .await
            {
                state.notice(Tone::Warn, error.message);
            }
        });
    }

    /// Starts a simulation whose frames arrive in `frames`, replacing the
    /// previous one's.
    fn start_simulation(&self, make: impl FnOnce(u64) -> ClientMessage + 'static) {
        let state = *self;
        state.frames.set(Vec::new());
        state.sim_running.set(true);
        state.sim_status.set("Starting…".into());
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            match link.request(make).await {
                ServerMessage::Started { .. } => state.sim_status.set("Running.".into()),
                ServerMessage::Error { error, .. } => {
                    state.sim_running.set(false);
                    state.sim_status.set(error.message);
                }
                _ => {}
            }
        });
    }

    pub fn start_rate_limit(&self, sim: RateLimitSim) {
        self.start_simulation(|seq| ClientMessage::StartRateLimit { seq, sim });
    }

    /// The anomaly generator; spikes come from `inject_spike`.
    pub fn start_anomaly(&self, sim: AnomalySim) {
        self.start_simulation(|seq| ClientMessage::StartAnomaly { seq, sim });
    }

    /// Sends a request whose only answer is `Started` (or an error, shown
    /// as the simulation status).
    fn command(&self, make: impl FnOnce(u64) -> ClientMessage + 'static) {
        let state = *self;
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            if let ServerMessage::Error { error, .. } = link.request(make).await {
                state.sim_status.set(error.message);
            }
        });
    }

    pub fn inject_spike(&self) {
        self.command(|seq| ClientMessage::InjectSpike { seq });
    }

    /// Starts the streams simulation (producer and three consumers).
    pub fn start_streams(&self) {
        self.start_simulation(|seq| ClientMessage::StartStreams {
            seq,
            duration_ms: 90_000,
        });
    }

    pub fn kill_consumer(&self, consumer: usize) {
        self.command(move |seq| ClientMessage::KillConsumer { seq, consumer });
    }

    pub fn recover(&self) {
        self.command(|seq| ClientMessage::Recover { seq });
    }

    pub fn grow_memory(&self, kind: protocol::MemoryKind, max: u32) {
        self.command(move |seq| ClientMessage::GrowMemory { seq, kind, max });
    }

    pub fn compare_embeddings(&self) {
        self.command(|seq| ClientMessage::CompareEmbeddings { seq });
    }

    pub fn stop_simulation(&self) {
        let state = *self;
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            link.request(|seq| ClientMessage::StopSimulation { seq })
                .await;
            state.sim_running.set(false);
            state.sim_status.set("Stopped.".into());
        });
    }

    /// A fresh, empty sandbox for this session.
    pub fn reset(&self) {
        let state = *self;
        leptos::task::spawn_local(async move {
            let link = state.link.get_value();
            match link.request(|seq| ClientMessage::Reset { seq }).await {
                ServerMessage::ResetDone { .. } => {
                    state.in_multi.set(false);
                    state.notice(Tone::Info, "Your sandbox was reset: it is empty and ready.");
                }
                ServerMessage::Error { error, .. } => state.notice(Tone::Warn, error.message),
                _ => {}
            }
        });
    }
}
