//! The checks once every learner has left: acknowledged progress and
//! grading reports read back, nothing leaked (the server's file
//! descriptors and sandboxes back where they were, no process left in the
//! run dir once it stopped), and the faults' figures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::api::Api;
use crate::faults::{Faults, SandboxKillReport, ServerKillReport};
use crate::host;
use crate::learner::LearnerLog;
use crate::report::{Durability, Leaks};
use crate::run::client;
use crate::server::ServerChild;
use crate::tally::{Kind, Tally};

/// The server before the first learner.
#[derive(Default)]
pub struct Baseline {
    fds: Option<usize>,
    sandboxes: usize,
    tcp: usize,
    store: usize,
}

/// Polls `f` every 100 ms until it holds or `within` passes.
async fn until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !f() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// The server's fds and sandboxes once its warm pool has settled.
pub async fn baseline(pid: u32) -> Baseline {
    if pid == 0 {
        return Baseline::default();
    }
    let mut last = (usize::MAX, 0);
    let mut steady = 0;
    until(Duration::from_secs(10), || {
        let now = (host::sandboxes(pid).len(), host::fds(pid).unwrap_or(0));
        steady = if now == last { steady + 1 } else { 0 };
        last = now;
        steady >= 5
    })
    .await;
    Baseline {
        fds: Some(last.1),
        sandboxes: last.0,
        tcp: host::tcp_sockets(pid),
        store: host::store_connections(pid).unwrap_or(0),
    }
}

/// Waits for the sandboxes and fds to return to the baseline, then stops
/// the server (if it is ours) and looks for anything left in its run dir.
pub async fn leaks(pid: &AtomicU32, before: &Baseline, server: Option<&mut ServerChild>) -> Leaks {
    let pid = pid.load(Ordering::SeqCst);
    let mut leaks = Leaks {
        fds_before: before.fds,
        sandboxes_before: before.sandboxes,
        tcp_before: before.tcp,
        store_connections_before: before.store,
        ..Leaks::default()
    };
    if pid != 0 {
        until(Duration::from_secs(20), || {
            host::sandboxes(pid).len() <= before.sandboxes
        })
        .await;
        let fds_before = before.fds.unwrap_or(0);
        until(Duration::from_secs(5), || {
            host::fds(pid).unwrap_or(0) <= fds_before
        })
        .await;
        leaks.fds_after = host::fds(pid);
        leaks.sandboxes_after = host::sandboxes(pid).len();
        leaks.tcp_after = host::tcp_sockets(pid);
        leaks.store_connections_after = host::store_connections(pid).unwrap_or(0);
        let (after, before_n) = (leaks.fds_after.unwrap_or(0), before.fds.unwrap_or(0));
        let pool_growth = leaks.store_connections_after as i64 - before.store as i64;
        leaks.fds_unexplained = after as i64 - before_n as i64 - pool_growth;
    }
    if let Some(server) = server {
        leaks.server_exit = Some(match server.stop() {
            Some(status) => status.to_string(),
            None => "did not stop within 20 s; killed".to_owned(),
        });
        let run_dir = server.run_dir();
        until(Duration::from_secs(5), || {
            host::processes_under(&run_dir).is_empty()
        })
        .await;
        leaks.processes_left = host::processes_under(&run_dir);
    }
    leaks
}

