//! The `feature-store` exercise: its function contract, the order its
//! checks run in, and the calls they share. Storage checks (one hash per
//! user, a TTL within the hour, refreshed by every write) live in
//! `feature_store/storage.rs`; read checks and the latency figure in
//! `feature_store/reads.rs`.

mod reads;
mod storage;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use redis::{ServerError, Value};

use super::harness::{self, explain, fcall};
use super::{CheckDef, Exercise, FunctionDef, GradeFuture, Graded, Harness, Outcome};

pub static EXERCISE: Exercise = Exercise {
    id: "feature-store",
    title: "Exercise 1: a feature store",
    lesson: "exercise-feature-store",
    functions: &[
        FunctionDef {
            name: "fs_write",
            called_as: "FCALL fs_write 1 <user key> <field> <value> [<field> <value> …]",
            returns: "anything but an error",
        },
        FunctionDef {
            name: "fs_read",
            called_as: "FCALL_RO fs_read <n> <key1> … <keyn> <field1> … <fieldm>",
            returns: "an array of n arrays of m values, nil where missing, in the order asked",
        },
    ],
    checks: CHECKS,
    grade,
};

const ONE_HASH: &str = "one-hash-per-user";
const TTL_WITHIN_HOUR: &str = "ttl-within-an-hour";
const READ_WRITES_NOTHING: &str = "read-writes-nothing";
const READ_IN_ORDER: &str = "batch-read-in-order";
const WRITE_REFRESHES_TTL: &str = "write-refreshes-ttl";

/// In the order they run (and the lesson teaches them).
const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: ONE_HASH,
        title: "Features are one compact hash per user, values as given",
        step: "one-hash-per-user",
        hint: "Keep all of a user's features as fields of one hash, under exactly the key fs_write is given, and store each value as it arrived (no conversions).",
    },
    CheckDef {
        id: TTL_WITHIN_HOUR,
        title: "Every key expires within an hour",
        step: "every-key-expires-within-an-hour",
        hint: "Whatever fs_write creates needs a TTL, and that TTL may be at most 3600 seconds.",
    },
    CheckDef {
        id: READ_WRITES_NOTHING,
        title: "A batch read runs through FCALL_RO and writes nothing",
        step: "the-read-path-writes-nothing",
        hint: "Register fs_read with the no-writes flag, and keep everything that writes (counters, defaults, TTLs) out of the read path.",
    },
    CheckDef {
        id: READ_IN_ORDER,
        title: "A batch read answers in the order asked, nil where missing",
        step: "batch-reads-answer-in-the-order-asked",
        hint: "One row per key, in the order of KEYS, even for a user that does not exist; in each row one value per field, in the order of ARGV, nil where there is none.",
    },
    CheckDef {
        id: WRITE_REFRESHES_TTL,
        title: "Every write refreshes the TTL and keeps the other fields",
        step: "every-write-refreshes-the-ttl",
        hint: "Renew the TTL on every write, not only when the key has none, and update fields rather than replacing the hash.",
    },
];

fn grade(harness: Arc<Harness>) -> GradeFuture {
    Box::pin(async move {
        let h = &*harness;
        let mut graded = Graded::default();
        run(h, &mut graded, ONE_HASH, storage::one_hash_per_user(h)).await;
        run(
            h,
            &mut graded,
            TTL_WITHIN_HOUR,
            storage::ttl_within_an_hour(h),
        )
        .await;
        // The first check that calls fs_read: a read that creates a key it
        // keeps (a counter) changes DBSIZE only the first time.
        run(
            h,
            &mut graded,
            READ_WRITES_NOTHING,
            reads::writes_nothing(h),
        )
        .await;
        run(h, &mut graded, READ_IN_ORDER, reads::in_order(h)).await;
        run(
            h,
            &mut graded,
            WRITE_REFRESHES_TTL,
            storage::write_refreshes_ttl(h),
        )
        .await;
        if let Some(figure) = reads::latency_figure(h).await {
            graded.figures.push(figure);
        }
        graded
    })
}

async fn run(
    harness: &Harness,
    graded: &mut Graded,
    id: &'static str,
    check: impl Future<Output = Result<String, Stop>>,
) {
    harness.starting(id);
    let outcome = match check.await {
        Ok(observed) => Outcome::Pass(observed),
        Err(Stop::Fail(observed)) => Outcome::Fail(observed),
        Err(Stop::Error(why)) => Outcome::Error(why),
    };
    graded.check(id, outcome);
}

