//! A sandbox's run dir: a private 0700 directory holding its unix socket
//! and its generated config (0600), made before the process starts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::conf::{self, ConfInput};
use super::SandboxError;
use crate::engine::Engine;
use crate::limits::SandboxLimits;
use crate::secret;

/// What every sandbox of this server is made from.
pub struct SandboxSpec {
    pub engine: Arc<Engine>,
    pub limits: SandboxLimits,
    /// `-@all +…`, already limited to commands the engine knows.
    pub acl_rules: String,
    /// Parent of every sandbox's private directory.
    pub run_root: PathBuf,
}

/// A sandbox's private run dir with its config written: the file-system
/// half of a spawn, which the pool does on tokio's blocking pool so it
/// does not hold a runtime worker (no process is involved, so nothing
/// there depends on which thread it ran on).
pub struct RunFiles {
    pub(super) dir: tempfile::TempDir,
    pub(super) socket: PathBuf,
    pub(super) password: String,
    pub(super) conf_path: PathBuf,
}

impl RunFiles {
    pub fn write(spec: &SandboxSpec) -> Result<RunFiles, SandboxError> {
        std::fs::create_dir_all(&spec.run_root).map_err(|e| {
            SandboxError::Spawn(format!("cannot create {}: {e}", spec.run_root.display()))
        })?;
        let dir = tempfile::Builder::new()
            .prefix("sandbox-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&spec.run_root)
            .map_err(|e| SandboxError::Spawn(format!("cannot create a run dir: {e}")))?;
        let socket = dir.path().join("redis.sock");
        let password = secret::random_hex(32)
            .map_err(|e| SandboxError::Spawn(format!("no randomness: {e}")))?;
        let conf_text = conf::render(&ConfInput {
            dir: dir.path(),
            socket: &socket,
            password_sha256: &secret::sha256_hex(password.as_bytes()),
            acl_rules: &spec.acl_rules,
            limits: &spec.limits,
            engine: &spec.engine,
        });
        let conf_path = dir.path().join("redis.conf");
        write_private(&conf_path, &conf_text)?;
        Ok(RunFiles {
            dir,
            socket,
            password,
            conf_path,
        })
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), SandboxError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| SandboxError::Spawn(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| SandboxError::Spawn(format!("cannot write {}: {e}", path.display())))
}
