//! `redis-tutor-load`: N simulated learners over the real HTTP and
//! WebSocket API, not a browser per learner. By default it starts the real
//! server itself (the `redis-tutor` beside this binary, fresh temp data and
//! run dirs, caps raised for one machine playing a whole class); `--url`
//! drives one already running. Each learner creates a learner and a
//! session and follows a lesson script with think time; faults can be
//! injected on the way (`--kill-sandboxes`, `--kill-server-at`). Prints a
//! progress line while it runs, then the tables of docs/benchmarks.md
//! (`--json`: one JSON object as the last line; `--chart`: a PNG).
//! Build both binaries first: `cargo build --release -p backend --bins`.

mod api;
mod chart;
mod checks;
mod faults;
mod host;
mod learner;
mod link;
mod report;
mod rng;
mod run;
mod script;
mod server;
mod tally;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use server::{Launch, ServerChild};

/// Drives simulated learners against redis-tutor and reports what they saw.
#[derive(Debug, Parser)]
#[command(name = "redis-tutor-load", about, long_about = None)]
pub struct Args {
    /// Drive this running server (`http://HOST:PORT`) instead of starting one.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: the server's pid, for its CPU, RSS, fds and sandboxes
    /// (and `--kill-sandboxes`).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Simulated learners, each with its own learner, session and socket.
    #[arg(long, default_value_t = 500)]
    pub learners: usize,
    /// Seconds measured once every learner has arrived.
    #[arg(long, default_value_t = 60.0)]
    pub seconds: f64,
    /// Seconds over which learners arrive [default: learners / 50, 1–20].
    #[arg(long)]
    pub ramp_seconds: Option<f64>,
    /// Mean think time between two actions, in ms (each is 0.5–1.5× it).
    #[arg(long, default_value_t = 1_000)]
    pub think_ms: u64,
    /// One learner in this many grades an exercise once (0: nobody).
    #[arg(long, default_value_t = 50)]
    pub grade_every: usize,
    /// SIGKILL this percentage of the sandboxes in use, at `--kill-at`.
    #[arg(long, value_name = "PCT")]
    pub kill_sandboxes: Option<f64>,
    /// Seconds into the measured window for `--kill-sandboxes` [default: a third of it].
    #[arg(long, value_name = "SECONDS")]
    pub kill_at: Option<f64>,
    /// SIGKILL the server this many seconds into the measured window, then
    /// start it again on the same data and port (needs the server started here).
    #[arg(long, value_name = "SECONDS")]
    pub kill_server_at: Option<f64>,
    /// How long past the end a learner keeps trying to come back after a
    /// server kill before it counts as never back.
    #[arg(long, default_value_t = 30.0)]
    pub grace_seconds: f64,
    /// Seed for every random choice (think times, lines, victims).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sample the host every this many ms.
    #[arg(long, default_value_t = 1_000)]
    pub sample_ms: u64,
    /// Also print the figures as one JSON object, on the last line.
    #[arg(long)]
    pub json: bool,
    /// Draw latency and memory over time into this PNG.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// The TrueType font for the chart's text [default: DejaVu Sans].
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// The server's host-wide spawn rate (`--spawns-per-sec`), raised so a
    /// whole class can come back at once after a server kill.
    #[arg(long, default_value_t = 100)]
    pub spawns_per_sec: u32,
    /// More flags for the server, e.g. `--server-arg=--pool-size=8`.
    #[arg(long, allow_hyphen_values = true)]
    pub server_arg: Vec<String>,
    /// The `redis-tutor` binary [default: the one beside this binary].
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// The workspace holding `lessons/` and `.engine/` [default: the one
    /// this binary was built from, else the current directory].
    #[arg(long)]
    pub root: Option<PathBuf>,
}

impl Args {
    pub fn ramp(&self) -> Duration {
        let secs = self
            .ramp_seconds
            .unwrap_or((self.learners as f64 / 50.0).clamp(1.0, 20.0));
        Duration::from_secs_f64(secs.max(0.0))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("redis-tutor-load: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(start(&args)) {
        Ok(report) => {
            println!("{}", report.markdown());
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redis-tutor-load failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn say(what: &str) {
    eprintln!("load: {what}");
}

/// The server's flags for `learners` learners from one address.
fn flags(args: &Args) -> Vec<String> {
    let n = args.learners;
    let mut flags: Vec<String> = [
        ("--max-sandboxes", n + n / 5 + 20),
        ("--sandboxes-per-ip", n + 20),
        ("--spawns-per-min-per-ip", 4 * n + 100),
        ("--sockets-per-ip", 2 * n + 20),
        ("--spawns-per-sec", args.spawns_per_sec as usize),
    ]
    .iter()
    .flat_map(|(flag, value)| [flag.to_string(), value.to_string()])
    .collect();
    flags.extend(args.server_arg.iter().cloned());
    flags
}

fn launch(args: &Args) -> anyhow::Result<Launch> {
    let binary = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("find this binary")?
            .with_file_name("redis-tutor"),
    };
    let built_from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = match &args.root {
        Some(root) => root.clone(),
        None if built_from.join("lessons/SUMMARY.md").is_file() => built_from,
        None => std::env::current_dir().context("the current directory")?,
    };
    let root = root.canonicalize().unwrap_or(root);
    Ok(Launch {
        binary,
        root,
        flags: flags(args),
    })
}

async fn start(args: &Args) -> anyhow::Result<report::Report> {
    if args.learners == 0 || args.seconds <= 0.0 {
        anyhow::bail!("--learners and --seconds must be more than 0");
    }
    if args.url.is_some() && args.kill_server_at.is_some() {
        anyhow::bail!("--kill-server-at needs the server started here: drop --url");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("an HTTP client")?;
    let server = match &args.url {
        Some(_) => None,
        None => {
            let launch = launch(args)?;
            say(&format!("starting {}", launch.binary.display()));
            let server = ServerChild::start(launch, &http)
                .await
                .context("starting the server")?;
            say(&format!(
                "server up at {} (pid {})",
                server.base,
                server.pid()
            ));
            Some(server)
        }
    };
    drop(http);
    run::measure(args, server).await
}
