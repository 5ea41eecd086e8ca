//! One hardened redis-server process: private 0700 run dir, unix socket,
//! generated config, rlimits, its own session, output drained and capped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use tokio::io::AsyncReadExt;

use super::cgroup::SandboxCgroup;
use super::harden::{give_priority_back, HardenedChild, Program};
pub use super::run_files::{RunFiles, SandboxSpec};
use super::SandboxError;

/// How long a new process may take to answer its first PING.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
const READY_POLL: Duration = Duration::from_millis(3);

/// The last bytes a sandbox printed, kept to explain a crash.
#[derive(Default)]
struct OutputTail {
    bytes: Vec<u8>,
    total: u64,
}

/// A running sandbox. Dropping it kills the process and deletes its dir.
pub struct SandboxProcess {
    child: HardenedChild,
    pid: u32,
    socket: PathBuf,
    password: String,
    output: Arc<Mutex<OutputTail>>,
    /// Set when the backend itself sent SIGKILL, to tell why it died.
    killed_by_us: bool,
    /// Opened at start and kept: the server's own connection for SCRIPT
    /// KILL, so learners filling every client slot cannot lock it out.
    control: MultiplexedConnection,
    /// The kernel's memory bound; removed after the process is gone.
    cgroup: Option<SandboxCgroup>,
    // Dropped last: the directory goes after the process.
    dir: tempfile::TempDir,
}

impl SandboxProcess {
    /// A sandbox without a kernel memory bound (the server's own short-lived
    /// probes); learners' sandboxes come from the pool, in a cgroup.
    pub async fn spawn(spec: &SandboxSpec) -> Result<SandboxProcess, SandboxError> {
        Self::spawn_in(spec, None).await
    }

    /// A sandbox whose process joins `cgroup` before it runs Redis.
    pub async fn spawn_in(
        spec: &SandboxSpec,
        cgroup: Option<SandboxCgroup>,
    ) -> Result<SandboxProcess, SandboxError> {
        let files = RunFiles::write(spec)?;
        Self::start(spec, cgroup, files).await
    }

