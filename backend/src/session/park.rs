//! Giving way on a full host: an idle learner's sandbox is saved, ended so
//! a waiting learner gets its slot, and its data is put back when the
//! learner returns.
//!
//! The save uses ordinary read commands and the restore ordinary writes
//! (`DUMP`/`RESTORE` are disabled in every sandbox, because a raw payload
//! is an attack surface). That covers what the lessons build: strings,
//! hashes, lists, sets, sorted sets, streams and JSON documents, with
//! their TTLs. Anything else (a Bloom filter, a search index, a vector
//! set) is named in the notice as not kept, and so is whatever is past
//! the cap.

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};

/// Most bytes of values kept per learner, and most keys.
pub const PARK_MAX_BYTES: usize = 4 * 1024 * 1024;
pub const PARK_MAX_KEYS: usize = 10_000;

/// A stream entry: its id and its field/value pairs.
type StreamEntry = (String, Vec<(Vec<u8>, Vec<u8>)>);

/// One key as ordinary commands can rebuild it.
#[derive(Debug, Clone)]
enum Saved {
    String(Vec<u8>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    SortedSet(Vec<(Vec<u8>, String)>),
    Stream(Vec<StreamEntry>),
    Json(String),
}

/// A learner's data while they are away.
#[derive(Debug, Clone, Default)]
pub struct Parked {
    keys: Vec<(Vec<u8>, Option<i64>, Saved)>,
    /// Keys that could not be kept (their type, or past the cap).
    skipped: Vec<String>,
}

impl Parked {
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}

fn size(saved: &Saved) -> usize {
    match saved {
        Saved::String(v) => v.len(),
        Saved::Json(v) => v.len(),
        Saved::Hash(p) => p.iter().map(|(a, b)| a.len() + b.len()).sum(),
        Saved::List(v) | Saved::Set(v) => v.iter().map(Vec::len).sum(),
        Saved::SortedSet(v) => v.iter().map(|(m, s)| m.len() + s.len()).sum(),
        Saved::Stream(v) => v
            .iter()
            .map(|(id, f)| id.len() + f.iter().map(|(a, b)| a.len() + b.len()).sum::<usize>())
            .sum(),
    }
}

async fn read_one(
    conn: &mut MultiplexedConnection,
    key: &[u8],
    kind: &str,
) -> redis::RedisResult<Option<Saved>> {
    Ok(Some(match kind {
        "string" => Saved::String(conn.get(key).await?),
        "hash" => Saved::Hash(conn.hgetall(key).await?),
        "list" => Saved::List(conn.lrange(key, 0, -1).await?),
        "set" => Saved::Set(conn.smembers(key).await?),
        "zset" => {
            let pairs: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query_async(conn)
                .await?;
            Saved::SortedSet(pairs)
        }
        "stream" => {
            let entries: Vec<StreamEntry> = redis::cmd("XRANGE")
                .arg(key)
                .arg("-")
                .arg("+")
                .query_async(conn)
                .await?;
            Saved::Stream(entries)
        }
        "ReJSON-RL" => Saved::Json(redis::cmd("JSON.GET").arg(key).query_async(conn).await?),
        _ => return Ok(None),
    }))
}

/// Everything in the sandbox that ordinary commands can rebuild, within
/// the caps.
pub async fn save(conn: &mut MultiplexedConnection) -> redis::RedisResult<Parked> {
    let mut parked = Parked::default();
    let mut bytes = 0usize;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(500)
            .query_async(conn)
            .await?;
        for key in keys {
            let shown = String::from_utf8_lossy(&key).into_owned();
            let kind: String = redis::cmd("TYPE").arg(&key).query_async(conn).await?;
            let saved = match read_one(conn, &key, &kind).await {
                Ok(Some(saved)) => saved,
                Ok(None) => {
                    parked.skipped.push(format!("{shown} ({kind})"));
                    continue;
                }
                // Gone or changed type while we read: nothing to keep.
                Err(_) => continue,
            };
            bytes += key.len() + size(&saved);
            if bytes > PARK_MAX_BYTES || parked.keys.len() == PARK_MAX_KEYS {
                parked.skipped.push(format!(
                    "{shown} (past the {} MiB kept)",
                    PARK_MAX_BYTES >> 20
                ));
                continue;
            }
            let ttl: i64 = conn.pttl(&key).await?;
            parked.keys.push((key, (ttl > 0).then_some(ttl), saved));
        }
        if next == 0 {
            return Ok(parked);
        }
        cursor = next;
    }
}

fn write_one(pipe: &mut redis::Pipeline, key: &[u8], saved: &Saved) {
    match saved {
        Saved::String(v) => {
            pipe.cmd("SET").arg(key).arg(v).ignore();
        }
        Saved::Hash(pairs) if !pairs.is_empty() => {
            pipe.cmd("HSET").arg(key).arg(pairs).ignore();
        }
        Saved::List(items) if !items.is_empty() => {
            pipe.cmd("RPUSH").arg(key).arg(items).ignore();
        }
        Saved::Set(items) if !items.is_empty() => {
            pipe.cmd("SADD").arg(key).arg(items).ignore();
        }
        Saved::SortedSet(pairs) if !pairs.is_empty() => {
            let cmd = pipe.cmd("ZADD").arg(key);
            for (member, score) in pairs {
                cmd.arg(score).arg(member);
            }
            cmd.ignore();
        }
        Saved::Stream(entries) => {
            for (id, fields) in entries {
                pipe.cmd("XADD").arg(key).arg(id).arg(fields).ignore();
            }
        }
        Saved::Json(doc) => {
            pipe.cmd("JSON.SET").arg(key).arg("$").arg(doc).ignore();
        }
        _ => {}
    }
}

/// Puts `parked` into a fresh sandbox; the sentence for the learner.
pub async fn restore(conn: &mut MultiplexedConnection, parked: &Parked) -> String {
    let mut failed = 0usize;
    for (key, ttl, saved) in &parked.keys {
        let mut pipe = redis::pipe();
        write_one(&mut pipe, key, saved);
        if let Some(ttl) = ttl {
            pipe.cmd("PEXPIRE").arg(key).arg(*ttl).ignore();
        }
        if pipe.query_async::<Value>(conn).await.is_err() {
            failed += 1;
        }
    }
    let kept = parked.keys.len() - failed;
    let mut message = format!(
        "While you were away, the class was full and your sandbox was put aside for someone waiting; your {kept} key{} {} back.",
        if kept == 1 { "" } else { "s" },
        if kept == 1 { "is" } else { "are" },
    );
    if !parked.skipped.is_empty() || failed > 0 {
        let mut lost: Vec<&str> = parked.skipped.iter().map(String::as_str).take(5).collect();
        if parked.skipped.len() > 5 {
            lost.push("…");
        }
        message.push_str(&format!(
            " Not kept ({} key{}): {}; run the lesson's blocks again to rebuild them.",
            parked.skipped.len() + failed,
            if parked.skipped.len() + failed == 1 {
                ""
            } else {
                "s"
            },
            if lost.is_empty() {
                "some failed to load".to_owned()
            } else {
                lost.join(", ")
            },
        ));
    }
    message
}
