//! The grader's side of the event stream: one run's keys and consumer
//! group, the commands a worker sends (`XGROUP CREATE`, `XADD`,
//! `XREADGROUP`, `XAUTOCLAIM`, `XPENDING`), the call to the learner's
//! `rec_apply`, and which of their failures are the learner's doing.

use redis::aio::MultiplexedConnection;
use redis::Value;

use super::events::{parse_entries, text, Entry, Event};
use crate::grading::harness::{self, random_hex, Harness};

pub use crate::grading::harness::{is_infrastructure, Checked, Stop};

/// A failure of one of the grader's own commands. Only a lost connection
/// is the grader's problem; a timeout or an error reply means the
/// learner's function is still running or broke the keys it was given.
fn grader_failed(what: &str, e: &redis::RedisError) -> Stop {
    if is_infrastructure(e) && !e.is_timeout() {
        Stop::Error(format!("the grader lost its connection during {what}: {e}"))
    } else if e.is_timeout() {
        Stop::Fail(format!(
            "the grader's {what} {} (is rec_apply still running?)",
            harness::explain(e)
        ))
    } else {
        Stop::Fail(format!("the grader's {what} failed: {e}"))
    }
}

/// Opens a connection for one simulated client.
pub async fn connect(harness: &Harness) -> Checked<MultiplexedConnection> {
    harness
        .conn()
        .await
        .map_err(|e| Stop::Error(format!("could not connect: {e}")))
}

async fn send(conn: &mut MultiplexedConnection, what: &str, cmd: &redis::Cmd) -> Checked<Value> {
    harness::call(conn, cmd)
        .await
        .and_then(Value::extract_error)
        .map_err(|e| grader_failed(what, &e))
}

/// One run's stream, recommendations key and group, all fresh.
pub struct Feed {
    pub stream: String,
    pub recs: String,
    pub group: String,
}

impl Feed {
    pub fn new(harness: &Harness) -> Feed {
        Feed {
            stream: harness.key("events"),
            recs: harness.key("recs"),
            group: format!("workers-{}", random_hex(3)),
        }
    }

    /// `XGROUP CREATE … 0 MKSTREAM`, as a worker runs it on every start:
    /// `BUSYGROUP` means it already exists, which is fine.
    pub async fn create_group(&self, conn: &mut MultiplexedConnection) -> Checked<()> {
        let mut cmd = redis::cmd("XGROUP");
        cmd.arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM");
        match harness::call(conn, &cmd)
            .await
            .and_then(Value::extract_error)
        {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(grader_failed("XGROUP CREATE", &e)),
            Ok(_) => Ok(()),
        }
    }

    /// `XADD`s one event; `seq` travels with it.
    pub async fn add(
        &self,
        conn: &mut MultiplexedConnection,
        event: &Event,
        seq: usize,
    ) -> Checked<String> {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&self.stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(10_000)
            .arg("*")
            .arg("type")
            .arg(event.kind.name())
            .arg("item")
            .arg(&event.item)
            .arg("seq")
            .arg(seq);
        match send(conn, "XADD", &cmd).await? {
            Value::BulkString(id) => Ok(String::from_utf8_lossy(&id).into_owned()),
            other => Err(Stop::Fail(format!("the grader's XADD answered {other:?}"))),
        }
    }

