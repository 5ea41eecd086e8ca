//! `redis-tutor-bench`: measures sandbox spawn, pooled session start, the
//! gateway's added latency over a direct redis-rs call, and the HTTP exec
//! endpoint against webdis under wrk. Prints a markdown table for
//! docs/benchmarks.md. Run with `cargo run --release --bin redis-tutor-bench`.

use backend::metrics::{micros, percentile};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use backend::config::Config;
use backend::gateway::Origin;
use backend::sandbox::{SandboxProcess, SandboxSpec};
use backend::{router, AppState};
use clap::Parser;
use redis::aio::ConnectionLike;

const SPAWNS: usize = 40;
const SESSIONS: usize = 20;
const ROUND_TRIPS: usize = 20_000;
const WRK_SECONDS: &str = "5s";
const DECISIONS: u64 = 200_000;

fn summary(mut samples: Vec<u64>) -> (u64, u64) {
    samples.sort_unstable();
    (percentile(&samples, 50.0), percentile(&samples, 99.0))
}

fn main() -> anyhow::Result<()> {
    // REDIS_TUTOR_BENCH_RUNTIME=current-thread compares tokio's runtimes.
    let current = std::env::var("REDIS_TUTOR_BENCH_RUNTIME").is_ok_and(|v| v == "current-thread");
    let runtime = if current {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    println!(
        "runtime: {}",
        if current {
            "current-thread"
        } else {
            "multi-thread"
        }
    );
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let mut config = Config::parse();
    config.addr = "127.0.0.1:0".parse()?;
    // The benchmark is one client hammering one session: lift the
    // per-learner rate limit so it measures latency, not the limiter.
    config.limits.rate_per_sec = u32::MAX / 2;
    config.limits.rate_burst = u32::MAX / 2;
    config.limits.pool_size = 4;
    // Benchmarks write nothing worth keeping: a throwaway control store.
    let scratch = tempfile::tempdir()?;
    config.data_dir = scratch.path().to_path_buf();
    let state = AppState::build(&config).await.context("start the app")?;
    let spec = state.sessions.pool().spec();
    println!(
        "engine: Redis {} ({}), modules: {}",
        state.engine.info.version,
        state.engine.info.source,
        state.engine.info.capabilities.join(", ")
    );

    // 1. Sandbox spawn to first PONG.
    let mut spawn = Vec::new();
    for _ in 0..SPAWNS {
        let started = Instant::now();
        let process = SandboxProcess::spawn(&SandboxSpec {
            engine: spec.engine.clone(),
            limits: spec.limits.clone(),
            acl_rules: spec.acl_rules.clone(),
            run_root: spec.run_root.clone(),
        })
        .await?;
        spawn.push(micros(started.elapsed()));
        process.kill().await;
    }
    let (spawn_p50, spawn_p99) = summary(spawn);

    // 2. Session start with a warm pool (refilled between sessions).
    let mut starts = Vec::new();
    for i in 0..SESSIONS {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 1, u8::try_from(i).unwrap_or(0)));
        let started = Instant::now();
        let session = state.sessions.create(ip).await?;
        starts.push(micros(started.elapsed()));
        state.sessions.remove(&session.id).await;
    }
    let (start_p50, start_p99) = summary(starts);

    // 3. Gateway round trip vs a direct redis-rs call on the same socket.
    let session = state
        .sessions
        .create(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await?;
    state
        .gateway
        .run_line(&session, "SET bench:key value", Origin::Backend)
        .await?;
    let mut direct = session.sandbox_connection().await?;
    let get = redis::cmd("GET").arg("bench:key").clone();
    let (mut via_gateway, mut via_direct) = (Vec::new(), Vec::new());
    for _ in 0..ROUND_TRIPS / 10 {
        // warm-up
        state
            .gateway
            .run_line(&session, "GET bench:key", Origin::Backend)
            .await?;
        direct.req_packed_command(&get).await?;
    }
    for _ in 0..ROUND_TRIPS {
        let started = Instant::now();
        state
            .gateway
            .run_line(&session, "GET bench:key", Origin::Backend)
            .await?;
        via_gateway.push(micros(started.elapsed()));
        let started = Instant::now();
        direct.req_packed_command(&get).await?;
        via_direct.push(micros(started.elapsed()));
    }
    let (gw_p50, gw_p99) = summary(via_gateway);
    let (direct_p50, direct_p99) = summary(via_direct);

    // 4. HTTP exec endpoint vs webdis, each with wrk on one connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http_session = {
        let client = reqwest_free_post(addr, "/api/sessions", None, "").await?;
        serde_json::from_str::<protocol::SessionCreated>(&client)?.session
    };
    reqwest_free_post(
        addr,
        "/api/exec",
        Some(&http_session),
        r#"{"line":"SET bench:key value"}"#,
    )
    .await?;
    let script = std::env::temp_dir().join(format!("redis-tutor-wrk-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"line\":\"GET bench:key\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {http_session}\"\n"
        ),
    )?;
    let url = format!("http://{addr}/api/exec");
    let wrk_script = script.clone();
    // wrk blocks; keep the runtime free to serve it.
    let ours = tokio::task::spawn_blocking(move || wrk(&url, Some(&wrk_script))).await??;
    let _ = std::fs::remove_file(&script);
    let server = state.engine.server.clone();
    let webdis = tokio::task::spawn_blocking(move || webdis_wrk(&server)).await??;
    let (decisions, benchmark) = limiter_throughput(&state.engine.server).await?;

    println!();
    println!("| measurement | p50 | p99 | notes |");
    println!("|---|---|---|---|");
    println!("| sandbox spawn → first PONG ({SPAWNS} runs) | {spawn_p50} µs | {spawn_p99} µs | Redis {} with {} modules |", state.engine.info.version, state.engine.modules.len());
    println!("| session start, warm pool ({SESSIONS} runs) | {start_p50} µs | {start_p99} µs | `SessionRegistry::create` |");
    println!("| `GET` direct redis-rs on the sandbox socket ({ROUND_TRIPS} runs) | {direct_p50} µs | {direct_p99} µs | baseline |");
    println!("| `GET` through the gateway (split, policy, run, convert, format) | {gw_p50} µs | {gw_p99} µs | ratio p50 {:.2}×, p99 {:.2}× |", gw_p50 as f64 / direct_p50.max(1) as f64, gw_p99 as f64 / direct_p99.max(1) as f64);
    println!(
        "| gateway added latency | {} µs | {} µs | goal: p50 ≤ 50 µs, p99 ≤ 200 µs |",
        gw_p50.saturating_sub(direct_p50),
        gw_p99.saturating_sub(direct_p99)
    );
    println!(
        "| HTTP `POST /api/exec` `GET k`, wrk -c1 ({WRK_SECONDS}) | {} | {} | {} req/s |",
        ours.p50, ours.p99, ours.rps
    );
    println!("| webdis `GET /GET/k`, wrk -c1 ({WRK_SECONDS}) | {} | {} | {} req/s, same engine on a unix socket |", webdis.p50, webdis.p99, webdis.rps);
    println!("| rate-limit decisions, simulator (token bucket, pipelined, one connection) | {decisions:.0}/s | | {DECISIONS} decisions |");
    println!("| same script, `redis-benchmark -c 1 -P 256` | {benchmark}/s | | goal: simulator ≥ half of this |");
    state.shutdown().await;
    Ok(())
}

