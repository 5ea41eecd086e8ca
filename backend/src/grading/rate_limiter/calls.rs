//! How the rate-limiter checks talk to Redis: one request is one `FCALL`
//! answering 1 or 0; bursts go as a pipeline or as one `MULTI`/`EXEC` (in
//! which the server's clock stands still); and every failure says whose it
//! was: the learner's function (the check fails) or the grader's
//! connection (the check could not run).

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, RedisError, Value};
use tokio::time::Instant;

use crate::grading::harness::{as_int, call, explain, fcall, is_infrastructure, server_time_us};
use crate::grading::{Harness, Outcome};

pub use crate::grading::harness::{Checked as Step, Stop};

/// A failed call: a broken connection is the grader's problem; anything
/// the server answered (or a function that never answered) is the
/// learner's.
fn stop(function: &str, e: &RedisError) -> Stop {
    if is_infrastructure(e) {
        Stop::Error(format!("the connection to the grading Redis failed: {e}"))
    } else {
        Stop::Fail(format!("{function} {}", explain(e)))
    }
}

/// A probe of the grader's own (`PTTL`, `EXISTS`, `TIME`): any failure is
/// the grader's.
fn infra(what: &str, e: &dyn std::fmt::Display) -> Stop {
    Stop::Error(format!("{what} failed on the grading Redis: {e}"))
}

pub async fn connect(harness: &Harness) -> Step<MultiplexedConnection> {
    harness
        .conn()
        .await
        .map_err(|e| Stop::Error(format!("could not connect to the grading Redis: {e}")))
}

/// `FCALL rl_sliding 1 <key> <window ms> <limit> <request id>`.
pub fn sliding(key: &str, window_ms: u64, limit: u64, request_id: &str) -> Cmd {
    fcall(
        false,
        "rl_sliding",
        &[key.to_owned()],
        &[
            window_ms.to_string(),
            limit.to_string(),
            request_id.to_owned(),
        ],
    )
}

/// `FCALL rl_bucket 1 <key> <capacity> <refill tokens per second>`.
pub fn bucket(key: &str, capacity: u64, rate: f64) -> Cmd {
    fcall(
        false,
        "rl_bucket",
        &[key.to_owned()],
        &[capacity.to_string(), rate.to_string()],
    )
}

/// The name of the function a command calls (for messages).
fn function_of(cmd: &Cmd) -> String {
    cmd.args_iter()
        .nth(1)
        .map(|arg| match arg {
            redis::Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => String::new(),
        })
        .unwrap_or_default()
}

/// A reply to one request: allowed (1) or denied (0).
fn verdict(function: &str, value: &Value) -> Step<bool> {
    match as_int(value) {
        Ok(1) => Ok(true),
        Ok(0) => Ok(false),
        Ok(n) => Err(Stop::Fail(format!(
            "{function} returned {n}, not 1 (allowed) or 0 (denied)"
        ))),
        Err(why) => Err(Stop::Fail(format!("{function} {why}"))),
    }
}

/// One request; `true` when it was allowed.
pub async fn request(conn: &mut MultiplexedConnection, cmd: &Cmd) -> Step<bool> {
    let function = function_of(cmd);
    let value = call(conn, cmd).await.map_err(|e| stop(&function, &e))?;
    verdict(&function, &value)
}

/// Requests sent back to back in one pipeline (`atomic`: inside one
/// `MULTI`/`EXEC`, so they all see the same server time).
pub async fn burst(
    conn: &mut MultiplexedConnection,
    cmds: &[Cmd],
    atomic: bool,
) -> Step<Vec<bool>> {
    let Some(first) = cmds.first() else {
        return Ok(Vec::new());
    };
    let function = function_of(first);
    let mut pipe = redis::pipe();
    for cmd in cmds {
        pipe.add_command(cmd.clone());
    }
    let replies = if atomic {
        pipe.atomic();
        let mut exec = conn
            .req_packed_commands(&pipe, cmds.len() + 1, 1)
            .await
            .map_err(|e| stop(&function, &e))?;
        match exec.pop() {
            Some(Value::Array(replies)) => replies,
            other => {
                return Err(Stop::Fail(format!(
                    "{function} inside MULTI/EXEC made EXEC answer {other:?}"
                )))
            }
        }
    } else {
        conn.req_packed_commands(&pipe, 0, cmds.len())
            .await
            .map_err(|e| stop(&function, &e))?
    };
    replies
        .iter()
        .map(|value| verdict(&function, value))
        .collect()
}

/// How many of `answers` were allowed.
pub fn allowed(answers: &[bool]) -> u64 {
    answers.iter().filter(|a| **a).count() as u64
}