    /// `XREADGROUP GROUP <group> <consumer> COUNT <count> BLOCK <ms>
    /// STREAMS <stream> >`: new entries for `consumer`, or none after
    /// `block_ms`.
    pub async fn read(
        &self,
        conn: &mut MultiplexedConnection,
        consumer: &str,
        count: usize,
        block_ms: u64,
    ) -> Checked<Vec<Entry>> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(">");
        match send(conn, "XREADGROUP", &cmd).await? {
            Value::Nil => Ok(Vec::new()),
            Value::Array(streams) => {
                let entries = streams.into_iter().find_map(|s| match s {
                    Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                    _ => None,
                });
                Ok(entries.map(parse_entries).unwrap_or_default())
            }
            other => Err(Stop::Fail(format!(
                "the grader's XREADGROUP answered {other:?}"
            ))),
        }
    }

    /// The janitor's pass: `XAUTOCLAIM` every entry idle for at least
    /// `min_idle_ms` to `consumer`, following the cursor to the end.
    pub async fn claim(
        &self,
        conn: &mut MultiplexedConnection,
        consumer: &str,
        min_idle_ms: u64,
    ) -> Checked<Vec<Entry>> {
        let mut claimed = Vec::new();
        let mut cursor = "0-0".to_owned();
        loop {
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(&self.stream)
                .arg(&self.group)
                .arg(consumer)
                .arg(min_idle_ms)
                .arg(&cursor)
                .arg("COUNT")
                .arg(100);
            let Value::Array(mut parts) = send(conn, "XAUTOCLAIM", &cmd).await? else {
                return Err(Stop::Fail(
                    "the grader's XAUTOCLAIM answered no array".into(),
                ));
            };
            if parts.len() < 2 {
                return Err(Stop::Fail(
                    "the grader's XAUTOCLAIM answered too few parts".into(),
                ));
            }
            claimed.extend(parse_entries(parts.swap_remove(1)));
            cursor = match &parts[0] {
                Value::BulkString(c) => String::from_utf8_lossy(c).into_owned(),
                Value::SimpleString(c) => c.clone(),
                _ => "0-0".to_owned(),
            };
            if cursor == "0-0" {
                return Ok(claimed);
            }
        }
    }

    /// `FCALL rec_apply 2 <stream> <recs> <group> <id> <item> <weight>
    /// <top n>`: the learner's answer. An error reply or a timeout is the
    /// learner's failure.
    pub async fn apply(
        &self,
        conn: &mut MultiplexedConnection,
        entry: &Entry,
        top_n: usize,
    ) -> Checked<Value> {
        let cmd = harness::fcall(
            false,
            "rec_apply",
            &[self.stream.clone(), self.recs.clone()],
            &[
                self.group.clone(),
                entry.id.clone(),
                entry.event.item.clone(),
                entry.event.kind.weight().to_string(),
                top_n.to_string(),
            ],
        );
        match harness::call(conn, &cmd).await {
            Ok(Value::ServerError(e)) => Err(Stop::Fail(format!(
                "rec_apply for entry {} returned an error: {e}",
                entry.id
            ))),
            Ok(answer) => Ok(answer),
            Err(e) if is_infrastructure(&e) && !e.is_timeout() => Err(Stop::Error(format!(
                "the grader lost its connection while calling rec_apply: {e}"
            ))),
            Err(e) => Err(Stop::Fail(format!(
                "rec_apply for entry {} {}",
                entry.id,
                harness::explain(&e)
            ))),
        }
    }

    /// The group's pending count (`XPENDING` summary form).
    pub async fn pending(&self, conn: &mut MultiplexedConnection) -> Checked<i64> {
        let mut cmd = redis::cmd("XPENDING");
        cmd.arg(&self.stream).arg(&self.group);
        match send(conn, "XPENDING", &cmd).await? {
            Value::Array(parts) => match parts.first() {
                Some(Value::Int(n)) => Ok(*n),
                other => Err(Stop::Fail(format!(
                    "the grader's XPENDING answered {other:?}"
                ))),
            },
            other => Err(Stop::Fail(format!(
                "the grader's XPENDING answered {other:?}"
            ))),
        }
    }

    /// The score of `item`, if it is in the set.
    pub async fn score(
        &self,
        conn: &mut MultiplexedConnection,
        item: &str,
    ) -> Checked<Option<f64>> {
        let mut cmd = redis::cmd("ZSCORE");
        cmd.arg(&self.recs).arg(item);
        let value = send(conn, "ZSCORE", &cmd).await?;
        redis::from_redis_value(value)
            .map_err(|e| Stop::Fail(format!("the grader's ZSCORE answered {e}")))
    }

    /// Every member of the set with its score, highest first.
    pub async fn scores(&self, conn: &mut MultiplexedConnection) -> Checked<Vec<(String, f64)>> {
        let mut cmd = redis::cmd("ZRANGE");
        cmd.arg(&self.recs)
            .arg(0)
            .arg(-1)
            .arg("REV")
            .arg("WITHSCORES");
        let value = send(conn, "ZRANGE", &cmd).await?;
        match value {
            // ZRANGE on a key of another type is WRONGTYPE, caught above.
            Value::Array(flat) => Ok(flat
                .chunks(2)
                .filter_map(|pair| {
                    let member = text(pair.first()?)?;
                    let score = text(pair.get(1)?)?.parse().ok()?;
                    Some((member, score))
                })
                .collect()),
            other => Err(Stop::Fail(format!(
                "the grader's ZRANGE answered {other:?}"
            ))),
        }
    }
}
