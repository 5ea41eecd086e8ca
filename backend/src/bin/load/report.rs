//! Everything one run measured, as the JSON object `--json` prints last
//! and as the markdown tables of docs/benchmarks.md.

use serde::Serialize;

use crate::faults::{SandboxKillReport, ServerKillReport};
use crate::tally::{Class, Kind, Latency};
use crate::usage::Sample;

/// Errors of one code and one class.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRow {
    pub code: String,
    pub class: Class,
    pub count: u64,
}

/// The host over the measured window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UsageSummary {
    pub host_cpu_mean_pct: f64,
    pub host_cpu_peak_pct: f64,
    pub clients_cpu_mean_pct: f64,
    pub sandboxes_cpu_mean_pct: f64,
    pub sandboxes_cpu_peak_pct: f64,
    /// The host's CPU less the server, its sandboxes and the load
    /// generator, in percent of one core: other work on the machine.
    pub others_cpu_mean_pct: f64,
    pub server_cpu_mean_pct: f64,
    pub server_cpu_peak_pct: f64,
    pub server_rss_peak_mib: f64,
    pub server_fds_peak: usize,
    pub sandboxes_peak: usize,
    pub sandbox_rss_peak_mib: f64,
    pub sandbox_pss_peak_mib: f64,
    /// PSS per sandbox at the PSS peak.
    pub pss_per_sandbox_mib: f64,
}

impl UsageSummary {
    pub fn of(samples: &[Sample]) -> UsageSummary {
        let mean = |f: &dyn Fn(&Sample) -> Option<f64>| {
            let values: Vec<f64> = samples.iter().filter_map(f).collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        };
        let peak =
            |f: &dyn Fn(&Sample) -> Option<f64>| samples.iter().filter_map(f).fold(0.0, f64::max);
        let at_pss_peak = samples
            .iter()
            .max_by(|a, b| a.sandbox_pss_mib.total_cmp(&b.sandbox_pss_mib));
        UsageSummary {
            host_cpu_mean_pct: mean(&|s| Some(s.host_cpu_pct)),
            host_cpu_peak_pct: peak(&|s| Some(s.host_cpu_pct)),
            clients_cpu_mean_pct: mean(&|s| Some(s.clients_cpu_pct)),
            sandboxes_cpu_mean_pct: mean(&|s| Some(s.sandboxes_cpu_pct)),
            sandboxes_cpu_peak_pct: peak(&|s| Some(s.sandboxes_cpu_pct)),
            others_cpu_mean_pct: mean(&|s| {
                let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
                let ours =
                    s.clients_cpu_pct + s.sandboxes_cpu_pct + s.server_cpu_pct.unwrap_or(0.0);
                Some((s.host_cpu_pct * cores - ours).max(0.0))
            }),
            server_cpu_mean_pct: mean(&|s| s.server_cpu_pct),
            server_cpu_peak_pct: peak(&|s| s.server_cpu_pct),
            server_rss_peak_mib: peak(&|s| s.server_rss_mib),
            server_fds_peak: samples
                .iter()
                .filter_map(|s| s.server_fds)
                .max()
                .unwrap_or(0),
            sandboxes_peak: samples.iter().map(|s| s.sandboxes).max().unwrap_or(0),
            sandbox_rss_peak_mib: peak(&|s| Some(s.sandbox_rss_mib)),
            sandbox_pss_peak_mib: peak(&|s| Some(s.sandbox_pss_mib)),
            pss_per_sandbox_mib: at_pss_peak
                .map_or(0.0, |s| s.sandbox_pss_mib / s.sandboxes.max(1) as f64),
        }
    }
}

/// What was left once the learners had gone (and the server stopped).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Leaks {
    /// The server's open file descriptors and sandboxes before the first
    /// learner, and after the last one left.
    pub fds_before: Option<usize>,
    pub fds_after: Option<usize>,
    /// Of those, TCP sockets (the listener and every client's).
    pub tcp_before: usize,
    pub tcp_after: usize,
    /// Connections to the control store: a pool that keeps up to 8 idle
    /// writers, so it grows with concurrent writes and stays grown.
    pub store_connections_before: usize,
    pub store_connections_after: usize,
    /// fds after − fds before − growth of the store's pool: what nothing
    /// explains.
    pub fds_unexplained: i64,
    pub sandboxes_before: usize,
    pub sandboxes_after: usize,
    /// How the server ended on SIGTERM (`None`: not started here).
    pub server_exit: Option<String>,
    /// Processes still running in the run dir after the server stopped.
    pub processes_left: Vec<u32>,
}