/// After a request to `key` at `sent`: it must have a TTL and be gone by
/// `sent + within`. `what` names the key ("log", "bucket") and `setting`
/// says how it was called, for the message.
pub async fn expires(
    conn: &mut MultiplexedConnection,
    key: &str,
    sent: Instant,
    within: Duration,
    what: &str,
    setting: &str,
) -> Step<Outcome> {
    let ttl = pttl(conn, key).await?;
    if ttl == -1 {
        return Ok(Outcome::Fail(format!(
            "PTTL answered -1 after a request: the {what} never expires, so every client that ever called keeps a key in memory"
        )));
    }
    if ttl == -2 {
        return Ok(Outcome::Fail(format!(
            "PTTL answered -2 (no such key) right after a request ({setting}): the function keeps its state somewhere other than KEYS[1], the key it is given, so the grader cannot see it expire, and Redis cannot tell which keys a call touches"
        )));
    }
    let gone = gone_by(conn, key, sent + within).await?;
    let said = format!(
        "PTTL was {ttl} ms after a request ({setting}), and {:.1} s later the {what} was {}",
        secs(sent.elapsed()),
        if gone { "gone" } else { "still there" }
    );
    Ok(if gone {
        Outcome::Pass(said)
    } else {
        Outcome::Fail(format!(
            "{said}: an idle {what} should be gone within {:.1} s, or memory grows with every client ever seen",
            secs(within)
        ))
    })
}

/// `PTTL key`: milliseconds left, -1 without a TTL, -2 when gone.
pub async fn pttl(conn: &mut MultiplexedConnection, key: &str) -> Step<i64> {
    let value = call(conn, redis::cmd("PTTL").arg(key))
        .await
        .map_err(|e| infra("PTTL", &e))?;
    redis::from_redis_value(value).map_err(|e| infra("PTTL", &e))
}

/// Waits until `key` is gone, polling until `deadline`; `true` if it went.
async fn gone_by(conn: &mut MultiplexedConnection, key: &str, deadline: Instant) -> Step<bool> {
    loop {
        let value = call(conn, redis::cmd("EXISTS").arg(key))
            .await
            .map_err(|e| infra("EXISTS", &e))?;
        let exists: i64 = redis::from_redis_value(value).map_err(|e| infra("EXISTS", &e))?;
        if exists == 0 {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many entries the collection at `key` holds, with its type (`None`
/// for a string, as a GCRA limiter keeps, or no key at all).
pub async fn entries(conn: &mut MultiplexedConnection, key: &str) -> Step<Option<(String, u64)>> {
    let kind: String = redis::from_redis_value(
        call(conn, redis::cmd("TYPE").arg(key))
            .await
            .map_err(|e| infra("TYPE", &e))?,
    )
    .map_err(|e| infra("TYPE", &e))?;
    let count = match kind.as_str() {
        "zset" => "ZCARD",
        "list" => "LLEN",
        "set" => "SCARD",
        "hash" => "HLEN",
        "stream" => "XLEN",
        _ => return Ok(None),
    };
    let n: u64 = redis::from_redis_value(
        call(conn, redis::cmd(count).arg(key))
            .await
            .map_err(|e| infra(count, &e))?,
    )
    .map_err(|e| infra(count, &e))?;
    Ok(Some((kind, n)))
}

/// `MEMORY USAGE key SAMPLES 0` summed over `keys` (a missing key is 0).
pub async fn memory_of(conn: &mut MultiplexedConnection, keys: &[&str]) -> Step<u64> {
    let mut total = 0;
    for key in keys {
        let value = call(
            conn,
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(*key)
                .arg("SAMPLES")
                .arg(0),
        )
        .await
        .map_err(|e| infra("MEMORY USAGE", &e))?;
        let bytes: Option<u64> =
            redis::from_redis_value(value).map_err(|e| infra("MEMORY USAGE", &e))?;
        total += bytes.unwrap_or(0);
    }
    Ok(total)
}

/// The server's clock, tied to this process's monotonic clock by one
/// `TIME` read, so a check can act at a given server millisecond.
pub struct ServerClock {
    at: Instant,
    ms: u64,
}

impl ServerClock {
    pub async fn read(conn: &mut MultiplexedConnection) -> Step<ServerClock> {
        let before = Instant::now();
        let us = server_time_us(conn).await.map_err(|e| infra("TIME", &e))?;
        let after = Instant::now();
        Ok(ServerClock {
            at: before + (after - before) / 2,
            ms: us / 1000,
        })
    }

    /// The server's time (ms since the epoch) at `instant`.
    pub fn ms_at(&self, instant: Instant) -> u64 {
        self.ms + instant.saturating_duration_since(self.at).as_millis() as u64
    }

    /// When the server's clock reads `ms`.
    pub fn instant_at(&self, ms: u64) -> Instant {
        self.at + Duration::from_millis(ms.saturating_sub(self.ms))
    }
}

/// Seconds, for messages.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
