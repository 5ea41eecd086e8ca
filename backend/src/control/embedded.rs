//! The embedded control store: a private `redis-server` from the same
//! engine, started as a child of this server in `--data-dir`. Unix socket
//! in a 0700 folder, no TCP, a random password, AOF with an RDB preamble
//! (`appendfsync` from `--control-fsync`, `always` by default). It dies with this server (the kernel sends it
//! SIGTERM, so it still flushes its AOF), an orphan left by an older
//! server is ended before a new one starts on the same data, and a
//! supervisor restarts it if it dies while we run.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::StoreError;

/// How long the new process may take to open its socket.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before restarting a control process that died.
const RESTART_AFTER: Duration = Duration::from_millis(200);
/// The longest pause between attempts to restart a control process.
const RESTART_MAX_PAUSE: Duration = Duration::from_secs(5);
/// How long a clean stop may take (the AOF is flushed on SHUTDOWN).
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the embedded store keeps things under `--data-dir`.
pub struct Layout {
    /// The AOF and RDB files.
    pub store: PathBuf,
    /// The 0700 folder with the socket, the config and the pidfile.
    pub run: PathBuf,
}

impl Layout {
    pub fn new(data_dir: &Path) -> Layout {
        Layout {
            store: data_dir.join("control"),
            run: data_dir.join("control-run"),
        }
    }

    pub fn socket(&self) -> PathBuf {
        self.run.join("control.sock")
    }

    fn pidfile(&self) -> PathBuf {
        self.run.join("control.pid")
    }

    fn conf(&self) -> PathBuf {
        self.run.join("control.conf")
    }
}

pub struct EmbeddedStore {
    layout: Layout,
    server: PathBuf,
    password: String,
    pid: AtomicU32,
    stopping: AtomicBool,
    fsync: &'static str,
    /// Why the store's folder cannot take writes, found when the process
    /// died (a full disk, a folder that became read-only); cleared once a
    /// restart works again.
    trouble: std::sync::Mutex<Option<String>>,
}

