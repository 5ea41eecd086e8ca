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
mod webdis;
mod wrk;
mod ws_load;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::config::Config;
use backend::gateway::Origin;
use backend::session::Session;
use backend::{router, AppState};
use clap::{Parser, ValueEnum};

use report::{Comparison, GatewayRun};
use webdis::{Webdis, WsDialect};
use ws_load::{Load, Server, Sockets};

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
#[command(name = "redis-tutor-bench", about, long_about = None)]
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
    let outcome = measure(args, &state, binary, webdis_threads, scratch.path()).await;
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

async fn measure(
    args: &Args,
    state: &AppState,
    binary: webdis::Binary,
    webdis_threads: usize,
    scratch: &Path,
) -> anyhow::Result<()> {
    if args.only.includes(Only::OneOff) {
        let spawn = step("sandbox spawn → first PONG", one_off::spawn(state)).await?;
        let start = step("session start, warm pool", one_off::session_start(state)).await?;
        let limiter = step(
            "rate limiter vs redis-benchmark",
            one_off::limiter_throughput(&state.engine.server),
        )
        .await?;
        one_off::print(state, &spawn, &start, &limiter);
    }
    if args.only == Only::OneOff {
        return Ok(());
    }

    let clients = args.clients.max(1);
    let sessions = step(
        &format!("open {clients} sessions and set {KEY}"),
        open_sessions(state, clients),
    )
    .await?;
    let addr = step("serve the app on a loopback port", serve(state.clone())).await?;
    let mut webdis = start_webdis(webdis::Spec {
        binary,
        server: state.engine.server.clone(),
        threads: webdis_threads,
        pool: clients,
    })
    .await?;
    println!(
        "webdis {} (pid {}), {webdis_threads} thread(s), {clients} Redis connections each",
        webdis.version,
        webdis.pid()
    );
    // With 0.1.22 both sides keep one socket per client, as the console
    // does. 0.1.9 closes its socket after each reply, so beside the app's
    // kept socket the app is also measured with a socket per command, the
    // only way webdis 0.1.9 can be driven.
    let legacy = webdis.ws == WsDialect::Legacy;
    let wrk_script = scratch.join("exec.lua");
    std::fs::write(
        &wrk_script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"line\":\"GET {KEY}\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {}\"\n",
            sessions[0].id
        ),
    )
    .context("write wrk's script")?;

    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let duration = Duration::from_secs(args.seconds.max(1));
    let mut comparisons = Vec::new();
    let ws_counts = if clients == 1 {
        vec![1]
    } else {
        vec![1, clients]
    };
    for &n in &ws_counts {
        let who = if n == 1 {
            "1 client".to_owned()
        } else {
            format!("{n} clients")
        };
        if legacy {
            comparisons.push(
                Comparison::new(
                    format!("WS `GET`, {who}: app on one socket (webdis 0.1.9)"),
                    GOAL_WS,
                )
                .not_judgeable(),
            );
            comparisons.push(
                Comparison::new(
                    format!("WS `GET`, {who}: a socket per command, both (webdis 0.1.9)"),
                    GOAL_WS,
                )
                .not_judgeable(),
            );
        } else {
            comparisons.push(Comparison::new(
                format!("WS `GET`, {who}, a socket each"),
                GOAL_WS,
            ));
        }
    }
    comparisons.push(Comparison::new("HTTP `GET`, wrk -c1", GOAL_HTTP));
    let mut gateway_runs: Vec<GatewayRun> = Vec::new();

    for run in 1..=args.runs.max(1) {
        // Flip the order every run, so drift favours neither side.
        let app_first = run % 2 == 1;
        let mut next = 0;
        if args.only.includes(Only::Ws) {
            for &n in &ws_counts {
                let load = |server, sockets| Load {
                    server,
                    command: ws_load::Command {
                        key: KEY.into(),
                        value: VALUE.into(),
                    },
                    clients: n,
                    sockets,
                    duration,
                    unanswered: AtomicUsize::new(0),
                };
                let app = || Server::App {
                    addr,
                    sessions: ids.clone(),
                };
                let name = format!("run {run}: WebSocket, {n} client(s)");
                let ours = |sockets| {
                    let load = load(app(), sockets);
                    step(&name, async move {
                        ws_load::measure(load).await.map(|(figures, _)| figures)
                    })
                };
                if !legacy {
                    let theirs = |addr| {
                        load(
                            Server::Webdis {
                                addr,
                                ws: WsDialect::Standard,
                            },
                            Sockets::Kept,
                        )
                    };
                    let (app, (them, _)) = if app_first {
                        let app = ours(Sockets::Kept).await?;
                        (app, webdis_ws(&mut webdis, &name, theirs).await?)
                    } else {
                        let them = webdis_ws(&mut webdis, &name, theirs).await?;
                        (ours(Sockets::Kept).await?, them)
                    };
                    comparisons[next].runs.push((app, them));
                    next += 1;
                    continue;
                }
                let theirs = |addr| {
                    load(
                        Server::Webdis {
                            addr,
                            ws: WsDialect::Legacy,
                        },
                        Sockets::PerCommand,
                    )
                };
                let (kept, per_command, (webdis_ws, unanswered)) = if app_first {
                    let kept = ours(Sockets::Kept).await?;
                    let per = ours(Sockets::PerCommand).await?;
                    let theirs = webdis_ws(&mut webdis, &name, theirs).await?;
                    (kept, per, theirs)
                } else {
                    let theirs = webdis_ws(&mut webdis, &name, theirs).await?;
                    let per = ours(Sockets::PerCommand).await?;
                    let kept = ours(Sockets::Kept).await?;
                    (kept, per, theirs)
                };
                if unanswered > 0 {
                    eprintln!("bench: webdis left {unanswered} handshake(s) unanswered; retried on new sockets (untimed)");
                }
                comparisons[next].runs.push((kept, webdis_ws));
                comparisons[next + 1].runs.push((per_command, webdis_ws));
                next += 2;
            }
        }
        if args.only.includes(Only::Http) {
            let ours_url = format!("http://{addr}/api/exec");
            let theirs_url = format!("http://{}/GET/{KEY}", webdis.addr);
            let script = wrk_script.clone();
            let (ours, theirs) = step(&format!("run {run}: HTTP, wrk -c1"), async move {
                tokio::task::spawn_blocking(move || {
                    let ours = || wrk::run(&ours_url, Some(&script), duration);
                    let theirs = || wrk::run(&theirs_url, None, duration);
                    if app_first {
                        let ours = ours()?;
                        Ok((ours, theirs()?))
                    } else {
                        let theirs = theirs()?;
                        Ok((ours()?, theirs))
                    }
                })
                .await?
            })
            .await?;
            let http = comparisons.len() - 1;
            comparisons[http].runs.push((ours, theirs));
        }
        if args.only.includes(Only::Gateway) {
            gateway_runs.push(
                step(
                    &format!("run {run}: the gateway's own cost"),
                    gateway_cost::measure(state, &sessions[0], KEY, args.round_trips),
                )
                .await?,
            );
        }
    }

    comparisons.retain(|c| !c.runs.is_empty());
    if !comparisons.is_empty() {
        report::print_comparisons(&comparisons);
    }
    report::print_gateway(&gateway_runs, GOAL_GATEWAY_P50, GOAL_GATEWAY_P99);
    Ok(())
}

