//! From the pages' logs to the figures: each push matched to the request
//! that caused it (latency = receipt − the instant before sending),
//! frames counted against the instructor's page, and the table and JSON
//! the benchmark prints.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use backend::metrics::micros;
use serde::Serialize;

use crate::sockets::{FrameKind, Log, Push};
use crate::usage::Usage;

/// Latencies of one kind of push over every learner, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Pushes that reached a learner, and how many should have.
    pub reached: usize,
    pub expected: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Per push, when the first learner had it (median over pushes): the
    /// path through the server to one page.
    pub first_page_ms: f64,
    /// Per push, from the first learner's receipt to the last one's
    /// (median over pushes): the fan-out itself.
    pub spread_ms: f64,
}

/// Nearest-rank percentile of sorted microseconds, in ms.
fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    backend::metrics::percentile(sorted, p) as f64 / 1000.0
}

fn median_ms(mut us: Vec<u64>) -> f64 {
    us.sort_unstable();
    percentile_ms(&us, 50.0)
}

/// Matches each page's pushes, in order, to `sent` (what was sent and
/// the instant just before), skipping pushes that match nothing (a
/// missed push leaves a gap, it does not shift the rest).
pub fn latencies(pages: &[Log], sent: &[(Instant, Push)]) -> Latency {
    let mut samples = Vec::new();
    // Per push: (first, last) latency over the pages it reached.
    let mut reach: Vec<Option<(u64, u64)>> = vec![None; sent.len()];
    for log in pages {
        let mut next = 0;
        for (at, push) in log {
            let found = sent[next.min(sent.len())..]
                .iter()
                .position(|(sent_at, want)| want == push && at >= sent_at);
            if let Some(offset) = found {
                let index = next + offset;
                let us = micros(*at - sent[index].0);
                samples.push(us);
                let (first, last) = reach[index].get_or_insert((us, us));
                (*first, *last) = ((*first).min(us), (*last).max(us));
                next = index + 1;
            }
        }
    }
    samples.sort_unstable();
    let reached_by: Vec<(u64, u64)> = reach.into_iter().flatten().collect();
    Latency {
        reached: samples.len(),
        expected: sent.len() * pages.len(),
        p50_ms: percentile_ms(&samples, 50.0),
        p95_ms: percentile_ms(&samples, 95.0),
        p99_ms: percentile_ms(&samples, 99.0),
        max_ms: samples.last().map_or(0.0, |&us| us as f64 / 1000.0),
        first_page_ms: median_ms(reached_by.iter().map(|r| r.0).collect()),
        spread_ms: median_ms(reached_by.iter().map(|r| r.1 - r.0).collect()),
    }
}

/// Frames of one run, per learner, against the instructor's page.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Frames {
    /// What the instructor's page received.
    pub reference: usize,
    pub learner_min: usize,
    pub learner_max: usize,
    pub learners_with_loss: usize,
    pub frames_lost: usize,
    /// Frames per second as the instructor's page received them.
    pub rate_per_sec: f64,
}

/// The frames of `kinds` a page received from `since` on, up to and
/// including the first `Done` when that is one of them.
fn frames_of(log: &Log, since: Instant, kinds: &[FrameKind]) -> Vec<(Instant, FrameKind)> {
    let mut seen = Vec::new();
    for (at, push) in log.iter().filter(|(at, _)| *at >= since) {
        if let Push::Frame(kind) = push {
            if kinds.contains(kind) {
                seen.push((*at, *kind));
                if *kind == FrameKind::Done {
                    break;
                }
            }
        }
    }
    seen
}

/// Data frames (not `Done`) per second, from the first to the last.
fn rate(frames: &[(Instant, FrameKind)]) -> f64 {
    let data: Vec<Instant> = frames
        .iter()
        .filter(|(_, kind)| *kind != FrameKind::Done)
        .map(|(at, _)| *at)
        .collect();
    match (data.first(), data.last()) {
        (Some(first), Some(last)) if data.len() > 1 => {
            (data.len() - 1) as f64 / last.duration_since(*first).as_secs_f64().max(1e-9)
        }
        _ => 0.0,
    }
}

pub fn frames(instructor: &Log, pages: &[Log], since: Instant, kinds: &[FrameKind]) -> Frames {
    let reference = frames_of(instructor, since, kinds);
    let rate_per_sec = rate(&reference);
    let counts: Vec<usize> = pages
        .iter()
        .map(|log| frames_of(log, since, kinds).len())
        .collect();
    let lost: Vec<usize> = counts
        .iter()
        .map(|&c| reference.len().saturating_sub(c))
        .collect();
    Frames {
        reference: reference.len(),
        learner_min: counts.iter().copied().min().unwrap_or(0),
        learner_max: counts.iter().copied().max().unwrap_or(0),
        learners_with_loss: lost.iter().filter(|&&l| l > 0).count(),
        frames_lost: lost.iter().sum(),
        rate_per_sec,
    }
}