/// Acknowledged writes, read back after the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Durability {
    pub learners_checked: usize,
    pub steps_acked: usize,
    pub steps_missing: usize,
    /// Of those, acknowledged before the server kill.
    pub steps_acked_before_kill: usize,
    pub steps_missing_before_kill: usize,
    pub grades_acked: usize,
    pub grades_missing: usize,
    /// Learners whose record could not be read.
    pub unreadable: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub cores: usize,
    pub learners: usize,
    pub seconds: f64,
    pub ramp_s: f64,
    /// When every learner was online (the measured window's start), in
    /// seconds since the first one arrived, and how many were.
    pub all_online_s: f64,
    pub online: usize,
    pub think_ms: u64,
    /// Console lines run (typed lines and every lesson block line).
    pub commands: u64,
    /// Errors nothing explains: neither a stated limit, nor a deliberate
    /// mistake, nor an injected fault.
    pub errors: u64,
    pub rate_limited: u64,
    pub expected_errors: u64,
    pub fault_errors: u64,
    pub errors_by_code: Vec<ErrorRow>,
    pub error_examples: Vec<String>,
    pub redis_error_replies: u64,
    /// A typed line's round trip on the socket, over the measured window.
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub round_trips: Vec<(Kind, Latency)>,
    pub sessions_started: u64,
    pub sessions_refused: u64,
    pub reconnects: u64,
    pub frames: u64,
    pub grades: u64,
    pub usage: UsageSummary,
    pub leaks: Leaks,
    pub durability: Durability,
    pub sandbox_kill: Option<SandboxKillReport>,
    pub server_kill: Option<ServerKillReport>,
    /// `--hostile`: the quiet and hostile phases, and each hostile kind.
    pub hostile: Option<crate::hostile::Report>,
    /// `--nodes`: the hop's cost and the shared store's load.
    pub nodes: Option<NodesReport>,
}

