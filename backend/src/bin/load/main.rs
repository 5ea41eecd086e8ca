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
mod hostile;
mod learner;
mod link;
mod nodes;
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
#[command(name = "redis-tutor-load", long_about = None)]
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
    /// Write every round trip into this CSV (seconds from the start, kind,
    /// learner, microseconds), to look for where a tail comes from.
    #[arg(long, value_name = "CSV")]
    pub times: Option<PathBuf>,
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
    /// Measure `--seconds` quiet, then `--seconds` more with hostile
    /// clients beside the class, and compare (needs the server started
    /// here). The class joins a room, so the server keeps its default
    /// per-address caps for everybody else.
    #[arg(long)]
    pub hostile: bool,
    /// With `--hostile`: idle WebSockets to open.
    #[arg(long, default_value_t = 1_000)]
    pub hostile_idle: usize,
    /// With `--hostile`: source addresses (127.0.0.2 on) for the idle sockets.
    #[arg(long, default_value_t = 49)]
    pub hostile_addrs: u8,
    /// With `--hostile`: sockets that each send one 1 MiB frame.
    #[arg(long, default_value_t = 10)]
    pub hostile_oversized: usize,
    /// With `--hostile`: slowloris connections held at once.
    #[arg(long, default_value_t = 50)]
    pub hostile_slowloris: usize,
    /// With `--hostile`: requests with JSON nested 10,000 deep (each over
    /// HTTP and over the socket).
    #[arg(long, default_value_t = 10)]
    pub hostile_deep: usize,
    /// With `--hostile`: quiet and hostile phases taken in turn this many
    /// times, each pair `--seconds` apiece with a settling pause between
    /// rounds; the p99s compared are over all rounds' lines, so a host
    /// that drifts during the run weighs on both sides alike.
    #[arg(long, default_value_t = 1)]
    pub hostile_rounds: usize,
    /// Run the class on this many nodes sharing one control store (started
    /// here); learner `i` comes in through node `i % N`.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
}

impl Args {
    pub fn hostile_plan(&self) -> hostile::Plan {
        hostile::Plan {
            idle: self.hostile_idle,
            addrs: self.hostile_addrs.clamp(1, 200),
            oversized: self.hostile_oversized,
            slowloris: self.hostile_slowloris,
            deep: self.hostile_deep,
        }
    }

    /// With `--hostile`, when each round's quiet and hostile phases are,
    /// from the moment everyone is online.
    pub fn hostile_rounds(&self, from: std::time::Instant) -> Vec<hostile::Round> {
        hostile::Round::schedule(
            from,
            Duration::from_secs_f64(self.seconds),
            self.hostile_rounds.max(1),
        )
    }

    /// How long the learners stay once all are online: one phase, or every
    /// round's quiet and hostile ones.
    pub fn window(&self) -> Duration {
        match self.hostile {
            true => {
                let start = std::time::Instant::now();
                self.hostile_rounds(start)
                    .last()
                    .map_or(Duration::ZERO, |r| r.hostile.end - start)
            }
            false => Duration::from_secs_f64(self.seconds),
        }
    }

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

/// The server's flags for `learners` learners from one address. With
/// `--hostile` the class is a room (admitted past the per-address caps,
/// as a class behind one NAT is), and the per-address caps stay at their
/// defaults for the hostile clients.
fn flags(args: &Args, instructor: Option<&str>) -> Vec<String> {
    let n = args.learners;
    let pairs: Vec<(&str, usize)> = if args.hostile {
        vec![
            (
                "--max-sandboxes",
                n + n / 5 + 20 + args.hostile_plan().sandboxes(),
            ),
            ("--room-capacity", n + 10),
            ("--joins-per-min-per-ip", 2 * n + 100),
            ("--learners-per-min-per-ip", 4 * n + 100),
            ("--spawns-per-sec", args.spawns_per_sec as usize),
        ]
    } else {
        vec![
            ("--max-sandboxes", n + n / 5 + 20),
            ("--sandboxes-per-ip", n + 20),
            ("--spawns-per-min-per-ip", 4 * n + 100),
            ("--sockets-per-ip", 2 * n + 20),
            ("--learners-per-min-per-ip", 4 * n + 100),
            ("--spawns-per-sec", args.spawns_per_sec as usize),
        ]
    };
    let mut flags: Vec<String> = pairs
        .iter()
        .flat_map(|(flag, value)| [flag.to_string(), value.to_string()])
        .collect();
    if let Some(token) = instructor {
        flags.extend(["--instructor-token".to_owned(), token.to_owned()]);
    }
    flags.extend(args.server_arg.iter().cloned());
    flags
}

fn launch(args: &Args, instructor: Option<&str>) -> anyhow::Result<Launch> {
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
        flags: flags(args, instructor),
    })
}

