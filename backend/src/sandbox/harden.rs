//! The one audited `pre_exec` every sandbox process passes through between
//! fork and exec: its memory cgroup, its own session, death with the
//! backend, and rlimits. Kept apart so the only unsafe code of the sandbox
//! is read in one place.

use std::ffi::CString;

use tokio::process::Command;

use crate::limits::SandboxLimits;

/// Per-process limits, applied in the child between fork and exec.
#[allow(unsafe_code)]
pub(super) fn harden(command: &mut Command, limits: &SandboxLimits, cgroup_procs: Option<CString>) {
    let address_space = limits.rlimit_as_mb * 1024 * 1024;
    let nofile = limits.rlimit_nofile;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only async-signal-safe functions (open, write, close, setsid,
    // setrlimit, prctl); it allocates nothing and touches no locks (the
    // cgroup path was made before the fork).
    unsafe {
        command.pre_exec(move || {
            // Join the sandbox's memory cgroup first, so every byte Redis
            // ever allocates is charged to it ("0" means this process).
            if let Some(procs) = &cgroup_procs {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let error = std::io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(error);
                }
            }
            // Its own session: a Ctrl-C to the backend's process group does
            // not reach sandboxes; the backend ends them itself.
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // If the backend dies without cleaning up, the kernel kills us.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let set = |resource, value: u64| {
                let limit = libc::rlimit {
                    rlim_cur: value,
                    rlim_max: value,
                };
                if libc::setrlimit(resource, &limit) < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(())
                }
            };
            set(libc::RLIMIT_CORE, 0)?;
            // Redis never needs to write a file here (no persistence).
            set(libc::RLIMIT_FSIZE, 0)?;
            set(libc::RLIMIT_NOFILE, nofile)?;
            set(libc::RLIMIT_AS, address_space)?;
            Ok(())
        });
    }
}