/// The class on several nodes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodesReport {
    pub nodes: usize,
    /// PINGs timed each way, alternating.
    pub hop_lines: usize,
    pub direct_p50_us: u64,
    pub direct_p99_us: u64,
    pub hopped_p50_us: u64,
    pub hopped_p99_us: u64,
    /// Commands the control store ran from the class's arrival to its end.
    pub store_commands: u64,
    pub store_ops_per_learner_s: f64,
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = vec![
            format!(
                "Run on {}: {} learners arriving over {:.0} s, {} online {:.1} s after the first arrived; {:.0} s measured from then; think time {} ms (0.5–1.5×); {} cores.",
                self.date, self.learners, self.ramp_s, self.online, self.all_online_s, self.seconds, self.think_ms, self.cores
            ),
            String::new(),
            "| round trip (measured window; sessions: whole run) | count | p50 | p95 | p99 | max |".into(),
            "|---|---|---|---|---|---|".into(),
        ];
        for (kind, l) in &self.round_trips {
            out.push(format!(
                "| {} | {} | {} | {} | {} | {} |",
                kind.label(),
                l.count,
                ms(l.p50_us),
                ms(l.p95_us),
                ms(l.p99_us),
                ms(l.max_us)
            ));
        }
        out.push(String::new());
        out.push(format!(
            "Console lines run: {}. Sessions started: {}, refused by a stated limit: {}. Sockets reopened: {}. Chart frames: {}. Grading runs: {}. Redis error replies (the learner's Redis answering, not refusals): {}.",
            self.commands, self.sessions_started, self.sessions_refused, self.reconnects, self.frames, self.grades, self.redis_error_replies
        ));
        out.push(String::new());
        out.push("| errors by code | class | count |".into());
        out.push("|---|---|---|".into());
        if self.errors_by_code.is_empty() {
            out.push("| none | | 0 |".into());
        }
        for row in &self.errors_by_code {
            out.push(format!(
                "| `{}` | {:?} | {} |",
                row.code, row.class, row.count
            ));
        }
        let u = &self.usage;
        out.extend([
            String::new(),
            "| host, measured window | mean | peak |".into(),
            "|---|---|---|".into(),
            format!(
                "| host CPU (all cores) | {:.0} % | {:.0} % |",
                u.host_cpu_mean_pct, u.host_cpu_peak_pct
            ),
            format!(
                "| server CPU (of one core) | {:.0} % | {:.0} % |",
                u.server_cpu_mean_pct, u.server_cpu_peak_pct
            ),
            format!(
                "| all sandboxes' CPU (of one core) | {:.0} % | {:.0} % |",
                u.sandboxes_cpu_mean_pct, u.sandboxes_cpu_peak_pct
            ),
            format!(
                "| load generator CPU (of one core) | {:.0} % | |",
                u.clients_cpu_mean_pct
            ),
            format!(
                "| everything else on the host (of one core) | {:.0} % | |",
                u.others_cpu_mean_pct
            ),
            format!("| server RSS | | {:.1} MiB |", u.server_rss_peak_mib),
            format!("| server open fds | | {} |", u.server_fds_peak),
            format!("| sandboxes | | {} |", u.sandboxes_peak),
            format!(
                "| all sandboxes, RSS | | {:.0} MiB |",
                u.sandbox_rss_peak_mib
            ),
            format!(
                "| all sandboxes, PSS | | {:.0} MiB ({:.1} MiB each) |",
                u.sandbox_pss_peak_mib, u.pss_per_sandbox_mib
            ),
        ]);
        let l = &self.leaks;
        out.push(String::new());
        out.push(format!(
            "Afterwards: server fds {} before the first learner, {} after the last left (TCP sockets {} → {}, control-store connections {} → {}: {} fds unexplained); sandboxes {} → {}; server exit on SIGTERM: {}; processes left in the run dir: {}.",
            opt(l.fds_before), opt(l.fds_after), l.tcp_before, l.tcp_after,
            l.store_connections_before, l.store_connections_after, l.fds_unexplained,
            l.sandboxes_before, l.sandboxes_after,
            l.server_exit.clone().unwrap_or_else(|| "not ours".into()), l.processes_left.len()
        ));
        let d = &self.durability;
        out.push(format!(
            "Read back: {} progress steps acknowledged, {} missing ({} acknowledged before the server kill, {} of them missing); {} grading reports acknowledged, {} missing; {} learners unreadable.",
            d.steps_acked, d.steps_missing, d.steps_acked_before_kill, d.steps_missing_before_kill, d.grades_acked, d.grades_missing, d.unreadable
        ));
        if let Some(k) = &self.sandbox_kill {
            out.push(String::new());
            out.push(format!(
                "Sandbox kill at {:.1} s: {} of {} sandboxes in use killed; {} learners noticed, {} recovered, {} others noticed.",
                k.at_s, k.killed, k.in_use, k.learners_noticed, k.learners_recovered, k.extra_learners,
            ));
            out.push(String::new());
            out.push(
                "| sandbox kill, per learner affected | p50 | max | within 1 s of the kill |"
                    .into(),
            );
            out.push("|---|---|---|---|".into());
            out.push(format!(
                "| kill → `restarted` notice on the socket | {:.0} ms | {:.0} ms | {} of {} |",
                k.notice_p50_ms, k.notice_max_ms, k.notice_within_1s, k.learners_noticed
            ));
            out.push(format!(
                "| round trip that carried it, when a request did | {:.1} ms | {:.1} ms | |",
                k.carried_p50_ms, k.carried_max_ms
            ));
            out.push(format!(
                "| notice → a working command (includes think time) | | {:.1} ms | {} of {} working |",
                k.working_max_ms, k.within_1s, k.learners_noticed
            ));
            let o = &k.others_exec;
            out.push(format!(
                "| everyone else's typed lines in the {:.0} s from the kill ({} lines) | p50 {:.2} ms, p99 {:.2} ms | {:.2} ms | |",
                k.others_window_s,
                o.count,
                o.p50_us as f64 / 1000.0,
                o.p99_us as f64 / 1000.0,
                o.max_us as f64 / 1000.0
            ));
        }
        if let Some(k) = &self.server_kill {
            out.push(String::new());
            out.push(format!(
                "Server kill at {:.1} s: restarted and healthy {:.0} ms after the kill; {}/{} learners back, the last {:.0} ms after the restart (p50 {:.0} ms); old server's children {}, alive when the new one was up {}, orphans 2 s later {:?}; old sandbox root left: {}{}.",
                k.at_s, k.restart_ms, k.learners_back, k.learners, k.all_back_ms, k.back_p50_ms,
                k.old_children, k.alive_at_up, k.orphans, k.old_root_left,
                k.restart_error.as_ref().map_or(String::new(), |e| format!("; restart failed: {e}"))
            ));
        }
        if let Some(hostile) = &self.hostile {
            out.extend(crate::hostile::markdown(hostile));
        }
        if let Some(n) = &self.nodes {
            out.push(String::new());
            out.push(format!(
                "On {} nodes sharing one control store: a console line over HTTP, {} each way, alternating, on sessions the nodes placed themselves:",
                n.nodes, n.hop_lines
            ));
            out.push(String::new());
            out.push("| path | p50 | p99 |".into());
            out.push("|---|---|---|".into());
            out.push(format!(
                "| to the node holding the session | {} | {} |",
                ms(n.direct_p50_us),
                ms(n.direct_p99_us)
            ));
            out.push(format!(
                "| through another node (the hop) | {} | {} |",
                ms(n.hopped_p50_us),
                ms(n.hopped_p99_us)
            ));
            out.push(format!(
                "| the hop adds | {:.0} µs | {:.0} µs |",
                n.hopped_p50_us as f64 - n.direct_p50_us as f64,
                n.hopped_p99_us as f64 - n.direct_p99_us as f64
            ));
            out.push(String::new());
            out.push(format!(
                "The control store ran {} commands: {:.2} per learner per second.",
                n.store_commands, n.store_ops_per_learner_s
            ));
        }
        if !self.error_examples.is_empty() {
            out.push(String::new());
            out.push("Examples of real errors:".into());
            out.extend(self.error_examples.iter().map(|e| format!("- {e}")));
        }
        out.join("\n")
    }
}

/// Today, `YYYY-MM-DD` (UTC), as `date` says it.
pub fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|d| d.trim().to_owned())
        .unwrap_or_default()
}
