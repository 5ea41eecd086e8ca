//! "Reset all": every member of a room gets a fresh sandbox with a
//! lesson's starting data, wherever their session lives. This node resets
//! the members it holds; every other live node is asked to reset its own
//! over the internal hop (`POST /internal/rooms/{id}/reset`), and the
//! counts are added up for the instructor.

use std::sync::Arc;

use protocol::NoticeKind;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::control::StoreError;
use crate::lessons::runner;
use crate::session::Session;
use crate::state::AppState;

/// Sandboxes reset at once when the instructor resets the class: enough
/// to finish a class of 200 in seconds, few enough that the learners
/// still typing keep their share of two cores.
const RESETS_AT_ONCE: usize = 4;

/// What one node is asked to reset.
#[derive(Debug, Serialize, Deserialize)]
pub struct ResetRequest {
    pub lesson: String,
}

/// What one node reset.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ResetCounts {
    pub count: u32,
    pub failed: u32,
}

/// Every member on every live node: (reset, failed). A node that does not
/// answer counts nothing; its learners get a fresh sandbox anyway when
/// they are re-homed.
pub async fn everywhere(
    state: &AppState,
    room: &str,
    lesson: &str,
) -> Result<(u32, u32), StoreError> {
    let mine = here(state, room, lesson).await?;
    let mut total = (mine.count, mine.failed);
    let Some(cluster) = &state.cluster else {
        return Ok(total);
    };
    let path = format!("/internal/rooms/{room}/reset");
    let request = ResetRequest {
        lesson: lesson.to_owned(),
    };
    let mut asks = JoinSet::new();
    for node in cluster.nodes().into_iter().filter(|n| n.id != cluster.id) {
        let (cluster, path, body) = (
            cluster.clone(),
            path.clone(),
            serde_json::to_vec(&request).unwrap_or_default(),
        );
        asks.spawn(async move {
            let answer = cluster.ask::<ResetCounts>(&node, &path, body).await;
            (node.id, answer)
        });
    }
    while let Some(Ok((node, answer))) = asks.join_next().await {
        match answer {
            Ok(counts) => {
                total.0 += counts.count;
                total.1 += counts.failed;
            }
            Err(e) => tracing::warn!(%node, "reset all did not reach a node: {e}"),
        }
    }
    Ok(total)
}

/// The members whose session this node holds. The instructor's reset is
/// not charged to the class's per-address reset budget; the pool's
/// host-wide spawn pace still holds.
pub async fn here(state: &AppState, room: &str, lesson: &str) -> Result<ResetCounts, StoreError> {
    let sessions: Vec<Arc<Session>> = state
        .control
        .roster(room)
        .await?
        .iter()
        .filter_map(|m| state.sessions.for_learner(&m.learner))
        .collect();
    let title = state
        .course
        .find(lesson)
        .map_or_else(|| lesson.to_owned(), |l| l.meta.title.clone());
    let permits = Arc::new(tokio::sync::Semaphore::new(RESETS_AT_ONCE));
    let mut resets = JoinSet::new();
    for session in sessions {
        let (state, permits, lesson) = (state.clone(), permits.clone(), lesson.to_owned());
        let message = format!("Your instructor reset your sandbox to the start of “{title}”.");
        resets.spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            session
                .reset_saying(NoticeKind::Reset, message)
                .await
                .ok()?;
            let lesson = state.course.find(&lesson)?;
            runner::open_lesson(&state.gateway, &session, lesson)
                .await
                .ok()
        });
    }
    let mut counts = ResetCounts::default();
    while let Some(outcome) = resets.join_next().await {
        match outcome {
            Ok(Some(_)) => counts.count += 1,
            _ => counts.failed += 1,
        }
    }
    Ok(counts)
}
