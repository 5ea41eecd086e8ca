//! A session's link to its sandbox: the process, the connection, and the
//! transaction state. Runs one command within a deadline, escalates a
//! runaway (SCRIPT KILL, then SIGKILL and a fresh sandbox), converts the
//! answer into a typed `Reply`, and follows MULTI/EXEC. Only one command at
//! a time holds it (the session's lock).

use crate::metrics::micros;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use protocol::{Notice, NoticeKind, Reply};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::convert::{convert, Budget};
use crate::sandbox::{Sandbox, SandboxError, SandboxPool};

/// How long SCRIPT KILL and the killed script's reply may take.
const KILL_GRACE: Duration = Duration::from_secs(2);
/// Lua memory left after a script this close to the cap (in bytes) is
/// freed with SCRIPT FLUSH: on 8.2 it counts against maxmemory.
const LUA_FLUSH_AT: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("Your sandbox was restarted and its data reset: {reason}.")]
    Restarted { reason: String },
    #[error("Redis closed the connection: the reply was larger than the sandbox's output limit ({output_limit_mb} MB), or the command used too much client memory. Read big values in parts with SCAN or a range (LRANGE key 0 99, ZRANGE key 0 99). The console connected again{}.", reconnected.said())]
    ConnectionClosed {
        output_limit_mb: u64,
        reconnected: Reconnected,
    },
    #[error("Redis answered with something the console cannot read: a status or error line holding bytes that are not valid UTF-8 (for example an unknown command name written with \\x escapes, or cut in the middle of a character), or arrays nested more than 100 deep; redis-cli would print it. Your data is fine; the console connected again{}.", reconnected.said())]
    Unreadable { reconnected: Reconnected },
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// The result of one command on the sandbox.
pub struct Executed {
    pub reply: Reply,
    /// Round trip from sending the command to its reply, in microseconds.
    pub micros: u64,
    pub notices: Vec<Notice>,
}

pub struct SandboxLink {
    sandbox: Sandbox,
    liveness: Liveness,
    conn: MultiplexedConnection,
    /// Commands queued since MULTI; `None` outside a transaction.
    queued: Option<usize>,
    /// The database the learner selected (SELECT), chosen again on a new
    /// connection as redis-cli does when it reconnects.
    db: i64,
}

/// What a new connection to the same sandbox kept and lost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconnected {
    /// The open transaction (MULTI) was discarded.
    pub lost_transaction: bool,
    /// The database it is on again (SELECT), when not 0.
    pub db: i64,
}

impl Reconnected {
    /// The rest of "The console connected again…".
    fn said(&self) -> String {
        let mut said = String::new();
        if self.db != 0 {
            said.push_str(&format!(" to database {}", self.db));
        }
        if self.lost_transaction {
            said.push_str(", so your open transaction (MULTI) was discarded");
        }
        said
    }
}

/// What SCRIPT KILL on a second connection achieved.
enum KillOutcome {
    Killed,
    /// The script wrote before looping: only SIGKILL stops it.
    Unkillable,
    /// No script was running: the command is something else that hangs.
    NotScript,
    /// The control connection did not answer.
    NoConnection,
}

impl SandboxLink {
    pub async fn open(sandbox: Sandbox) -> Result<SandboxLink, SandboxError> {
        let conn = sandbox.connect().await?;
        Ok(SandboxLink {
            liveness: Liveness::watch(sandbox.pid()),
            sandbox,
            conn,
            queued: None,
            db: 0,
        })
    }

    /// Commands queued in the open transaction, if one is open.
    pub fn queued(&self) -> Option<usize> {
        self.queued
    }

