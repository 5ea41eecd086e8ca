//! Runs a lesson the way a learner would, in one session: its setup, every
//! runnable block in order (with the console's paste rules), and every
//! task's solution and checks. Used by `make test` and by
//! `redis-tutor check-lessons`; each problem names the file and line.

use std::path::PathBuf;

use protocol::{CheckResult, Reply, TaskResult};
use redis::aio::ConnectionLike;

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

/// What one console line produced: its text, and the error in it if any.
struct LineResult {
    text: String,
    error: Option<String>,
}

async fn run_line(gateway: &Gateway, session: &Session, line: &str) -> LineResult {
    match gateway.run_line(session, line, Origin::Backend).await {
        Ok(response) => {
            let error = response
                .text
                .contains("(error)")
                .then(|| response.text.clone());
            LineResult {
                text: response.text,
                error,
            }
        }
        Err(e) => {
            let text = format!("{} ({})", e, e.code());
            LineResult {
                text: text.clone(),
                error: Some(text),
            }
        }
    }
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
            passed: outcome.is_ok(),
            detail: outcome.err(),
        });
    }
    TaskResult {
        passed: results.iter().all(|r| r.passed),
        checks: results,
    }
}

/// Loads the lesson's setup data (after a reset, for "Start fresh").
pub async fn run_setup(
    gateway: &Gateway,
    session: &Session,
    lesson: &Lesson,
) -> Result<(), String> {
    for line in &lesson.meta.setup {
        let result = run_line(gateway, session, line).await;
        if let Some(error) = result.error {
            return Err(format!("setup line `{line}` failed: {error}"));
        }
    }
    Ok(())
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
        let mut texts = Vec::new();
        let mut errors = Vec::new();
        for line in protocol::paste::console_lines(&block.source, block.strict) {
            let result = run_line(gateway, session, &line).await;
            texts.push(result.text);
            if let Some(error) = result.error {
                errors.push((line, error));
            }
        }
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
            if let Some(error) = run_line(gateway, session, line).await.error {
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
