//! Counters for `GET /metrics`, in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the command latency histogram, in microseconds.
const LATENCY_BUCKETS_US: [u64; 12] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000, 5_000_000,
];

/// A duration in whole microseconds, as every latency here is recorded.
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The nearest-rank percentile `p` (0 to 100) of `sorted`, 0 when empty:
/// the one definition every benchmark's table uses.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
pub struct Metrics {
    commands: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_US.len()],
    latency_sum_us: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
}

/// Gauges read at scrape time from their owners.
pub struct Gauges {
    pub sessions: usize,
    pub sandboxes: usize,
    pub warm_sandboxes: usize,
    pub spawns_total: u64,
}

impl Metrics {
    pub fn record_command(&self, micros: u64) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
        if let Some(i) = LATENCY_BUCKETS_US.iter().position(|&b| micros <= b) {
            self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_refusal(&self, code: &'static str) {
        if let Ok(mut refusals) = self.refusals.lock() {
            *refusals.entry(code).or_default() += 1;
        }
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            "redis_tutor_sessions",
            "Live learner sessions.",
            gauges.sessions as u64,
        );
        gauge(
            "redis_tutor_sandboxes",
            "Sandbox processes alive, warm ones included.",
            gauges.sandboxes as u64,
        );
        gauge(
            "redis_tutor_sandboxes_warm",
            "Ready sandboxes waiting in the pool.",
            gauges.warm_sandboxes as u64,
        );
        let _ = writeln!(
            out,
            "# HELP redis_tutor_sandbox_spawns_total Sandbox processes started.\n# TYPE redis_tutor_sandbox_spawns_total counter\nredis_tutor_sandbox_spawns_total {}",
            gauges.spawns_total
        );
        let _ = writeln!(
            out,
            "# HELP redis_tutor_refusals_total Console lines refused, by code.\n# TYPE redis_tutor_refusals_total counter"
        );
        if let Ok(refusals) = self.refusals.lock() {
            for (code, n) in refusals.iter() {
                let _ = writeln!(out, "redis_tutor_refusals_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP redis_tutor_command_latency_seconds Server-side time of each command in its sandbox.\n# TYPE redis_tutor_command_latency_seconds histogram"
        );
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS_US.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "redis_tutor_command_latency_seconds_bucket{{le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        let count = self.commands.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "redis_tutor_command_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "redis_tutor_command_latency_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "redis_tutor_command_latency_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_buckets_and_refusals() {
        let metrics = Metrics::default();
        metrics.record_command(40);
        metrics.record_command(700);
        metrics.record_refusal("command_refused");
        let text = metrics.render(&Gauges {
            sessions: 2,
            sandboxes: 3,
            warm_sandboxes: 1,
            spawns_total: 4,
        });
        assert!(text.contains("redis_tutor_sessions 2\n"));
        assert!(
            text.contains("redis_tutor_command_latency_seconds_bucket{le=\"0.00005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("redis_tutor_command_latency_seconds_bucket{le=\"0.001\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("redis_tutor_command_latency_seconds_count 2\n"));
        assert!(text.contains("redis_tutor_refusals_total{code=\"command_refused\"} 1\n"));
    }
}
