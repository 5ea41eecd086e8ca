//! What the running engine can do: the names of its commands, learned once
//! at start-up from a throwaway sandbox, so the ACL names only commands
//! this engine has (an unknown name would stop Redis from starting).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use redis::aio::ConnectionLike;
use redis::Value;

use crate::engine::Engine;
use crate::limits::SandboxLimits;
use crate::sandbox::{SandboxError, SandboxProcess, SandboxSpec};

#[derive(Debug, Clone, Default)]
pub struct CommandCatalog {
    /// Lowercase command names from `COMMAND LIST`.
    pub names: HashSet<String>,
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
        Ok(CommandCatalog { names })
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}
