//! The one audited `pre_exec` every sandbox process passes through between
//! fork and exec: its own session, death with the backend, and rlimits.
//! Kept apart so the only unsafe code of the sandbox is read in one place.
//!
//! The memory cgroup is not joined here: moving a process between cgroups
//! takes the kernel milliseconds (0.6–15 ms, about 5 on average, measured
//! here), and the forking thread, a runtime worker, waits for `pre_exec` to
//! finish, holding up every console on that worker. `process.rs` moves the
//! child from the blocking pool instead, before anyone can use the sandbox.

use tokio::process::Command;

use crate::limits::SandboxLimits;

/// Per-process limits, applied in the child between fork and exec.
#[allow(unsafe_code)]
pub(super) fn harden(command: &mut Command, limits: &SandboxLimits) {
    let address_space = limits.rlimit_as_mb * 1024 * 1024;
    let nofile = limits.rlimit_nofile;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only async-signal-safe functions (setsid, prctl, setrlimit); it
    // allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(move || {
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
