//! The command gateway: every line a learner types passes here. It splits
//! the line exactly as redis-cli does, checks each run against the policy,
//! and hands it to the session's sandbox link within one deadline for the
//! whole line. The backend's own work (lesson blocks, graders) uses the
//! same path with `Origin::Backend`.
//!
//! A line's path: `run_line` → `protocol::parse_line` → `policy::check` →
//! `SandboxLink::execute` (run, escalate, convert to `Reply`, follow MULTI)
//! → a library just loaded keeps no refused flag (`libraries`)
//! → `format_cli_for` (redis-cli's output, raw where redis-cli prints raw)
//! → `ExecResponse`.

mod glob;
mod libraries;
pub mod policy;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{
    CommandCatalog, ErrorBody, ErrorCode, ExecResponse, Notice, NoticeKind, Reply, SessionEvent,
    SplitError,
};

use crate::metrics::Metrics;
use crate::session::{ExecError, Session};
use policy::{PolicyContext, Refusal, Verdict};

/// A repeated line stops rather than start a run with less time than
/// this left: a run cut short by the deadline would be escalated as a
/// runaway.
const MIN_RUN_BUDGET: Duration = Duration::from_millis(500);

/// A command no Redis has, sent into a transaction after a refused command
/// so that EXEC aborts it as Redis would.
const TRANSACTION_SPOILER: &[u8] = b"REFUSED-BY-THE-CONSOLE";

/// Who is running the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A learner: rate-limited, one command in flight or refused.
    Learner,
    /// The backend itself: waits its turn, no rate limit.
    Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("Invalid argument(s): a quote is not closed, or a closing quote is followed by something other than a space. Example: SET greeting \"hello world\".")]
    InvalidArguments,
    #[error("Invalid redis-cli repeat command option value: a leading number repeats the command, and it must be between 1 and {max}.")]
    InvalidRepeat { max: u64 },
    #[error("That line is {len} bytes; the console takes at most {max}. Send big values in parts (APPEND, or several HSET fields).")]
    LineTooLong { len: usize, max: usize },
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error(
        "Slow down: your sandbox takes about {0} commands per second. Wait a moment and try again."
    )]
    RateLimited(u32),
    #[error("Your previous command is still running; the console runs one command at a time.")]
    Busy,
    #[error(transparent)]
    Exec(#[from] ExecError),
}

impl GatewayError {
    /// The stable code programs match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            GatewayError::InvalidArguments => ErrorCode::InvalidArguments,
            GatewayError::InvalidRepeat { .. } => ErrorCode::InvalidRepeat,
            GatewayError::LineTooLong { .. } => ErrorCode::LineTooLong,
            GatewayError::Refused(r) => r.code,
            GatewayError::RateLimited(_) => ErrorCode::RateLimited,
            GatewayError::Busy => ErrorCode::Busy,
            GatewayError::Exec(ExecError::Restarted { .. }) => ErrorCode::SandboxRestarted,
            GatewayError::Exec(ExecError::ConnectionClosed { .. }) => ErrorCode::ReplyTooLarge,
            GatewayError::Exec(ExecError::Unreadable { .. }) => ErrorCode::UnreadableReply,
            GatewayError::Exec(ExecError::Sandbox(e)) => e.code(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.code(), self.to_string())
    }
}

pub struct Gateway {
    known: Arc<HashSet<String>>,
    /// The docs of what a learner may run, for redis-cli's own `help`.
    commands: Arc<CommandCatalog>,
    /// Every setting the engine has (`CONFIG GET`).
    settings: Arc<HashSet<String>>,
    metrics: Arc<Metrics>,
}

impl Gateway {
    pub fn new(catalog: &crate::catalog::CommandCatalog, metrics: Arc<Metrics>) -> Gateway {
        Gateway {
            known: Arc::new(catalog.names.clone()),
            commands: catalog.commands.clone(),
            settings: catalog.settings.clone(),
            metrics,
        }
    }

    /// Runs one console line and tells the session's observers.
    pub async fn run_line(
        &self,
        session: &Session,
        line: &str,
        origin: Origin,
    ) -> Result<ExecResponse, GatewayError> {
        let result = self.run(session, line, origin).await;
        match &result {
            Ok(response) => {
                // Its notices were told as they happened (`run`).
                session.command_ran(line, response);
            }
            Err(e) => {
                self.metrics.record_refusal(e.code().as_str());
                session.command_refused(line, &e.body());
                // The line met its sandbox dying: a restart like any other,
                // so every console hears it now, not when a block ends.
                if let GatewayError::Exec(restarted @ ExecError::Restarted { .. }) = e {
                    session.emit(SessionEvent::Notice {
                        notice: Notice {
                            kind: NoticeKind::Restarted,
                            message: restarted.to_string(),
                        },
                    });
                }
            }
        }
        result
    }

