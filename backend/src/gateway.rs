//! The command gateway: every line a learner types passes here. It splits
//! the line exactly as redis-cli does, checks it against the policy, runs
//! it in the session's sandbox within limits, times it, and answers with a
//! typed reply rendered like `redis-cli --no-raw`. The backend's own work
//! (graders, simulators) uses the same path with `Origin::Backend`.

pub mod convert;
mod glob;
pub mod policy;

use std::collections::HashSet;
use std::sync::Arc;

use protocol::{format_cli, ErrorBody, ExecResponse, Reply, SessionEvent, SplitError};

use crate::metrics::Metrics;
use crate::session::{ExecError, Session, SessionInner};
use policy::{PolicyContext, Refusal, Verdict};

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
    /// A stable snake_case code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::InvalidArguments => "invalid_arguments",
            GatewayError::InvalidRepeat { .. } => "invalid_repeat",
            GatewayError::LineTooLong { .. } => "line_too_long",
            GatewayError::Refused(r) => r.code,
            GatewayError::RateLimited(_) => "rate_limited",
            GatewayError::Busy => "busy",
            GatewayError::Exec(ExecError::Restarted(_)) => "sandbox_restarted",
            GatewayError::Exec(ExecError::ConnectionClosed) => "reply_too_large",
            GatewayError::Exec(ExecError::Unreadable) => "unreadable_reply",
            GatewayError::Exec(ExecError::Sandbox(_)) => "sandbox_unavailable",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

pub struct Gateway {
    known: Arc<HashSet<String>>,
    metrics: Arc<Metrics>,
}

impl Gateway {
    pub fn new(known: Arc<HashSet<String>>, metrics: Arc<Metrics>) -> Gateway {
        Gateway { known, metrics }
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
            Ok(response) => session.emit(SessionEvent::Command {
                line: line.to_owned(),
                text: response.text.clone(),
                micros: response.micros,
                is_error: response.reply.is_error(),
            }),
            Err(e) => {
                self.metrics.record_refusal(e.code());
                session.emit(SessionEvent::Refused {
                    line: line.to_owned(),
                    error: e.body(),
                });
            }
        }
        if let Ok(response) = &result {
            for notice in &response.notices {
                session.emit(SessionEvent::Notice {
                    notice: notice.clone(),
                });
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
        let mut inner = match origin {
            Origin::Learner => session.try_lock().ok_or(GatewayError::Busy)?,
            Origin::Backend => session.lock().await,
        };
        let name = parsed
            .args
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
            .unwrap_or_default();
        let mut texts = Vec::new();
        let mut micros = 0;
        let mut notices = Vec::new();
        let mut last = Reply::Nil;
        for _ in 0..parsed.repeat {
            let verdict = policy::check(
                &parsed.args,
                &PolicyContext {
                    known: &self.known,
                    limits,
                    queued: inner.queued,
                },
            )
            .map_err(GatewayError::Refused)?;
            let reply = match verdict {
                Verdict::Local(reply) => reply,
                Verdict::Forward { args, blocks_for } => {
                    let deadline = limits.command_deadline() + blocks_for;
                    let executed = inner.execute(session.pool(), &args, deadline).await?;
                    self.metrics.record_command(executed.micros);
                    micros += executed.micros;
                    notices.extend(executed.notices);
                    executed.reply
                }
            };
            track_transaction(&mut inner, &name, &reply);
            texts.push(format_cli(&reply));
            last = reply;
        }
        Ok(ExecResponse {
            reply: last,
            text: texts.join("\n"),
            micros,
            in_multi: inner.queued.is_some(),
            repeat: parsed.repeat,
            notices,
        })
    }
}

/// Follows MULTI/EXEC/DISCARD so the console can show `(TX)` and the
/// queue can be capped.
fn track_transaction(inner: &mut SessionInner, name: &str, reply: &Reply) {
    let is_status = |text: &str| matches!(reply, Reply::Status { text: t } if t == text);
    match name {
        "multi" if is_status("OK") => inner.queued = Some(0),
        "exec" | "discard" => inner.queued = None,
        _ => {
            if let Some(queued) = inner.queued.as_mut() {
                if is_status("QUEUED") {
                    *queued += 1;
                }
            }
        }
    }
}
