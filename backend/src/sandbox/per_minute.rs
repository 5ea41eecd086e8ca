//! A per-address budget of events per minute (new sessions, resets): a
//! sliding one-minute window for each client address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct PerMinute {
    recent: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl PerMinute {
    /// Takes one event from `ip`'s budget of `limit` per minute; false
    /// (and nothing taken) when the budget is spent.
    pub fn take(&self, ip: IpAddr, limit: u32) -> bool {
        self.with_recent(ip, |times, now| {
            if times.len() >= limit as usize {
                return false;
            }
            times.push_back(now);
            true
        })
    }

    /// Whether `ip`'s budget of `limit` per minute is spent, taking
    /// nothing: for a budget that only failures spend (`take` after one).
    pub fn is_spent(&self, ip: IpAddr, limit: u32) -> bool {
        self.with_recent(ip, |times, _| times.len() >= limit as usize)
    }

    /// `f` on `ip`'s events of the last minute (older ones dropped, for
    /// every address).
    fn with_recent(
        &self,
        ip: IpAddr,
        f: impl FnOnce(&mut VecDeque<Instant>, Instant) -> bool,
    ) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        let now = Instant::now();
        recent.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < WINDOW);
            !times.is_empty()
        });
        f(recent.entry(ip).or_default(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_budget() {
        let budget = PerMinute::default();
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        assert!(budget.take(a, 2) && budget.take(a, 2));
        assert!(!budget.take(a, 2));
        assert!(budget.take(b, 2));
    }

    #[test]
    fn looking_takes_nothing() {
        let budget = PerMinute::default();
        let a = IpAddr::from([10, 0, 0, 1]);
        assert!(!budget.is_spent(a, 1));
        assert!(!budget.is_spent(a, 1));
        assert!(budget.take(a, 1));
        assert!(budget.is_spent(a, 1));
    }
}
