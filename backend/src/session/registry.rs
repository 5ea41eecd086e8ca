//! All live sessions: creation under per-IP caps (or a room's admission),
//! lookup by id, idle and age reaping, and ending everything on shutdown.
//! The per-IP caps count
//! processes: a session being ended still counts until its sandbox is
//! confirmed dead. Also admits WebSockets under their caps, and resets
//! under the per-address reset budget.

mod counter;
mod give_way;
mod sockets;
mod visitor_pace;

use crate::control::learners::LearnerRef;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use protocol::Notice;

use super::Session;
use crate::sandbox::per_minute::PerMinute;
use crate::sandbox::{SandboxError, SandboxPool};
use counter::Counter;
pub use sockets::{SocketPermit, SocketRefusal};
use visitor_pace::VisitorPace;

/// How often the reaper looks for idle or old sessions.
const REAP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("You already have {0} sandboxes open from this address; close a tab or wait for an idle one to expire.")]
    PerIpLimit(usize),
    #[error("Too many new sandboxes from this address in the last minute (limit {0}); wait a minute and try again.")]
    PerIpRate(u32),
    #[error("A class is running on this server, so new visitors are let in {0} a second, and the line is long right now. Trying again in {secs} s (the page does it by itself).", secs = crate::limits::FULL_RETRY_AFTER_SECS)]
    ClassPace(u32),
    #[error(transparent)]
    Sockets(#[from] SocketRefusal),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

impl RegistryError {
    /// The stable code, the same over HTTP and the WebSocket.
    pub fn code(&self) -> protocol::ErrorCode {
        match self {
            RegistryError::PerIpLimit(_) => protocol::ErrorCode::TooManySandboxes,
            RegistryError::PerIpRate(_) => protocol::ErrorCode::SpawnRate,
            RegistryError::ClassPace(_) => protocol::ErrorCode::ServerFull,
            RegistryError::Sockets(_) => protocol::ErrorCode::TooManySockets,
            RegistryError::Sandbox(e) => e.code(),
        }
    }
}

/// What a new sandbox is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The client address's caps: sandboxes held, new ones a minute.
    PerAddress,
    /// A member of `room`, a room that has not ended. A class often sits
    /// behind one address (a campus NAT), and the room's capacity already
    /// bounded its roster at join, so the per-address caps do not apply;
    /// the host-wide ones (sandboxes, spawns a second) still do.
    Room { room: String },
}

pub struct SessionRegistry {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    recent_by_ip: PerMinute,
    /// Sessions removed whose sandbox is not yet confirmed dead, per IP.
    ending: Counter<IpAddr>,
    sockets: sockets::SocketCounts,
    pool: Arc<SandboxPool>,
    /// Data of learners whose sandbox gave way, until they return.
    parked: give_way::ParkedData,
    /// Visitors' turns to start a sandbox while a class is here.
    visitors: VisitorPace,
}

fn new_session_id() -> Result<String, SandboxError> {
    crate::secret::random_hex(32).map_err(|e| SandboxError::Spawn(format!("no randomness: {e}")))
}

