//! The figures measured once per invocation, not side by side with webdis:
//! sandbox spawn to first PONG, a session from the warm pool, and the rate
//! limiter's decisions per second against redis-benchmark's.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use backend::metrics::micros;
use backend::sandbox::{SandboxProcess, SandboxSpec};
use backend::AppState;

use crate::plain_redis::PlainRedis;
use crate::report::Figures;

const SPAWNS: usize = 40;
const SESSIONS: usize = 20;
const DECISIONS: u64 = 200_000;

/// Sandbox spawn → first PONG, `SPAWNS` times.
pub async fn spawn(state: &AppState) -> anyhow::Result<Figures> {
    let spec = state.sessions.pool().spec();
    let mut samples = Vec::new();
    let started_all = Instant::now();
    for _ in 0..SPAWNS {
        let started = Instant::now();
        let process = SandboxProcess::spawn(&SandboxSpec {
            engine: spec.engine.clone(),
            limits: spec.limits.clone(),
            acl_rules: spec.acl_rules.clone(),
            run_root: spec.run_root.clone(),
        })
        .await?;
        samples.push(micros(started.elapsed()));
        process.kill().await;
    }
    Ok(Figures::from_samples(
        samples,
        started_all.elapsed().as_secs_f64(),
    ))
}

/// `SessionRegistry::create` with a warm pool (refilled between sessions).
pub async fn session_start(state: &AppState) -> anyhow::Result<Figures> {
    let mut samples = Vec::new();
    for i in 0..SESSIONS {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 2, u8::try_from(i).unwrap_or(0)));
        let started = Instant::now();
        let session = state.sessions.create(ip).await?;
        samples.push(micros(started.elapsed()));
        state.sessions.remove(&session.id).await;
    }
    Ok(Figures::from_samples(samples, 1.0))
}

/// The simulator's token-bucket decisions per second on one pipelined
/// connection, and redis-benchmark's with the same script and arguments.
pub async fn limiter_throughput(server: &Path) -> anyhow::Result<(f64, String)> {
    use backend::sim::rate_limit::{Limiter, Request, TOKEN_BUCKET};
    use protocol::Algorithm;
    let redis = PlainRedis::start(server)?;
    let client = redis::Client::open(format!("unix://{}", redis.socket.display()))?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .context("connect to the plain redis-server")?;
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

    let sha = redis.cli(&["SCRIPT", "LOAD", TOKEN_BUCKET])?;
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
        .context("run redis-benchmark (the setup installs redis-tools)")?;
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

pub fn print(state: &AppState, spawn: &Figures, start: &Figures, limiter: &(f64, String)) {
    println!();
    println!("| measurement | p50 | p99 | notes |");
    println!("|---|---|---|---|");
    println!(
        "| sandbox spawn → first PONG ({SPAWNS} runs) | {:.0} µs | {:.0} µs | Redis {} with {} modules |",
        spawn.p50,
        spawn.p99,
        state.engine.info.version,
        state.engine.modules.len()
    );
    println!(
        "| session start, warm pool ({SESSIONS} runs) | {:.0} µs | {:.0} µs | `SessionRegistry::create` |",
        start.p50, start.p99
    );
    println!();
    println!("| rate-limit decisions | decisions / s |");
    println!("|---|---|");
    println!(
        "| simulator, token bucket, {DECISIONS} decisions, 50 users | {:.0} |",
        limiter.0
    );
    println!(
        "| `redis-benchmark -c 1 -P 256 EVALSHA …` | {} |",
        limiter.1
    );
}
