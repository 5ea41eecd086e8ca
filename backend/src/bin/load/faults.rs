//! The faults injected during a run, and what the learners saw of them.
//! A sandbox kill SIGKILLs a share of the sandboxes in learners' use;
//! every learner that then gets a `restarted` notice is recorded with when
//! it got it and when its next command worked. A server kill SIGKILLs the
//! server, starts it again on the same data and port, and records when
//! every learner's socket is back and which of the old server's processes
//! outlived it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::host;
use crate::rng::Rng;

/// One learner's sandbox restart, as the learner saw it.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    pub learner: usize,
    /// When the notice (or the `sandbox_restarted` error) arrived.
    pub noticed: Instant,
    /// The round trip of the request that brought it: detection of the
    /// dead process, a fresh sandbox, and the command itself.
    pub carried_by: Duration,
    /// When a command next worked (the same reply, when it carried a result).
    pub working: Option<Instant>,
}

/// A sandbox kill, as carried out.
#[derive(Debug, Clone, Default)]
pub struct SandboxKill {
    pub at: Option<Instant>,
    /// Sandboxes in a learner's use when it struck, and how many it killed.
    pub in_use: usize,
    pub killed: usize,
    pub warm_spared: usize,
}

/// A server kill, as carried out.
#[derive(Debug, Clone, Default)]
pub struct ServerKill {
    pub killed_at: Option<Instant>,
    /// When the new server answered `/healthz` with its store ok.
    pub up_at: Option<Instant>,
    /// The old server's child processes (sandboxes, control store).
    pub old_children: usize,
    /// Of those, still alive once the new server was up, and 2 s later.
    pub alive_at_up: Vec<u32>,
    pub orphans: Vec<u32>,
    /// Whether the old server's sandbox root was still on disk after the
    /// new one started (its start-up sweep removes it).
    pub old_root_left: bool,
    pub restart_error: Option<String>,
}

#[derive(Default)]
pub struct Faults {
    /// Bumped just before the server is killed: a socket opened under an
    /// older generation that breaks was broken by the kill.
    pub generation: AtomicU32,
    /// Per grading run in flight, the sandboxes in learners' use when it
    /// began: its grading sandbox (a warm one then, or a new one) is not
    /// among them, and a sandbox kill spares whatever is not in all of
    /// them, so it never kills a grading sandbox, nor waits for one.
    grading: Mutex<HashMap<u64, Vec<u32>>>,
    grading_runs: AtomicU64,
    pub sandbox_kill: Mutex<SandboxKill>,
    restarts: Mutex<Vec<Restart>>,
    pub server_kill: Mutex<ServerKill>,
    back: Mutex<Vec<(usize, Instant)>>,
}

impl Faults {
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn restarted(&self, restart: Restart) {
        if let Ok(mut all) = self.restarts.lock() {
            all.push(restart);
        }
    }

