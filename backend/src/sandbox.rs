//! Per-learner Redis sandboxes: hardened processes, a warm pool, and the
//! host-wide caps on how many exist and how fast they start.

pub mod conf;
mod pool;
mod process;

pub use pool::{Sandbox, SandboxPool};
pub use process::{SandboxProcess, SandboxSpec};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not start a sandbox: {0}")]
    Spawn(String),
    #[error("could not connect to the sandbox: {0}")]
    Connect(redis::RedisError),
    #[error("the server is at its limit of {0} sandboxes; try again in a few minutes")]
    Capacity(usize),
    #[error("sandboxes are starting too fast on this server; try again in a second")]
    SpawnRate,
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Removes sandbox roots (`server-<pid>`) left by servers that are gone,
/// for example after a crash or a test run.
pub fn sweep_stale_roots(parent: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("server-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
