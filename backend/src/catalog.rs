//! What the running engine can do: the names of its commands and their
//! `COMMAND DOCS`, learned once at start-up from a throwaway sandbox. The
//! ACL names only commands this engine has (an unknown name would stop
//! Redis from starting), and the console's hints come from the docs.

mod docs;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use redis::aio::ConnectionLike;
use redis::Value;

use crate::engine::Engine;
use crate::limits::SandboxLimits;
use crate::sandbox::{SandboxError, SandboxProcess, SandboxSpec};
use crate::static_json::StaticJson;

#[derive(Debug, Clone, Default)]
pub struct CommandCatalog {
    /// Lowercase command names from `COMMAND LIST`.
    pub names: HashSet<String>,
    /// Documentation of the commands a learner may run (allowlisted ones,
    /// with only their allowed subcommands, sorted by name) as
    /// `GET /api/commands` sends it: about 145 KB of JSON (20 KB gzipped)
    /// that every new learner's page fetches.
    pub docs: StaticJson,
    /// The same docs, typed: the console's `help` reads them.
    pub commands: Arc<protocol::CommandCatalog>,
    /// Lowercase names of every setting the engine has (`CONFIG GET *`):
    /// one it does not have is answered as Redis answers it, an empty
    /// array, not refused as hidden.
    pub settings: Arc<HashSet<String>>,
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
        let settings_reply = conn
            .req_packed_command(redis::cmd("CONFIG").arg("GET").arg("*"))
            .await
            .map_err(SandboxError::Connect)?;
        process.kill().await;
        let settings = setting_names(&settings_reply);
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
        let encoded = StaticJson::encode(&docs)
            .map_err(|e| SandboxError::Spawn(format!("the command catalog: {e}")))?;
        Ok(CommandCatalog {
            names,
            docs: encoded,
            commands: Arc::new(docs),
            settings: Arc::new(settings),
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// The names in `CONFIG GET *`'s reply: name/value pairs (RESP2) or a map.
fn setting_names(reply: &Value) -> HashSet<String> {
    let name = |v: &Value| crate::session::convert::text(v).map(|n| n.to_lowercase());
    match reply {
        Value::Array(items) => items.chunks(2).filter_map(|pair| name(&pair[0])).collect(),
        Value::Map(pairs) => pairs.iter().filter_map(|(k, _)| name(k)).collect(),
        _ => HashSet::new(),
    }
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
