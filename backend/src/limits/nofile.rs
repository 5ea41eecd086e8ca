//! The server's own open-files limit. Each learner costs about 6.6 file
//! descriptors (the WebSocket, the sandbox's two connections, the child's
//! two pipes and its pidfd, the learner's HTTP keep-alive connection), so
//! the common soft default of 1,024 refuses connections at about 150
//! learners while the hard limit usually allows far more. At start-up the
//! soft limit is raised to the hard one; only root could go further.

/// The soft limit before and after, and the hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nofile {
    pub soft_before: u64,
    pub soft: u64,
    pub hard: u64,
}

impl Nofile {
    /// Learners the soft limit holds, at `FDS_PER_LEARNER` each.
    pub fn learners(&self) -> u64 {
        self.soft * 10 / FDS_PER_LEARNER_X10
    }
}

/// File descriptors per learner, times ten (6.6, measured at 500 learners;
/// docs/benchmarks.md).
const FDS_PER_LEARNER_X10: u64 = 66;

#[derive(Debug, thiserror::Error)]
pub enum NofileError {
    #[error("cannot read RLIMIT_NOFILE: {0}")]
    Read(std::io::Error),
    #[error("cannot raise RLIMIT_NOFILE from {soft} to {hard}: {error}")]
    Raise {
        soft: u64,
        hard: u64,
        error: std::io::Error,
    },
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit.
#[allow(unsafe_code)]
pub fn raise_to_hard() -> Result<Nofile, NofileError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes one `rlimit` into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(NofileError::Read(std::io::Error::last_os_error()));
    }
    let (soft_before, hard) = (limit.rlim_cur, limit.rlim_max);
    if soft_before < hard {
        limit.rlim_cur = hard;
        // SAFETY: setrlimit(2) reads one `rlimit` from the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(NofileError::Raise {
                soft: soft_before,
                hard,
                error: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(Nofile {
        soft_before,
        soft: soft_before.max(hard),
        hard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let raised = raise_to_hard().expect("the hard limit is always allowed");
        assert_eq!(raised.soft, raised.hard);
        assert!(raised.soft >= raised.soft_before);
    }
}