/// Times webdis attempts a WebSocket measurement before the run fails.
const WEBDIS_ATTEMPTS: usize = 3;

async fn start_webdis(spec: webdis::Spec) -> anyhow::Result<Webdis> {
    step(
        "start webdis and its redis-server (same engine binary)",
        async move { tokio::task::spawn_blocking(move || Webdis::start(&spec, KEY, VALUE)).await? },
    )
    .await
}

/// webdis's WebSocket figures. Under many clients opening sockets, webdis
/// 0.1.9 can stop answering handshakes altogether; it is then restarted
/// (a fresh process and port, same engine) and measured again, and said so.
/// (0.1.22 has not needed it; a restart is said on stderr either way.)
async fn webdis_ws(
    webdis: &mut Webdis,
    name: &str,
    load: impl Fn(SocketAddr) -> Load,
) -> anyhow::Result<(report::Figures, usize)> {
    let mut attempt = 1;
    loop {
        match step(name, ws_load::measure(load(webdis.addr))).await {
            Ok(figures) => return Ok(figures),
            Err(e) if attempt < WEBDIS_ATTEMPTS => {
                eprintln!("bench: {e:#}; restarting webdis and measuring it again");
                *webdis = start_webdis(webdis.spec()).await?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One session per client, each with the key set.
async fn open_sessions(state: &AppState, count: usize) -> anyhow::Result<Vec<Arc<Session>>> {
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        let session = state
            .sessions
            .create(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await?;
        state
            .gateway
            .run_line(&session, &format!("SET {KEY} {VALUE}"), Origin::Backend)
            .await?;
        sessions.push(session);
    }
    Ok(sessions)
}

/// The app's router on a fresh loopback port, served on this runtime.
async fn serve(state: AppState) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
