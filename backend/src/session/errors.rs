//! A session's recent errors, for the class board: how many in the last
//! five minutes and how many in a row. Kept beside the event stream
//! because every error passes through it once (`Session::emit`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The board's window for "errors in the last five minutes".
pub const ERROR_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Error times remembered at most: the board shows "this many or more".
const MAX_REMEMBERED: usize = 1_000;

#[derive(Debug, Default)]
pub struct ErrorLog {
    times: VecDeque<Instant>,
    streak: u32,
}

/// What the board reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    pub last_5m: u32,
    /// Errors since the last command that succeeded.
    pub in_a_row: u32,
}

impl ErrorLog {
    pub fn record(&mut self, is_error: bool, now: Instant) {
        if !is_error {
            self.streak = 0;
            return;
        }
        self.streak = self.streak.saturating_add(1);
        if self.times.len() == MAX_REMEMBERED {
            self.times.pop_front();
        }
        self.times.push_back(now);
    }

    pub fn counts(&mut self, now: Instant) -> ErrorCounts {
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > ERROR_WINDOW)
        {
            self.times.pop_front();
        }
        ErrorCounts {
            last_5m: u32::try_from(self.times.len()).unwrap_or(u32::MAX),
            in_a_row: self.streak,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_ends_the_streak_but_not_the_window() {
        let mut log = ErrorLog::default();
        let t = Instant::now();
        log.record(true, t);
        log.record(true, t);
        assert_eq!(
            log.counts(t),
            ErrorCounts {
                last_5m: 2,
                in_a_row: 2
            }
        );
        log.record(false, t);
        assert_eq!(
            log.counts(t),
            ErrorCounts {
                last_5m: 2,
                in_a_row: 0
            }
        );
    }

    #[test]
    fn errors_older_than_the_window_are_forgotten() {
        let mut log = ErrorLog::default();
        let t = Instant::now();
        log.record(true, t);
        let later = t + ERROR_WINDOW + Duration::from_secs(1);
        log.record(true, later);
        assert_eq!(log.counts(later).last_5m, 1);
    }
}