/// Every learner's acknowledged steps and grading reports, read back.
pub async fn durability(base: &str, logs: &[LearnerLog], kill: Option<Instant>) -> Durability {
    let mut d = Durability::default();
    let Ok(http) = client(Duration::from_secs(10)) else {
        d.unreadable = logs.len();
        return d;
    };
    let api = Api::new(http, base);
    for log in logs {
        let Some(token) = &log.token else { continue };
        d.learners_checked += 1;
        let Ok(me) = api.me(token).await else {
            d.unreadable += 1;
            continue;
        };
        for (lesson, step, at) in &log.acked {
            let before_kill = kill.is_some_and(|k| *at < k);
            let kept = me.progress.get(lesson).is_some_and(|s| s.contains(step));
            d.steps_acked += 1;
            d.steps_acked_before_kill += usize::from(before_kill);
            d.steps_missing += usize::from(!kept);
            d.steps_missing_before_kill += usize::from(!kept && before_kill);
        }
        if log.grades_acked > 0 {
            d.grades_acked += log.grades_acked;
            match api.results(token).await {
                Ok(reports) => d.grades_missing += log.grades_acked.saturating_sub(reports.len()),
                Err(_) => d.unreadable += 1,
            }
        }
    }
    d
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// What the learners whose sandbox was not killed saw, from the kill on:
/// long enough for every killed sandbox to be replaced.
const OTHERS_AFTER_KILL: Duration = Duration::from_secs(2);

/// Who noticed the sandbox kill, how fast, whether they recovered, and
/// the typed lines of everyone else meanwhile.
pub fn sandbox_kill_report(
    faults: &Faults,
    tally: &Tally,
    start: Instant,
) -> Option<SandboxKillReport> {
    let kill = faults.sandbox_kill.lock().ok()?.clone();
    let at = kill.at?;
    // A learner's first restart after the kill.
    let mut first = BTreeMap::new();
    for r in faults.restarts().into_iter().filter(|r| r.noticed >= at) {
        first.entry(r.learner).or_insert(r);
    }
    let noticed: Vec<f64> = first.values().map(|r| ms(r.noticed - at)).collect();
    let carried: Vec<f64> = first.values().map(|r| ms(r.carried_by)).collect();
    let working: Vec<f64> = first
        .values()
        .filter_map(|r| Some(ms(r.working? - r.noticed)))
        .collect();
    let within_1s = first
        .values()
        .filter(|r| r.working.is_some_and(|w| w - at <= Duration::from_secs(1)))
        .count();
    let affected = first.keys().copied().collect();
    let others = tally.latency_of_others(Kind::Exec, at, at + OTHERS_AFTER_KILL, &affected);
    Some(SandboxKillReport {
        others_exec: others,
        others_window_s: OTHERS_AFTER_KILL.as_secs_f64(),
        at_s: (at - start).as_secs_f64(),
        in_use: kill.in_use,
        killed: kill.killed,
        warm_spared: kill.warm_spared,
        learners_noticed: first.len(),
        learners_recovered: working.len(),
        extra_learners: first.len().saturating_sub(kill.killed),
        notice_p50_ms: median(noticed.clone()),
        notice_max_ms: noticed.iter().copied().fold(0.0, f64::max),
        notice_within_1s: noticed.iter().filter(|&&ms| ms <= 1000.0).count(),
        carried_p50_ms: median(carried.clone()),
        carried_max_ms: carried.iter().copied().fold(0.0, f64::max),
        working_max_ms: working.iter().copied().fold(0.0, f64::max),
        within_1s,
    })
}

/// How long the server took to come back, and every learner with it.
pub fn server_kill_report(
    faults: &Faults,
    start: Instant,
    logs: &[LearnerLog],
) -> Option<ServerKillReport> {
    let kill = faults.server_kill.lock().ok()?.clone();
    let killed_at = kill.killed_at?;
    let up_at = kill.up_at.unwrap_or(killed_at);
    let mut first = BTreeMap::new();
    for (learner, at) in faults.backs() {
        first.entry(learner).or_insert(at);
    }
    let back: Vec<f64> = first
        .values()
        .map(|at| ms(at.saturating_duration_since(up_at)))
        .collect();
    Some(ServerKillReport {
        at_s: (killed_at - start).as_secs_f64(),
        restart_ms: kill.up_at.map_or(0.0, |up| ms(up - killed_at)),
        learners: logs.iter().filter(|l| l.token.is_some()).count(),
        learners_back: first.len(),
        all_back_ms: back.iter().copied().fold(0.0, f64::max),
        back_p50_ms: median(back),
        old_children: kill.old_children,
        alive_at_up: kill.alive_at_up.len(),
        orphans: kill.orphans,
        old_root_left: kill.old_root_left,
        restart_error: kill.restart_error,
    })
}
