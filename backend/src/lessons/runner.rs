//! Runs lessons in a learner's session: one block for the Run button
//! (`run_block`), the starting data (`run_setup`), a task's checks, and a
//! whole lesson the way a learner would (`run_lesson`: setup, every block
//! through `run_block`, every task's solution and checks), which
//! `make test` and `redis-tutor check-lessons` use; each problem names the
//! file and line.

use std::path::PathBuf;

use protocol::{BlockLine, CheckResult, Notice, NoticeKind, Reply, TaskResult};
use redis::aio::ConnectionLike;

use super::blocks::RunnableBlock;
use super::task::Check;
use super::Lesson;
use crate::gateway::{Gateway, Origin};
use crate::session::Session;

/// One thing that went wrong, at a place in a lesson file.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Whether a reply holds an error anywhere (an EXEC answer holds one
/// per failed command).
fn has_error(reply: &Reply) -> bool {
    match reply {
        Reply::Error { .. } => true,
        Reply::Array { items, .. } | Reply::Set { items, .. } | Reply::Push { items, .. } => {
            items.iter().any(has_error)
        }
        Reply::Map { entries, .. } => entries.iter().any(|(k, v)| has_error(k) || has_error(v)),
        _ => false,
    }
}

/// Runs one console line for a lesson, as the learner's console would.
async fn run_line(gateway: &Gateway, session: &Session, line: &str, origin: Origin) -> BlockLine {
    match gateway.run_line(session, line, origin).await {
        Ok(response) => BlockLine {
            line: line.to_owned(),
            result: Some(response),
            error: None,
        },
        Err(e) => BlockLine {
            line: line.to_owned(),
            result: None,
            error: Some(e.body()),
        },
    }
}

/// What the console printed for a line.
fn printed(line: &BlockLine) -> String {
    match (&line.result, &line.error) {
        (Some(result), _) => result.text.clone(),
        (None, Some(error)) => format!("{} ({})", error.message, error.code),
        (None, None) => String::new(),
    }
}

/// The error a line shows, if it failed.
fn failure(line: &BlockLine) -> Option<String> {
    match &line.result {
        Some(result) if !has_error(&result.reply) => None,
        _ => Some(printed(line)),
    }
}

/// Runs one block exactly as the lesson test does and as the Run button
/// does: a strict block line by line as written, any other with the
/// console's paste conveniences. Every line runs, failed or not. A Run
/// click is `Origin::Learner`: each line pays the rate limit, like typing.
pub async fn run_block(
    gateway: &Gateway,
    session: &Session,
    block: &RunnableBlock,
    origin: Origin,
) -> Vec<BlockLine> {
    let mut lines = Vec::new();
    for line in protocol::paste::console_lines(&block.source, block.strict) {
        lines.push(run_line(gateway, session, &line, origin).await);
    }
    lines
}

/// Runs the lines of a task's solution, then its checks.
pub async fn check_task(gateway: &Gateway, session: &Session, checks: &[Check]) -> TaskResult {
    let mut results = Vec::new();
    for check in checks {
        let outcome = match gateway
            .run_line(session, &check.command, Origin::Backend)
            .await
        {
            Ok(response) => check.evaluate(&response.reply),
            Err(e) => check.evaluate(&Reply::error(e.to_string())),
        };
        results.push(CheckResult {
            command: check.command.clone(),
            label: check.says.clone(),
            passed: outcome.is_ok(),
            detail: outcome.err(),
        });
    }
    TaskResult {
        passed: results.iter().all(|r| r.passed),
        checks: results,
    }
}

/// A task's checks, none of them run, each saying why: the learner's
/// transaction is open, so their reads would only be queued inside it
/// (answering QUEUED) and the learner's EXEC would run them.
pub fn not_run_in_transaction(checks: &[Check]) -> TaskResult {
    let why = "Not checked: your transaction is still open (MULTI), so this check's commands would only be queued inside it. Finish it with EXEC or DISCARD, then check again.";
    TaskResult {
        passed: false,
        checks: checks
            .iter()
            .map(|check| CheckResult {
                command: check.command.clone(),
                label: check.says.clone(),
                passed: false,
                detail: Some(why.to_owned()),
            })
            .collect(),
    }
}

/// Loads the lesson's setup data (after a reset, for "Start fresh").
pub async fn run_setup(
    gateway: &Gateway,
    session: &Session,
    lesson: &Lesson,
) -> Result<(), String> {
    for line in &lesson.meta.setup {
        if let Some(error) = failure(&run_line(gateway, session, line, Origin::Backend).await) {
            return Err(format!("setup line `{line}` failed: {error}"));
        }
    }
    session.mark_prepared(&lesson.meta.slug);
    Ok(())
}

