//! Grading what a learner loaded, without touching their data: their
//! libraries are read from their sandbox (`FUNCTION LIST WITHCODE`; the
//! submission's id is the sha-256 of `FUNCTION DUMP`) and loaded from
//! source into a fresh sandbox from the pool, which the checks drive and
//! which is thrown away afterwards.

use std::sync::Arc;

use protocol::{GradeReport, GradeStatus};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::harness::{Connector, Harness};
use super::Exercise;
use crate::gateway::policy::library_flags_refusal;
use crate::sandbox::{Sandbox, SandboxPool};

/// One loaded library: its name, its functions and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub name: String,
    pub functions: Vec<String>,
    pub code: String,
}

use crate::session::convert::text;

/// A RESP2 flat `[key, value, …]` array's value for `key`.
fn field<'a>(items: &'a [Value], key: &str) -> Option<&'a Value> {
    items
        .chunks(2)
        .find(|pair| pair.first().and_then(text).as_deref() == Some(key))
        .and_then(|pair| pair.get(1))
}

/// `FUNCTION LIST WITHCODE`, parsed.
pub async fn libraries(conn: &mut MultiplexedConnection) -> redis::RedisResult<Vec<Library>> {
    let listed = conn
        .req_packed_command(redis::cmd("FUNCTION").arg("LIST").arg("WITHCODE"))
        .await?;
    let Value::Array(libraries) = listed else {
        return Ok(Vec::new());
    };
    Ok(libraries
        .iter()
        .filter_map(|library| {
            let Value::Array(items) = library else {
                return None;
            };
            let functions = match field(items, "functions") {
                Some(Value::Array(functions)) => functions
                    .iter()
                    .filter_map(|f| match f {
                        Value::Array(items) => field(items, "name").and_then(text),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Some(Library {
                name: field(items, "library_name").and_then(text)?,
                functions,
                code: field(items, "library_code").and_then(text)?,
            })
        })
        .collect())
}

/// sha-256 (hex) of `FUNCTION DUMP`: which submission was graded.
pub async fn submission_id(conn: &mut MultiplexedConnection) -> redis::RedisResult<String> {
    let dump = conn
        .req_packed_command(redis::cmd("FUNCTION").arg("DUMP"))
        .await?;
    let bytes = match dump {
        Value::BulkString(bytes) => bytes,
        _ => Vec::new(),
    };
    Ok(crate::secret::sha256_hex(&bytes))
}

/// The contract's functions that no loaded library defines.
pub fn missing_functions(exercise: &Exercise, libraries: &[Library]) -> Vec<&'static str> {
    exercise
        .functions
        .iter()
        .map(|f| f.name)
        .filter(|name| {
            !libraries
                .iter()
                .any(|l| l.functions.iter().any(|f| f == name))
        })
        .collect()
}

/// Grades the libraries loaded in `learner` (a connection to the learner's
/// sandbox) in a fresh sandbox from `pool`.
pub async fn grade(
    exercise: &'static Exercise,
    learner: &mut MultiplexedConnection,
    pool: &SandboxPool,
) -> GradeReport {
    let read = async {
        let libraries = libraries(learner).await?;
        let submission = submission_id(learner).await?;
        redis::RedisResult::Ok((libraries, submission))
    };
    let (libraries, submission) = match read.await {
        Ok(found) => found,
        Err(e) => {
            return exercise.report_all(
                GradeStatus::Error,
                &format!("your sandbox could not be read ({e}); try again in a moment"),
                String::new(),
            )
        }
    };
    let missing = missing_functions(exercise, &libraries);
    if !missing.is_empty() {
        return exercise.report_all(
            GradeStatus::Fail,
            &format!(
                "FUNCTION LIST shows no function {} in your sandbox: load your library with FUNCTION LOAD REPLACE first",
                missing.join(", ")
            ),
            submission,
        );
    }
    if let Some(refused) = libraries
        .iter()
        .find_map(|l| library_flags_refusal(l.code.as_bytes()))
    {
        return exercise.report_all(GradeStatus::Fail, &refused.message, submission);
    }
    let sandbox = match pool.acquire().await {
        Ok(sandbox) => Arc::new(sandbox),
        Err(e) => {
            return exercise.report_all(
                GradeStatus::Error,
                &format!("no grading sandbox could be started ({e}); this run does not count, try again shortly"),
                submission,
            )
        }
    };
    let report = match load_into(&sandbox, &libraries).await {
        Ok(()) => {
            let harness = Arc::new(Harness::new(connector(&sandbox)));
            exercise.run(harness, submission).await
        }
        Err(e) => exercise.report_all(
            GradeStatus::Error,
            &format!("your library could not be copied into the grading sandbox ({e})"),
            submission,
        ),
    };
    // Every connection the checks opened is gone with the harness; the
    // grading sandbox goes too.
    if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
        sandbox.kill().await;
    }
    report
}

async fn load_into(sandbox: &Sandbox, libraries: &[Library]) -> redis::RedisResult<()> {
    let mut conn = sandbox
        .connect()
        .await
        .map_err(|e| redis::RedisError::from((redis::ErrorKind::Io, "connect", e.to_string())))?;
    for library in libraries {
        let loaded = conn
            .req_packed_command(redis::cmd("FUNCTION").arg("LOAD").arg(&library.code))
            .await?;
        if let Value::ServerError(e) = loaded {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Extension,
                "FUNCTION LOAD",
                e.to_string(),
            )));
        }
    }
    Ok(())
}

fn connector(sandbox: &Arc<Sandbox>) -> Connector {
    let sandbox = Arc::downgrade(sandbox);
    Box::new(move || {
        let sandbox = sandbox.clone();
        Box::pin(async move {
            let Some(sandbox) = sandbox.upgrade() else {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "the grading sandbox is gone",
                )));
            };
            sandbox.connect().await.map_err(|e| {
                redis::RedisError::from((redis::ErrorKind::Io, "connect", e.to_string()))
            })
        })
    })
}