    pub fn in_multi(&self) -> bool {
        self.queued.is_some()
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn sandbox_mut(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }

    /// Ends the process and starts a fresh one; the old data is gone.
    pub async fn replace(
        &mut self,
        pool: &SandboxPool,
        kind: NoticeKind,
        message: String,
    ) -> Result<Notice, SandboxError> {
        self.sandbox.kill_now();
        let _ = self.sandbox.wait_exit().await;
        let fresh = pool.acquire().await?;
        self.conn = fresh.connect().await?;
        self.liveness = Liveness::watch(fresh.pid());
        self.sandbox = fresh;
        self.queued = None;
        self.db = 0;
        Ok(Notice { kind, message })
    }

    async fn restart(
        &mut self,
        pool: &SandboxPool,
        reason: String,
    ) -> Result<Notice, SandboxError> {
        let message = ExecError::Restarted {
            reason: reason.clone(),
        }
        .to_string();
        self.replace(pool, NoticeKind::Restarted, message).await
    }

    /// Replaces the sandbox if its process died since the last command,
    /// and says so. Called before each command (`execute` does not), so
    /// the caller can tell the learner at once rather than after a command
    /// that may wait for seconds on the fresh sandbox.
    pub async fn revive(&mut self, pool: &SandboxPool) -> Result<Option<Notice>, ExecError> {
        if !self.liveness.maybe_dead() {
            return Ok(None);
        }
        match self.sandbox.check_exit().await {
            Some(reason) => Ok(Some(self.restart(pool, reason).await?)),
            None => Ok(None),
        }
    }

    /// Runs one command within `deadline` on the sandbox as it is (see
    /// `revive`). Past it: SCRIPT KILL from a second connection; if that
    /// cannot stop it, SIGKILL and a fresh sandbox.
    pub async fn execute(
        &mut self,
        pool: &SandboxPool,
        args: &[Vec<u8>],
        deadline: Duration,
    ) -> Result<Executed, ExecError> {
        let limits = &pool.spec().limits;
        let mut notices = Vec::new();
        let mut cmd = redis::Cmd::new();
        for arg in args {
            cmd.arg(arg.as_slice());
        }
        let started = Instant::now();
        let step = {
            let SandboxLink { sandbox, conn, .. } = &mut *self;
            let request = conn.req_packed_command(&cmd);
            tokio::pin!(request);
            let outcome = tokio::select! {
                result = &mut request => Some(result),
                () = tokio::time::sleep(deadline) => None,
            };
            match outcome {
                Some(result) => Step::Done(result),
                None => match script_kill(sandbox).await {
                    KillOutcome::Killed => {
                        notices.push(Notice {
                            kind: NoticeKind::ScriptKilled,
                            message: format!(
                                "Your command ran past the {:.0} s deadline, so the console stopped it with SCRIPT KILL. Your data is intact.",
                                deadline.as_secs_f64()
                            ),
                        });
                        match tokio::time::timeout(KILL_GRACE, &mut request).await {
                            Ok(result) => Step::Done(result),
                            Err(_) => Step::Kill("a script ran past its deadline and did not stop after SCRIPT KILL, so the sandbox was killed"),
                        }
                    }
                    KillOutcome::Unkillable => Step::Kill(
                        "a script or function wrote data and then ran past its deadline; Redis cannot stop it once it has written (it answers UNKILLABLE), so the sandbox was killed",
                    ),
                    KillOutcome::NotScript => Step::Kill(
                        "a command ran past its deadline and was not a script or function that SCRIPT KILL or FUNCTION KILL could stop, so the sandbox was killed",
                    ),
                    KillOutcome::NoConnection => Step::Kill(
                        "a command ran past its deadline and the sandbox did not answer SCRIPT KILL, so it was killed",
                    ),
                },
            }
        };
        let result = match step {
            Step::Done(result) => result,
            Step::Kill(reason) => return Err(self.kill_and_restart(pool, reason).await),
        };
        let elapsed = started.elapsed();
        match result {
            Ok(value) => {
                // On 8.2 the Lua memory scripts leave behind counts against
                // maxmemory: after a script, or a command refused for
                // memory, a large heap is freed with SCRIPT FLUSH.
                let look = is_script(args) || is_out_of_memory(&value);
                let mut budget = Budget::new(limits.reply_max_elements, limits.reply_max_bytes);
                let reply = convert(value, &mut budget);
                if look {
                    if let Some(notice) = self.free_lua_memory().await {
                        notices.push(notice);
                    }
                }
                if let Some(notice) = busy_notice(&reply) {
                    notices.push(notice);
                }
                self.track_transaction(args, &reply);
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
                    self.restart(pool, reason.clone()).await?;
                    return Err(ExecError::Restarted { reason });
                }
                self.conn = self.sandbox.connect().await?;
                let reconnected = Reconnected {
                    lost_transaction: self.queued.take().is_some(),
                    db: self.db,
                };
                if self.db != 0 {
                    let _ = self
                        .conn
                        .req_packed_command(redis::cmd("SELECT").arg(self.db))
                        .await;
                }
                if e.kind() == redis::ErrorKind::Parse {
                    Err(ExecError::Unreadable { reconnected })
                } else {
                    Err(ExecError::ConnectionClosed {
                        output_limit_mb: limits.output_limit_mb,
                        reconnected,
                    })
                }
            }
        }
    }