/// A tiny HTTP/1.1 POST over a raw TCP stream (the bench has no HTTP
/// client dependency); returns the body.
async fn reqwest_free_post(
    addr: SocketAddr,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let auth = bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, rest) = response.split_once("\r\n\r\n").context("no HTTP body")?;
    if !head.starts_with("HTTP/1.1 2") {
        bail!("{path}: {head}");
    }
    Ok(rest.to_owned())
}

struct WrkResult {
    p50: String,
    p99: String,
    rps: String,
}

fn wrk(url: &str, script: Option<&Path>) -> anyhow::Result<WrkResult> {
    let mut command = Command::new("wrk");
    command.args(["-t1", "-c1", "-d", WRK_SECONDS, "--latency"]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .context("run wrk (setup installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_owned)
            .unwrap_or_else(|| "?".into())
    };
    if text.contains("Non-2xx") {
        bail!("wrk saw errors from {url}:\n{text}");
    }
    Ok(WrkResult {
        p50: field("50%"),
        p99: field("99%"),
        rps: field("Requests/sec:"),
    })
}

/// A plain redis-server from the engine binary on a private unix socket,
/// killed on drop: the baseline the benchmark compares against.
struct PlainRedis {
    child: std::process::Child,
    socket: std::path::PathBuf,
    dir: tempfile::TempDir,
}

impl PlainRedis {
    fn start(server: &Path) -> anyhow::Result<PlainRedis> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("redis.sock");
        // Its own dir, no persistence: nothing lands in the caller's cwd
        // (a stray dump.rdb once ended up in the repository root).
        let child = Command::new(server)
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()?;
        for _ in 0..200 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(PlainRedis { child, socket, dir })
    }
}

