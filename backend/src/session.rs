//! One learner's session: their sandbox, the connection to it, transaction
//! state, rate limit, and an event feed that others can watch (an
//! instructor's console mirrored to a class).

mod rate;
pub mod registry;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::{Notice, NoticeKind, Reply, SessionEvent};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;
use tokio::sync::broadcast;

use crate::gateway::convert::{convert, Budget};
use crate::limits::SandboxLimits;
use crate::sandbox::{Sandbox, SandboxError, SandboxPool};

pub use rate::TokenBucket;
pub use registry::{RegistryError, SessionRegistry};

/// How long SCRIPT KILL and the killed script's reply may take.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// Events buffered for slow observers; older ones are dropped for them.
const EVENT_BUFFER: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("Your sandbox was restarted and its data reset: {0}.")]
    Restarted(String),
    #[error("Redis closed the connection: the reply was larger than the sandbox's output limit (4 MB), or the command used too much client memory. Read big values in parts with SCAN or a range (LRANGE key 0 99, ZRANGE key 0 99).")]
    ConnectionClosed,
    #[error("Redis answered with a status or error line holding bytes that are not valid UTF-8 (for example an unknown command name written with \\x escapes, or a script's status reply), which the console cannot display; redis-cli would print the raw bytes. Your sandbox and its data are fine.")]
    Unreadable,
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// The result of one command on the sandbox.
pub struct Executed {
    pub reply: Reply,
    /// Time from sending the command to its reply, in microseconds.
    pub micros: u64,
    pub notices: Vec<Notice>,
}

/// The part of a session that one command at a time may touch.
pub struct SessionInner {
    sandbox: Sandbox,
    conn: MultiplexedConnection,
    /// Commands queued since MULTI; `None` outside a transaction.
    pub queued: Option<usize>,
}

pub struct Session {
    pub id: String,
    pub client_ip: IpAddr,
    created: Instant,
    last_used: Mutex<Instant>,
    rate: Mutex<TokenBucket>,
    inner: tokio::sync::Mutex<SessionInner>,
    events: broadcast::Sender<SessionEvent>,
    pool: Arc<SandboxPool>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Session {
    pub async fn start(
        id: String,
        client_ip: IpAddr,
        pool: Arc<SandboxPool>,
    ) -> Result<Session, SandboxError> {
        let sandbox = pool.acquire().await?;
        let conn = sandbox.connect().await?;
        let limits = &pool.spec().limits;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Session {
            id,
            client_ip,
            created: Instant::now(),
            last_used: Mutex::new(Instant::now()),
            rate: Mutex::new(TokenBucket::new(limits.rate_per_sec, limits.rate_burst)),
            inner: tokio::sync::Mutex::new(SessionInner {
                sandbox,
                conn,
                queued: None,
            }),
            events,
            pool,
        })
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.pool.spec().limits
    }

    pub fn touch(&self) {
        if let Ok(mut last) = self.last_used.lock() {
            *last = Instant::now();
        }
    }

    pub fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map(|l| l.elapsed())
            .unwrap_or_default()
    }

    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// One token from the session's rate limit.
    pub fn take_rate_token(&self) -> bool {
        self.rate.lock().map(|mut r| r.try_take()).unwrap_or(false)
    }

    /// For learners: one command in flight, so a second one is refused.
    pub fn try_lock(&self) -> Option<tokio::sync::MutexGuard<'_, SessionInner>> {
        self.inner.try_lock().ok()
    }

    /// For the backend's own work (graders, simulators): wait for a turn.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, SessionInner> {
        self.inner.lock().await
    }

    /// Follow what happens in this session.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe()
    }

    pub fn emit(&self, event: SessionEvent) {
        // No observers is fine.
        let _ = self.events.send(event);
    }

    /// A fresh sandbox for this session; the old one and its data are gone.
    pub async fn reset(&self) -> Result<Notice, SandboxError> {
        let mut inner = self.lock().await;
        inner
            .replace_sandbox(
                &self.pool,
                NoticeKind::Reset,
                "You asked for a fresh sandbox: it is empty and ready.".into(),
            )
            .await
            .inspect(|notice| {
                self.emit(SessionEvent::Notice {
                    notice: notice.clone(),
                })
            })
    }

    /// The pid of the sandbox process right now (tests and metrics).
    pub async fn sandbox_pid(&self) -> u32 {
        self.lock().await.sandbox.pid()
    }

    /// A second, independent connection to this session's sandbox, for the
    /// backend's own readers (graders, live charts, benchmarks).
    pub async fn sandbox_connection(&self) -> Result<MultiplexedConnection, SandboxError> {
        self.lock().await.sandbox.connect().await
    }

    /// The sandbox's private run dir (tests check its permissions).
    pub async fn sandbox_dir(&self) -> std::path::PathBuf {
        self.lock().await.sandbox.dir().to_path_buf()
    }

    /// Ends the sandbox process, and tells observers (open WebSockets
    /// close, so a browser reconnects and finds the session gone).
    pub async fn close(&self) {
        self.emit(SessionEvent::Ended);
        let mut inner = self.lock().await;
        inner.sandbox.kill_now();
        let _ = inner.sandbox.wait_exit().await;
    }

    pub fn pool(&self) -> &SandboxPool {
        &self.pool
    }
}

