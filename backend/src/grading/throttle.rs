//! One grading run per learner every `GRADE_EVERY`: grading starts a
//! sandbox and drives real traffic, so it is paced like spawning is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often one learner (or session) may grade.
pub const GRADE_EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Throttle {
    last: Mutex<HashMap<String, Instant>>,
}

impl Throttle {
    /// Takes the turn of `who`, or says how long until their next one.
    pub fn take(&self, who: &str) -> Result<(), Duration> {
        let Ok(mut last) = self.last.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        last.retain(|_, at| now.duration_since(*at) < GRADE_EVERY);
        if let Some(at) = last.get(who) {
            return Err(GRADE_EVERY.saturating_sub(now.duration_since(*at)));
        }
        last.insert(who.to_owned(), now);
        Ok(())
    }

    /// Gives a turn back: a run the grader could not carry out (an
    /// `error`) does not count as an attempt.
    pub fn give_back(&self, who: &str) {
        if let Ok(mut last) = self.last.lock() {
            last.remove(who);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_per_period_and_errors_give_it_back() {
        let throttle = Throttle::default();
        assert!(throttle.take("a").is_ok());
        assert!(throttle.take("a").is_err());
        assert!(throttle.take("b").is_ok());
        throttle.give_back("a");
        assert!(throttle.take("a").is_ok());
    }
}
