//! All live sessions: creation under per-IP caps, lookup by id, idle and
//! age reaping, and ending everything on shutdown.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::Session;
use crate::sandbox::{SandboxError, SandboxPool};

/// How often the reaper looks for idle or old sessions.
const REAP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("You already have {0} sandboxes open from this address; close a tab or wait for an idle one to expire.")]
    PerIpLimit(usize),
    #[error("Too many new sandboxes from this address in the last minute (limit {0}); wait a minute and try again.")]
    PerIpRate(u32),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

pub struct SessionRegistry {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    recent_by_ip: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    pool: Arc<SandboxPool>,
}

fn new_session_id() -> Result<String, SandboxError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SandboxError::Spawn(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl SessionRegistry {
    pub fn new(pool: Arc<SandboxPool>) -> Arc<SessionRegistry> {
        Arc::new(SessionRegistry {
            sessions: RwLock::new(HashMap::new()),
            recent_by_ip: Mutex::new(HashMap::new()),
            pool,
        })
    }

    pub fn pool(&self) -> &Arc<SandboxPool> {
        &self.pool
    }

    pub fn len(&self) -> usize {
        self.sessions.read().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn count_for(&self, ip: IpAddr) -> usize {
        self.sessions
            .read()
            .map(|s| s.values().filter(|x| x.client_ip == ip).count())
            .unwrap_or(0)
    }

    fn check_ip_rate(&self, ip: IpAddr) -> Result<(), RegistryError> {
        let limit = self.pool.spec().limits.spawns_per_min_per_ip;
        let mut recent = self
            .recent_by_ip
            .lock()
            .map_err(|_| RegistryError::PerIpRate(limit))?;
        let now = Instant::now();
        recent.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
            !times.is_empty()
        });
        let times = recent.entry(ip).or_default();
        if times.len() >= limit as usize {
            return Err(RegistryError::PerIpRate(limit));
        }
        times.push_back(now);
        Ok(())
    }

    /// A new session with its own sandbox, for a client at `ip`.
    pub async fn create(&self, ip: IpAddr) -> Result<Arc<Session>, RegistryError> {
        let per_ip = self.pool.spec().limits.sandboxes_per_ip;
        if self.count_for(ip) >= per_ip {
            return Err(RegistryError::PerIpLimit(per_ip));
        }
        self.check_ip_rate(ip)?;
        let id = new_session_id()?;
        let session = Arc::new(Session::start(id.clone(), ip, self.pool.clone()).await?);
        if let Ok(mut sessions) = self.sessions.write() {
            sessions.insert(id, session.clone());
        }
        Ok(session)
    }

    /// A session by its id, marked as used.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.sessions.read().ok()?.get(id).cloned()?;
        session.touch();
        Some(session)
    }

    /// Ends a session and its sandbox.
    pub async fn remove(&self, id: &str) -> bool {
        let removed = self.sessions.write().ok().and_then(|mut s| s.remove(id));
        match removed {
            Some(session) => {
                session.close().await;
                true
            }
            None => false,
        }
    }

    /// Ends sessions idle or alive too long; returns how many.
    pub async fn reap_once(&self) -> usize {
        let limits = &self.pool.spec().limits;
        let expired: Vec<String> = self
            .sessions
            .read()
            .map(|s| {
                s.values()
                    .filter(|x| x.idle_for() > limits.idle() || x.age() > limits.max_age())
                    .map(|x| x.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for id in &expired {
            tracing::info!(session = %&id[..8], "reaping idle or expired session");
            self.remove(id).await;
        }
        expired.len()
    }

    pub fn start_reaper(self: &Arc<Self>) {
        let registry = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REAP_EVERY);
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                registry.reap_once().await;
            }
        });
    }

    /// Ends every session and the warm pool: no process left behind.
    pub async fn shutdown(&self) {
        let all: Vec<Arc<Session>> = self
            .sessions
            .write()
            .map(|mut s| s.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for session in all {
            session.close().await;
        }
        self.pool.shutdown().await;
    }
}
