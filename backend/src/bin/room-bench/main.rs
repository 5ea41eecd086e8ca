//! `redis-tutor-room-bench`: the live classroom with a full class, on real
//! WebSocket clients rather than a browser per learner. It starts the real
//! server as a child process, fills one room with learners who each open a
//! room socket, and measures what reaches every page: follow-me pushes,
//! demo console lines and chart frames, with the server's CPU and memory
//! meanwhile. Prints the table in docs/benchmarks.md (`--json`: one JSON
//! object as the last line). Build both binaries first:
//! `cargo build --release -p backend --bins`.

mod class;
mod report;
mod server;
mod sockets;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use protocol::{
    Algorithm, MemoryKind, Place, RateLimitSim, RoomClientMessage as C, RoomCreated,
    RoomServerMessage as S, Scenario,
};
use serde_json::{json, Value};
use tokio::sync::watch;

use class::{enroll, open_pages, post, two_steps};
use report::Report;
use server::{Launch, ServerChild, INSTRUCTOR_TOKEN};
use sockets::{FrameKind, Instructor, Push, Tally};
use usage::UsageSampler;

/// How often the server's CPU and RSS are read.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// 10 frames a second.
const FRAME_GAP: Duration = Duration::from_millis(100);
/// How long a phase may take, past its last request, to reach every page.
const STRAGGLERS: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The live classroom's fan-out, measured with a full room.
#[derive(Debug, Parser)]
#[command(name = "redis-tutor-room-bench", long_about = None)]
struct Args {
    /// Learners in the room, each with a room socket of its own.
    #[arg(long, default_value_t = 200)]
    learners: usize,
    /// Follow-me `goto` pushes.
    #[arg(long, default_value_t = 30)]
    pushes: usize,
    /// Demo console lines (`POST /api/exec` on the demo session).
    #[arg(long, default_value_t = 30)]
    lines: usize,
    /// Milliseconds between two pushes, or two console lines.
    #[arg(long, default_value_t = 200)]
    gap_ms: u64,
    /// Memory-explorer frames requested 100 ms apart (frames at 10/s).
    #[arg(long, default_value_t = 50)]
    paced_frames: usize,
    /// Length of the rate-limit scenario, in ms.
    #[arg(long, default_value_t = 5_000)]
    scenario_ms: u64,
    /// Also print the figures as one JSON object, on the last line.
    #[arg(long)]
    json: bool,
    /// The `redis-tutor` binary [default: the one beside this binary].
    #[arg(long)]
    server: Option<PathBuf>,
    /// The workspace holding `lessons/` and `.engine/` [default: the one
    /// this binary was built from, else the current directory].
    #[arg(long)]
    root: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("redis-tutor-room-bench: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            let gap = Duration::from_millis(args.gap_ms);
            println!("{}", report.markdown(args.pushes, args.lines, gap));
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redis-tutor-room-bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn say(what: &str) {
    eprintln!("room-bench: {what}");
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
        learners: args.learners,
    })
}

async fn run(args: &Args) -> anyhow::Result<Report> {
    if args.learners == 0 || args.pushes == 0 || args.lines == 0 || args.paced_frames == 0 {
        bail!("--learners, --pushes, --lines and --paced-frames must be at least 1");
    }
    let launch = launch(args)?;
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("an HTTP client")?;
    say(&format!("starting {}", launch.binary.display()));
    let mut server = ServerChild::start(&launch, &http)
        .await
        .context("step 1 of 6, starting the server")?;
    say(&format!(
        "server up at {} (pid {})",
        server.base,
        server.pid()
    ));
    match measure(args, &server, &http).await {
        Ok(report) => Ok(report),
        Err(e) => Err(anyhow!("{e:#}\n{}", server.diagnosis())),
    }
}

