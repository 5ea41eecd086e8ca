//! The priority a new sandbox loads its engine at, and giving the
//! server's priority back once it has loaded.

use crate::limits::SandboxLimits;

/// The nice value a new sandbox starts at: `sandbox_start_nice`, where
/// this server may give the priority back afterwards, else 0. Raising a
/// priority needs CAP_SYS_NICE (root has it) or an RLIMIT_NICE that allows
/// nice 0; without either, a sandbox started low would stay low.
pub(super) fn start_nice(limits: &SandboxLimits) -> libc::c_int {
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
pub(in crate::sandbox) fn give_priority_back(pid: u32, limits: &SandboxLimits) {
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
