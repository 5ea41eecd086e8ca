//! What the running engine can do: the names of its commands and their
//! `COMMAND DOCS`, learned once at start-up from a throwaway sandbox. The
//! ACL names only commands this engine has (an unknown name would stop
//! Redis from starting), and the console's hints come from the docs.

mod docs;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use redis::aio::ConnectionLike;
use redis::Value;

use crate::engine::Engine;
use crate::limits::SandboxLimits;
use crate::sandbox::{SandboxError, SandboxProcess, SandboxSpec};

#[derive(Debug, Clone, Default)]
pub struct CommandCatalog {
    /// Lowercase command names from `COMMAND LIST`.
    pub names: HashSet<String>,
    /// Documentation of the commands a learner may run (allowlisted ones,
    /// with only their allowed subcommands, sorted by name) as the JSON
    /// `GET /api/commands` sends, serialized once: about 145 KB, which
    /// every new learner's page fetches, and which was copied and
    /// serialized again for each of them.
    pub docs_json: Bytes,
    /// The same, gzipped once (about 20 KB), for the clients that accept
    /// it (every browser).
    pub docs_gzip: Bytes,
}

impl CommandCatalog {
    pub async fn probe(
        engine: &Arc<Engine>,
        limits: &SandboxLimits,
        run_root: &Path,
    ) -> Result<CommandCatalog, SandboxError> {
        let spec = SandboxSpec {
            engine: engine.clone(),
            limits: limits.clone(),
            acl_rules: "+@all".to_owned(),
            run_root: run_root.to_path_buf(),
        };
        let process = SandboxProcess::spawn(&spec).await?;
        let mut conn = process.connect().await?;
        let value = conn
            .req_packed_command(redis::cmd("COMMAND").arg("LIST"))
            .await
            .map_err(SandboxError::Connect)?;
        let docs_reply = conn
            .req_packed_command(redis::cmd("COMMAND").arg("DOCS"))
            .await
            .map_err(SandboxError::Connect)?;
        process.kill().await;
        let Value::Array(items) = value else {
            return Err(SandboxError::Spawn(format!(
                "COMMAND LIST answered {value:?}"
            )));
        };
        let names = items
            .into_iter()
            .filter_map(|item| match item {
                Value::BulkString(name) => Some(String::from_utf8_lossy(&name).to_lowercase()),
                Value::SimpleString(name) => Some(name.to_lowercase()),
                _ => None,
            })
            .collect();
        let docs = learner_docs(docs::commands(&docs_reply));
        let unencodable =
            |e: &dyn std::fmt::Display| SandboxError::Spawn(format!("the command catalog: {e}"));
        let docs_json = Bytes::from(serde_json::to_vec(&docs).map_err(|e| unencodable(&e))?);
        let docs_gzip = gzip(&docs_json).map_err(|e| unencodable(&e))?;
        Ok(CommandCatalog {
            names,
            docs_json,
            docs_gzip,
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// `bytes` gzipped at the best level (once, at start).
fn gzip(bytes: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(Bytes::from(encoder.finish()?))
}

/// Keeps what a learner may run: allowlisted commands, and of container
/// commands only their allowed subcommands.
fn learner_docs(all: Vec<protocol::CommandDoc>) -> protocol::CommandCatalog {
    use crate::allowlist::{self, Access};
    let mut commands: Vec<protocol::CommandDoc> = all
        .into_iter()
        .filter_map(|mut doc| {
            match allowlist::lookup(&doc.name.to_lowercase())? {
                Access::Open => {}
                Access::Subcommands(allowed) => doc.subcommands.retain(|sub| {
                    sub.name
                        .split_once(' ')
                        .is_some_and(|(_, s)| allowed.contains(&s.to_lowercase().as_str()))
                }),
            }
            Some(doc)
        })
        .collect();
    commands.sort_by(|a, b| a.name.cmp(&b.name));
    protocol::CommandCatalog { commands }
}
