//! The blocking half of starting a sandbox (its run dir, config and
//! fork/exec), apart from waiting for it to answer, so the pool can run it
//! on its spawner thread (`sandbox/spawner.rs`).

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::process::Command;

use super::{drain, write_private, OutputTail, SandboxProcess, SandboxSpec, Starting};
use crate::sandbox::cgroup::SandboxCgroup;
use crate::sandbox::conf::{self, ConfInput};
use crate::sandbox::harden::harden;
use crate::sandbox::SandboxError;
use crate::secret;

/// A process started and not yet answering: its run dir, and what it
/// needs to be reached. Dropped, it is killed (`kill_on_drop`) and its
/// dir and cgroup go.
pub(super) struct Launched {
    starting: Starting,
    stdout: Option<tokio::process::ChildStdout>,
    stderr: Option<tokio::process::ChildStderr>,
    pid: u32,
    dir: tempfile::TempDir,
    cap: usize,
}

/// The blocking half of a spawn: the run dir, the config, fork/exec.
pub(super) fn launch(
    spec: &SandboxSpec,
    cgroup: Option<SandboxCgroup>,
) -> Result<Launched, SandboxError> {
    std::fs::create_dir_all(&spec.run_root).map_err(|e| {
        SandboxError::Spawn(format!("cannot create {}: {e}", spec.run_root.display()))
    })?;
    let dir = tempfile::Builder::new()
        .prefix("sandbox-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(&spec.run_root)
        .map_err(|e| SandboxError::Spawn(format!("cannot create a run dir: {e}")))?;
    let socket = dir.path().join("redis.sock");
    let password =
        secret::random_hex(32).map_err(|e| SandboxError::Spawn(format!("no randomness: {e}")))?;
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

    let mut command = Command::new(&spec.engine.server);
    // A bare program name and a relative config path, resolved in the
    // run dir: `INFO server` (readable from a script) then shows
    // `<run dir>/redis-server` and `<run dir>/redis.conf`, nothing
    // about where the engine is installed on the host.
    command
        .arg0("redis-server")
        .arg(conf_path.file_name().unwrap_or_default())
        .current_dir(dir.path())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    harden(
        &mut command,
        &spec.limits,
        cgroup.as_ref().map(|c| c.procs_path().clone()),
    );
    let mut child = command.spawn().map_err(|e| {
        SandboxError::Spawn(format!(
            "cannot start {}: {e}",
            spec.engine.server.display()
        ))
    })?;
    let pid = child.id().unwrap_or(0);
    Ok(Launched {
        stdout: child.stdout.take(),
        stderr: child.stderr.take(),
        starting: Starting {
            child,
            socket,
            password,
            output: Arc::new(Mutex::new(OutputTail::default())),
            cgroup,
        },
        pid,
        dir,
        cap: usize::try_from(spec.limits.output_log_cap_kb * 1024).unwrap_or(usize::MAX),
    })
}

impl Launched {
    /// Drains its output and waits for its first PONG.
    pub(super) async fn ready(self) -> Result<SandboxProcess, SandboxError> {
        let Launched {
            mut starting,
            stdout,
            stderr,
            pid,
            dir,
            cap,
        } = self;
        if let Some(stdout) = stdout {
            tokio::spawn(drain(stdout, starting.output.clone(), cap));
        }
        if let Some(stderr) = stderr {
            tokio::spawn(drain(stderr, starting.output.clone(), cap));
        }
        match starting.wait_ready().await {
            Ok(control) => Ok(SandboxProcess {
                child: starting.child,
                pid,
                socket: starting.socket,
                password: starting.password,
                output: starting.output,
                killed_by_us: false,
                control,
                cgroup: starting.cgroup,
                dir,
            }),
            Err(e) => {
                // Never leave a half-started process behind.
                let _ = starting.child.start_kill();
                let _ = starting.child.wait().await;
                Err(e)
            }
        }
    }
}