/// Waits until `counter` reaches `want`, for up to `within`; false if it
/// did not (what is missing shows in the table).
async fn reach(counter: &AtomicUsize, want: usize, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while counter.load(Ordering::Relaxed) < want {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

async fn measure(
    args: &Args,
    server: &ServerChild,
    http: &reqwest::Client,
) -> anyhow::Result<Report> {
    let n = args.learners;
    let sampler = UsageSampler::start(server.pid(), SAMPLE_EVERY);
    let own = UsageSampler::start(std::process::id(), SAMPLE_EVERY);
    let setup_from = Instant::now();

    let step = "step 2 of 6, filling the room";
    let room: RoomCreated = post(
        http,
        &server.url("/api/rooms"),
        Some(INSTRUCTOR_TOKEN),
        &json!({"name": "room-bench"}),
        201,
    )
    .await
    .context(step)?;
    let (lesson, first, second) = two_steps(http, server).await.context(step)?;
    let tokens = enroll(http, server, &room.code, n).await.context(step)?;
    say(&format!("{n} learners joined room {}", room.code));

    let step = "step 3 of 6, opening the room sockets";
    let sockets_from = Instant::now();
    let url = format!(
        "{}/ws/room?room={}",
        server.base.replacen("http://", "ws://", 1),
        room.room
    );
    let (stop_all, stop) = watch::channel(false);
    let mut instructor = Instructor::open(&url, INSTRUCTOR_TOKEN, stop.clone())
        .await
        .context(step)?;
    let tally = Arc::new(Tally::default());
    let pages = open_pages(&url, tokens, &tally, &stop)
        .await
        .context(step)?;
    say(&format!("{} room sockets open", pages.len() + 1));
    // The arrivals' presence messages drain before anything is timed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let measured_from = Instant::now();
    let presence = tally.presence.load(Ordering::Relaxed);

    let step = "step 4 of 6, follow-me";
    let gap = Duration::from_millis(args.gap_ms);
    let mut tick = tokio::time::interval(gap);
    let mut gotos = Vec::new();
    let before = tally.gotos.load(Ordering::Relaxed);
    for k in 0..args.pushes {
        tick.tick().await;
        let place = Place {
            lesson: lesson.clone(),
            step: Some(if k % 2 == 0 { &first } else { &second }.clone()),
        };
        let step_of = place.step.clone();
        let sent = Instant::now();
        instructor
            .request(|seq| C::Goto { seq, place })
            .await
            .with_context(|| format!("{step}: goto {} of {}", k + 1, args.pushes))?;
        gotos.push((sent, Push::Goto(step_of)));
    }
    reach(&tally.gotos, before + n * args.pushes, STRAGGLERS).await;
    say("follow-me done");

    let step = "step 5 of 6, the demo console";
    let demo = match instructor.request(|seq| C::Demo { seq }).await {
        Ok(S::Demo { session, .. }) => session,
        Ok(other) => bail!("{step}: `demo` was answered with {other:?}"),
        Err(e) => return Err(e.context(step)),
    };
    let mut lines = Vec::new();
    let before = tally.consoles.load(Ordering::Relaxed);
    for i in 0..args.lines {
        tick.tick().await;
        let line = format!("SET room-bench:{i} {i}");
        let sent = Instant::now();
        let _: Value = post(
            http,
            &server.url("/api/exec"),
            Some(&demo),
            &json!({ "line": line }),
            200,
        )
        .await
        .with_context(|| format!("{step}: line {} of {}", i + 1, args.lines))?;
        lines.push((sent, Push::Console(line)));
    }
    reach(&tally.consoles, before + n * args.lines, STRAGGLERS).await;
    say("console done");

    let step = "step 6 of 6, chart frames";
    let sim = RateLimitSim {
        rate: 200.0,
        users: 10,
        limit: 10,
        window_ms: 1_000,
        algorithms: Algorithm::ALL.to_vec(),
        duration_ms: args.scenario_ms,
        bursty: false,
        custom_script: None,
    };
    let scenario_from = Instant::now();
    let before = tally.done_frames.load(Ordering::Relaxed);
    instructor
        .request(|seq| C::Scenario {
            seq,
            scenario: Scenario::RateLimit { sim },
        })
        .await
        .context(step)?;
    let scenario_time = Duration::from_millis(args.scenario_ms) + STRAGGLERS;
    if !reach(&instructor.tally.done_frames, 1, scenario_time).await {
        bail!("{step}: the rate-limit scenario never sent its `Done` frame");
    }
    reach(&tally.done_frames, before + n, STRAGGLERS).await;
    say("rate-limit scenario done");

    let paced_from = Instant::now();
    let before = tally.memory_frames.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(FRAME_GAP);
    let (mut frames, mut asked) = (Vec::new(), Vec::new());
    for _ in 0..args.paced_frames {
        tick.tick().await;
        let sent = Instant::now();
        asked.push(instructor.send(|seq| C::Scenario {
            seq,
            scenario: Scenario::GrowMemory {
                kind: MemoryKind::Hash,
                max: 16,
            },
        })?);
        frames.push((sent, Push::Frame(FrameKind::Memory)));
    }
    for seq in asked {
        instructor.answer(seq).await.context(step)?;
    }
    reach(
        &tally.memory_frames,
        before + n * args.paced_frames,
        STRAGGLERS,
    )
    .await;
    let measured_to = Instant::now();
    say("paced frames done");

    let _ = stop_all.send(true);
    let mut logs = Vec::with_capacity(pages.len());
    for page in pages {
        logs.push(page.await.unwrap_or_default());
    }
    let instructor_log = instructor.finish().await;
    let samples = sampler.finish();
    let own = own.finish();
    Ok(Report {
        date: report::today(),
        cores: std::thread::available_parallelism().map_or(0, |c| c.get()),
        learners: n,
        goto: report::latencies(&logs, &gotos),
        console: report::latencies(&logs, &lines),
        paced_frame: report::latencies(&logs, &frames),
        scenario_frames: report::frames(
            &instructor_log,
            &logs,
            scenario_from,
            &[FrameKind::RateLimit, FrameKind::Done],
        ),
        paced_frames: report::frames(&instructor_log, &logs, paced_from, &[FrameKind::Memory]),
        pages_skipped_ahead: report::skipped(&logs, measured_from),
        presence_per_page: presence as f64 / n as f64,
        server: samples.window(measured_from, measured_to),
        clients: own.window(measured_from, measured_to),
        rss_before_sockets_mib: samples.window(setup_from, sockets_from).rss_peak_mib,
        setup_secs: (measured_from - setup_from).as_secs_f64(),
        measured_secs: (measured_to - measured_from).as_secs_f64(),
    })
}
