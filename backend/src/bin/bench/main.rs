//! `redis-tutor-bench`: the console's latency against webdis on the same
//! engine binary and the same command, over WebSocket (1 client and
//! `--clients` clients) and over HTTP (wrk), in `--runs` rounds with the
//! app and webdis in turn; prints each run's p50 and p99, the ratio
//! app ÷ webdis, and the median of the ratios. Also the gateway's own cost
//! per run, and once: sandbox spawn, a warm session start and the rate
//! limiter's throughput. The app runs in-process on a runtime of its own;
//! the WebSocket clients on another thread, webdis and wrk as processes.
//!
//! `make bench` (the setup, `scripts/webdis.sh` for webdis 0.1.22, then
//! this binary with every part), or `cargo run --release --bin
//! redis-tutor-bench` (needs the setup: the engine in `.engine/`, `wrk`,
//! `redis-tools`, and webdis: `webdis-0.1.22` from `scripts/webdis.sh`, else
//! Debian 12's 0.1.9 with a warning, since its WebSocket cannot be the
//! yardstick); `--help` lists the options. Each step says what it does on
//! stderr, and a failure names the step that failed and why.

mod gateway_cost;
mod one_off;
mod plain_redis;
mod readiness;
mod report;
mod rounds;
mod webdis;
mod wrk;
mod ws_load;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use backend::config::Config;
use backend::AppState;
use clap::{Parser, ValueEnum};

use webdis::WsDialect;

/// The key both servers read, and its value.
const KEY: &str = "bench:key";
const VALUE: &str = "value";
/// The most app ÷ webdis may be over WebSocket, and over HTTP.
const GOAL_WS: f64 = 0.9;
const GOAL_HTTP: f64 = 1.0;
/// The gateway's own cost may be at most this, in µs.
const GOAL_GATEWAY_P50: f64 = 50.0;
const GOAL_GATEWAY_P99: f64 = 200.0;

/// The console against webdis, side by side.
#[derive(Debug, Parser)]
#[command(name = "redis-tutor-bench", long_about = None)]
struct Args {
    /// Rounds of the comparison. Each measures every pair once, the app and
    /// webdis in turn (the order flips every round); the medians are taken
    /// over the rounds' ratios.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seconds each measurement runs, after a 0.3 s warm-up.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Clients in the concurrent WebSocket measurement, each with its own
    /// connection (and, on the app, its own session).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Which part to run.
    #[arg(long, value_enum, default_value_t = Only::All)]
    only: Only,
    /// Worker threads of the app's runtime [default: one per core]; 0 runs
    /// tokio's current-thread runtime.
    #[arg(long, env = "REDIS_TUTOR_BENCH_WORKERS")]
    workers: Option<usize>,
    /// webdis's worker threads [default: as many as the app's runtime
    /// workers with webdis 0.1.22; one with 0.1.9, which with more leaves a
    /// third of new WebSocket handshakes unanswered].
    #[arg(long)]
    webdis_threads: Option<usize>,
    /// Round trips per run for the gateway's own cost (each way).
    #[arg(long, default_value_t = 10_000)]
    round_trips: usize,
    /// The workspace holding `.engine/` and `lessons/` [default: the
    /// current directory if it has `lessons/`, else the one this binary was
    /// built from].
    #[arg(long)]
    root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Only {
    /// Everything below.
    All,
    /// The WebSocket comparison.
    Ws,
    /// The HTTP comparison.
    Http,
    /// The gateway's own cost.
    Gateway,
    /// Sandbox spawn, warm session start, the rate limiter.
    OneOff,
}

impl Only {
    fn includes(self, part: Only) -> bool {
        self == Only::All || self == part
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // REDIS_TUTOR_BENCH_RUNTIME=current-thread is the older spelling of
    // `--workers 0`.
    let current = std::env::var("REDIS_TUTOR_BENCH_RUNTIME").is_ok_and(|v| v == "current-thread");
    let workers = if current {
        0
    } else {
        args.workers.unwrap_or(cores)
    };
    let runtime = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("redis-tutor-bench failed: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let binary = webdis::Binary::find();
    let webdis_threads = args.webdis_threads.unwrap_or(match binary.ws {
        WsDialect::Standard => workers.max(1),
        WsDialect::Legacy => 1,
    });
    println!(
        "app runtime: {}; webdis: {} ({}), {webdis_threads} thread(s); {cores} cores",
        if workers == 0 {
            "current-thread".to_owned()
        } else {
            format!("multi-thread, {workers} worker(s)")
        },
        binary.path.display(),
        match binary.ws {
            WsDialect::Standard => "standard WebSocket, sockets kept",
            WsDialect::Legacy => "0.1.9: WebSocket NOT judgeable, a socket per command",
        },
    );
    println!("load average at start: {}", load_average());
    let outcome = runtime.block_on(run(&args, binary, webdis_threads));
    // This machine is shared: the load says how much of the noise is others'.
    println!("load average at end: {}", load_average());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis-tutor-bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The 1, 5 and 15 minute load averages, from /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |e| format!("unknown ({e})"),
        |text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

/// One named step: said on stderr as it starts, named in its error.
async fn step<T>(name: &str, work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    eprintln!("bench: {name}");
    work.await.with_context(|| format!("step `{name}` failed"))
}

async fn run(args: &Args, binary: webdis::Binary, webdis_threads: usize) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("make a scratch dir")?;
    let config = config(args, scratch.path())?;
    let state = step(
        "start the app (engine, course, control store, warm pool)",
        async { AppState::build(&config).await.map_err(anyhow::Error::from) },
    )
    .await?;
    println!(
        "engine: Redis {} ({}), modules: {}",
        state.engine.info.version,
        state.engine.info.source,
        state.engine.info.capabilities.join(", ")
    );
    let outcome = rounds::measure(args, &state, binary, webdis_threads, scratch.path()).await;
    step("stop the app", async {
        state.shutdown().await;
        Ok(())
    })
    .await?;
    outcome
}

/// The app's configuration: the workspace's engine and course, a throwaway
/// control store, and the per-learner limits lifted (one machine plays
/// every client, and the benchmark measures latency, not the limiter).
fn config(args: &Args, scratch: &Path) -> anyhow::Result<Config> {
    let mut config = Config::parse_from(["redis-tutor-bench"]);
    let root = match &args.root {
        Some(root) => root.clone(),
        None if Path::new("lessons").is_dir() => PathBuf::from("."),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
    };
    for dir in [
        &mut config.engine_dir,
        &mut config.lessons_dir,
        &mut config.dist_dir,
    ] {
        if dir.is_relative() {
            *dir = root.join(&*dir);
        }
    }
    config.addr = "127.0.0.1:0".parse()?;
    config.data_dir = scratch.join("data");
    let limits = &mut config.limits;
    limits.rate_per_sec = u32::MAX / 2;
    limits.rate_burst = u32::MAX / 2;
    // The console socket's read pace (100 messages/s by default, issue 16)
    // would otherwise be all that a client sending back to back measures.
    limits.ws_messages_per_sec = u32::MAX / 2;
    limits.ws_message_burst = u32::MAX / 2;
    limits.pool_size = 4;
    limits.sandboxes_per_ip = args.clients + 8;
    limits.spawns_per_min_per_ip = 10_000;
    limits.sockets_per_ip = 10_000;
    limits.sockets_per_session = 64;
    Ok(config)
}