impl SessionInner {
    async fn replace_sandbox(
        &mut self,
        pool: &SandboxPool,
        kind: NoticeKind,
        message: String,
    ) -> Result<Notice, SandboxError> {
        self.sandbox.kill_now();
        let _ = self.sandbox.wait_exit().await;
        let fresh = pool.acquire().await?;
        self.conn = fresh.connect().await?;
        self.sandbox = fresh;
        self.queued = None;
        Ok(Notice { kind, message })
    }

    async fn restart(&mut self, pool: &SandboxPool, reason: &str) -> Result<Notice, SandboxError> {
        self.replace_sandbox(
            pool,
            NoticeKind::Restarted,
            format!("Your sandbox was restarted and its data reset: {reason}."),
        )
        .await
    }

    /// Runs one command within `deadline`. Past it: SCRIPT KILL from a
    /// second connection; if that cannot stop it, SIGKILL and a fresh
    /// sandbox. A dead process is noticed and replaced before the command.
    pub async fn execute(
        &mut self,
        pool: &SandboxPool,
        args: &[Vec<u8>],
        deadline: Duration,
    ) -> Result<Executed, ExecError> {
        let limits = &pool.spec().limits;
        let mut notices = Vec::new();
        if let Some(reason) = self.sandbox.check_exit().await {
            notices.push(self.restart(pool, &reason).await?);
        }
        let mut cmd = redis::Cmd::new();
        for arg in args {
            cmd.arg(arg.as_slice());
        }
        let started = Instant::now();
        let step = {
            let SessionInner { sandbox, conn, .. } = &mut *self;
            let request = conn.req_packed_command(&cmd);
            tokio::pin!(request);
            let outcome = tokio::select! {
                result = &mut request => Some(result),
                () = tokio::time::sleep(deadline) => None,
            };
            match outcome {
                Some(result) => Step::Done(result),
                // Past the deadline: try SCRIPT KILL on a second connection.
                None if script_kill(sandbox).await => {
                    notices.push(Notice {
                        kind: NoticeKind::ScriptKilled,
                        message: format!(
                            "Your command ran past the {:.0} s deadline, so the console stopped it with SCRIPT KILL. Your data is intact.",
                            deadline.as_secs_f64()
                        ),
                    });
                    match tokio::time::timeout(KILL_GRACE, &mut request).await {
                        Ok(result) => Step::Done(result),
                        Err(_) => Step::Kill("a command ran past its deadline and could not be stopped"),
                    }
                }
                None => Step::Kill(
                    "a command ran past the deadline and could not be stopped (a script that writes and then loops is UNKILLABLE), so the sandbox was killed",
                ),
            }
        };
        let result = match step {
            Step::Done(result) => result,
            Step::Kill(reason) => return Err(self.kill_and_restart(pool, reason).await),
        };
        let elapsed = started.elapsed();
        match result {
            Ok(value) => {
                let flush = is_script_memory_error(&value);
                let mut budget = Budget::new(limits.reply_max_elements, limits.reply_max_bytes);
                let reply = convert(value, &mut budget);
                if flush {
                    // On 8.2, leftover Lua garbage counts against maxmemory.
                    let _ = self
                        .conn
                        .req_packed_command(redis::cmd("SCRIPT").arg("FLUSH"))
                        .await;
                }
                Ok(Executed {
                    reply,
                    micros: micros(elapsed),
                    notices,
                })
            }
            Err(e) => {
                tracing::debug!(kind = ?e.kind(), "sandbox connection failed: {e}");
                // The connection broke. A dead process means a crash (for
                // example Lua memory on 8.2); a live one closed us for a
                // too-large reply, or sent a line redis-rs cannot parse.
                tokio::time::sleep(Duration::from_millis(20)).await;
                if let Some(reason) = self.sandbox.check_exit().await {
                    let notice = self.restart(pool, &reason).await?;
                    return Err(ExecError::Restarted(
                        notice
                            .message
                            .trim_start_matches("Your sandbox was restarted and its data reset: ")
                            .trim_end_matches('.')
                            .to_owned(),
                    ));
                }
                self.conn = self.sandbox.connect().await?;
                self.queued = None;
                if e.kind() == redis::ErrorKind::Parse {
                    Err(ExecError::Unreadable)
                } else {
                    Err(ExecError::ConnectionClosed)
                }
            }
        }
    }

    async fn kill_and_restart(&mut self, pool: &SandboxPool, reason: &str) -> ExecError {
        match self.restart(pool, reason).await {
            Ok(_) => ExecError::Restarted(reason.to_owned()),
            Err(e) => ExecError::Sandbox(e),
        }
    }
}

/// Where a command ended up after its deadline.
enum Step {
    Done(redis::RedisResult<Value>),
    Kill(&'static str),
}

/// SCRIPT KILL from a fresh connection; true when Redis confirmed it.
async fn script_kill(sandbox: &Sandbox) -> bool {
    let attempt = async {
        let mut second = sandbox.connect().await.ok()?;
        let value = second
            .req_packed_command(redis::cmd("SCRIPT").arg("KILL"))
            .await
            .ok()?;
        Some(matches!(value, Value::Okay))
    };
    matches!(
        tokio::time::timeout(KILL_GRACE, attempt).await,
        Ok(Some(true))
    )
}

fn is_script_memory_error(value: &Value) -> bool {
    match value {
        Value::ServerError(e) => e
            .details()
            .is_some_and(|d| d.contains("not enough memory") || d.contains("memory")),
        _ => false,
    }
}
