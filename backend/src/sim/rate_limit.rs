//! Rate-limit simulation: simulated users send requests through one or
//! more limiter scripts (fixed window, sliding window log, token bucket)
//! that run atomically in the learner's sandbox. Each decision takes the
//! time as an argument, so a schedule replays deterministically in tests
//! and runs on the wall clock in a live demo.

use std::time::{Duration, Instant};

use protocol::{Algorithm, ChartFrame, RateCounts, RateLimitSim};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::SimError;
use protocol::sim_limits::{
    CUSTOM_SCRIPT_MAX_BYTES, RATE_LIMIT_DURATION_MAX_MS, RATE_MAX, USERS_MAX,
};

/// Frames are sent for buckets this long.
pub const BUCKET_MS: u64 = 250;
/// Decisions sent to Redis in one pipeline.
const BATCH: usize = 256;

/// A correct fixed window: one counter per user per window.
pub const FIXED_WINDOW: &str = "
local window = math.floor(tonumber(ARGV[1]) / tonumber(ARGV[3]))
local key = KEYS[1] .. ':' .. window
local n = redis.call('INCR', key)
if n == 1 then redis.call('PEXPIRE', key, ARGV[3]) end
if n <= tonumber(ARGV[2]) then return 1 end
return 0";

/// A sliding window log: timestamps of allowed requests in a sorted set.
pub const SLIDING_WINDOW: &str = "
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return 1
end
return 0";

/// A token bucket: `limit` tokens, refilled at `limit` per window.
pub const TOKEN_BUCKET: &str = "
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * capacity / window)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], window * 2)
return allowed";

/// The source to run for `algorithm`.
fn script(algorithm: Algorithm, custom: Option<&str>) -> Result<&str, SimError> {
    match algorithm {
        Algorithm::FixedWindow => Ok(FIXED_WINDOW),
        Algorithm::SlidingWindow => Ok(SLIDING_WINDOW),
        Algorithm::TokenBucket => Ok(TOKEN_BUCKET),
        Algorithm::Custom => match custom.map(str::trim) {
            Some(source) if !source.is_empty() && source.len() <= CUSTOM_SCRIPT_MAX_BYTES => {
                Ok(source)
            }
            Some(source) if !source.is_empty() => Err(SimError::Script(format!(
                "your script is {} bytes; the simulator takes at most {CUSTOM_SCRIPT_MAX_BYTES}",
                source.len()
            ))),
            _ => Err(SimError::Script(
                "choose \"your script\" only with a script to run".to_owned(),
            )),
        },
    }
}

fn key_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::FixedWindow => "fixed",
        Algorithm::SlidingWindow => "sliding",
        Algorithm::TokenBucket => "bucket",
        Algorithm::Custom => "custom",
    }
}

/// One request: which user, at what time (ms since the simulation began).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub user: u32,
    pub at_ms: u64,
}

/// Decides requests with one limiter, pipelined over one connection.
pub struct Limiter {
    algorithm: Algorithm,
    sha: String,
    limit: u32,
    window_ms: u64,
    /// Keeps keys of different runs apart.
    run: u64,
    next_id: u64,
}

impl Limiter {
    /// Loads a built-in limiter script into the sandbox.
    pub async fn load(
        conn: &mut MultiplexedConnection,
        algorithm: Algorithm,
        limit: u32,
        window_ms: u64,
        run: u64,
    ) -> Result<Limiter, SimError> {
        Self::load_with(conn, algorithm, None, limit, window_ms, run).await
    }

    /// Loads `algorithm`'s script, or the learner's own for `Custom`.
    pub async fn load_with(
        conn: &mut MultiplexedConnection,
        algorithm: Algorithm,
        custom: Option<&str>,
        limit: u32,
        window_ms: u64,
        run: u64,
    ) -> Result<Limiter, SimError> {
        let source = script(algorithm, custom)?;
        // The learner's own script obeys the console's script rules.
        if let Some(refusal) = crate::gateway::policy::script_flags_refusal(source.as_bytes()) {
            return Err(SimError::Script(refusal.message));
        }
        let value = conn
            .req_packed_command(redis::cmd("SCRIPT").arg("LOAD").arg(source))
            .await?;
        let sha = match value {
            Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Value::ServerError(e) => {
                return Err(SimError::Script(format!(
                    "the script does not compile: {}",
                    crate::session::convert::error_text(&e)
                )))
            }
            other => return Err(SimError::Script(format!("SCRIPT LOAD answered {other:?}"))),
        };
        Ok(Limiter {
            algorithm,
            sha,
            limit: limit.max(1),
            window_ms: window_ms.max(1),
            run,
            next_id: 0,
        })
    }

