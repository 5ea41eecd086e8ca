//! The server process's CPU and memory while the benchmark runs: a thread
//! reads `/proc/<pid>/stat` (utime + stime) and `/proc/<pid>/status`
//! (VmRSS) at a fixed period; a window of the samples gives the CPU as a
//! percentage of one core and the RSS, mean and peak.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    rss_kib: u64,
}

/// CPU and memory over a window.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Usage {
    /// Percent of one core, over the whole window.
    pub cpu_mean_pct: f64,
    /// Percent of one core, the busiest sampling period.
    pub cpu_peak_pct: f64,
    pub rss_mean_mib: f64,
    pub rss_peak_mib: f64,
}

pub struct UsageSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

/// `(utime + stime, VmRSS in KiB)` of `pid`, if it still runs.
fn read(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state …`: comm may hold spaces, so count from its `)`.
    // utime and stime are fields 14 and 15; the rest starts at field 3.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((utime + stime, rss))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run).
fn ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

impl UsageSampler {
    pub fn start(pid: u32, every: Duration) -> UsageSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let Some((cpu_ticks, rss_kib)) = read(pid) else {
                    break;
                };
                samples.push(Sample {
                    at: Instant::now(),
                    cpu_ticks,
                    rss_kib,
                });
                std::thread::sleep(every);
            }
            samples
        });
        UsageSampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the samples, to take windows of.
    pub fn finish(mut self) -> Samples {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        Samples {
            samples,
            ticks_per_sec: ticks_per_sec(),
        }
    }
}

impl Drop for UsageSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub struct Samples {
    samples: Vec<Sample>,
    ticks_per_sec: f64,
}

impl Samples {
    /// CPU and RSS between `from` and `to`.
    pub fn window(&self, from: Instant, to: Instant) -> Usage {
        let inside: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.at >= from && s.at <= to)
            .collect();
        let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
            return Usage::default();
        };
        let pct = |ticks: u64, span: Duration| {
            let secs = span.as_secs_f64();
            if secs > 0.0 {
                100.0 * ticks as f64 / self.ticks_per_sec / secs
            } else {
                0.0
            }
        };
        let cpu_peak_pct = inside
            .windows(2)
            .map(|w| {
                pct(
                    w[1].cpu_ticks.saturating_sub(w[0].cpu_ticks),
                    w[1].at - w[0].at,
                )
            })
            .fold(0.0, f64::max);
        let mib = |kib: u64| kib as f64 / 1024.0;
        let rss_sum: u64 = inside.iter().map(|s| s.rss_kib).sum();
        Usage {
            cpu_mean_pct: pct(
                last.cpu_ticks.saturating_sub(first.cpu_ticks),
                last.at - first.at,
            ),
            cpu_peak_pct,
            rss_mean_mib: mib(rss_sum) / inside.len() as f64,
            rss_peak_mib: mib(inside.iter().map(|s| s.rss_kib).max().unwrap_or(0)),
        }
    }
}
