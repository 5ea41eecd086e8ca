//! The one audited place where a sandbox process is created: its own
//! session, death with the backend, and rlimits, applied in the child
//! before it runs Redis. Kept apart so the only unsafe code of the sandbox
//! is read in one place: here, and in its two parts, `harden/child.rs`
//! (the handle, killing and reaping) and `harden/priority.rs`.
//!
//! The child is made with `clone(CLONE_VM | CLONE_VFORK)`, as
//! `posix_spawn` does, not with `fork`: a fork copies the page tables of
//! the whole server (40–60 MiB resident in a class) and holds its memory
//! map locked while it does, and the forking runtime worker stalls
//! 1.2–2.1 ms (measured with `perf trace` while visitors arrived two a
//! second); every class line in flight waited with it. Here the child
//! borrows the server's memory until it calls `execve`, and the server's
//! pages are never marked copy-on-write. The thread that waits for that
//! `execve` is the spawner thread (`spawner.rs`), not a runtime worker.
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
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::limits::SandboxLimits;

mod child;
mod priority;

pub(super) use child::{Cloned, HardenedChild};
pub(super) use priority::give_priority_back;
use priority::start_nice;

/// The child's stack until `execve`: a few system calls need little.
const CHILD_STACK: usize = 64 * 1024;

/// What to run: the binary, its `argv[0]` and arguments, and where.
pub(super) struct Program<'a> {
    pub path: &'a Path,
    pub arg0: &'a str,
    pub args: &'a [&'a OsStr],
    pub cwd: &'a Path,
}

/// Everything the child reads, prepared by the parent; the child only
/// reads it, and writes `errno` when `execve` fails.
struct Plan {
    path: *const libc::c_char,
    argv: Vec<*const libc::c_char>,
    envp: [*const libc::c_char; 1],
    cwd: *const libc::c_char,
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

/// A child's program and limits as owned values, prepared on the caller's
/// thread and sent to the spawner thread (`spawner.rs`), which makes the
/// child from them.
pub(super) struct Prepared {
    path: CString,
    args: Vec<CString>,
    cwd: CString,
    limits: [(libc::__rlimit_resource_t, libc::rlim_t); 4],
    start_nice: libc::c_int,
}

impl Prepared {
    pub fn new(program: &Program<'_>, limits: &SandboxLimits) -> std::io::Result<Prepared> {
        let mut args = vec![cstring(program.arg0.as_bytes())?];
        for arg in program.args {
            args.push(cstring(arg.as_bytes())?);
        }
        Ok(Prepared {
            path: cstring(program.path.as_os_str().as_bytes())?,
            args,
            cwd: cstring(program.cwd.as_os_str().as_bytes())?,
            limits: [
                (libc::RLIMIT_CORE, 0),
                // Redis never needs to write a file here (no persistence).
                (libc::RLIMIT_FSIZE, 0),
                (libc::RLIMIT_NOFILE, limits.rlimit_nofile),
                (libc::RLIMIT_AS, limits.rlimit_as_mb * 1024 * 1024),
            ],
            start_nice: start_nice(limits),
        })
    }
}

/// Makes the child of `prepared`, stdin from /dev/null and its output into
/// pipes, on the calling thread, which is suspended until the child has
/// called `execve`. That thread must outlive the child:
/// `PR_SET_PDEATHSIG` follows the thread that created it. The spawner
/// thread, which lives as long as the server, is the one caller.
pub(super) fn clone_child(prepared: &Prepared) -> std::io::Result<Cloned> {
    let mut argv: Vec<*const libc::c_char> = prepared.args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let null = std::fs::File::options()
        .read(true)
        .open("/dev/null")
        .map(OwnedFd::from)?;
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let mut plan = Plan {
        path: prepared.path.as_ptr(),
        argv,
        envp: [std::ptr::null()],
        cwd: prepared.cwd.as_ptr(),
        stdin: null.as_raw_fd(),
        stdout: out_w.as_raw_fd(),
        stderr: err_w.as_raw_fd(),
        limits: prepared.limits,
        // SAFETY: an all-zero sigset_t is a valid value to be filled.
        mask: unsafe { std::mem::zeroed() },
        last_signal: libc::SIGRTMAX(),
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        start_nice: prepared.start_nice,
        errno: AtomicI32::new(0),
    };
    let mut stack = vec![0u8; CHILD_STACK];
    let mut pidfd: libc::c_int = -1;
    // SAFETY: all signals are blocked around clone so that no handler of
    // the server runs on the child's borrowed memory (the child resets
    // them before unblocking). The child runs `child` on `stack`, which
    // outlives it (CLONE_VFORK suspends this thread until the child has
    // exec'd or exited), and reads `plan` and `prepared`, which live here
    // as long.
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
    Ok(Cloned::new(pid as u32, pidfd, out_r, err_r))
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
            || libc::chdir(plan.cwd) < 0
        {
            fail(plan);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &plan.mask, std::ptr::null_mut());
        libc::execve(plan.path, plan.argv.as_ptr(), plan.envp.as_ptr());
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
