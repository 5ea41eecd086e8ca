//! What a grading check drives: connections to the Redis being graded
//! (each call under a deadline, so a looping function fails its check
//! instead of hanging the grader), random key names under one prefix so
//! nothing can be typed in by hand and nothing else is touched, and the
//! small helpers every exercise uses (`FCALL`, the server's clock).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

/// How long one call may take before the check fails with a timeout.
pub const CALL_DEADLINE: Duration = Duration::from_secs(2);

/// Why a check stopped before it could pass: the learner's function (the
/// check fails) or the grader's own connection (the check could not run).
#[derive(Debug)]
pub enum Stop {
    /// The learner's function answered wrongly (an error reply, a wrong
    /// value, no answer within the deadline), or left the wrong state.
    Fail(String),
    /// The grader could not run the check (a connection failed).
    Error(String),
}

/// A step of a check.
pub type Checked<T> = Result<T, Stop>;

impl From<Stop> for super::Outcome {
    fn from(stop: Stop) -> super::Outcome {
        match stop {
            Stop::Fail(why) => super::Outcome::Fail(why),
            Stop::Error(why) => super::Outcome::Error(why),
        }
    }
}

/// Whether a failed call was the connection's fault, not the function's
/// (a timeout is the function's: it never answered).
pub fn is_infrastructure(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal())
}

/// Opens a new connection to the Redis being graded.
pub type Connector = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = redis::RedisResult<MultiplexedConnection>> + Send>>
        + Send
        + Sync,
>;

pub struct Harness {
    connect: Connector,
    prefix: String,
    /// Told the id of each check as it starts (the CLI's progress lines).
    progress: Option<Progress>,
}

/// Told each check's id as it starts.
type Progress = Box<dyn Fn(&str) + Send + Sync>;

/// Random lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    // Grading keys only need to be unguessable by a learner typing them:
    // without randomness they are zeros, as before, not an error.
    crate::secret::random_hex(bytes).unwrap_or_else(|_| "00".repeat(bytes))
}

impl Harness {
    /// A harness whose keys all start with `grade:<random>:`.
    pub fn new(connect: Connector) -> Harness {
        Harness {
            connect,
            prefix: format!("grade:{}:", random_hex(6)),
            progress: None,
        }
    }

    /// Calls `progress` with each check's id as it starts.
    pub fn with_progress(mut self, progress: impl Fn(&str) + Send + Sync + 'static) -> Harness {
        self.progress = Some(Box::new(progress));
        self
    }

    /// An exercise says which check it starts.
    pub fn starting(&self, check: &str) {
        if let Some(progress) = &self.progress {
            progress(check);
        }
    }

    /// Every key this run may create starts with this.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A fresh random key name, `<prefix><what>:<random>`.
    pub fn key(&self, what: &str) -> String {
        format!("{}{what}:{}", self.prefix, random_hex(4))
    }

    /// A new connection (one per simulated client).
    pub async fn conn(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut conn = (self.connect)().await?;
        conn.set_response_timeout(CALL_DEADLINE);
        Ok(conn)
    }

    /// Deletes every key of this run (the CLI grades a Redis it must
    /// leave as it found it; a grading sandbox is thrown away anyway).
    pub async fn clean_up(&self) -> redis::RedisResult<()> {
        let mut conn = self.conn().await?;
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<String>) =
                redis::from_redis_value(conn.req_packed_command(&scan).await?)?;
            if !keys.is_empty() {
                conn.req_packed_command(redis::cmd("DEL").arg(&keys))
                    .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

/// `FCALL name numkeys keys… args…` (or `FCALL_RO`).
pub fn fcall(read_only: bool, name: &str, keys: &[String], args: &[String]) -> redis::Cmd {
    let mut cmd = redis::cmd(if read_only { "FCALL_RO" } else { "FCALL" });
    cmd.arg(name).arg(keys.len()).arg(keys).arg(args);
    cmd
}

/// Runs `cmd` on `conn`.
pub async fn call(conn: &mut MultiplexedConnection, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
    conn.req_packed_command(cmd).await
}

/// The server's clock, in microseconds since the epoch (`TIME`).
pub async fn server_time_us(conn: &mut MultiplexedConnection) -> redis::RedisResult<u64> {
    let (secs, micros): (u64, u64) =
        redis::from_redis_value(call(conn, &redis::cmd("TIME")).await?)?;
    Ok(secs * 1_000_000 + micros)
}

/// An integer reply (`1`/`0`), or a sentence saying what came back. A
/// string that looks like a number is not one: a client comparing the
/// reply with 1 gets "1" and reads it as something else.
pub fn as_int(value: &Value) -> Result<i64, String> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::BulkString(b) => Err(format!(
            "returned the string {:?}, not an integer (return a Lua number: Redis sends it as an integer)",
            String::from_utf8_lossy(b)
        )),
        Value::ServerError(e) => Err(format!("returned an error: {e}")),
        other => Err(format!("returned {other:?}, not 1 or 0")),
    }
}

/// A reply error or failure, as a sentence for a check message.
pub fn explain(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        format!(
            "did not answer within {} s (a loop that never ends?)",
            CALL_DEADLINE.as_secs()
        )
    } else {
        format!("failed: {e}")
    }
}
