//! The control store: where learners, their progress and their results
//! live, in Redis. By default an embedded `redis-server` this server
//! starts in `--data-dir` (`embedded`); with `--control-url`, a shared one
//! every node points at. An acknowledged write has been fsynced: each
//! write is one MULTI/EXEC followed by `WAITAOF 1 0`, and a write that
//! cannot be confirmed is an error, never a silent loss. Key names live in
//! `schema`; the learner operations in `learners`, classroom rooms in
//! `rooms`.

mod embedded;
pub mod learners;
mod reports;
pub mod rooms;
pub mod schema;

use crate::metrics::micros;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use tokio::sync::Mutex;

use embedded::EmbeddedStore;

/// How long one call to the store may take before it counts as down.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a store may take to answer its first PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle write connections kept for reuse.
const WRITERS_KEPT: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {dir} cannot be used: {reason}")]
    DataDir { dir: PathBuf, reason: String },
    #[error("the control store could not be started: {0}")]
    Start(String),
    #[error("the control store is unreachable right now ({0}); your console still works, and progress is saved again once it is back")]
    Unavailable(String),
    #[error("the control store did not confirm that the write reached its disk within {0} ms, so it may not be saved; try again")]
    NotDurable(u64),
    #[error("the control store answered unexpectedly: {0}")]
    Protocol(String),
    #[error("{0}")]
    Schema(String),
}

/// Where the store is.
enum Backend {
    Embedded(Arc<EmbeddedStore>),
    External(redis::ConnectionInfo),
}

/// Round trips, fsync confirmations and failures, for `/metrics`.
#[derive(Default)]
pub struct StoreStats {
    pub calls: AtomicU64,
    pub call_micros: AtomicU64,
    pub confirms: AtomicU64,
    pub confirm_micros: AtomicU64,
    pub errors: AtomicU64,
}

pub struct ControlStore {
    backend: Backend,
    /// Shared by reads: they never block.
    conn: Mutex<Option<MultiplexedConnection>>,
    /// One connection per write in flight: `WAITAOF` blocks the
    /// connection it runs on (and covers that connection's writes), so
    /// writes must not share one with each other or with reads.
    writers: std::sync::Mutex<Vec<MultiplexedConnection>>,
    /// `WAITAOF`'s timeout: how long a write may wait for its fsync.
    confirm_ms: u64,
    /// How long an idle learner's keys live.
    pub learner_ttl: Duration,
    pub stats: StoreStats,
}

/// Settings for `ControlStore::open`.
pub struct StoreConfig {
    pub engine_server: PathBuf,
    pub data_dir: PathBuf,
    pub url: Option<String>,
    pub confirm_ms: u64,
    pub learner_ttl: Duration,
    /// The embedded store's `appendfsync` (`everysec` or `always`).
    pub fsync: &'static str,
}

