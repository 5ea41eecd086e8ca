//! Caps on open WebSockets, per session and per client address: every
//! socket may hold sandbox connections (a chart, a latency probe) and a
//! task, so a stranger must not open hundreds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SocketRefusal {
    #[error("This session already has {0} consoles open, the most allowed; close another tab or window of it first.")]
    PerSession(usize),
    #[error(
        "{0} consoles are already open from this address, the most allowed; close some tabs first."
    )]
    PerAddress(usize),
}

#[derive(Default)]
struct Open {
    by_session: HashMap<String, usize>,
    by_ip: HashMap<IpAddr, usize>,
}

/// Open sockets, counted under one lock so two at once cannot both slip
/// under a cap.
#[derive(Default)]
pub struct SocketCounts {
    open: Arc<Mutex<Open>>,
}

/// One admitted socket; hold it for the socket's life.
pub struct SocketPermit {
    open: Arc<Mutex<Open>>,
    session: String,
    ip: IpAddr,
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl SocketCounts {
    pub fn admit(
        &self,
        session: &str,
        ip: IpAddr,
        per_session: usize,
        per_ip: usize,
    ) -> Result<SocketPermit, SocketRefusal> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| SocketRefusal::PerAddress(per_ip))?;
        if open.by_session.get(session).copied().unwrap_or(0) >= per_session {
            return Err(SocketRefusal::PerSession(per_session));
        }
        if open.by_ip.get(&ip).copied().unwrap_or(0) >= per_ip {
            return Err(SocketRefusal::PerAddress(per_ip));
        }
        *open.by_session.entry(session.to_owned()).or_default() += 1;
        *open.by_ip.entry(ip).or_default() += 1;
        Ok(SocketPermit {
            open: self.open.clone(),
            session: session.to_owned(),
            ip,
        })
    }

    /// Sockets open for a session now.
    pub fn for_session(&self, session: &str) -> usize {
        self.open
            .lock()
            .map(|o| o.by_session.get(session).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            decrement(&mut open.by_session, &self.session);
            decrement(&mut open.by_ip, &self.ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn caps_sockets_per_session_and_frees_them_on_drop() {
        let counts = SocketCounts::default();
        let a = counts.admit("s", IP, 2, 10).unwrap();
        let _b = counts.admit("s", IP, 2, 10).unwrap();
        assert_eq!(
            counts.admit("s", IP, 2, 10).err(),
            Some(SocketRefusal::PerSession(2))
        );
        drop(a);
        assert!(counts.admit("s", IP, 2, 10).is_ok());
    }

    #[test]
    fn caps_sockets_per_address_across_sessions() {
        let counts = SocketCounts::default();
        let _a = counts.admit("s1", IP, 5, 2).unwrap();
        let _b = counts.admit("s2", IP, 5, 2).unwrap();
        assert_eq!(
            counts.admit("s3", IP, 5, 2).err(),
            Some(SocketRefusal::PerAddress(2))
        );
    }
}