/// Why a check ended before it passed.
#[derive(Debug)]
enum Stop {
    /// The learner's functions misbehaved (said with numbers).
    Fail(String),
    /// The grader could not reach Redis: not the learner's doing.
    Error(String),
}

impl From<redis::RedisError> for Stop {
    fn from(e: redis::RedisError) -> Stop {
        if e.is_timeout() {
            // A call that never answers is the learner's function looping.
            Stop::Fail(format!("a call {}", explain(&e)))
        } else if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_unrecoverable_error()
        {
            Stop::Error(format!(
                "the grader lost its connection to Redis ({e}); this run does not count"
            ))
        } else {
            Stop::Fail(format!("a call {}", explain(&e)))
        }
    }
}

/// An error reply as redis-cli shows it (`ERR …`).
fn said(e: &ServerError) -> String {
    match e.details() {
        Some(details) => format!("{} {details}", e.code()),
        None => e.code().to_owned(),
    }
}

/// Above this many keys the grader does not list the whole database.
const ALL_KEYS_CAP: i64 = 100_000;

/// One `fs_read` reply: a row per user, a cell per field.
type Rows = Vec<Vec<Option<String>>>;

/// A string-like reply as text (numbers a function returned included).
fn cell(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Nil => Ok(None),
        Value::BulkString(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
        Value::SimpleString(s) => Ok(Some(s.clone())),
        Value::Int(n) => Ok(Some(n.to_string())),
        Value::Double(d) => Ok(Some(d.to_string())),
        other => Err(format!("{other:?}")),
    }
}

/// A reply to `fs_read`, as rows, or what was wrong with its shape.
fn rows(reply: &Value) -> Result<Rows, String> {
    let Value::Array(rows) = reply else {
        return Err(format!("fs_read returned {reply:?}, not an array of rows"));
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Array(cells) => cells
                .iter()
                .map(cell)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|v| format!("row {} of fs_read's reply holds {v}, not a value", i + 1)),
            Value::Nil => Err(format!(
                "row {} of fs_read's reply is nil, not an array of values: every key asked for needs a row, and a user with no features a row of nils",
                i + 1
            )),
            other => Err(format!(
                "row {} of fs_read's reply is {other:?}, not an array of values",
                i + 1
            )),
        })
        .collect()
}

/// The Redis being graded, as the checks drive it: the learner's two
/// functions, and the grader's own look at the keys.
struct FeatureStore {
    conn: MultiplexedConnection,
}

impl FeatureStore {
    async fn open(harness: &Harness) -> Result<FeatureStore, Stop> {
        let conn = harness.conn().await.map_err(|e| {
            Stop::Error(format!(
                "the grader could not connect to Redis ({e}); this run does not count"
            ))
        })?;
        Ok(FeatureStore { conn })
    }

    /// One of the grader's own commands. An error reply is the grader's
    /// problem, unless Redis is still busy with the learner's function.
    async fn redis(&mut self, cmd: &redis::Cmd) -> Result<Value, Stop> {
        match harness::call(&mut self.conn, cmd).await? {
            Value::ServerError(e) if e.code() == "BUSY" => Err(Stop::Fail(format!(
                "Redis was still busy running your function: {}",
                said(&e)
            ))),
            Value::ServerError(e) => Err(Stop::Error(format!(
                "the grader's own command failed ({}); this run does not count",
                said(&e)
            ))),
            value => Ok(value),
        }
    }

    async fn int(&mut self, cmd: &redis::Cmd) -> Result<i64, Stop> {
        match self.redis(cmd).await? {
            Value::Int(n) => Ok(n),
            other => Err(Stop::Error(format!(
                "the grader expected a number and Redis answered {other:?}"
            ))),
        }
    }

    async fn text(&mut self, cmd: &redis::Cmd) -> Result<Option<String>, Stop> {
        let value = self.redis(cmd).await?;
        cell(&value)
            .map_err(|v| Stop::Error(format!("the grader expected text and Redis answered {v}")))
    }

    /// `FCALL fs_write 1 key f1 v1 …`; an error reply fails the check.
    async fn write(&mut self, key: &str, pairs: &[(String, String)]) -> Result<(), Stop> {
        let args: Vec<String> = pairs
            .iter()
            .flat_map(|(field, value)| [field.clone(), value.clone()])
            .collect();
        let cmd = fcall(false, "fs_write", &[key.to_owned()], &args);
        match harness::call(&mut self.conn, &cmd).await? {
            Value::ServerError(e) => Err(Stop::Fail(format!(
                "FCALL fs_write with {} field(s) answered an error: {}",
                pairs.len(),
                said(&e)
            ))),
            _ => Ok(()),
        }
    }

