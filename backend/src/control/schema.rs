//! The control store's schema as data: every key pattern, its type and
//! TTL, the schema version and the migrations that reach it. The same
//! table is in docs/control-store.md.
//!
//! | key | type | holds | TTL |
//! |---|---|---|---|
//! | `rt:schema` | string | schema version | none |
//! | `rt:learner:{id}` | hash | `name`, `created_ms`, `seen_ms`, `token` (sha-256 of the token) | learner idle TTL |
//! | `rt:token:{sha256}` | string | learner id | learner idle TTL |
//! | `rt:progress:{id}` | sorted set | `lesson\x1fstep`, score = first run (ms) | learner idle TTL |
//! | `rt:results:{id}` | hash | `lesson\x1ftask` → `passed,at_ms` | learner idle TTL |
//! | `rt:passed:{id}` | set | `lesson\x1ftask` of every task ever passed | learner idle TTL |
//! | `rt:reports:{id}` | list | grading reports (JSON), newest first, the last 200 | learner idle TTL |
//! | `rt:best:{id}` | hash | exercise id → its best report (JSON) | learner idle TTL |
//! | `rt:room:{id}` | hash | `name`, `code`, `lessons` (slugs, `\x1f`-joined), `created_ms`, `active_ms`, `locked`, `capacity`, `ended` | room idle TTL |
//! | `rt:roomcode:{CODE}` | string | the room id (deleted when the room ends) | room idle TTL |
//! | `rt:roster:{id}` | hash | learner id → `joined_ms,name` | room idle TTL |
//! | `rt:hands:{id}` | sorted set | learner id, score = hand raised (ms) | room idle TTL |
//! | `rt:memberof:{learner}` | string | the room id they last joined (deleted when removed or the room ends) | room idle TTL, from the join |
//! | `rt:livestate:{room}` | hash | the room's last `goto`, `pace` and `ended` as published, for a node's first page | room idle TTL |
//! | `rt:liveconsole:{room}` | list | the demo console's latest lines as published, oldest first | room idle TTL |
//! | `rt:livefacts:{room}` | hash | `learner␟node` → a page's live facts (following, errors); `learner␟node␟console` → a console's error counts from the node holding it; rewritten every 5 s | 15 s |
//! | channel `rt:live:{room}` | Pub/Sub | every room message, once, for the other nodes' pages | — |
//! | `rt:node:{id}` | string | a live node's lease: JSON `{id, advertise, sessions, capacity}` | the lease (`--lease-ms`) |
//! | `rt:nodes` | set | node ids that held a lease (pruned when the lease is gone) | none |
//! | `rt:cluster:hop` | string | the shared secret that proves a request was forwarded by a node | none |
//! | `rt:cluster:instructor` | string | the instructor token shared by every node (no `--instructor-token`) | none |
//! | `rt:sess:{sha256}` | string | where a session lives: JSON `{node, learner, ip}` (the key hashes the session id, a bearer secret) | the session's maximum age |
//! | `rt:seat:{learner}` | string | the learner's live session id, so a second tab on another node takes it over | the session's maximum age |

use super::{ControlStore, StoreError};

/// The version this build reads and writes.
pub const VERSION: u64 = 1;
/// Separates a lesson slug from a step or task in one member (slugs and
/// anchors never hold control characters).
pub const SEP: char = '\u{1f}';

pub const SCHEMA_KEY: &str = "rt:schema";

pub fn learner(id: &str) -> String {
    format!("rt:learner:{id}")
}

pub fn token(hash: &str) -> String {
    format!("rt:token:{hash}")
}

pub fn progress(id: &str) -> String {
    format!("rt:progress:{id}")
}

pub fn results(id: &str) -> String {
    format!("rt:results:{id}")
}

pub fn passed(id: &str) -> String {
    format!("rt:passed:{id}")
}

pub fn reports(id: &str) -> String {
    format!("rt:reports:{id}")
}

pub fn best(id: &str) -> String {
    format!("rt:best:{id}")
}

pub fn room(id: &str) -> String {
    format!("rt:room:{id}")
}

/// The join code index; `code` is upper case.
pub fn room_code(code: &str) -> String {
    format!("rt:roomcode:{code}")
}

