//! `redis-tutor-capacity`: how many idle sandboxes (engine with its
//! modules) fit on this host. It starts sandboxes one by one, exactly as
//! the server does, until the memory budget (the share of the host's
//! memory the server gives sandboxes, `--memory-host-percent`) would be
//! passed, `--max` is reached, or the host's available memory falls to
//! the floor; then it loads lesson data into a sample and measures again.
//! Prints a markdown table for docs/benchmarks.md; `--json` adds one line.
//!
//! PSS (proportional set size) is the honest per-process figure: the
//! engine's code and modules are shared between sandboxes, and PSS splits
//! shared pages among their users, so the PSS of all sandboxes adds up
//! to what they really take.

use std::time::Instant;

use anyhow::Context;
use backend::config::Config;
use backend::engine::Engine;
use backend::metrics::{micros, percentile};
use backend::sandbox::{SandboxProcess, SandboxSpec};
use clap::Parser;

/// Sandboxes that get a lesson's data, for the "after a lesson" figure.
const SAMPLE: usize = 20;
/// Stop when the host has less than this available (MiB), whatever the
/// budget says: the machine must stay usable.
const FLOOR_MIB: u64 = 2_048;

/// Fills this host with idle sandboxes up to the memory budget and reports
/// how many fit, with PSS per sandbox empty and after a lesson's data.
#[derive(Parser)]
#[command(name = "redis-tutor-capacity", long_about = None)]
struct Args {
    /// Most sandboxes to start.
    #[arg(long, default_value_t = 1_000)]
    max: usize,
    /// One JSON object as the last line.
    #[arg(long)]
    json: bool,
}

/// A field of /proc/meminfo, in KiB.
fn meminfo_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A process's PSS in KiB (0 when unreadable).
fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The lines that build the course's data: every lesson's setup.
fn lesson_data(config: &Config) -> anyhow::Result<Vec<String>> {
    let course = backend::lessons::Course::load(&config.lessons_dir)
        .context("load the course for its setup data")?;
    Ok(course
        .lessons
        .iter()
        .flat_map(|l| l.meta.setup.iter().cloned())
        .collect())
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    percentile(&v, 50.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Each sandbox holds a control connection and two pipes here.
    if let Err(e) = backend::limits::nofile::raise_to_hard() {
        eprintln!("{e}");
    }
    let config = Config::try_parse_from(["redis-tutor"]).context("default flags")?;
    let engine = std::sync::Arc::new(
        Engine::discover(&config.engine_dir).context("find the engine (run `make setup` first)")?,
    );
    let run_root = tempfile::tempdir().context("a run dir for the sandboxes")?;
    let spec = SandboxSpec {
        engine: engine.clone(),
        limits: config.limits.clone(),
        acl_rules: backend::allowlist::acl_rules(&|_| true),
        run_root: run_root.path().to_path_buf(),
    };
    let total_mib = meminfo_kib("MemTotal:") / 1024;
    let budget_mib = total_mib * u64::from(config.limits.memory_host_percent) / 100;
    println!(
        "host: {total_mib} MiB; sandbox budget {budget_mib} MiB ({}% of it); up to {} sandboxes",
        config.limits.memory_host_percent, args.max
    );

    // Read before the host is full: at 1,000 sandboxes loading the course
    // failed (2026-12-02), and it does not depend on them.
    let lines = lesson_data(&config)?;
    let mut sandboxes = Vec::new();
    let mut spawn_us = Vec::new();
    let mut stopped_by = "the --max count";
    let started = Instant::now();
    while sandboxes.len() < args.max {
        let used_mib: u64 = sandboxes
            .iter()
            .map(|s: &SandboxProcess| pss_kib(s.pid()))
            .sum::<u64>()
            / 1024;
        let per_one = if sandboxes.is_empty() {
            0
        } else {
            used_mib / sandboxes.len() as u64
        };
        if used_mib + per_one > budget_mib {
            stopped_by = "the memory budget";
            break;
        }
        if meminfo_kib("MemAvailable:") / 1024 < FLOOR_MIB {
            stopped_by = "the host's available-memory floor";
            break;
        }
        let t = Instant::now();
        let sandbox = SandboxProcess::spawn(&spec)
            .await
            .with_context(|| format!("start sandbox {}", sandboxes.len() + 1))?;
        spawn_us.push(micros(t.elapsed()));
        sandboxes.push(sandbox);
        if sandboxes.len() % 50 == 0 {
            println!(
                "  {} sandboxes, {used_mib} MiB PSS, {} MiB available, {:.0} s",
                sandboxes.len(),
                meminfo_kib("MemAvailable:") / 1024,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let idle: Vec<u64> = sandboxes.iter().map(|s| pss_kib(s.pid())).collect();
    let idle_total_mib = idle.iter().sum::<u64>() / 1024;
    let idle_median_kib = median(idle.clone());

    // A lesson's worth of data in a sample, measured again.
    let mut loaded = Vec::new();
    for sandbox in sandboxes.iter().take(SAMPLE) {
        let mut conn = sandbox
            .connect()
            .await
            .context("connect to a sample sandbox")?;
        for line in &lines {
            let args = protocol::split_args(line.as_bytes()).unwrap_or_default();
            let Some((name, rest)) = args.split_first() else {
                continue;
            };
            let mut cmd = redis::cmd(&String::from_utf8_lossy(name));
            cmd.arg(rest);
            let _: redis::RedisResult<redis::Value> = cmd.query_async(&mut conn).await;
        }
        loaded.push(pss_kib(sandbox.pid()));
    }
    let loaded_median_kib = median(loaded);
    let fits = (budget_mib * 1024)
        .checked_div(idle_median_kib)
        .unwrap_or(0);
    spawn_us.sort_unstable();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| sandboxes started | {} (stopped by {stopped_by}) |",
        sandboxes.len()
    );
    println!("| PSS of all of them | {idle_total_mib} MiB |");
    println!(
        "| PSS per idle sandbox (median) | {:.1} MiB |",
        idle_median_kib as f64 / 1024.0
    );
    println!(
        "| PSS per sandbox with every lesson's setup data (median of {SAMPLE}) | {:.1} MiB |",
        loaded_median_kib as f64 / 1024.0
    );
    println!("| idle sandboxes the budget ({budget_mib} MiB) holds at that PSS | {fits} |");
    println!(
        "| spawn to ready, p50 / p99 | {:.1} / {:.1} ms |",
        percentile(&spawn_us, 50.0) as f64 / 1000.0,
        percentile(&spawn_us, 99.0) as f64 / 1000.0
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "sandboxes": sandboxes.len(),
                "stopped_by": stopped_by,
                "pss_total_mib": idle_total_mib,
                "pss_idle_kib": idle_median_kib,
                "pss_loaded_kib": loaded_median_kib,
                "budget_mib": budget_mib,
                "fits": fits,
                "spawn_p50_us": percentile(&spawn_us, 50.0),
                "spawn_p99_us": percentile(&spawn_us, 99.0),
            })
        );
    }
    for sandbox in sandboxes {
        sandbox.kill().await;
    }
    Ok(())
}
