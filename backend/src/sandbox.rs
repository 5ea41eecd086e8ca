//! Per-learner Redis sandboxes: hardened processes, a warm pool, and the
//! host-wide caps on how many exist and how fast they start.

pub mod cgroup;
pub mod conf;
mod harden;
pub mod per_minute;
mod pool;
mod process;
mod run_files;
mod spawner;

pub use pool::{Sandbox, SandboxPool};
pub use process::{SandboxProcess, SandboxSpec};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not start a sandbox: {0}")]
    Spawn(String),
    #[error("could not connect to the sandbox: {0}")]
    Connect(redis::RedisError),
    #[error("The class is full: all {0} sandboxes on this server are in use and the line for the next one is long. Trying again in {secs} s (the page does it by itself).", secs = crate::limits::FULL_RETRY_AFTER_SECS)]
    Capacity(usize),
    #[error("sandboxes are starting too fast on this server; try again in a second")]
    SpawnRate,
    #[error("You asked for {0} fresh sandboxes in the last minute from this address, the most allowed; wait a minute, or keep working in the one you have.")]
    ResetRate(u32),
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl SandboxError {
    /// The stable code, the same over HTTP and the WebSocket.
    pub fn code(&self) -> protocol::ErrorCode {
        use protocol::ErrorCode;
        match self {
            SandboxError::Capacity(_) => ErrorCode::ServerFull,
            SandboxError::SpawnRate | SandboxError::ResetRate(_) => ErrorCode::SpawnRate,
            SandboxError::ShuttingDown => ErrorCode::ShuttingDown,
            SandboxError::Spawn(_) | SandboxError::Connect(_) => ErrorCode::SandboxUnavailable,
        }
    }
}

/// Removes sandbox roots (`server-<pid>`) and memory cgroups left by
/// servers that are gone, for example after a crash or a test run.
pub fn sweep_stale_roots(parent: &std::path::Path) {
    cgroup::sweep_stale();
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
