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
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        let now = Instant::now();
        recent.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < WINDOW);
            !times.is_empty()
        });
        let times = recent.entry(ip).or_default();
        if times.len() >= limit as usize {
            return false;
        }
        times.push_back(now);
        true
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
}
