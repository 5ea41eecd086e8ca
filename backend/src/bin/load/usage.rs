//! The host while the learners run, sampled on a thread of its own at a
//! fixed period: the host's CPU, this process's CPU (the clients share the
//! cores), the server's CPU, RSS and open file descriptors, and the count,
//! total RSS and total PSS of its sandboxes. The server's pid is read at
//! each sample, so a restarted server is followed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::host;

/// One sample. Server fields are absent while no server pid is known
/// (`--url` without `--server-pid`, or between a kill and its restart).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Sample {
    /// Seconds since the run began.
    pub t_s: f64,
    /// Percent of all the host's cores.
    pub host_cpu_pct: f64,
    /// Percent of one core.
    pub clients_cpu_pct: f64,
    pub server_cpu_pct: Option<f64>,
    /// All sandboxes together, percent of one core (a new sandbox's
    /// start-up counts in the period it appeared).
    pub sandboxes_cpu_pct: f64,
    pub server_rss_mib: Option<f64>,
    pub server_fds: Option<usize>,
    pub sandboxes: usize,
    pub sandbox_rss_mib: f64,
    pub sandbox_pss_mib: f64,
}

pub struct UsageSampler {
    /// The newest sample, for the progress line.
    pub latest: Arc<Mutex<Sample>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// What changes between two samples.
struct Previous {
    at: Instant,
    host: (u64, u64),
    clients: u64,
    server: Option<(u32, u64)>,
    sandboxes: HashMap<u32, u64>,
}

fn take(start: Instant, server: u32, prev: &mut Previous, tick: f64, spread: Duration) -> Sample {
    let now = Instant::now();
    let secs = (now - prev.at).as_secs_f64().max(1e-6);
    let core_pct = |ticks: u64| 100.0 * ticks as f64 / tick / secs;
    let host = host::host_cpu().unwrap_or(prev.host);
    let (busy, total) = (host.0 - prev.host.0, host.1 - prev.host.1);
    let host_cpu_pct = if total > 0 {
        100.0 * busy as f64 / total as f64
    } else {
        0.0
    };
    let clients = host::cpu_ticks(std::process::id()).unwrap_or(prev.clients);
    let mut sample = Sample {
        t_s: (now - start).as_secs_f64(),
        host_cpu_pct,
        clients_cpu_pct: core_pct(clients - prev.clients),
        ..Sample::default()
    };
    let server_ticks = (server != 0).then(|| host::cpu_ticks(server)).flatten();
    if let Some(ticks) = server_ticks {
        sample.server_cpu_pct = match prev.server {
            Some((pid, before)) if pid == server => Some(core_pct(ticks.saturating_sub(before))),
            _ => None,
        };
        sample.server_rss_mib = host::rss_kib(server).map(mib);
        sample.server_fds = host::fds(server);
        let sandboxes = host::sandboxes(server);
        sample.sandboxes = sandboxes.len();
        // Each sandbox is read in turn across `spread` rather than all at
        // once: 350 `smaps_rollup` reads take ~50 ms of one core, and as
        // one burst a second they queued the class's own lines behind them
        // (a third of the slowest lines of a run fell in that burst).
        let pause = spread / sandboxes.len().max(1) as u32;
        let (mut ticks, mut rss, mut pss) = (HashMap::new(), 0, 0);
        for &p in &sandboxes {
            if let Some(t) = host::cpu_ticks(p) {
                ticks.insert(p, t);
            }
            rss += host::rss_kib(p).unwrap_or(0);
            pss += host::pss_kib(p).unwrap_or(0);
            std::thread::sleep(pause);
        }
        let spent: u64 = ticks
            .iter()
            .map(|(p, t)| t.saturating_sub(prev.sandboxes.get(p).copied().unwrap_or(0)))
            .sum();
        sample.sandboxes_cpu_pct = core_pct(spent);
        prev.sandboxes = ticks;
        sample.sandbox_rss_mib = mib(rss);
        sample.sandbox_pss_mib = mib(pss);
    }
    prev.at = now;
    prev.host = host;
    prev.clients = clients;
    prev.server = server_ticks.map(|t| (server, t));
    sample
}

impl UsageSampler {
    /// Samples every `every` from now on; `server` holds the server's pid
    /// (0: none).
    pub fn start(start: Instant, server: Arc<AtomicU32>, every: Duration) -> UsageSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let latest = Arc::new(Mutex::new(Sample::default()));
        let newest = latest.clone();
        let thread = std::thread::spawn(move || {
            let tick = host::ticks_per_sec();
            let mut prev = Previous {
                at: Instant::now(),
                host: host::host_cpu().unwrap_or_default(),
                clients: host::cpu_ticks(std::process::id()).unwrap_or(0),
                server: None,
                sandboxes: HashMap::new(),
            };
            let mut samples = Vec::new();
            let mut next = Instant::now() + every;
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                next += every;
                let pid = server.load(Ordering::Relaxed);
                let sample = take(start, pid, &mut prev, tick, every / 2);
                if let Ok(mut newest) = newest.lock() {
                    *newest = sample;
                }
                samples.push(sample);
            }
            samples
        });
        UsageSampler {
            latest,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; every sample taken.
    pub fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for UsageSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
