//! On a full host with learners waiting in line, the learner idle longest
//! gives way: their data is saved (`session/park.rs`), their session ends
//! and its slot goes to the first in line. When they come back (their
//! browser reconnects with their learner token), the new sandbox gets the
//! data back and the learner is told, in the first notice of their
//! console.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::{Notice, NoticeKind};

use super::SessionRegistry;
use crate::session::park::{self, Parked};
use crate::session::Session;

/// Learners' data kept while they are away, by learner id. In memory:
/// a server restart ends every sandbox anyway.
#[derive(Default)]
pub struct ParkedData {
    by_learner: Mutex<HashMap<String, Parked>>,
}

impl SessionRegistry {
    /// The idlest learner session past `give_way_idle_secs`, if anyone
    /// waits for a sandbox.
    fn idlest(&self) -> Option<Arc<Session>> {
        if self.pool.waiting() == 0 {
            return None;
        }
        let idle_enough = Duration::from_secs(self.pool.spec().limits.give_way_idle_secs);
        let sessions = self.sessions.read().ok()?;
        sessions
            .values()
            // Only a learner can come back for their data.
            .filter(|s| s.learner().is_some() && s.idle_for() >= idle_enough)
            .max_by_key(|s| s.idle_for())
            .cloned()
    }

    /// One idle learner gives way to someone waiting (called each reap).
    pub(super) async fn give_way(&self) {
        let Some(session) = self.idlest() else { return };
        let Some(learner) = session.learner().map(|l| l.id.clone()) else {
            return;
        };
        let saved = match session.sandbox_connection().await {
            Ok(mut conn) => park::save(&mut conn).await,
            Err(e) => Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "no connection to the sandbox",
                e.to_string(),
            ))),
        };
        match saved {
            Ok(parked) => {
                tracing::info!(
                    session = %&session.id[..8],
                    keys = parked.key_count(),
                    "idle session gives way to a waiting learner"
                );
                if let Ok(mut by_learner) = self.parked.by_learner.lock() {
                    by_learner.insert(learner, parked);
                }
                self.remove(&session.id).await;
            }
            // Not saved, not ended: nothing of theirs is lost.
            Err(e) => tracing::warn!("an idle session could not be saved to give way: {e}"),
        }
    }

    /// A returning learner's saved data, put into their new sandbox.
    pub(super) async fn bring_back(&self, session: &Session) {
        let Some(learner) = session.learner() else {
            return;
        };
        let parked = self
            .parked
            .by_learner
            .lock()
            .ok()
            .and_then(|mut by| by.remove(&learner.id));
        let Some(parked) = parked else { return };
        let message = match session.sandbox_connection().await {
            Ok(mut conn) => park::restore(&mut conn, &parked).await,
            Err(e) => format!("Your saved data could not be put back ({e}); run the lesson's blocks again to rebuild it."),
        };
        session.greet(Notice {
            kind: NoticeKind::Info,
            message,
        });
    }
}
