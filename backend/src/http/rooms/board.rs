//! `GET /api/rooms/{id}/board`: the store's facts about each member
//! (steps, tasks, scores, hands) joined with what only the live servers
//! know (errors in their console, whether a page of theirs is open and
//! follows: this node's in memory, the other nodes' from the control
//! store, see `live::facts`), and the summary strip above it.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::Json;
use protocol::{Board, BoardRow, BoardSummary};

use super::super::auth::BearerInstructor;
use super::super::HttpError;
use super::{facts, find};
use crate::classroom::RoomRules;
use crate::control::rooms::MemberFacts;
use crate::live::facts::Remote;
use crate::session::ErrorCounts;
use crate::state::AppState;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What the live server knows of one member.
#[derive(Debug, Clone, Copy, Default)]
struct LiveFacts {
    /// A console of theirs is open (a live session).
    console: bool,
    /// When their console was last used (Unix ms), if open.
    used_ms: Option<u64>,
    errors: ErrorCounts,
    online: bool,
    following: bool,
}

impl LiveFacts {
    /// This node's facts joined with other nodes' (a page there, or the
    /// console, or both): present anywhere is present, and the console's
    /// counts come from the node that holds it.
    fn with(self, remote: Option<&Remote>) -> LiveFacts {
        let Some(remote) = remote else { return self };
        LiveFacts {
            console: self.console || remote.console,
            used_ms: self.used_ms.max(remote.used_ms),
            errors: if self.console {
                self.errors
            } else {
                remote.errors
            },
            // A console on another node is not a page: present only if a
            // page is open somewhere.
            online: self.online || remote.page,
            following: self.following || remote.following,
        }
    }
}

/// Stuck: present (a console open) and either no new step for
/// `stuck_after` since they joined or last progressed, or
/// `stuck_errors` errors in a row. Someone who left is absent, not stuck.
fn is_stuck(rules: &RoomRules, facts: &MemberFacts, live: &LiveFacts, now: u64) -> bool {
    if !live.console {
        return false;
    }
    let since = facts.latest_ms.unwrap_or(0).max(facts.member.joined_ms);
    let quiet = Duration::from_millis(now.saturating_sub(since));
    live.errors.in_a_row >= rules.stuck_errors || quiet >= rules.stuck_after
}

fn summary(rows: &[BoardRow], facts: &[MemberFacts]) -> BoardSummary {
    let mut summary = BoardSummary::default();
    for row in rows {
        if let (Some(lesson), Some(step)) = (&row.lesson, &row.step) {
            *summary.steps.entry(format!("{lesson}#{step}")).or_default() += 1;
        }
    }
    for (lesson, task) in facts.iter().flat_map(|f| &f.passed) {
        *summary.tasks.entry(format!("{lesson}/{task}")).or_default() += 1;
    }
    summary
}

pub async fn board(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
) -> Result<Json<Board>, HttpError> {
    let room = find(&state, &id).await?;
    let raised: HashSet<String> = state
        .control
        .raised_hands(&room.id)
        .await?
        .into_iter()
        .map(|(learner, _)| learner)
        .collect();
    let live_room = state.classrooms.get(&room.id);
    // Learners whose pages are on other nodes.
    let elsewhere = state.classrooms.elsewhere(&state, &room.id).await;
    let now = now_ms();
    let facts = facts(&state, &room).await?;
    let learners: Vec<BoardRow> = facts
        .iter()
        .map(|f| {
            let session = state.sessions.for_learner(&f.member.learner);
            let (online, following) = live_room
                .as_ref()
                .map_or((false, false), |r| r.presence_of(&f.member.learner));
            let here = LiveFacts {
                console: session.is_some(),
                used_ms: session.as_ref().map(|s| {
                    now.saturating_sub(u64::try_from(s.idle_for().as_millis()).unwrap_or(0))
                }),
                errors: session.map(|s| s.error_counts()).unwrap_or_default(),
                online,
                following,
            };
            let live = here.with(elsewhere.get(&f.member.learner));
            let (lesson, step) = f.latest.clone().unzip();
            BoardRow {
                hand_raised: raised.contains(&f.member.learner),
                learner: f.member.learner.clone(),
                name: f.member.name.clone(),
                lesson,
                step,
                tasks_passed: f.tasks_passed,
                scores: f
                    .best
                    .iter()
                    .map(|(exercise, (score, max))| (exercise.clone(), format!("{score}/{max}")))
                    .collect(),
                last_active: f.seen_ms.max(live.used_ms.unwrap_or(0)),
                errors_5m: live.errors.last_5m,
                stuck: is_stuck(&state.rooms, f, &live, now),
                online: live.online,
                following: live.following,
            }
        })
        .collect();
    Ok(Json(Board {
        summary: summary(&learners, &facts),
        learners,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::rooms::Member;
    use crate::sandbox::per_minute::PerMinute;

    fn rules() -> RoomRules {
        RoomRules {
            idle: Duration::from_secs(3600),
            capacity: 10,
            joins_per_min: 10,
            join_budget: PerMinute::default(),
            stuck_after: Duration::from_secs(600),
            stuck_errors: 3,
        }
    }

    fn facts(joined_ms: u64, latest_ms: Option<u64>) -> MemberFacts {
        MemberFacts {
            member: Member {
                learner: "l".into(),
                name: "Ada".into(),
                joined_ms,
            },
            latest: None,
            latest_ms,
            steps_done: 0,
            first_step_ms: None,
            seen_ms: 0,
            tasks_passed: 0,
            passed: Vec::new(),
            best: Default::default(),
        }
    }

    #[test]
    fn stuck_needs_presence_and_either_quiet_or_an_error_streak() {
        let rules = rules();
        let present = LiveFacts {
            console: true,
            ..LiveFacts::default()
        };
        let now = 1_000_000;
        // Joined 5 minutes ago, no step: not yet.
        assert!(!is_stuck(
            &rules,
            &facts(now - 300_000, None),
            &present,
            now
        ));
        // Last step 11 minutes ago: stuck.
        assert!(is_stuck(
            &rules,
            &facts(0, Some(now - 660_000)),
            &present,
            now
        ));
        // Gone: absent, not stuck.
        assert!(!is_stuck(
            &rules,
            &facts(0, Some(0)),
            &LiveFacts::default(),
            now
        ));
        // Three errors in a row, just progressed: stuck.
        let failing = LiveFacts {
            console: true,
            errors: ErrorCounts {
                last_5m: 3,
                in_a_row: 3,
            },
            ..LiveFacts::default()
        };
        assert!(is_stuck(&rules, &facts(now, Some(now)), &failing, now));
    }
}
