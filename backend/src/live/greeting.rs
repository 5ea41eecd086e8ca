//! Room sockets that have not said `hello` yet, counted per client
//! address. Until its hello a socket speaks for nobody, so no per-learner
//! cap holds it; each waits up to its hello deadline (10 s). Without a cap
//! one address could open them without end, each an fd and a task. The
//! cap is a room's capacity (`--room-capacity`): a whole class behind one
//! address may be connecting at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Greetings {
    by_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One socket's place among its address's waiting sockets, given back
/// when dropped (after the hello, or when the socket ends).
pub struct Greeting {
    greetings: Arc<Greetings>,
    ip: IpAddr,
}

impl Greetings {
    /// A place for one more socket from `ip`, unless `cap` are waiting.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<Greeting> {
        let mut by_ip = self.by_ip.lock().ok()?;
        let waiting = by_ip.entry(ip).or_default();
        if *waiting >= cap {
            return None;
        }
        *waiting += 1;
        Some(Greeting {
            greetings: self.clone(),
            ip,
        })
    }

    /// Sockets from `ip` waiting for their hello now.
    pub fn waiting(&self, ip: IpAddr) -> usize {
        self.by_ip
            .lock()
            .map(|by_ip| by_ip.get(&ip).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Greeting {
    fn drop(&mut self) {
        if let Ok(mut by_ip) = self.greetings.by_ip.lock() {
            if let Some(waiting) = by_ip.get_mut(&self.ip) {
                *waiting -= 1;
                if *waiting == 0 {
                    by_ip.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;

    use super::Greetings;

    #[test]
    fn each_address_waits_up_to_its_cap_and_places_come_back() {
        let greetings = Arc::new(Greetings::default());
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        let first = greetings.admit(a, 2).unwrap();
        let _second = greetings.admit(a, 2).unwrap();
        assert!(greetings.admit(a, 2).is_none());
        assert!(greetings.admit(b, 2).is_some());
        drop(first);
        assert!(greetings.admit(a, 2).is_some());
    }
}