    async fn kill_and_restart(&mut self, pool: &SandboxPool, reason: &str) -> ExecError {
        match self.restart(pool, reason.to_owned()).await {
            Ok(_) => ExecError::Restarted {
                reason: reason.to_owned(),
            },
            Err(e) => ExecError::Sandbox(e),
        }
    }

    /// Empties the script cache when Lua holds more than `LUA_FLUSH_AT`,
    /// and says so. Both commands go on the sandbox's reserved control
    /// connection: on the learner's own, inside MULTI, they were queued,
    /// and EXEC showed their replies among the learner's.
    async fn free_lua_memory(&mut self) -> Option<Notice> {
        let mut control = self.sandbox.control();
        let used = lua_memory(&mut control).await;
        if used <= LUA_FLUSH_AT {
            return None;
        }
        control
            .req_packed_command(redis::cmd("SCRIPT").arg("FLUSH"))
            .await
            .ok()?;
        Some(Notice {
            kind: NoticeKind::Info,
            message: format!(
                "Your scripts had left {:.1} MiB of Lua memory, which counts against your sandbox's memory, so the console emptied the script cache (SCRIPT FLUSH). A script loaded with SCRIPT LOAD must be loaded again: EVALSHA answers NOSCRIPT until then. Functions (FUNCTION LOAD) are kept.",
                used as f64 / (1024.0 * 1024.0)
            ),
        })
    }

    /// Follows MULTI/EXEC/DISCARD so the console can show `(TX)` and the
    /// queue can be capped.
    fn track_transaction(&mut self, args: &[Vec<u8>], reply: &Reply) {
        let name = args
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
            .unwrap_or_default();
        let is_status = |text: &str| matches!(reply, Reply::Status { text: t } if t == text);
        match name.as_str() {
            // Outside a transaction; one queued inside applies at EXEC,
            // which a reconnect discards anyway.
            "select" if self.queued.is_none() && is_status("OK") => {
                if let Some(db) = args
                    .get(1)
                    .and_then(|n| String::from_utf8_lossy(n).parse().ok())
                {
                    self.db = db;
                }
            }
            "multi" if is_status("OK") => self.queued = Some(0),
            "exec" | "discard" => self.queued = None,
            _ => {
                if let Some(queued) = self.queued.as_mut() {
                    if is_status("QUEUED") {
                        *queued += 1;
                    }
                }
            }
        }
    }
}

/// The sandbox process's `/proc/<pid>/stat`, held open so that one `pread`
/// before each command says whether the process may have died; opening the
/// file anew for every command (`SandboxProcess::check_exit`) was eight
/// system calls and the largest part of the gateway's own time in a
/// profile. Only when this says "maybe" does the full check run.
struct Liveness {
    stat: Option<File>,
}

impl Liveness {
    fn watch(pid: u32) -> Liveness {
        Liveness {
            stat: File::open(format!("/proc/{pid}/stat")).ok(),
        }
    }