/// Readies the sandbox for a lesson the learner just opened: ends a
/// transaction left open elsewhere (or every block would answer QUEUED),
/// and loads the lesson's starting data once per sandbox. Says what it did.
pub async fn open_lesson(
    gateway: &Gateway,
    session: &Session,
    lesson: &Lesson,
) -> Result<Option<Notice>, String> {
    let mut said = Vec::new();
    if session.in_multi().await {
        if let Some(error) = failure(&run_line(gateway, session, "DISCARD", Origin::Backend).await)
        {
            return Err(format!("could not end the open transaction: {error}"));
        }
        said.push("A transaction (MULTI) left open earlier was discarded, so this lesson's commands run at once instead of being queued.".to_owned());
    }
    let setup = lesson.meta.setup.len();
    if setup > 0 && !session.is_prepared(&lesson.meta.slug) {
        run_setup(gateway, session, lesson).await?;
        said.push(format!(
            "This lesson's starting data is loaded ({setup} command{}), so its first block is ready to run. Start fresh reloads it into an empty sandbox.",
            if setup == 1 { "" } else { "s" }
        ));
    }
    Ok((!said.is_empty()).then(|| Notice {
        kind: NoticeKind::Info,
        message: said.join(" "),
    }))
}

/// Runs everything in `lesson` in `session` (which should be fresh).
pub async fn run_lesson(gateway: &Gateway, session: &Session, lesson: &Lesson) -> Vec<Failure> {
    let fail = |line: usize, message: String| Failure {
        path: lesson.path.clone(),
        line,
        message,
    };
    let mut failures = Vec::new();
    if let Err(message) = run_setup(gateway, session, lesson).await {
        failures.push(fail(2, message));
    }
    for block in &lesson.blocks.runnable {
        let ran = run_block(gateway, session, block, Origin::Backend).await;
        let texts: Vec<String> = ran.iter().map(printed).collect();
        let errors: Vec<(String, String)> = ran
            .iter()
            .filter_map(|l| failure(l).map(|e| (l.line.clone(), e)))
            .collect();
        match &block.expect_error {
            None => {
                for (line, error) in &errors {
                    failures.push(fail(
                        block.line,
                        format!("`{line}` failed unexpectedly: {error}"),
                    ));
                }
            }
            Some(expected) => {
                if errors.is_empty() {
                    failures.push(fail(
                        block.line,
                        format!(
                            "expected an error containing `{expected}`, but every line succeeded"
                        ),
                    ));
                }
                for (line, error) in errors
                    .iter()
                    .filter(|(_, e)| !e.contains(expected.as_str()))
                {
                    failures.push(fail(
                        block.line,
                        format!("`{line}` failed with `{error}`, which does not contain the expected `{expected}`"),
                    ));
                }
            }
        }
        if let Some(expected) = &block.output {
            let got = texts.join("\n");
            if got.trim_end() != expected.trim_end() {
                failures.push(fail(
                    block.line,
                    format!(
                        "output differs.\n--- declared:\n{expected}\n--- console printed:\n{got}"
                    ),
                ));
            }
        }
    }
    for task in &lesson.blocks.tasks {
        for line in &task.spec.solution {
            if let Some(error) = failure(&run_line(gateway, session, line, Origin::Backend).await) {
                failures.push(fail(
                    task.line,
                    format!("solution line `{line}` failed: {error}"),
                ));
            }
        }
        let result = check_task(gateway, session, &task.spec.check).await;
        for check in result.checks.iter().filter(|c| !c.passed) {
            failures.push(fail(
                task.line,
                format!(
                    "the solution does not pass its check `{}`: {}",
                    check.command,
                    check.detail.clone().unwrap_or_default()
                ),
            ));
        }
    }
    match foreign_keys(session, &lesson.meta.key_prefix).await {
        Ok(keys) if keys.is_empty() => {}
        Ok(keys) => failures.push(fail(
            2,
            format!(
                "keys outside the lesson's prefix `{}:`: {}",
                lesson.meta.key_prefix,
                keys.join(", ")
            ),
        )),
        Err(e) => failures.push(fail(2, format!("could not list the sandbox's keys: {e}"))),
    }
    failures
}

/// Keys in the session's sandbox (database 0) that do not start with `prefix:`.
async fn foreign_keys(session: &Session, prefix: &str) -> Result<Vec<String>, String> {
    let mut conn = session
        .sandbox_connection()
        .await
        .map_err(|e| e.to_string())?;
    let value = conn
        .req_packed_command(redis::cmd("KEYS").arg("*"))
        .await
        .map_err(|e| e.to_string())?;
    let redis::Value::Array(keys) = value else {
        return Err(format!("KEYS answered {value:?}"));
    };
    let wanted = format!("{prefix}:");
    let mut foreign: Vec<String> = keys
        .into_iter()
        .filter_map(|k| match k {
            redis::Value::BulkString(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => None,
        })
        .filter(|k| !k.starts_with(&wanted))
        .collect();
    foreign.sort();
    Ok(foreign)
}