    /// `FCALL fs_read` (or `FCALL_RO`), the reply as it came, an error
    /// reply included.
    async fn read_reply(
        &mut self,
        read_only: bool,
        keys: &[String],
        fields: &[String],
    ) -> Result<Value, Stop> {
        Ok(harness::call(&mut self.conn, &fcall(read_only, "fs_read", keys, fields)).await?)
    }

    /// `FCALL fs_read`, as rows: an error reply or a reply of the wrong
    /// shape fails the check.
    async fn read(&mut self, keys: &[String], fields: &[String]) -> Result<Rows, Stop> {
        match self.read_reply(false, keys, fields).await? {
            Value::ServerError(e) => Err(Stop::Fail(format!(
                "FCALL fs_read for {} user(s) and {} field(s) answered an error: {}",
                keys.len(),
                fields.len(),
                said(&e)
            ))),
            reply => rows(&reply).map_err(Stop::Fail),
        }
    }

    /// Every key whose name starts with `user` (the user's own key, and
    /// any key a solution derives from it).
    async fn keys_of(&mut self, user: &str) -> Result<Vec<String>, Stop> {
        self.scan(Some(&format!("{user}*"))).await
    }

    /// Every key in the database, to see what a write created outside the
    /// keys it was given; `None` past `ALL_KEYS_CAP` keys (a big database
    /// the CLI grades in place), where the comparison is skipped.
    async fn all_keys(&mut self) -> Result<Option<BTreeSet<String>>, Stop> {
        let size = self.int(&redis::cmd("DBSIZE")).await?;
        if size > ALL_KEYS_CAP {
            return Ok(None);
        }
        Ok(Some(self.scan(None).await?.into_iter().collect()))
    }

    /// Whether any field of the hash `key` has a TTL of its own (`HEXPIRE`,
    /// `HSETEX`): such a hash can have no TTL on the key and still age.
    async fn has_field_ttls(&mut self, key: &str) -> Result<bool, Stop> {
        let fields: Vec<String> = match self.redis(redis::cmd("HKEYS").arg(key)).await {
            Ok(redis::Value::Array(fields)) => fields
                .iter()
                .filter_map(|f| cell(f).ok().flatten())
                .collect(),
            // Not a hash (WRONGTYPE is the grader's own command failing).
            _ => return Ok(false),
        };
        if fields.is_empty() {
            return Ok(false);
        }
        let mut httl = redis::cmd("HTTL");
        httl.arg(key).arg("FIELDS").arg(fields.len()).arg(&fields);
        // Redis before 7.4 has no HTTL, and no field TTLs either.
        Ok(match self.redis(&httl).await {
            Ok(redis::Value::Array(ttls)) => ttls
                .iter()
                .any(|t| matches!(t, redis::Value::Int(n) if *n >= 0)),
            _ => false,
        })
    }

    /// `SCAN` to the end, with `MATCH pattern` when given.
    async fn scan(&mut self, pattern: Option<&str>) -> Result<Vec<String>, Stop> {
        let mut found = Vec::new();
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor);
            if let Some(pattern) = pattern {
                scan.arg("MATCH").arg(pattern);
            }
            scan.arg("COUNT").arg(1000);
            let Value::Array(reply) = self.redis(&scan).await? else {
                return Err(Stop::Error(
                    "SCAN answered something other than an array".into(),
                ));
            };
            let next = reply.first().and_then(|v| cell(v).ok().flatten());
            if let Some(Value::Array(keys)) = reply.get(1) {
                found.extend(keys.iter().filter_map(|k| cell(k).ok().flatten()));
            }
            match next.and_then(|n| n.parse::<u64>().ok()) {
                Some(0) | None => break,
                Some(n) => cursor = n,
            }
        }
        found.sort();
        Ok(found)
    }
}

/// `n` fresh user keys.
fn users(harness: &Harness, n: usize) -> Vec<String> {
    (0..n).map(|_| harness.key("user")).collect()
}

/// Owned `(field, value)` pairs.
fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
        .collect()
}

/// A short, readable list of key names (the first few, then how many more).
fn some_keys(keys: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut listed = keys
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > SHOWN {
        listed.push_str(&format!(" and {} more", keys.len() - SHOWN));
    }
    listed
}