/// Makes `dir` (0700) and proves it is writable, naming it on failure.
fn writable_dir(dir: &Path) -> Result<(), StoreError> {
    let fail = |what: &str, e: std::io::Error| StoreError::DataDir {
        dir: dir.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail("cannot create it", e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail("cannot make it private", e))?;
    let probe = dir.join(".write-probe");
    std::fs::write(&probe, b"ok").map_err(|e| fail("cannot write in it", e))?;
    std::fs::remove_file(&probe).map_err(|e| fail("cannot remove a file in it", e))?;
    Ok(())
}

/// Ends a control process an older server left behind on this data dir
/// (its pidfile names it, and its command line must be a redis-server).
async fn end_orphan(layout: &Layout) {
    let Some(pid) = std::fs::read_to_string(layout.pidfile())
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    // After a kill -9 the pidfile is stale (the kernel already ended that
    // store) and its pid may now be anyone's, even a sandbox's
    // redis-server: only a redis-server working in this store's own folder
    // is ours to end.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    let ours = layout.store.canonicalize().ok();
    if !String::from_utf8_lossy(&cmdline).contains("redis-server") || cwd.is_none() || cwd != ours {
        return;
    }
    tracing::warn!(
        pid,
        "ending a control store left running by an earlier server"
    );
    crate::signal::send(pid as u32, libc::SIGTERM);
    for _ in 0..100 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    crate::signal::send(pid as u32, libc::SIGKILL);
}

impl EmbeddedStore {
    /// Starts the control process on `data_dir`'s data.
    pub async fn start(
        server: &Path,
        data_dir: &Path,
        fsync: &'static str,
    ) -> Result<Arc<EmbeddedStore>, StoreError> {
        let layout = Layout::new(data_dir);
        writable_dir(data_dir)?;
        writable_dir(&layout.store)?;
        writable_dir(&layout.run)?;
        end_orphan(&layout).await;
        let store = Arc::new(EmbeddedStore {
            layout,
            server: server.to_path_buf(),
            password: crate::secret::random_hex(32)
                .map_err(|e| StoreError::Start(format!("no randomness: {e}")))?,
            pid: AtomicU32::new(0),
            stopping: AtomicBool::new(false),
            fsync,
            trouble: std::sync::Mutex::new(None),
        });
        let child = store.spawn().await?;
        store.supervise(child);
        Ok(store)
    }

    pub fn socket(&self) -> PathBuf {
        self.layout.socket()
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Acquire)
    }

    pub fn data_dir(&self) -> &Path {
        &self.layout.store
    }

    /// Why the data folder cannot take writes, if that is known.
    pub fn trouble(&self) -> Option<String> {
        self.trouble.lock().ok().and_then(|t| t.clone())
    }

    /// Probes the data folder after the process died: with `appendfsync
    /// always` Redis exits when it cannot write its AOF.
    fn diagnose(&self) {
        let found = writable_dir(&self.layout.store)
            .err()
            .map(|e| e.to_string());
        if let Ok(mut trouble) = self.trouble.lock() {
            *trouble = found;
        }
    }

    fn config(&self) -> String {
        let store = self.layout.store.display();
        let socket = self.layout.socket();
        [
            "port 0".to_owned(),
            format!("unixsocket {}", socket.display()),
            "unixsocketperm 700".to_owned(),
            format!("dir {store}"),
            format!("requirepass {}", self.password),
            "appendonly yes".to_owned(),
            format!("appendfsync {}", self.fsync),
            "aof-use-rdb-preamble yes".to_owned(),
            "appenddirname appendonly".to_owned(),
            // The AOF is the durable copy; RDB snapshots only when asked.
            "save \"\"".to_owned(),
            "maxmemory-policy noeviction".to_owned(),
            "daemonize no".to_owned(),
            "logfile \"\"".to_owned(),
            "loglevel warning".to_owned(),
        ]
        .join("\n")
            + "\n"
    }

    async fn spawn(&self) -> Result<Child, StoreError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let conf = self.layout.conf();
        let _ = std::fs::remove_file(&conf);
        let _ = std::fs::remove_file(self.layout.socket());
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&conf)
            .and_then(|mut f| f.write_all(self.config().as_bytes()))
            .map_err(|e| StoreError::DataDir {
                dir: self.layout.run.clone(),
                reason: format!("cannot write the control store's config: {e}"),
            })?;
        let mut command = Command::new(&self.server);
        command
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(false);
        die_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|e| StoreError::Start(format!("{}: {e}", self.server.display())))?;
        let pid = child.id().unwrap_or(0);
        self.pid.store(pid, Ordering::Release);
        let _ = std::fs::write(self.layout.pidfile(), pid.to_string());
        let socket = self.layout.socket();
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        while !socket.exists() {
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Start(format!(
                    "the control store did not open {} within {READY_TIMEOUT:?}",
                    socket.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(child)
    }

    /// Restarts the process whenever it dies, until `stop`.
    fn supervise(self: &Arc<Self>, mut child: Child) {
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let status = child.wait().await;
                let Some(me) = store.upgrade() else { return };
                if me.stopping.load(Ordering::Acquire) {
                    return;
                }
                me.diagnose();
                tracing::error!(
                    ?status,
                    trouble = me.trouble().unwrap_or_default(),
                    "the control store stopped; restarting it on the same data"
                );
                // Until it starts again (a full disk may take a while to
                // be freed), with a growing pause between attempts.
                let mut pause = RESTART_AFTER;
                child = loop {
                    tokio::time::sleep(pause).await;
                    if me.stopping.load(Ordering::Acquire) {
                        return;
                    }
                    match me.spawn().await {
                        Ok(next) => {
                            me.diagnose();
                            break next;
                        }
                        Err(e) => {
                            me.diagnose();
                            tracing::error!("cannot restart the control store: {e}");
                            pause = (pause * 2).min(RESTART_MAX_PAUSE);
                        }
                    }
                };
            }
        });
    }

    /// A clean stop: SIGTERM makes Redis flush and fsync its AOF first.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        let pid = self.pid() as i32;
        if pid <= 0 {
            return;
        }
        crate::signal::send(pid as u32, libc::SIGTERM);
        let gone = async {
            while Path::new(&format!("/proc/{pid}")).exists() && !zombie(pid) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(STOP_TIMEOUT, gone).await.is_err() {
            crate::signal::send(pid as u32, libc::SIGKILL);
        }
        let _ = std::fs::remove_file(self.layout.pidfile());
    }
}

/// A process that exited but was not reaped yet (our supervisor reaps it).
fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| r.starts_with('Z')))
        .unwrap_or(true)
}

/// The kernel sends the control process SIGTERM when this server dies
/// (even by SIGKILL), so it is never left orphaned and still flushes its
/// AOF. It also gets its own session, so a Ctrl-C meant for the server
/// does not stop it before the server's own clean shutdown.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    // SAFETY: runs in the forked child before exec and calls only
    // async-signal-safe functions (setsid, prctl); it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