impl ControlStore {
    /// Starts (or reaches) the store, checks it can confirm writes, and
    /// brings its schema up to date.
    pub async fn open(config: StoreConfig) -> Result<Arc<ControlStore>, StoreError> {
        let backend = match &config.url {
            Some(url) => Backend::External(url.as_str().into_connection_info().map_err(|e| {
                StoreError::Start(format!("--control-url is not a Redis URL: {e}"))
            })?),
            None => Backend::Embedded(
                EmbeddedStore::start(&config.engine_server, &config.data_dir, config.fsync).await?,
            ),
        };
        let store = Arc::new(ControlStore {
            backend,
            conn: Mutex::new(None),
            writers: std::sync::Mutex::new(Vec::new()),
            confirm_ms: config.confirm_ms,
            learner_ttl: config.learner_ttl,
            stats: StoreStats::default(),
        });
        store.wait_ready().await?;
        // A store that cannot fsync (appendonly off) could never confirm a
        // write: refuse to start rather than acknowledge what may be lost.
        let mut probe = redis::cmd("WAITAOF");
        probe.arg(1).arg(0).arg(store.confirm_ms);
        store
            .call(&probe)
            .await
            .and_then(|v| confirmed(&v, store.confirm_ms))
            .map_err(|e| {
                StoreError::Start(format!(
                "the control store cannot confirm writes on disk ({e}); it needs `appendonly yes`"
            ))
            })?;
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// Waits for the store to answer PING (a new process may still be
    /// loading its AOF), up to `READY_TIMEOUT`.
    async fn wait_ready(&self) -> Result<(), StoreError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            // A store still loading its AOF answers PING with -LOADING.
            let answer = self.call(&redis::cmd("PING")).await;
            match answer {
                Ok(redis::Value::SimpleString(_)) => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(match answer {
                        Err(e) => e,
                        Ok(other) => StoreError::Unavailable(format!(
                            "it answered PING with {other:?} for {READY_TIMEOUT:?}"
                        )),
                    })
                }
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Where the embedded store keeps its data, if embedded.
    pub fn data_dir(&self) -> Option<PathBuf> {
        match &self.backend {
            Backend::Embedded(e) => Some(e.data_dir().to_path_buf()),
            Backend::External(_) => None,
        }
    }

    /// The embedded control process's pid (tests kill it).
    pub fn embedded_pid(&self) -> Option<u32> {
        match &self.backend {
            Backend::Embedded(e) => Some(e.pid()),
            Backend::External(_) => None,
        }
    }

    /// A client for the store, embedded (its unix socket and password) or
    /// external (`--control-url`).
    fn client(&self) -> Result<redis::Client, StoreError> {
        let info = match &self.backend {
            Backend::Embedded(e) => ConnectionAddr::Unix(e.socket())
                .into_connection_info()
                .map_err(|e| self.down(e.to_string()))?
                .set_redis_settings(
                    RedisConnectionInfo::default()
                        .set_password(e.password())
                        .set_skip_set_lib_name(),
                ),
            Backend::External(info) => info.clone(),
        };
        redis::Client::open(info).map_err(|e| self.down(e.to_string()))
    }

    async fn connect(&self) -> Result<MultiplexedConnection, StoreError> {
        let timeout = Duration::from_millis(self.confirm_ms) + CALL_TIMEOUT;
        let client = self.client()?;
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(CALL_TIMEOUT));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.down(e.to_string()))
    }

    /// The shared connection, made again after a failure.
    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self.connect().await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    fn failed(&self, e: &redis::RedisError) -> StoreError {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        self.down(e.to_string())
    }

    /// The store cannot be reached: why, naming the data folder when that
    /// is the cause.
    fn down(&self, what: String) -> StoreError {
        match &self.backend {
            // The store is down because its folder cannot take writes:
            // say which folder, not just "unreachable".
            Backend::Embedded(embedded) => match embedded.trouble() {
                Some(reason) => StoreError::DataDir {
                    dir: embedded.data_dir().to_path_buf(),
                    reason,
                },
                None => StoreError::Unavailable(what),
            },
            Backend::External(_) => StoreError::Unavailable(what),
        }
    }

    /// One command.
    pub async fn call(&self, cmd: &redis::Cmd) -> Result<redis::Value, StoreError> {
        let mut conn = self.connection().await?;
        let started = Instant::now();
        let result = conn.req_packed_command(cmd).await;
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        self.stats
            .call_micros
            .fetch_add(micros(started.elapsed()), Ordering::Relaxed);
        match result {
            Ok(value) => Ok(value),
            Err(e) => {
                if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
                    *self.conn.lock().await = None;
                }
                Err(self.failed(&e))
            }
        }
    }

    /// Reads: a pipeline's replies, in order.
    pub async fn read(&self, pipe: &redis::Pipeline) -> Result<Vec<redis::Value>, StoreError> {
        let mut conn = self.connection().await?;
        let result = conn.req_packed_commands(pipe, 0, pipe.len()).await;
        match result {
            Ok(values) => Ok(values),
            Err(e) => {
                *self.conn.lock().await = None;
                Err(self.failed(&e))
            }
        }
    }

    /// An acknowledged write: the pipeline runs as one MULTI/EXEC (so its
    /// keys agree), then `WAITAOF 1 0` confirms it reached the disk.
    pub async fn write(&self, pipe: &mut redis::Pipeline) -> Result<Vec<redis::Value>, StoreError> {
        pipe.atomic();
        // A kept connection may have died with an earlier store process:
        // then once more on a fresh one. Every write here is idempotent
        // (ZADD NX, HSET, SADD, DEL) or harmless twice (a new learner).
        let kept = self.writers.lock().ok().and_then(|mut w| w.pop());
        let (mut conn, values) = match kept {
            Some(conn) => match self.exec(conn, pipe).await {
                Err(StoreError::Unavailable(_)) => self.exec(self.connect().await?, pipe).await?,
                done => done?,
            },
            None => self.exec(self.connect().await?, pipe).await?,
        };
        let before_confirm = Instant::now();
        let mut wait = redis::cmd("WAITAOF");
        wait.arg(1).arg(0).arg(self.confirm_ms);
        let answer = conn
            .req_packed_command(&wait)
            .await
            .map_err(|e| self.failed(&e))?;
        confirmed(&answer, self.confirm_ms).inspect_err(|_| {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        })?;
        self.stats.confirms.fetch_add(1, Ordering::Relaxed);
        self.stats
            .confirm_micros
            .fetch_add(micros(before_confirm.elapsed()), Ordering::Relaxed);
        if let Ok(mut writers) = self.writers.lock() {
            if writers.len() < WRITERS_KEPT {
                writers.push(conn);
            }
        }
        Ok(values)
    }

    /// MULTI … EXEC on `conn`: the transaction's replies.
    async fn exec(
        &self,
        mut conn: MultiplexedConnection,
        pipe: &redis::Pipeline,
    ) -> Result<(MultiplexedConnection, Vec<redis::Value>), StoreError> {
        let started = Instant::now();
        let result = conn.req_packed_commands(pipe, pipe.len() + 1, 1).await;
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        self.stats
            .call_micros
            .fetch_add(micros(started.elapsed()), Ordering::Relaxed);
        match result {
            Ok(mut values) => match values.pop() {
                Some(redis::Value::Array(items)) => Ok((conn, items)),
                Some(redis::Value::ServerError(e)) => Err(self.refused(&e.to_string())),
                other => Err(StoreError::Protocol(format!("EXEC answered {other:?}"))),
            },
            Err(e) => match e.kind() {
                redis::ErrorKind::Server(_) | redis::ErrorKind::Extension => {
                    Err(self.refused(&e.to_string()))
                }
                _ => Err(self.failed(&e)),
            },
        }
    }

    /// A write the store refused. MISCONF means it cannot write its AOF
    /// (a full disk, a read-only folder): say which folder.
    fn refused(&self, error: &str) -> StoreError {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        match self.data_dir() {
            Some(dir) if error.contains("MISCONF") => StoreError::DataDir {
                dir,
                reason: format!("the control store cannot write its AOF there ({error})"),
            },
            _ => StoreError::Protocol(error.to_owned()),
        }
    }

    /// A Pub/Sub connection of its own (a subscribed connection takes no
    /// other commands, so it cannot be the shared one), for the live
    /// rooms' relay between nodes. The caller reconnects after a failure.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, StoreError> {
        let client = self.client()?;
        match tokio::time::timeout(CALL_TIMEOUT, client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(e)) => Err(self.down(e.to_string())),
            Err(_) => Err(self.down(format!("no Pub/Sub connection within {CALL_TIMEOUT:?}"))),
        }
    }

    /// Whether the store answers right now.
    pub async fn healthy(&self) -> bool {
        matches!(
            self.call(&redis::cmd("PING")).await,
            Ok(redis::Value::SimpleString(_))
        )
    }

    /// Stops the embedded process cleanly (its AOF is flushed).
    pub async fn shutdown(&self) {
        if let Backend::Embedded(e) = &self.backend {
            e.stop().await;
        }
    }
}

/// `WAITAOF`'s answer `[local, replicas]`: the local fsync must be 1.
fn confirmed(answer: &redis::Value, confirm_ms: u64) -> Result<(), StoreError> {
    match answer {
        redis::Value::Array(items) => match items.first() {
            Some(redis::Value::Int(n)) if *n >= 1 => Ok(()),
            _ => Err(StoreError::NotDurable(confirm_ms)),
        },
        redis::Value::ServerError(e) => Err(StoreError::Protocol(e.to_string())),
        other => Err(StoreError::Protocol(format!("WAITAOF answered {other:?}"))),
    }
}