    async fn run(
        &self,
        session: &Session,
        line: &str,
        origin: Origin,
    ) -> Result<ExecResponse, GatewayError> {
        let limits = session.limits();
        if line.len() > limits.max_line_bytes {
            return Err(GatewayError::LineTooLong {
                len: line.len(),
                max: limits.max_line_bytes,
            });
        }
        let parsed = protocol::parse_line(line.as_bytes()).map_err(|e| match e {
            SplitError::InvalidArguments => GatewayError::InvalidArguments,
            SplitError::InvalidRepeat => GatewayError::InvalidRepeat {
                max: limits.max_repeat,
            },
        })?;
        if parsed.repeat > limits.max_repeat {
            return Err(GatewayError::InvalidRepeat {
                max: limits.max_repeat,
            });
        }
        if origin == Origin::Learner && !session.take_rate_token() {
            return Err(GatewayError::RateLimited(limits.rate_per_sec));
        }
        let mut link = match origin {
            Origin::Learner => session.lock_for_learner().await.ok_or(GatewayError::Busy)?,
            Origin::Backend => session.lock().await,
        };
        // One deadline for the whole line: `100 EVAL "while true do end" 0`
        // must not hold a core a hundred times as long as one run.
        let started = Instant::now();
        let mut texts = Vec::new();
        let mut micros = 0;
        // A re-homed session's notice rides on the first reply when no
        // console took it first.
        let mut notices: Vec<Notice> = Vec::new();
        if let Some(greeting) = session.take_greeting_for_reply() {
            tell(session, &mut notices, greeting);
        }
        let mut last = Reply::Nil;
        for runs in 0..parsed.repeat {
            let checked = policy::check(
                &parsed.args,
                &PolicyContext {
                    known: &self.known,
                    commands: &self.commands,
                    settings: &self.settings,
                    limits,
                    queued: link.queued(),
                },
            );
            let verdict = match checked {
                Ok(verdict) => verdict,
                Err(refusal) => {
                    // The console's own queue cap is not Redis's rejection:
                    // the commands queued so far still run.
                    if link.in_multi() && refusal.code != ErrorCode::TransactionFull {
                        // Redis rejects a command its ACL forbids as it is
                        // queued, and then EXEC answers EXECABORT. A name
                        // Redis does not know is rejected the same way, so
                        // the refused command aborts the transaction too.
                        let unknown = [TRANSACTION_SPOILER.to_vec()];
                        let _ = link.execute(session.pool(), &unknown, MIN_RUN_BUDGET).await;
                    }
                    return Err(GatewayError::Refused(refusal));
                }
            };
            let reply = match verdict {
                Verdict::Local(reply) => reply,
                Verdict::Forward { args, blocks_for } => {
                    let budget =
                        (limits.command_deadline() + blocks_for).saturating_sub(started.elapsed());
                    if runs > 0 && budget < MIN_RUN_BUDGET {
                        let stopped = Notice {
                            kind: NoticeKind::ScriptKilled,
                            message: format!(
                                "The line stopped after {runs} of {} runs: one line may take at most {:.0} s in all.",
                                parsed.repeat,
                                limits.command_deadline().as_secs_f64()
                            ),
                        };
                        tell(session, &mut notices, stopped);
                        break;
                    }
                    if let Some(notice) = link.revive(session.pool()).await? {
                        // Told now: the command may wait for seconds yet.
                        tell(session, &mut notices, notice);
                    }
                    let executed = link.execute(session.pool(), &args, budget).await?;
                    self.metrics.record_command(executed.micros);
                    micros += executed.micros;
                    for notice in executed.notices {
                        tell(session, &mut notices, notice);
                    }
                    if libraries::may_load(&args) {
                        let mut control = link.sandbox().control();
                        if let Some(notice) = libraries::drop_refused(&mut control).await {
                            tell(session, &mut notices, notice);
                        }
                    }
                    executed.reply
                }
            };
            texts.push(protocol::format_cli_for(&parsed.args, &reply));
            last = reply;
        }
        Ok(ExecResponse {
            reply: last,
            text: texts.join("\n"),
            micros,
            in_multi: link.in_multi(),
            repeat: parsed.repeat,
            notices,
        })
    }
}

/// A notice for the line's reply, told on the session's stream the moment
/// it happens (a console mid-block hears of a restart at once).
fn tell(session: &Session, notices: &mut Vec<Notice>, notice: Notice) {
    session.emit(SessionEvent::Notice {
        notice: notice.clone(),
    });
    notices.push(notice);
}