    /// Decides a batch of requests in order; true means allowed.
    pub async fn decide(
        &mut self,
        conn: &mut MultiplexedConnection,
        requests: &[Request],
    ) -> Result<Vec<bool>, SimError> {
        let mut decisions = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(BATCH) {
            let mut pipe = redis::pipe();
            for request in chunk {
                self.next_id += 1;
                pipe.cmd("EVALSHA")
                    .arg(&self.sha)
                    .arg(1)
                    .arg(format!(
                        "sim:rl:{}:{}:{}",
                        self.run,
                        key_name(self.algorithm),
                        request.user
                    ))
                    .arg(request.at_ms)
                    .arg(self.limit)
                    .arg(self.window_ms)
                    .arg(self.next_id);
            }
            let values = conn.req_packed_commands(&pipe, 0, chunk.len()).await?;
            for value in values {
                match value {
                    Value::Int(n @ (0 | 1)) => decisions.push(n == 1),
                    Value::ServerError(e) => {
                        return Err(SimError::Script(crate::session::convert::error_text(&e)))
                    }
                    other => {
                        return Err(SimError::Script(format!(
                            "a limiter must return 1 (allowed) or 0 (blocked), but {} returned {}",
                            self.algorithm.label(),
                            protocol::format_cli(&crate::session::convert::convert(
                                other,
                                &mut crate::session::convert::Budget::new(10, 200)
                            ))
                        )))
                    }
                }
            }
        }
        Ok(decisions)
    }
}

/// Counts decisions into the chart's shape.
fn count(algorithm: Algorithm, users: u32, requests: &[Request], decisions: &[bool]) -> RateCounts {
    let slots = users.max(1) as usize;
    let mut per_user = vec![(0u32, 0u32); slots];
    let (mut allowed, mut blocked) = (0, 0);
    for (request, ok) in requests.iter().zip(decisions) {
        let slot = &mut per_user[request.user as usize % slots];
        if *ok {
            allowed += 1;
            slot.0 += 1;
        } else {
            blocked += 1;
            slot.1 += 1;
        }
    }
    RateCounts {
        algorithm,
        allowed,
        blocked,
        per_user,
    }
}

/// The settings a learner asked for, within the server's bounds.
pub fn clamp(mut sim: RateLimitSim) -> RateLimitSim {
    sim.rate = if sim.rate.is_finite() {
        sim.rate.clamp(1.0, RATE_MAX)
    } else {
        10.0
    };
    sim.users = sim.users.clamp(1, USERS_MAX);
    sim.limit = sim.limit.clamp(1, 10_000);
    sim.window_ms = sim.window_ms.clamp(100, 60_000);
    sim.duration_ms = sim.duration_ms.clamp(1_000, RATE_LIMIT_DURATION_MAX_MS);
    let mut unique = Vec::new();
    for algorithm in sim.algorithms.drain(..) {
        if !unique.contains(&algorithm) {
            unique.push(algorithm);
        }
    }
    sim.algorithms = unique;
    if sim.algorithms.is_empty() {
        sim.algorithms = Algorithm::ALL.to_vec();
    }
    sim
}

/// Bursty traffic is silent except for half a window around every second
/// window boundary: users arrive with a full allowance just before a
/// boundary, which is exactly where a fixed window lets twice its limit
/// through.
fn in_quiet_middle(at_ms: u64, window_ms: u64) -> bool {
    let phase = at_ms % (2 * window_ms);
    let edge = window_ms / 4;
    phase >= edge && phase < 2 * window_ms - edge
}

/// Runs on the wall clock: requests spread evenly over time and round-robin
/// over users, decided by every chosen limiter, one frame per bucket.
pub async fn run_live(
    mut conn: MultiplexedConnection,
    sim: RateLimitSim,
    run: u64,
    mut send: impl FnMut(ChartFrame) -> bool,
) -> Result<(), SimError> {
    let sim = clamp(sim);
    let mut limiters = Vec::new();
    for algorithm in &sim.algorithms {
        limiters.push(
            Limiter::load_with(
                &mut conn,
                *algorithm,
                sim.custom_script.as_deref(),
                sim.limit,
                sim.window_ms,
                run,
            )
            .await?,
        );
    }
    let started = Instant::now();
    let interval_ms = 1_000.0 / sim.rate;
    let mut sent = 0u64;
    let mut bucket_start = 0u64;
    while bucket_start < sim.duration_ms {
        let bucket_end = bucket_start + BUCKET_MS;
        // Requests due in this bucket.
        let mut requests = Vec::new();
        while (sent as f64 * interval_ms) < bucket_end as f64 {
            let at_ms = (sent as f64 * interval_ms) as u64;
            let user = (sent % u64::from(sim.users)) as u32;
            sent += 1;
            if sim.bursty && in_quiet_middle(at_ms, sim.window_ms) {
                continue;
            }
            requests.push(Request { user, at_ms });
        }
        let wait = Duration::from_millis(bucket_end).saturating_sub(started.elapsed());
        tokio::time::sleep(wait).await;
        let mut counts = Vec::new();
        for limiter in &mut limiters {
            let decisions = limiter.decide(&mut conn, &requests).await?;
            counts.push(count(limiter.algorithm, sim.users, &requests, &decisions));
        }
        let frame = ChartFrame::RateLimit {
            t_ms: bucket_start,
            bucket_ms: BUCKET_MS,
            counts,
        };
        if !send(frame) {
            return Ok(());
        }
        bucket_start = bucket_end;
    }
    Ok(())
}