pub fn roster(id: &str) -> String {
    format!("rt:roster:{id}")
}

/// Raised hands in room `id`.
pub fn hands(id: &str) -> String {
    format!("rt:hands:{id}")
}

/// The learner → room index that admits a member by the room's capacity.
pub fn member_of(learner: &str) -> String {
    format!("rt:memberof:{learner}")
}

/// The Pub/Sub channels of the rooms' relay between nodes.
pub const LIVE_CHANNEL_PREFIX: &str = "rt:live:";

/// Room `room`'s relay channel.
pub fn live_channel(room: &str) -> String {
    format!("{LIVE_CHANNEL_PREFIX}{room}")
}

/// The last `goto`, `pace` and `ended` published in room `room`.
pub fn live_state(room: &str) -> String {
    format!("rt:livestate:{room}")
}

/// The demo console's latest lines in room `room`, oldest first.
pub fn live_console(room: &str) -> String {
    format!("rt:liveconsole:{room}")
}

/// Each node's live facts about room `room`'s learners.
pub fn live_facts(room: &str) -> String {
    format!("rt:livefacts:{room}")
}

/// A node's lease.
pub fn node(id: &str) -> String {
    format!("rt:node:{id}")
}

/// Every node id that held a lease.
pub const NODES: &str = "rt:nodes";
/// The secret of the internal hop between nodes.
pub const CLUSTER_HOP: &str = "rt:cluster:hop";
/// The instructor token every node shares.
pub const CLUSTER_INSTRUCTOR: &str = "rt:cluster:instructor";

/// Where a session lives; `digest` is the sha-256 of its id, hex.
pub fn session_home(digest: &str) -> String {
    format!("rt:sess:{digest}")
}

/// A learner's live session id.
pub fn seat(learner: &str) -> String {
    format!("rt:seat:{learner}")
}

/// Every key of one learner but the token's (whose name needs the hash).
pub fn learner_keys(id: &str) -> [String; 6] {
    [
        learner(id),
        progress(id),
        results(id),
        passed(id),
        reports(id),
        best(id),
    ]
}

/// One migration: from `from` to `from + 1`.
struct Migration {
    from: u64,
    /// What it changes, for the log.
    what: &'static str,
}

/// Every migration, in order. Version 1 is the first schema: a new store
/// starts there, so nothing to run yet. A later version adds an entry here
/// and its step in `run`.
const MIGRATIONS: &[Migration] = &[];

async fn run(_store: &ControlStore, migration: &Migration) -> Result<(), StoreError> {
    Err(StoreError::Schema(format!(
        "no code for the migration from schema {} ({})",
        migration.from, migration.what
    )))
}

/// Checks the stored schema version at start-up and migrates forward; a
/// store written by a newer build is refused rather than misread.
pub async fn migrate(store: &ControlStore) -> Result<(), StoreError> {
    let found = match store.call(redis::cmd("GET").arg(SCHEMA_KEY)).await? {
        redis::Value::Nil => None,
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().ok(),
        other => {
            return Err(StoreError::Schema(format!(
                "{SCHEMA_KEY} holds {other:?}, not a version number"
            )))
        }
    };
    let mut version = match found {
        None => {
            store
                .write(redis::pipe().cmd("SET").arg(SCHEMA_KEY).arg(VERSION))
                .await?;
            return Ok(());
        }
        Some(v) => v,
    };
    if version > VERSION {
        return Err(StoreError::Schema(format!(
            "the control store holds schema {version}, newer than this build's {VERSION}: run a newer redis-tutor, or point --data-dir/--control-url elsewhere"
        )));
    }
    while version < VERSION {
        let Some(migration) = MIGRATIONS.iter().find(|m| m.from == version) else {
            return Err(StoreError::Schema(format!(
                "no migration from schema {version} to {VERSION}"
            )));
        };
        tracing::info!(
            from = version,
            what = migration.what,
            "migrating the control store"
        );
        run(store, migration).await?;
        version += 1;
        store
            .write(redis::pipe().cmd("SET").arg(SCHEMA_KEY).arg(version))
            .await?;
    }
    Ok(())
}