impl Drop for PlainRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator's token-bucket decisions per second on one pipelined
/// connection, and redis-benchmark's with the same script and arguments.
async fn limiter_throughput(server: &Path) -> anyhow::Result<(f64, String)> {
    use backend::sim::rate_limit::{Limiter, Request, TOKEN_BUCKET};
    use protocol::Algorithm;
    let redis = PlainRedis::start(server)?;
    let client = redis::Client::open(format!("unix://{}", redis.socket.display()))?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut limiter = Limiter::load(&mut conn, Algorithm::TokenBucket, 5, 2_000, 1).await?;
    let requests: Vec<Request> = (0..DECISIONS)
        .map(|i| Request {
            user: (i % 50) as u32,
            at_ms: i / 100,
        })
        .collect();
    let started = Instant::now();
    limiter.decide(&mut conn, &requests).await?;
    let ours = DECISIONS as f64 / started.elapsed().as_secs_f64();

    let sha = Command::new("redis-cli")
        .arg("-s")
        .arg(&redis.socket)
        .args(["SCRIPT", "LOAD", TOKEN_BUCKET])
        .output()?;
    let sha = String::from_utf8_lossy(&sha.stdout).trim().to_owned();
    let output = Command::new("redis-benchmark")
        .arg("-s")
        .arg(&redis.socket)
        .args(["-c", "1", "-P", "256", "-n", &DECISIONS.to_string(), "-q"])
        .args([
            "EVALSHA",
            &sha,
            "1",
            "sim:bench:user",
            "1000",
            "5",
            "2000",
            "1",
        ])
        .output()
        .context("run redis-benchmark (setup installs redis-tools)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let theirs = text
        .split('\r')
        .filter_map(|part| part.split(": ").nth(1))
        .filter_map(|rest| rest.split(" requests per second").next())
        .next_back()
        .unwrap_or("?")
        .trim()
        .to_owned();
    Ok((ours, theirs))
}

/// webdis in front of a plain redis-server (same engine binary) on a unix socket.
fn webdis_wrk(server: &Path) -> anyhow::Result<WrkResult> {
    let redis = PlainRedis::start(server)?;
    let socket = redis.socket.clone();
    let dir = &redis.dir;
    let seed = Command::new("redis-cli")
        .arg("-s")
        .arg(&socket)
        .args(["SET", "k", "value"])
        .output()?;
    if !seed.status.success() {
        bail!("could not seed the webdis redis");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let conf = dir.path().join("webdis.json");
    std::fs::write(
        &conf,
        format!(
            r#"{{"redis_host":"{}","redis_port":0,"http_host":"127.0.0.1","http_port":{port},"threads":1,"daemonize":false,"database":0,"verbosity":0,"logfile":"{}"}}"#,
            socket.display(),
            dir.path().join("webdis.log").display()
        ),
    )?;
    let mut webdis = Command::new("webdis")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start webdis")?;
    std::thread::sleep(Duration::from_millis(300));
    let result = wrk(&format!("http://127.0.0.1:{port}/GET/k"), None);
    let _ = webdis.kill();
    let _ = webdis.wait();
    result
}
