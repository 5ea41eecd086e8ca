//! A sandbox process once made: the handle the server keeps (kill, wait),
//! the task that reaps it, and what becomes of a child nobody adopted.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

use super::{check, Prepared, Program};
use crate::limits::SandboxLimits;

/// A sandbox process this server created. A task of its own reaps it the
/// moment it exits (its pidfd turns readable), whoever is looking, so a
/// killed sandbox never lingers as a zombie. Dropping it kills the process.
pub(in crate::sandbox) struct HardenedChild {
    pid: u32,
    pidfd: Arc<AsyncFd<OwnedFd>>,
    status: watch::Receiver<Option<ExitStatus>>,
}

/// The child's stdout and stderr, read ends.
pub(in crate::sandbox) struct Output {
    pub stdout: tokio::net::unix::pipe::Receiver,
    pub stderr: tokio::net::unix::pipe::Receiver,
}

/// A child just made, with its output pipes, not yet in the runtime's
/// hands (`HardenedChild::adopt`).
pub(in crate::sandbox) struct Cloned {
    child: Unadopted,
    stdout: OwnedFd,
    stderr: OwnedFd,
}

impl Cloned {
    pub(super) fn new(pid: u32, pidfd: OwnedFd, stdout: OwnedFd, stderr: OwnedFd) -> Cloned {
        Cloned {
            child: Unadopted {
                pid,
                pidfd: Some(pidfd),
            },
            stdout,
            stderr,
        }
    }
}

/// Dropped before it is adopted (its requester gave up, or the runtime
/// refused its pidfd), a new child is killed and reaped on a thread, so no
/// process and no zombie is left behind.
struct Unadopted {
    pid: u32,
    pidfd: Option<OwnedFd>,
}

impl Drop for Unadopted {
    fn drop(&mut self) {
        if let Some(pidfd) = self.pidfd.take() {
            let _ = send_kill(&pidfd);
            drop(ReapOnDrop {
                pid: self.pid,
                reaped: false,
            });
        }
    }
}

/// SIGKILL through a pidfd: it names this process even once reaped (the
/// kernel then answers ESRCH), so it never reaches a recycled pid.
fn send_kill(pidfd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: pidfd_send_signal(2) on a pidfd we own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    check(ret as libc::c_int).map(drop)
}

impl HardenedChild {
    /// Starts `program` hardened by `limits`. The child is made on the
    /// spawner thread, so no runtime worker waits for it to reach `execve`
    /// (0.3–5.7 ms each, measured, while the class's lines on that worker
    /// waited too); it is adopted here, on the runtime.
    pub async fn spawn(
        program: &Program<'_>,
        limits: &SandboxLimits,
    ) -> std::io::Result<(HardenedChild, Output)> {
        let prepared = Prepared::new(program, limits)?;
        Self::adopt(crate::sandbox::spawner::clone_on_spawner(prepared).await?)
    }

    /// Takes a child made by `clone_child`: a task of its own reaps it
    /// the moment its pidfd turns readable.
    fn adopt(cloned: Cloned) -> std::io::Result<(HardenedChild, Output)> {
        let Cloned {
            child: mut unadopted,
            stdout,
            stderr,
        } = cloned;
        let pid = unadopted.pid;
        let Some(pidfd) = unadopted.pidfd.take() else {
            return Err(std::io::Error::other("a sandbox process was adopted twice"));
        };
        // SAFETY: the pidfd is owned by the `AsyncFd` and closed only when
        // it drops.
        let registered =
            unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) };
        let pidfd = match registered {
            Ok(pidfd) => Arc::new(pidfd),
            Err(e) => {
                // Not watched, the child would never be reaped: it goes.
                let (pidfd, cause) = e.into_parts();
                let _ = send_kill(&pidfd);
                drop(ReapOnDrop { pid, reaped: false });
                return Err(cause);
            }
        };
        let (tell, status) = watch::channel(None);
        tokio::spawn(reaper(pid, pidfd.clone(), tell));
        let child = HardenedChild { pid, pidfd, status };
        let output = Output {
            stdout: tokio::net::unix::pipe::Receiver::from_owned_fd(stdout)?,
            stderr: tokio::net::unix::pipe::Receiver::from_owned_fd(stderr)?,
        };
        Ok((child, output))
    }

    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Its exit status once it has exited and been reaped, else `None`.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        Ok(*self.status.borrow())
    }

    /// Waits until it has exited and been reaped.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self
            .status
            .wait_for(Option::is_some)
            .await
            .map_err(|_| std::io::Error::other("the sandbox's reaper stopped"))?;
        Ok(status.unwrap_or_else(|| ExitStatus::from_raw(0)))
    }

    /// SIGKILL, unless it was already reaped; does not wait.
    pub fn start_kill(&mut self) -> std::io::Result<()> {
        if self.status.borrow().is_some() {
            return Ok(());
        }
        // The pidfd stays open until both this and the reaper drop it.
        send_kill(self.pidfd.get_ref())
    }
}

impl Drop for HardenedChild {
    /// Kills it; its reaper reaps it.
    fn drop(&mut self) {
        let _ = self.start_kill();
    }
}

/// Reaps on a thread of its own a child whose reaper task was dropped
/// before it could (the runtime that started the child ended first, as a
/// test's does at its end): no zombie is left behind either way. The
/// thread's wait ends when the process does (our SIGKILL, or the parent-
/// death signal, which comes when the server exits: the spawner thread
/// that made the child lives as long as the server).
struct ReapOnDrop {
    pid: u32,
    reaped: bool,
}

impl Drop for ReapOnDrop {
    fn drop(&mut self) {
        if !self.reaped {
            let pid = self.pid as i32;
            let _ = std::thread::Builder::new()
                .name("sandbox-reap".into())
                .spawn(move || {
                    // SAFETY: a blocking waitpid on our own child, which
                    // nobody else reaps.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                });
        }
    }
}

/// Reaps `pid` as soon as its pidfd says it exited, and tells its status.
async fn reaper(pid: u32, pidfd: Arc<AsyncFd<OwnedFd>>, tell: watch::Sender<Option<ExitStatus>>) {
    let mut guard = ReapOnDrop { pid, reaped: false };
    loop {
        let mut raw = 0;
        // SAFETY: waitpid on our own child; only this task reaps it, so the
        // pid cannot name anyone else before this call returns it.
        match unsafe { libc::waitpid(pid as i32, &mut raw, libc::WNOHANG) } {
            0 => {}
            got if got > 0 => {
                guard.reaped = true;
                tell.send_replace(Some(ExitStatus::from_raw(raw)));
                return;
            }
            _ => {
                guard.reaped = true;
                let e = std::io::Error::last_os_error();
                tracing::warn!(pid, "cannot reap a sandbox process: {e}");
                tell.send_replace(Some(ExitStatus::from_raw(0)));
                return;
            }
        }
        match pidfd.readable().await {
            Ok(mut ready) => ready.clear_ready(),
            Err(e) => {
                tracing::warn!(pid, "cannot wait for a sandbox process: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
