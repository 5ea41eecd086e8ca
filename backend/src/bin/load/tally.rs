//! What every learner records as it goes, shared by all of them: each
//! round trip with its kind and moment, console lines run, errors by code
//! and by what explains them, and the sessions started and refused.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backend::metrics::{micros, percentile};
use protocol::ErrorCode;
use serde::Serialize;

/// What was timed: one request and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A typed console line (`exec` on the socket): the headline figure.
    Exec,
    /// Of a typed line, the time in the sandbox as the server measured it
    /// (the answer's `micros`): the rest is the server and the network.
    InRedis,
    /// A lesson block run with the Run button (`run_block`, every line).
    Block,
    OpenLesson,
    /// A simulator started or stopped (`start_rate_limit`, `stop_simulation`).
    Simulator,
    /// `POST /api/me/progress`, acknowledged once on disk.
    Progress,
    /// `POST /api/sessions`: a sandbox from the warm pool or a new spawn.
    SessionStart,
    /// `POST /api/exercises/{id}/grade`: a fresh grading sandbox and real traffic.
    Grade,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Exec,
        Kind::InRedis,
        Kind::Block,
        Kind::OpenLesson,
        Kind::Simulator,
        Kind::Progress,
        Kind::SessionStart,
        Kind::Grade,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Exec => "typed line (`exec`), socket round trip",
            Kind::InRedis => "… of which in Redis (server's `micros`)",
            Kind::Block => "lesson block (`run_block`)",
            Kind::OpenLesson => "`open_lesson`",
            Kind::Simulator => "simulator start/stop",
            Kind::Progress => "`POST /api/me/progress`",
            Kind::SessionStart => "`POST /api/sessions` (spawn)",
            Kind::Grade => "`POST /api/exercises/…/grade`",
        }
    }
}

/// What explains an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Nothing does: this is a failure of the server (or the run).
    Real,
    /// A stated limit refused it (rate, spawns, sockets, capacity).
    RateLimit,
    /// Meant to fail: the script's deliberate mistakes, and lesson
    /// blocks written to fail.
    Expected,
    /// An injected fault: a killed sandbox, a killed server.
    Fault,
}

/// Codes the server uses for its stated limits.
pub fn is_stated_limit(code: ErrorCode) -> bool {
    use ErrorCode::*;
    matches!(
        code,
        RateLimited | Busy | SpawnRate | TooManySandboxes | TooManySockets | ServerFull
    )
}

#[derive(Debug, Clone, Copy)]
struct Timed {
    at: Instant,
    us: u64,
    kind: Kind,
    /// The learner (its index) whose round trip it was.
    learner: usize,
}

/// Percentiles of one kind of round trip, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Latency {
    pub fn of(mut us: Vec<u64>) -> Latency {
        us.sort_unstable();
        Latency {
            count: us.len(),
            p50_us: percentile(&us, 50.0),
            p95_us: percentile(&us, 95.0),
            p99_us: percentile(&us, 99.0),
            max_us: us.last().copied().unwrap_or(0),
        }
    }
}

/// Round trips of one kind in one second of the run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Second {
    pub t_s: u64,
    pub count: usize,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Examples of real errors kept for the report, per code.
const EXAMPLES_PER_CODE: usize = 2;

pub struct Tally {
    pub start: Instant,
    times: Mutex<Vec<Timed>>,
    errors: Mutex<BTreeMap<(String, Class), u64>>,
    examples: Mutex<Vec<String>>,
    /// Console lines that ran (typed lines and every block line).
    pub commands: AtomicU64,
    /// Replies that were Redis errors (WRONGTYPE, ERR …): the learner's
    /// Redis answering, not the server refusing.
    pub redis_errors: AtomicU64,
    pub sessions_started: AtomicU64,
    /// `POST /api/sessions` refused by a stated limit (then retried).
    pub sessions_refused: AtomicU64,
    /// Sockets reopened after a drop.
    pub reconnects: AtomicU64,
    pub frames: AtomicU64,
    pub grades: AtomicU64,
    /// Learners with a console socket open now.
    pub online: AtomicI64,
}

impl Tally {
    pub fn new(start: Instant) -> Tally {
        Tally {
            start,
            times: Mutex::default(),
            errors: Mutex::default(),
            examples: Mutex::default(),
            commands: AtomicU64::new(0),
            redis_errors: AtomicU64::new(0),
            sessions_started: AtomicU64::new(0),
            sessions_refused: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            grades: AtomicU64::new(0),
            online: AtomicI64::new(0),
        }
    }

