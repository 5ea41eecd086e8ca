//! The one audited place where a sandbox process is created: its own
//! session, death with the backend, and rlimits, applied in the child
//! before it runs Redis. Kept apart so the only unsafe code of the sandbox
//! is read in one place.
//!
//! The child is made with `clone(CLONE_VM | CLONE_VFORK)`, as
//! `posix_spawn` does, not with `fork`: a fork copies the page tables of
//! the whole server (40–60 MiB resident in a class) and holds its memory
//! map locked while it does, and the forking runtime worker stalls
//! 1.2–2.1 ms (measured with `perf trace` while visitors arrived two a
//! second); every class line in flight waited with it. Here the child
//! borrows the server's memory until it calls `execve`, so the worker waits
//! only for that, and the server's pages are never marked copy-on-write.
//! What the child may do before `execve` is what a `pre_exec` may do and
//! less: raw system calls on values prepared beforehand, no allocation, no
//! locks, nothing written but its own stack and one error slot.
//!
//! The memory cgroup is not joined here: moving a process between cgroups
//! takes the kernel milliseconds (0.6–15 ms, about 5 on average, measured
//! here). `process.rs` moves the child from the blocking pool instead,
//! before anyone can use the sandbox.

#![allow(unsafe_code)]

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

use crate::limits::SandboxLimits;

/// The child's stack until `execve`: a few system calls need little.
const CHILD_STACK: usize = 64 * 1024;

/// What to run: the binary, its `argv[0]` and arguments, and where.
pub(super) struct Program<'a> {
    pub path: &'a Path,
    pub arg0: &'a str,
    pub args: &'a [&'a OsStr],
    pub cwd: &'a Path,
}

/// A sandbox process this server created. A task of its own reaps it the
/// moment it exits (its pidfd turns readable), whoever is looking, so a
/// killed sandbox never lingers as a zombie. Dropping it kills the process.
pub(super) struct HardenedChild {
    pid: u32,
    pidfd: Arc<AsyncFd<OwnedFd>>,
    status: watch::Receiver<Option<ExitStatus>>,
}

/// The child's stdout and stderr, read ends.
pub(super) struct Output {
    pub stdout: tokio::net::unix::pipe::Receiver,
    pub stderr: tokio::net::unix::pipe::Receiver,
}

/// Everything the child reads, prepared by the parent; the child only
/// reads it, and writes `errno` when `execve` fails.
struct Plan {
    path: CString,
    argv: Vec<*const libc::c_char>,
    envp: [*const libc::c_char; 1],
    cwd: CString,
    stdin: RawFd,
    stdout: RawFd,
    stderr: RawFd,
    limits: [(libc::__rlimit_resource_t, libc::rlim_t); 4],
    mask: libc::sigset_t,
    /// Signals 1 up to this one get their default handlers back.
    last_signal: libc::c_int,
    /// The server's pid, to find out whether it died before the child
    /// asked to die with it.
    parent: libc::pid_t,
    /// Nice value to load the engine at (0: as the server).
    start_nice: libc::c_int,
    errno: AtomicI32,
}

fn cstring(bytes: &[u8]) -> std::io::Result<CString> {
    CString::new(bytes).map_err(|_| std::io::Error::other("a NUL byte in a sandbox's command"))
}

fn check(ret: libc::c_int) -> std::io::Result<libc::c_int> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A pipe whose both ends close on exec (the child `dup2`s its end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two new fds into the array we own.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both fds are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl HardenedChild {
    /// Starts `program` hardened by `limits`, stdin from /dev/null and its
    /// output into pipes. Runs on the caller's thread, which must outlive
    /// the child: `PR_SET_PDEATHSIG` follows the thread that created it.
    pub fn spawn(
        program: &Program<'_>,
        limits: &SandboxLimits,
    ) -> std::io::Result<(HardenedChild, Output)> {
        let path = cstring(program.path.as_os_str().as_bytes())?;
        let mut args = vec![cstring(program.arg0.as_bytes())?];
        for arg in program.args {
            args.push(cstring(arg.as_bytes())?);
        }
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let null = std::fs::File::options()
            .read(true)
            .open("/dev/null")
            .map(OwnedFd::from)?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let mut plan = Plan {
            path,
            argv,
            envp: [std::ptr::null()],
            cwd: cstring(program.cwd.as_os_str().as_bytes())?,
            stdin: null.as_raw_fd(),
            stdout: out_w.as_raw_fd(),
            stderr: err_w.as_raw_fd(),
            limits: [
                (libc::RLIMIT_CORE, 0),
                // Redis never needs to write a file here (no persistence).
                (libc::RLIMIT_FSIZE, 0),
                (libc::RLIMIT_NOFILE, limits.rlimit_nofile),
                (libc::RLIMIT_AS, limits.rlimit_as_mb * 1024 * 1024),
            ],
            // SAFETY: an all-zero sigset_t is a valid value to be filled.
            mask: unsafe { std::mem::zeroed() },
            last_signal: libc::SIGRTMAX(),
            // SAFETY: getpid has no preconditions.
            parent: unsafe { libc::getpid() },
            start_nice: start_nice(limits),
            errno: AtomicI32::new(0),
        };
        let mut stack = vec![0u8; CHILD_STACK];
        let mut pidfd: libc::c_int = -1;
        // SAFETY: all signals are blocked around clone so that no handler of
        // the server runs on the child's borrowed memory (the child resets
        // them before unblocking). The child runs `child` on `stack`, which
        // outlives it (CLONE_VFORK suspends this thread until the child has
        // exec'd or exited), and reads `plan`, which lives here as long.
        let pid = unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut plan.mask);
            let top = stack.as_mut_ptr().add(CHILD_STACK);
            let top = top.sub(top as usize % 16);
            let pid = libc::clone(
                child,
                top.cast(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD,
                (&raw mut plan).cast(),
                &raw mut pidfd,
            );
            let failed = std::io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &plan.mask, std::ptr::null_mut());
            if pid < 0 {
                return Err(failed);
            }
            pid
        };
        drop((null, out_w, err_w, stack));
        // SAFETY: CLONE_PIDFD stored a new fd of ours in `pidfd`.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        let errno = plan.errno.load(Ordering::Acquire);
        if errno != 0 {
            // It never ran Redis: reap the exited child at once.
            // SAFETY: waitpid on our own child's pid, which it still holds.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            return Err(std::io::Error::from_raw_os_error(errno));
        }
        // SAFETY: the pidfd is owned by the `AsyncFd` and closed only when
        // it drops.
        let pidfd = Arc::new(unsafe {
            AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE)?
        });
        let (tell, status) = watch::channel(None);
        tokio::spawn(reaper(pid as u32, pidfd.clone(), tell));
        let child = HardenedChild {
            pid: pid as u32,
            pidfd,
            status,
        };
        let output = Output {
            stdout: tokio::net::unix::pipe::Receiver::from_owned_fd(out_r)?,
            stderr: tokio::net::unix::pipe::Receiver::from_owned_fd(err_r)?,
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
        // SAFETY: pidfd_send_signal(2) on our own pidfd, which stays open
        // until both this and the reaper drop it, so it names this process
        // even once reaped (the kernel then answers ESRCH).
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.get_ref().as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        check(ret as libc::c_int).map(drop)
    }
}