    /// False only when the process is certainly alive: the file reads, and
    /// the state after `(comm) ` is a live one (not Z, a zombie, nor X,
    /// dying). Once the process is reaped, the held file answers ESRCH.
    fn maybe_dead(&self) -> bool {
        let Some(stat) = &self.stat else {
            return true;
        };
        let mut line = [0u8; 512];
        let Ok(len) = stat.read_at(&mut line, 0) else {
            return true;
        };
        let line = &line[..len];
        let state = line
            .iter()
            .rposition(|&b| b == b')')
            .and_then(|close| line.get(close + 2));
        !matches!(
            state,
            Some(b'R' | b'S' | b'D' | b'T' | b't' | b'W' | b'I' | b'P')
        )
    }
}

/// Bytes of Lua memory in use (`used_memory_lua`), 0 when unknown.
async fn lua_memory(conn: &mut MultiplexedConnection) -> u64 {
    let info = conn
        .req_packed_command(redis::cmd("INFO").arg("memory"))
        .await;
    let text = match info {
        Ok(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(Value::VerbatimString { text, .. }) => text,
        _ => return 0,
    };
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory_lua:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Where a command ended up after its deadline.
enum Step {
    Done(redis::RedisResult<Value>),
    Kill(&'static str),
}

/// SCRIPT KILL, then FUNCTION KILL (SCRIPT KILL does not stop a running
/// function: it answers NOTBUSY), on the sandbox's reserved control
/// connection, which no learner activity can take.
async fn script_kill(sandbox: &Sandbox) -> KillOutcome {
    let outcome = |answer| match answer {
        Ok(Ok(Value::Okay)) => KillOutcome::Killed,
        Ok(Ok(Value::ServerError(e))) if e.code() == "UNKILLABLE" => KillOutcome::Unkillable,
        Ok(Ok(_)) => KillOutcome::NotScript,
        _ => KillOutcome::NoConnection,
    };
    match outcome(tokio::time::timeout(KILL_GRACE, sandbox.script_kill()).await) {
        KillOutcome::NotScript => {
            let mut control = sandbox.control();
            let function_kill = redis::cmd("FUNCTION").arg("KILL").clone();
            outcome(
                tokio::time::timeout(KILL_GRACE, control.req_packed_command(&function_kill)).await,
            )
        }
        done => done,
    }
}

/// SCRIPT KILL for the backend's own work (a simulator's script past its
/// deadline, or one left running when its viewer left). True when no
/// script is running any more.
pub async fn stop_script(sandbox: &Sandbox) -> bool {
    matches!(
        script_kill(sandbox).await,
        KillOutcome::Killed | KillOutcome::NotScript
    )
}

fn is_script(args: &[Vec<u8>]) -> bool {
    args.first().is_some_and(|n| {
        let name = String::from_utf8_lossy(n).to_ascii_lowercase();
        matches!(
            name.as_str(),
            "eval" | "eval_ro" | "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro"
        )
    })
}

/// A command refused for memory (`OOM …`), or a script that ran out of it.
/// Not any error that mentions memory: `OBJECT FREQ` and `MEMORY USAGE`
/// with a wrong argument do, and emptied the script cache for nothing.
fn is_out_of_memory(value: &Value) -> bool {
    match value {
        Value::ServerError(e) => {
            e.code() == "OOM" || e.details().is_some_and(|d| d.contains("not enough memory"))
        }
        _ => false,
    }
}

/// Redis's BUSY and UNKILLABLE errors advise SHUTDOWN NOSAVE, which the
/// console refuses: point at what the learner can do instead.
fn busy_notice(reply: &Reply) -> Option<Notice> {
    let Reply::Error { text } = reply else {
        return None;
    };
    (text.starts_with("BUSY") || text.starts_with("UNKILLABLE")).then(|| Notice {
        kind: NoticeKind::Info,
        message: "A script is still running in your sandbox. The console stops it at its deadline by itself; SHUTDOWN NOSAVE is not available here, so use the Reset button if you want a fresh sandbox now.".into(),
    })
}