    /// Learner `learner`'s round trip that began at `sent` and ended now.
    pub fn time(&self, kind: Kind, learner: usize, sent: Instant) -> Duration {
        let took = sent.elapsed();
        self.record(kind, learner, sent, micros(took));
        took
    }

    /// A duration measured elsewhere (the server's own figure).
    pub fn record(&self, kind: Kind, learner: usize, at: Instant, us: u64) {
        if let Ok(mut times) = self.times.lock() {
            times.push(Timed {
                at,
                us,
                kind,
                learner,
            });
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// An error, by its code (or a word for a transport failure) and what
    /// explains it; `what` says where, for the examples of real ones.
    pub fn error(&self, code: &str, class: Class, what: &str) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry((code.to_owned(), class)).or_default() += 1;
        }
        if class == Class::Real {
            if let Ok(mut examples) = self.examples.lock() {
                let prefix = format!("{code}: ");
                if examples.iter().filter(|e| e.starts_with(&prefix)).count() < EXAMPLES_PER_CODE {
                    examples.push(format!("{prefix}{what}"));
                }
            }
        }
    }

    /// Errors by (code, class).
    pub fn errors(&self) -> BTreeMap<(String, Class), u64> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }

    pub fn count(&self, class: Class) -> u64 {
        self.errors()
            .iter()
            .filter(|((_, c), _)| *c == class)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn examples(&self) -> Vec<String> {
        self.examples.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Round trips of `kind` in the last `span`, for the progress line.
    pub fn recent(&self, kind: Kind, span: Duration) -> Latency {
        let now = Instant::now();
        self.latency(kind, now - span, now)
    }

    /// Round trips of `kind` that began in `[from, to)`.
    fn of(&self, kind: Kind, from: Instant, to: Instant) -> Vec<Timed> {
        self.times
            .lock()
            .map(|t| {
                t.iter()
                    .filter(|x| x.kind == kind && x.at >= from && x.at < to)
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn latency(&self, kind: Kind, from: Instant, to: Instant) -> Latency {
        Latency::of(self.of(kind, from, to).iter().map(|t| t.us).collect())
    }

    /// Round trips of `kind` that began in any of `spans`, pooled.
    pub fn latency_in(&self, kind: Kind, spans: &[std::ops::Range<Instant>]) -> Latency {
        let us = self
            .times
            .lock()
            .map(|t| {
                t.iter()
                    .filter(|t| t.kind == kind && spans.iter().any(|s| s.contains(&t.at)))
                    .map(|t| t.us)
                    .collect()
            })
            .unwrap_or_default();
        Latency::of(us)
    }

    /// `latency`, leaving out the round trips of the learners in `but`.
    pub fn latency_of_others(
        &self,
        kind: Kind,
        from: Instant,
        to: Instant,
        but: &std::collections::BTreeSet<usize>,
    ) -> Latency {
        let times = self.of(kind, from, to);
        Latency::of(
            times
                .iter()
                .filter(|t| !but.contains(&t.learner))
                .map(|t| t.us)
                .collect(),
        )
    }

    /// Every round trip as CSV: `t_s,kind,learner,us`, in the order taken.
    pub fn write_csv(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        let times = self.times.lock().map(|t| t.clone()).unwrap_or_default();
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "t_s,kind,learner,us")?;
        for t in times {
            let kind = serde_json::to_value(t.kind).unwrap_or_default();
            let kind = kind.as_str().unwrap_or("?");
            let t_s = (t.at - self.start).as_secs_f64();
            writeln!(out, "{t_s:.6},{kind},{},{}", t.learner, t.us)?;
        }
        out.flush()
    }

    /// Per second of the run (from its start), for the chart.
    pub fn per_second(&self, kind: Kind, to: Instant) -> Vec<Second> {
        let mut by_second: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for t in self.of(kind, self.start, to) {
            let second = (t.at - self.start).as_secs();
            by_second.entry(second).or_default().push(t.us);
        }
        by_second
            .into_iter()
            .map(|(t_s, us)| {
                let l = Latency::of(us);
                Second {
                    t_s,
                    count: l.count,
                    p50_us: l.p50_us,
                    p99_us: l.p99_us,
                }
            })
            .collect()
    }
}
