//! A session's exit watcher: one task per session that sleeps until its
//! sandbox process exits, and, when that happens while the session is
//! alive, puts a fresh sandbox in at once and says so on the session's
//! event stream (an open console shows "your sandbox was restarted"),
//! instead of waiting for the learner's next command to find it dead.
//!
//! It waits on a pidfd (Linux 5.3+): the kernel makes it readable when the
//! process exits, so the task costs nothing until then. The pidfd is opened
//! only while the process is certainly not reaped (at spawn, or under the
//! link's lock after checking `try_wait`), so it cannot name a reused pid.
//! Where pidfds are not available it reads `/proc/<pid>/stat` every
//! `FALLBACK_POLL`, which is still inside the 1 s the learner is promised.
//!
//! Deaths the backend caused itself need no action here: `Session::close`
//! flips `ended` before its SIGKILL, and every replacement (reset,
//! `execute`'s own restart, a runaway stopped) has put another process in
//! the link by the time this task gets the lock, so it only re-arms.

use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use protocol::{NoticeKind, SessionEvent};
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::link::{ExecError, SandboxLink};
use crate::sandbox::{Sandbox, SandboxPool};

/// Where pidfds are missing: how often a sandbox's state is read.
const FALLBACK_POLL: Duration = Duration::from_millis(250);
/// After a failed restart (the host full, spawns too fast): when to try
/// again. The learner's next command also tries.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What the watcher needs of its session. The link is weak: the watcher
/// must never keep a sandbox alive after its session is gone.
pub(super) struct Watched {
    pub link: Weak<tokio::sync::Mutex<SandboxLink>>,
    /// The session's lock-free copy of the sandbox's pid, kept current.
    pub pid: Arc<AtomicU32>,
    pub events: super::events::Events,
    pub ended: watch::Receiver<bool>,
    pub pool: Arc<SandboxPool>,
    /// Up from the moment a death is seen until the link is free again,
    /// so a learner's command meanwhile waits instead of hearing "busy".
    pub restarting: Arc<AtomicBool>,
}

/// The running watcher; dropping it (with its session) stops it.
pub(super) struct ExitWatch {
    task: AbortHandle,
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One armed wait: resolves once the process it was opened on has exited.
pub(super) struct Exit {
    pid: u32,
    how: Wait,
}

enum Wait {
    Pidfd(AsyncFd<OwnedFd>),
    Poll,
    /// A restart failed and the dead process is still in the link.
    Retry,
}

impl Exit {
    /// Arms on `sandbox`. The caller holds it exclusively, so nothing can
    /// reap it meanwhile; a process already gone is found at once.
    pub(super) fn arm(sandbox: &mut Sandbox) -> Exit {
        let pid = sandbox.pid();
        if sandbox.exit_reason().is_some() {
            // Reaped: its pid may already belong to someone else.
            return Exit {
                pid,
                how: Wait::Retry,
            };
        }
        let how = match pidfd_open(pid) {
            Ok(fd) => register(fd).map_or(Wait::Poll, Wait::Pidfd),
            Err(e) => {
                tracing::debug!(pid, "no pidfd ({e}); polling /proc instead");
                Wait::Poll
            }
        };
        Exit { pid, how }
    }

    async fn exited(&self) {
        match &self.how {
            Wait::Pidfd(fd) => {
                // Readable means exited; the guard is not cleared, so a
                // second wait would return at once too.
                let _ = fd.readable().await;
            }
            Wait::Poll => {
                while !is_dead(self.pid) {
                    tokio::time::sleep(FALLBACK_POLL).await;
                }
            }
            Wait::Retry => tokio::time::sleep(RETRY_AFTER).await,
        }
    }
}

/// Starts the watcher on a sandbox already armed with `Exit::arm`.
pub(super) fn start(watched: Watched, first: Exit) -> ExitWatch {
    let task = tokio::spawn(run(watched, first));
    ExitWatch {
        task: task.abort_handle(),
    }
}

async fn run(watched: Watched, mut armed: Exit) {
    let mut ended = watched.ended.clone();
    loop {
        tokio::select! {
            () = armed.exited() => {}
            // Ended, or the session (the sender) is gone: stop either way.
            _ = ended.wait_for(|ended| *ended) => return,
        }
        let Some(link) = watched.link.upgrade() else {
            return;
        };
        watched.restarting.store(true, Ordering::Release);
        let mut link = link.lock().await;
        if *ended.borrow() {
            watched.restarting.store(false, Ordering::Release);
            return;
        }
        if link.sandbox().pid() == armed.pid {
            if let Some(reason) = link.sandbox_mut().check_exit().await {
                restart(&watched, &mut link, reason).await;
            }
        }
        // Whatever runs now (ours, or one somebody else put in): watch it.
        armed = Exit::arm(link.sandbox_mut());
        watched.pid.store(link.sandbox().pid(), Ordering::Release);
        drop(link);
        watched.restarting.store(false, Ordering::Release);
    }
}

/// A fresh sandbox in the link, and the notice on the event stream (the
/// open console forwards it; `execute` would have put it in a reply).
async fn restart(watched: &Watched, link: &mut SandboxLink, reason: String) {
    let message = ExecError::Restarted {
        reason: reason.clone(),
    }
    .to_string();
    match link
        .replace(&watched.pool, NoticeKind::Restarted, message)
        .await
    {
        Ok(notice) => {
            tracing::info!(
                pid = link.sandbox().pid(),
                "sandbox died ({reason}); replaced"
            );
            watched.events.send(SessionEvent::Notice { notice });
        }
        Err(e) => tracing::warn!("sandbox died ({reason}) and could not be replaced yet: {e}"),
    }
}

#[allow(unsafe_code)]
fn pidfd_open(pid: u32) -> std::io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or
    // -1; no memory of ours is passed. No flags: readiness comes from epoll.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| std::io::ErrorKind::InvalidData)?;
    // SAFETY: the syscall returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The pidfd in the runtime's reactor, for readability only.
#[allow(unsafe_code)]
fn register(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` is open and stays the same descriptor until the
    // `AsyncFd` that owns it drops.
    unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .map_err(std::io::Error::from)
}

/// A zombie, dying, or gone (the same reading as `check_exit`'s).
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .is_some_and(|state| matches!(state, 'Z' | 'X')),
        Err(_) => true,
    }
}