async fn start(args: &Args) -> anyhow::Result<report::Report> {
    if args.learners == 0 || args.seconds <= 0.0 {
        anyhow::bail!("--learners and --seconds must be more than 0");
    }
    if args.url.is_some() && args.kill_server_at.is_some() {
        anyhow::bail!("--kill-server-at needs the server started here: drop --url");
    }
    if args.url.is_some() && args.hostile {
        anyhow::bail!(
            "--hostile needs the server started here (its instructor token and caps): drop --url"
        );
    }
    // A class needs a room in hostile mode, and a room needs the instructor.
    let instructor = match args.hostile {
        true => Some(backend::secret::random_hex(32).context("an instructor token")?),
        false => None,
    };
    // Sockets for every learner and every hostile client.
    if let Err(e) = backend::limits::nofile::raise_to_hard() {
        say(&format!("{e}"));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("an HTTP client")?;
    if args.nodes > 1 {
        return on_nodes(args, &http).await;
    }
    let server = match &args.url {
        Some(_) => None,
        None => {
            let launch = launch(args, instructor.as_deref())?;
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
    run::measure(args, server, instructor, Vec::new()).await
}

/// `--nodes N`: a control store and N nodes, the hop's cost measured on
/// them before the class arrives, and the store's commands counted over
/// the run.
async fn on_nodes(args: &Args, http: &reqwest::Client) -> anyhow::Result<report::Report> {
    if args.url.is_some() || args.kill_server_at.is_some() || args.hostile {
        anyhow::bail!("--nodes starts its own nodes: drop --url, --kill-server-at and --hostile");
    }
    let root = launch(args, None)?.root;
    let store = nodes::ControlRedis::start(&root)
        .await
        .context("starting the control store")?;
    say(&format!(
        "control store up: {}",
        store.url().split('@').nth(1).unwrap_or("")
    ));
    let mut servers = nodes::start(args.nodes, || launch(args, None), &store, http).await?;
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    say(&format!("{} nodes up: {}", bases.len(), bases.join(", ")));
    let hop = nodes::hop_cost(http, &store, &bases, HOP_LINES)
        .await
        .context("measuring the hop between nodes")?;
    let before = store.commands_processed().await?;
    let first = servers.remove(0);
    let mut report = run::measure(args, Some(first), None, bases).await?;
    let commands = store.commands_processed().await?.saturating_sub(before);
    let seconds = report.seconds.max(1.0) + report.all_online_s;
    report.nodes = Some(report::NodesReport {
        nodes: args.nodes,
        hop_lines: hop.lines,
        direct_p50_us: hop.direct.0,
        direct_p99_us: hop.direct.1,
        hopped_p50_us: hop.hopped.0,
        hopped_p99_us: hop.hopped.1,
        store_commands: commands,
        store_ops_per_learner_s: commands as f64 / seconds / args.learners.max(1) as f64,
    });
    drop(servers);
    Ok(report)
}

/// Console lines timed each way (direct and through another node).
const HOP_LINES: usize = 1_000;