impl SessionRegistry {
    pub fn new(pool: Arc<SandboxPool>) -> Arc<SessionRegistry> {
        Arc::new(SessionRegistry {
            sessions: RwLock::new(HashMap::new()),
            recent_by_ip: PerMinute::default(),
            ending: Counter::default(),
            sockets: sockets::SocketCounts::default(),
            pool,
            parked: give_way::ParkedData::default(),
            visitors: VisitorPace::default(),
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

    /// Sandboxes held for `ip`: live sessions plus ended ones whose
    /// process is not yet confirmed dead.
    fn count_for(&self, ip: IpAddr) -> usize {
        let live = self
            .sessions
            .read()
            .map(|s| s.values().filter(|x| x.client_ip == ip).count())
            .unwrap_or(0);
        live + self.ending.get(&ip)
    }

    fn check_ip_rate(&self, ip: IpAddr) -> Result<(), RegistryError> {
        let limit = self.pool.spec().limits.spawns_per_min_per_ip;
        if self.recent_by_ip.take(ip, limit) {
            Ok(())
        } else {
            Err(RegistryError::PerIpRate(limit))
        }
    }

    /// A new session with its own sandbox, for a client at `ip`.
    pub async fn create(&self, ip: IpAddr) -> Result<Arc<Session>, RegistryError> {
        self.create_for(ip, None, Admission::PerAddress).await
    }

    /// A session for `learner`: their live one if they have one (a second
    /// tab or device takes it over instead of spending another sandbox),
    /// else a new one under `admission`.
    pub async fn create_for(
        &self,
        ip: IpAddr,
        learner: Option<LearnerRef>,
        admission: Admission,
    ) -> Result<Arc<Session>, RegistryError> {
        if let Some(who) = &learner {
            if let Some(session) = self.for_learner(&who.id) {
                session.touch();
                if let Admission::Room { room } = &admission {
                    session.admit_to_room(room);
                }
                return Ok(session);
            }
        }
        match &admission {
            Admission::PerAddress => {
                let per_ip = self.pool.spec().limits.sandboxes_per_ip;
                if self.count_for(ip) >= per_ip {
                    return Err(RegistryError::PerIpLimit(per_ip));
                }
                self.pace_visitor().await?;
                self.check_ip_rate(ip)?;
            }
            Admission::Room { room } => {
                tracing::debug!(room = %room.get(..8).unwrap_or(room), "admitted by room");
            }
        }
        let id = new_session_id()?;
        let session = Arc::new(Session::start(id.clone(), ip, self.pool.clone(), learner).await?);
        self.bring_back(&session).await;
        if let Admission::Room { room } = &admission {
            session.admit_to_room(room);
        }
        if let Ok(mut sessions) = self.sessions.write() {
            sessions.insert(id, session.clone());
        }
        Ok(session)
    }

    /// Session `id` brought back on this node with a fresh sandbox: its
    /// node stopped (another node's directory said so). The learner was
    /// admitted where it lived, so no per-address cap applies again; the
    /// host-wide ones do. `notice` waits for the first reply or console.
    pub async fn adopt(
        &self,
        id: String,
        ip: IpAddr,
        learner: Option<LearnerRef>,
        room: Option<String>,
        notice: Notice,
    ) -> Result<Arc<Session>, RegistryError> {
        if let Some(session) = self.get(&id) {
            return Ok(session);
        }
        let session = Arc::new(Session::start(id.clone(), ip, self.pool.clone(), learner).await?);
        session.greet_by(notice, super::Greeting::FirstOf);
        if let Some(room) = &room {
            session.admit_to_room(room);
        }
        if let Ok(mut sessions) = self.sessions.write() {
            sessions.insert(id, session.clone());
        }
        Ok(session)
    }

    /// Sessions admitted by a room, with the room's id.
    pub fn room_members(&self) -> Vec<(String, Arc<Session>)> {
        self.sessions
            .read()
            .map(|sessions| {
                sessions
                    .values()
                    .filter_map(|s| Some((s.room()?, s.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether session `id` lives here (without marking it used).
    pub fn holds(&self, id: &str) -> bool {
        self.sessions.read().is_ok_and(|s| s.contains_key(id))
    }

    /// A session by its id, marked as used.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.sessions.read().ok()?.get(id).cloned()?;
        session.touch();
        Some(session)
    }

    /// The live session of learner `learner`, if any, without marking it
    /// used (the class board and a watching instructor only look).
    pub fn for_learner(&self, learner: &str) -> Option<Arc<Session>> {
        self.sessions.read().ok().and_then(|sessions| {
            sessions
                .values()
                .find(|s| s.learner().is_some_and(|l| l.id == learner))
                .cloned()
        })
    }

    /// Ends a session and its sandbox.
    pub async fn remove(&self, id: &str) -> bool {
        let removed = self.sessions.write().ok().and_then(|mut s| s.remove(id));
        let Some(session) = removed else {
            return false;
        };
        // The session keeps counting against its address until its process
        // is dead, and the ending runs in its own task: a caller that gives
        // up (a client closing the DELETE request) cannot leave it half done.
        let ending = self.ending.enter(session.client_ip);
        let close = tokio::spawn(async move {
            session.close().await;
            drop(ending);
        });
        let _ = close.await;
        true
    }

    /// A fresh sandbox for `session`, charged to its address's reset budget
    /// (`resets_per_min_per_ip`). HTTP's reset route and the WebSocket's
    /// `reset` message both come here.
    pub async fn reset(&self, session: &Session) -> Result<Notice, RegistryError> {
        self.pace_reset(session).await?;
        self.pool.take_respawn(session.client_ip)?;
        Ok(session.reset().await?)
    }

    /// `reset`, announced with the caller's words (Start fresh).
    pub async fn reset_saying(
        &self,
        session: &Session,
        kind: protocol::NoticeKind,
        message: String,
    ) -> Result<Notice, RegistryError> {
        self.pace_reset(session).await?;
        self.pool.take_respawn(session.client_ip)?;
        Ok(session.reset_saying(kind, message).await?)
    }

    /// Whether a class is on this node: a session admitted by a room.
    fn class_here(&self) -> bool {
        self.sessions
            .read()
            .is_ok_and(|s| s.values().any(|x| x.room_admitted()))
    }

    /// A visitor's turn to start a sandbox: at once when no class is
    /// here, else paced (`class_visitor_spawns_per_sec`, 0 for no pace),
    /// waiting at most `admission_wait_secs` in line.
    async fn pace_visitor(&self) -> Result<(), RegistryError> {
        let limits = &self.pool.spec().limits;
        let per_sec = limits.class_visitor_spawns_per_sec;
        if per_sec == 0 || !self.class_here() {
            return Ok(());
        }
        let interval = Duration::from_secs(1) / per_sec;
        self.visitors
            .wait_turn(interval, Duration::from_secs(limits.admission_wait_secs))
            .await
            .map_err(|()| RegistryError::ClassPace(per_sec))
    }

    /// A visitor's reset starts a sandbox too, so it takes a turn; a room
    /// member's does not.
    async fn pace_reset(&self, session: &Session) -> Result<(), RegistryError> {
        if session.room_admitted() {
            return Ok(());
        }
        self.pace_visitor().await
    }

    /// Admits one WebSocket for `session` from `peer`, under the per-session
    /// and per-address caps; hold the permit for the socket's life.
    /// A room member's sockets are held to the per-session cap only: the
    /// whole class may sit behind one address.
    pub fn admit_socket(&self, session: &str, peer: IpAddr) -> Result<SocketPermit, RegistryError> {
        let limits = &self.pool.spec().limits;
        let in_room = self.get(session).is_some_and(|s| s.room_admitted());
        let per_ip = if in_room {
            usize::MAX
        } else {
            limits.sockets_per_ip
        };
        Ok(self
            .sockets
            .admit(session, peer, limits.sockets_per_session, per_ip)?)
    }

    /// WebSockets open for a session now.
    pub fn sockets_for(&self, session: &str) -> usize {
        self.sockets.for_session(session)
    }

    /// Ends sessions idle or alive too long; returns how many.
    pub async fn reap_once(&self) -> usize {
        self.give_way().await;
        let limits = &self.pool.spec().limits;
        let expired: Vec<String> = self
            .sessions
            .read()
            .map(|s| {
                s.values()
                    .filter(|x| {
                        let abandoned = x.had_socket()
                            && self.sockets.for_session(&x.id) == 0
                            && x.idle_for() > limits.abandoned();
                        abandoned || x.idle_for() > limits.idle() || x.age() > limits.max_age()
                    })
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
