//! Sending a signal to a process this server started (a sandbox, the
//! control store): the one `kill(2)` of the server, so its unsafe block is
//! read in one place.

/// Sends `signal` to `pid`; a pid that does not fit, or a process that is
/// already gone, is ignored.
#[allow(unsafe_code)]
pub fn send(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}