    /// Starts Redis in a run dir already written. The process is made on
    /// the spawner thread (`spawner.rs`) and reaped by a task of its own
    /// (`harden.rs`), so no runtime worker waits for it.
    pub async fn start(
        spec: &SandboxSpec,
        cgroup: Option<SandboxCgroup>,
        files: RunFiles,
    ) -> Result<SandboxProcess, SandboxError> {
        let RunFiles {
            dir,
            socket,
            password,
            conf_path,
        } = files;
        // A bare program name and a relative config path, resolved in the
        // run dir: `INFO server` (readable from a script) then shows
        // `<run dir>/redis-server` and `<run dir>/redis.conf`, nothing
        // about where the engine is installed on the host. No environment.
        let program = Program {
            path: &spec.engine.server,
            arg0: "redis-server",
            args: &[conf_path.file_name().unwrap_or_default()],
            cwd: dir.path(),
        };
        let (child, pipes) = HardenedChild::spawn(&program, &spec.limits)
            .await
            .map_err(|e| {
                SandboxError::Spawn(format!(
                    "cannot start {}: {e}",
                    spec.engine.server.display()
                ))
            })?;
        let pid = child.id();
        let output = Arc::new(Mutex::new(OutputTail::default()));
        let cap = usize::try_from(spec.limits.output_log_cap_kb * 1024).unwrap_or(usize::MAX);
        tokio::spawn(drain(pipes.stdout, output.clone(), cap));
        tokio::spawn(drain(pipes.stderr, output.clone(), cap));
        let mut starting = Starting {
            child,
            socket,
            password,
            output,
            cgroup: None,
        };
        // Into its memory cgroup before anyone can use it (see harden.rs
        // for why not in the child): only what Redis allocates while it
        // loads, a few MiB that no learner chooses, is charged outside.
        let ready = async {
            if let Some(cgroup) = cgroup {
                let joined = cgroup.admit_off_runtime(pid).await.map_err(|e| {
                    SandboxError::Spawn(format!("cannot put the sandbox in its memory cgroup: {e}"))
                })?;
                starting.cgroup = Some(joined);
            }
            let ready = starting.wait_ready().await;
            // Loaded: from now on it serves a learner at the server's own
            // priority (see `DEFAULT_SANDBOX_START_NICE`).
            give_priority_back(pid, &spec.limits);
            ready
        }
        .await;
        match ready {
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

    /// A new authenticated RESP2 connection. No response timeout: the
    /// gateway enforces its own deadline and escalation.
    pub async fn connect(&self) -> Result<MultiplexedConnection, SandboxError> {
        connect(&self.socket, &self.password).await
    }

    /// The connection kept for the server's own control (SCRIPT KILL). It
    /// always exists, even when learners' sockets fill every other slot.
    pub fn control(&self) -> MultiplexedConnection {
        self.control.clone()
    }

    /// SCRIPT KILL on the reserved control connection: Redis's own answer
    /// (`OK`, `NOTBUSY`, `UNKILLABLE`), or an error if the process is gone.
    pub async fn script_kill(&self) -> redis::RedisResult<redis::Value> {
        use redis::aio::ConnectionLike;
        self.control()
            .req_packed_command(redis::cmd("SCRIPT").arg("KILL"))
            .await
    }

    /// The sandbox's memory cgroup, where the host allows one.
    pub fn memory_cgroup(&self) -> Option<&SandboxCgroup> {
        self.cgroup.as_ref()
    }
}

/// A process between spawn and its first PONG.
struct Starting {
    child: HardenedChild,
    socket: PathBuf,
    password: String,
    output: Arc<Mutex<OutputTail>>,
    cgroup: Option<SandboxCgroup>,
}

impl Starting {
    /// Waits for the first PONG; that connection becomes the control one.
    async fn wait_ready(&mut self) -> Result<MultiplexedConnection, SandboxError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(mut con) = connect(&self.socket, &self.password).await {
                let pong: redis::RedisResult<String> =
                    redis::cmd("PING").query_async(&mut con).await;
                if pong.is_ok() {
                    return Ok(con);
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let reason = explain(status, &self.output, false, self.cgroup.as_ref());
                return Err(SandboxError::Spawn(format!(
                    "redis-server exited at start-up: {reason}"
                )));
            }
            if Instant::now() > deadline {
                return Err(SandboxError::Spawn(
                    "redis-server did not answer PING in time".into(),
                ));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }
}

impl SandboxProcess {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `None` while running; otherwise why it stopped, as a learner would
    /// want it told.
    pub fn exit_reason(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        Some(self.explain(status))
    }

    fn explain(&self, status: std::process::ExitStatus) -> String {
        explain(
            status,
            &self.output,
            self.killed_by_us,
            self.cgroup.as_ref(),
        )
    }

    /// Like `exit_reason`, but also catches a process the kernel already
    /// marked dead (a zombie) before the runtime has noticed: a command must
    /// never be sent to a sandbox that is gone.
    pub async fn check_exit(&mut self) -> Option<String> {
        if let Some(reason) = self.exit_reason() {
            return Some(reason);
        }
        let state = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok();
        let dead = match state {
            // `pid (comm) state …`: Z is a zombie, X is dying.
            Some(stat) => stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next())
                .is_some_and(|state| matches!(state, 'Z' | 'X')),
            None => true,
        };
        if dead {
            return Some(
                self.wait_exit()
                    .await
                    .unwrap_or_else(|| "it stopped unexpectedly".to_owned()),
            );
        }
        None
    }

    /// SIGKILL and reap. The run dir goes when `self` drops.
    pub async fn kill(mut self) {
        self.killed_by_us = true;
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGKILL without waiting (for a stuck process); reaped on drop.
    pub fn kill_now(&mut self) {
        self.killed_by_us = true;
        let _ = self.child.start_kill();
    }

    pub async fn wait_exit(&mut self) -> Option<String> {
        let status = self.child.wait().await.ok()?;
        Some(self.explain(status))
    }
}

/// A new authenticated RESP2 connection to a sandbox's socket.
async fn connect(socket: &Path, password: &str) -> Result<MultiplexedConnection, SandboxError> {
    let info = ConnectionAddr::Unix(socket.to_path_buf())
        .into_connection_info()
        .map_err(SandboxError::Connect)?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_password(password)
                .set_skip_set_lib_name(),
        );
    let client = redis::Client::open(info).map_err(SandboxError::Connect)?;
    let config = AsyncConnectionConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(Some(Duration::from_secs(2)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(SandboxError::Connect)
}

/// Why a sandbox stopped, as a learner would want it told.
fn explain(
    status: std::process::ExitStatus,
    output: &Mutex<OutputTail>,
    killed_by_us: bool,
    cgroup: Option<&SandboxCgroup>,
) -> String {
    use std::os::unix::process::ExitStatusExt;
    let tail = output
        .lock()
        .map(|o| String::from_utf8_lossy(&o.bytes).to_lowercase())
        .unwrap_or_default();
    if let Some(cgroup) = cgroup.filter(|c| c.oom_killed()) {
        let mib = cgroup.limit_bytes().unwrap_or(0) / (1024 * 1024);
        format!("it reached the sandbox's memory limit of {mib} MiB and the kernel stopped it (a script or command kept writing after maxmemory was full)")
    } else if tail.contains("out of memory") || tail.contains("oom") || tail.contains("allocate") {
        "it ran out of memory (a script or command needed more than the sandbox allows)".into()
    } else if status.signal() == Some(libc::SIGKILL) && killed_by_us {
        "the console stopped it because a command or script ran past its deadline".into()
    } else if status.signal() == Some(libc::SIGKILL) {
        "it was killed from outside (signal 9), for example by the system when memory ran low"
            .into()
    } else if let Some(signal) = status.signal() {
        format!("it crashed (signal {signal})")
    } else {
        format!("it exited ({status})")
    }
}

/// Keeps the last `cap` bytes and discards the rest, so a chatty script
/// (`redis.log` in a loop) can neither fill memory nor block the pipe.
async fn drain(
    mut pipe: impl tokio::io::AsyncRead + Unpin,
    tail: Arc<Mutex<OutputTail>>,
    cap: usize,
) {
    let mut buf = vec![0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut tail) = tail.lock() {
                    tail.total += n as u64;
                    tail.bytes.extend_from_slice(&buf[..n]);
                    if tail.bytes.len() > cap {
                        let excess = tail.bytes.len() - cap;
                        tail.bytes.drain(..excess);
                    }
                }
            }
        }
    }
}