    pub fn restarts(&self) -> Vec<Restart> {
        self.restarts.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// A learner's socket is open again after the server kill.
    pub fn back(&self, learner: usize) {
        if let Ok(mut back) = self.back.lock() {
            back.push((learner, Instant::now()));
        }
    }

    pub fn backs(&self) -> Vec<(usize, Instant)> {
        self.back.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// A grading run begins on server `server`; its key for `grading_ended`.
    pub fn grading_started(&self, server: u32) -> u64 {
        let key = self.grading_runs.fetch_add(1, Ordering::SeqCst);
        let in_use = in_use(&host::sandboxes(server));
        if let Ok(mut runs) = self.grading.lock() {
            runs.insert(key, in_use);
        }
        key
    }

    pub fn grading_ended(&self, key: u64) {
        if let Ok(mut runs) = self.grading.lock() {
            runs.remove(&key);
        }
    }

    /// SIGKILLs `percent` % (rounded up) of the sandboxes of `server` that
    /// are in a learner's use; warm ones are spared (nobody would notice),
    /// and so are grading sandboxes.
    pub fn kill_sandboxes(&self, server: u32, percent: f64, rng: &mut Rng) {
        let all = host::sandboxes(server);
        let mut in_use = in_use(&all);
        if let Ok(runs) = self.grading.lock() {
            in_use.retain(|pid| runs.values().all(|before| before.contains(pid)));
        }
        let n = ((in_use.len() as f64) * percent / 100.0).ceil() as usize;
        let victims = rng.pick(&in_use, n);
        let at = Instant::now();
        for &pid in &victims {
            backend::signal::send(pid, libc::SIGKILL);
        }
        if let Ok(mut kill) = self.sandbox_kill.lock() {
            *kill = SandboxKill {
                at: Some(at),
                in_use: in_use.len(),
                killed: victims.len(),
                warm_spared: all.len() - in_use.len(),
            };
        }
    }

    /// Records what became of the old server's children: `children` are
    /// their pids, `old_root` its sandbox root.
    pub async fn check_old_server(&self, children: &[u32], old_root: &std::path::Path) {
        let alive = |pids: &[u32]| -> Vec<u32> {
            pids.iter()
                .copied()
                .filter(|&p| !host::is_dead(p))
                .collect()
        };
        let alive_at_up = alive(children);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut orphans = alive(children);
        orphans.extend(host::processes_under(old_root));
        orphans.sort_unstable();
        orphans.dedup();
        if let Ok(mut kill) = self.server_kill.lock() {
            kill.alive_at_up = alive_at_up;
            kill.orphans = orphans;
            kill.old_root_left = old_root.exists();
        }
    }
}

/// Of `sandboxes`, those in a learner's use (see `host::sockets`).
fn in_use(sandboxes: &[u32]) -> Vec<u32> {
    sandboxes
        .iter()
        .copied()
        .filter(|&p| host::sockets(p) >= 3)
        .collect()
}

/// Children of `pid`, any kind.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.get(stat.rfind(')')? + 2..)?.to_owned();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The sandbox-kill figures for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SandboxKillReport {
    pub at_s: f64,
    pub in_use: usize,
    pub killed: usize,
    /// Warm sandboxes, not in anybody's use, left alone.
    pub warm_spared: usize,
    /// Distinct learners that got a `restarted` notice after the kill.
    pub learners_noticed: usize,
    /// Of those, whose next command worked.
    pub learners_recovered: usize,
    /// Learners noticing beyond the number killed: somebody else noticed.
    pub extra_learners: usize,
    /// Kill → the `restarted` notice on the learner's socket, per learner
    /// affected: the server's exit watcher pushes it by itself (before it,
    /// a dead sandbox was found at the learner's next request).
    pub notice_p50_ms: f64,
    pub notice_max_ms: f64,
    /// Learners whose notice came within 1 s of the kill.
    pub notice_within_1s: usize,
    /// Round trip of the request that brought the notice (detection,
    /// respawn, the command): what the learner waited for.
    pub carried_p50_ms: f64,
    pub carried_max_ms: f64,
    /// Notice → a working command.
    pub working_max_ms: f64,
    /// Learners with a working command within 1 s of the kill (their next
    /// command may come later: think time).
    pub within_1s: usize,
    /// Typed lines of the learners who noticed nothing, in the
    /// `others_window_s` seconds from the kill: "nobody else notices".
    pub others_exec: crate::tally::Latency,
    pub others_window_s: f64,
}

/// The server-kill figures for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerKillReport {
    pub at_s: f64,
    /// Kill → the new server healthy.
    pub restart_ms: f64,
    pub learners: usize,
    pub learners_back: usize,
    /// New server healthy → every learner's socket open again.
    pub all_back_ms: f64,
    pub back_p50_ms: f64,
    pub old_children: usize,
    pub alive_at_up: usize,
    pub orphans: Vec<u32>,
    pub old_root_left: bool,
    pub restart_error: Option<String>,
}