/// Pages that said they had fallen behind and skipped ahead.
pub fn skipped(pages: &[Log], since: Instant) -> usize {
    pages
        .iter()
        .filter(|log| log.iter().any(|(at, p)| *at >= since && *p == Push::Pace))
        .count()
}

/// Today, `YYYY-MM-DD` (UTC), from the days since 1970 (Howard Hinnant's
/// `civil_from_days`).
pub fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub cores: usize,
    pub learners: usize,
    pub goto: Latency,
    pub console: Latency,
    pub paced_frame: Latency,
    pub scenario_frames: Frames,
    pub paced_frames: Frames,
    /// Learner pages that fell behind the room's buffer and skipped ahead.
    pub pages_skipped_ahead: usize,
    /// `presence` messages a learner page received while the class
    /// arrived (mean over pages).
    pub presence_per_page: f64,
    /// The server process during the measured phases.
    pub server: Usage,
    /// This benchmark's own process (its 201 clients) meanwhile: they
    /// share the same two cores.
    pub clients: Usage,
    pub rss_before_sockets_mib: f64,
    pub setup_secs: f64,
    pub measured_secs: f64,
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✔"
    } else {
        "✗"
    }
}

fn latency_row(what: &str, l: &Latency, goal: &str) -> String {
    format!(
        "| {what} | {}/{} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {goal} |",
        l.reached, l.expected, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, l.first_page_ms, l.spread_ms
    )
}

fn frames_row(what: &str, f: &Frames) -> String {
    format!(
        "| {what} | {} | {}–{} | {} | {} | {:.1} frames/s | {} |",
        f.reference,
        f.learner_min,
        f.learner_max,
        f.learners_with_loss,
        f.frames_lost,
        f.rate_per_sec,
        mark(f.frames_lost == 0 && f.reference > 1)
    )
}

fn usage_row(what: &str, u: &Usage) -> String {
    format!(
        "| {what} | {:.0} % of a core | {:.0} % | {:.1} MiB | {:.1} MiB |",
        u.cpu_mean_pct, u.cpu_peak_pct, u.rss_mean_mib, u.rss_peak_mib
    )
}

impl Report {
    pub fn markdown(&self, pushes: usize, lines: usize, gap: Duration) -> String {
        let n = self.learners;
        let gap_ms = gap.as_millis();
        let reached = |l: &Latency| l.reached == l.expected;
        let goto_ok = reached(&self.goto) && self.goto.p99_ms <= 200.0;
        let console_ok = reached(&self.console) && self.console.p99_ms <= 100.0;
        [
            format!("Run on {}: {n} learners in one room, {} cores.", self.date, self.cores),
            String::new(),
            "| push, to every learner | reached | p50 | p95 | p99 | max | first page | first → last page | goal |".into(),
            "|---|---|---|---|---|---|---|---|---|".into(),
            latency_row(
                &format!("follow-me `goto` ({pushes} pushes, {gap_ms} ms apart)"),
                &self.goto,
                &format!("p99 ≤ 200 ms {}", mark(goto_ok)),
            ),
            latency_row(
                &format!("demo console line, `POST /api/exec` → `console` ({lines} lines, {gap_ms} ms apart)"),
                &self.console,
                &format!("p99 ≤ 100 ms {}", mark(console_ok)),
            ),
            latency_row(
                &format!("`frame` at 10/s: memory explorer, requested every 100 ms ({} frames)", self.paced_frames.reference),
                &self.paced_frame,
                "no loss (below)",
            ),
            String::new(),
            "| frames | instructor's page | per learner (min–max) | learners with loss | frames lost | rate observed | no loss |".into(),
            "|---|---|---|---|---|---|---|".into(),
            frames_row("rate-limit scenario (ends with `Done`)", &self.scenario_frames),
            frames_row("memory explorer, requested every 100 ms", &self.paced_frames),
            String::new(),
            "| measured phases | CPU mean | CPU peak | RSS mean | RSS peak |".into(),
            "|---|---|---|---|---|".into(),
            usage_row("server process (`redis-tutor`)", &self.server),
            usage_row("benchmark clients (this process)", &self.clients),
            String::new(),
            format!(
                "RSS before the room sockets opened (peak while the learners joined): {:.1} MiB. Set-up ({n} learners created and joined, {} sockets opened): {:.1} s; measured phases: {:.1} s. `presence` messages per learner page while the class arrived: {:.0}. Learner pages that fell behind and skipped ahead: {}.",
                self.rss_before_sockets_mib, n + 1, self.setup_secs, self.measured_secs, self.presence_per_page, self.pages_skipped_ahead
            ),
        ]
        .join("\n")
    }
}