impl Drop for HardenedChild {
    /// Kills it; its reaper reaps it.
    fn drop(&mut self) {
        let _ = self.start_kill();
    }
}

/// The nice value a new sandbox starts at: `sandbox_start_nice`, where
/// this server may give the priority back afterwards, else 0. Raising a
/// priority needs CAP_SYS_NICE (root has it) or an RLIMIT_NICE that allows
/// nice 0; without either, a sandbox started low would stay low.
fn start_nice(limits: &SandboxLimits) -> libc::c_int {
    static MAY_RAISE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let may_raise = *MAY_RAISE.get_or_init(|| {
        const CAP_SYS_NICE: u32 = 23;
        let cap = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let hex = s.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
                u64::from_str_radix(hex.trim(), 16).ok()
            })
            .is_some_and(|caps| caps & (1 << CAP_SYS_NICE) != 0);
        let mut nice = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let rlimit =
            unsafe { libc::getrlimit(libc::RLIMIT_NICE, &mut nice) } == 0 && nice.rlim_cur >= 20;
        cap || rlimit
    });
    match may_raise {
        true => limits.sandbox_start_nice.clamp(0, 19),
        false => 0,
    }
}

/// Gives a sandbox that started low (`start_nice`) the server's priority
/// back, every thread of it: nice is per thread on Linux, and Redis starts
/// its threads while it loads. Twice, for a thread started meanwhile by one
/// not yet raised.
pub(super) fn give_priority_back(pid: u32, limits: &SandboxLimits) {
    if start_nice(limits) == 0 {
        return;
    }
    for _ in 0..2 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for tid in tasks
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse::<u32>().ok())
        {
            // SAFETY: setpriority on a thread of our own child; a thread
            // gone meanwhile only makes it fail.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 0) };
        }
    }
}

/// Reaps on a thread of its own a child whose reaper task was dropped
/// before it could (the runtime that started the child ended first, as a
/// test's does at its end): no zombie is left behind either way. The
/// thread's wait ends when the process does (our SIGKILL, or the parent-
/// death signal when its creating thread ends).
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

/// The child, between clone and execve, on its own stack and the server's
/// memory. Only async-signal-safe system calls on `Plan`'s prepared values.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's `Plan`, alive and unchanged while the
    // parent is suspended by CLONE_VFORK.
    let plan = unsafe { &*(arg as *const Plan) };
    // SAFETY: each call is a plain system call on prepared values.
    unsafe {
        // The server's signal handlers would run on the server's memory:
        // back to the defaults before anything is unblocked.
        for signal in 1..=plan.last_signal {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction != libc::SIG_IGN
                && old.sa_sigaction != libc::SIG_DFL
            {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
        }
        // Its own session: a Ctrl-C to the backend's process group does not
        // reach sandboxes; the backend ends them itself.
        if libc::setsid() < 0 {
            fail(plan);
        }
        // If the backend dies without cleaning up, the kernel kills us.
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
            fail(plan);
        }
        // Killed (-9) after the clone and before the line above: nobody
        // would ever end this process, so it ends now.
        if libc::getppid() != plan.parent {
            libc::_exit(1);
        }
        if plan.start_nice != 0 && libc::setpriority(libc::PRIO_PROCESS, 0, plan.start_nice) < 0 {
            fail(plan);
        }
        for &(resource, value) in &plan.limits {
            let limit = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            if libc::setrlimit(resource, &limit) < 0 {
                fail(plan);
            }
        }
        if libc::dup2(plan.stdin, 0) < 0
            || libc::dup2(plan.stdout, 1) < 0
            || libc::dup2(plan.stderr, 2) < 0
            || libc::chdir(plan.cwd.as_ptr()) < 0
        {
            fail(plan);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &plan.mask, std::ptr::null_mut());
        libc::execve(plan.path.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
        fail(plan)
    }
}

/// In the child: leaves `errno` for the parent and exits.
unsafe fn fail(plan: &Plan) -> ! {
    // SAFETY: errno is this thread's; `_exit` ends the child at once.
    unsafe {
        plan.errno
            .store(*libc::__errno_location(), Ordering::Release);
        libc::_exit(127)
    }
}
