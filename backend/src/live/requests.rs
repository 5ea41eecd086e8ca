//! What a room socket may ask, by role, and the answer to each: one
//! `match` with an arm per message. A learner asking for an instructor's
//! power gets `forbidden` and a sentence; it never reaches the handler.

use std::net::IpAddr;
use std::sync::Arc;

use protocol::{
    ErrorBody, ErrorCode, Place, RoomClientMessage as C, RoomServerMessage as S, SessionEvent,
};
use tokio::sync::{broadcast, mpsc};

use super::socket::Who;
use super::{LiveError, LiveRoom};
use crate::state::AppState;

/// One socket's requests: who asks, in which room, and the learner it
/// watches (instructor only).
pub struct Requests {
    state: AppState,
    room: Arc<LiveRoom>,
    who: Who,
    ip: IpAddr,
    pub watching: Option<(String, broadcast::Receiver<SessionEvent>)>,
}

fn error(seq: u64, code: ErrorCode, message: impl Into<String>) -> S {
    S::Error {
        seq,
        error: ErrorBody::new(code, message),
    }
}

fn answer(seq: u64, done: Result<(), LiveError>) -> S {
    match done {
        Ok(()) => S::Ack { seq },
        Err(e) => error(seq, e.code(), e.to_string()),
    }
}

impl Requests {
    pub fn new(state: AppState, room: Arc<LiveRoom>, who: Who, ip: IpAddr) -> Requests {
        Requests {
            state,
            room,
            who,
            ip,
            watching: None,
        }
    }

    /// The answer to `message`, now, or later on `later` (a class reset).
    pub async fn handle(&mut self, message: C, later: &mpsc::Sender<S>) -> Option<S> {
        let seq = seq_of(&message);
        let learner = match &self.who {
            Who::Learner(learner) => Some(learner.id.clone()),
            Who::Instructor => None,
        };
        if learner.is_some() && !matches!(message, C::Ping { .. } | C::Follow { .. }) {
            return Some(error(
                seq,
                ErrorCode::Forbidden,
                "Only the instructor can steer the class.",
            ));
        }
        Some(match message {
            C::Hello { .. } => error(
                seq,
                ErrorCode::ProtocolViolation,
                "Hello is sent once, first.",
            ),
            C::Ping { seq } => S::Ack { seq },
            C::Follow { seq, on } => match learner {
                Some(learner) => {
                    self.room.follow(&learner, on);
                    S::Ack { seq }
                }
                None => error(
                    seq,
                    ErrorCode::InvalidRequest,
                    "The instructor leads; only learners follow.",
                ),
            },
            C::Demo { seq } => match self.room.demo_session(&self.state.sessions, self.ip).await {
                Ok(session) => S::Demo {
                    seq,
                    session: session.id.clone(),
                },
                Err(e) => error(seq, e.code(), e.to_string()),
            },
            C::Goto { seq, place } => {
                answer(seq, self.check(&place).map(|()| self.room.goto(place)))
            }
            C::Pace { seq, place } => {
                let checked = place.as_ref().map_or(Ok(()), |p| self.check(p));
                answer(seq, checked.map(|()| self.room.set_pace(place)))
            }
            C::Reveal { seq, lesson, task } => answer(seq, self.reveal(lesson, task)),
            C::Scenario { seq, scenario } => answer(
                seq,
                self.room
                    .scenario(&self.state.sessions, self.ip, scenario)
                    .await,
            ),
            C::Autoplay {
                seq,
                lesson,
                pace_ms,
            } => {
                let started = match self.room.demo_session(&self.state.sessions, self.ip).await {
                    Ok(demo) => self.room.autoplay(&self.state, demo, &lesson, pace_ms),
                    Err(e) => Err(e),
                };
                answer(seq, started)
            }
            C::AutoplayPause { seq, paused } => {
                if self.room.pause_autoplay(paused) {
                    S::Ack { seq }
                } else {
                    error(seq, ErrorCode::NotFound, "No autoplay is running.")
                }
            }
            C::AutoplayStop { seq } => {
                self.room.stop_autoplay();
                S::Ack { seq }
            }
            C::Watch { seq, learner } => answer(seq, self.watch(learner).await),
            C::ResetAll { seq, lesson } => {
                if self.state.course.find(&lesson).is_none() {
                    return Some(error(
                        seq,
                        ErrorCode::NotFound,
                        format!("There is no lesson `{lesson}`."),
                    ));
                }
                let (state, room, later) =
                    (self.state.clone(), self.room.id.clone(), later.clone());
                tokio::spawn(async move {
                    let done = match super::reset::everywhere(&state, &room, &lesson).await {
                        Ok((count, failed)) => S::Done { seq, count, failed },
                        Err(e) => error(seq, ErrorCode::StoreUnavailable, e.to_string()),
                    };
                    let _ = later.send(done).await;
                });
                return None;
            }
        })
    }

    /// A place must be a lesson of the course and, if given, one of its
    /// steps.
    fn check(&self, place: &Place) -> Result<(), LiveError> {
        let lesson = self.state.course.find(&place.lesson).ok_or_else(|| {
            LiveError::NotFound(format!("There is no lesson `{}`.", place.lesson))
        })?;
        match &place.step {
            Some(step) if !lesson.blocks.steps.contains(step) => Err(LiveError::NotFound(format!(
                "Lesson `{}` has no step `{step}`.",
                place.lesson
            ))),
            _ => Ok(()),
        }
    }

    fn reveal(&self, lesson: String, task: usize) -> Result<(), LiveError> {
        let found = self
            .state
            .course
            .find(&lesson)
            .ok_or_else(|| LiveError::NotFound(format!("There is no lesson `{lesson}`.")))?;
        let tasks = found.blocks.tasks.len();
        if task >= tasks {
            return Err(LiveError::NotFound(format!(
                "Lesson `{lesson}` has {tasks} tasks (numbered from 0); there is no task {task}."
            )));
        }
        self.room.publish(&S::Reveal { lesson, task });
        Ok(())
    }

    /// Mirrors a member's console on this socket (`None` stops).
    async fn watch(&mut self, learner: Option<String>) -> Result<(), LiveError> {
        let Some(learner) = learner else {
            self.watching = None;
            return Ok(());
        };
        let member = self
            .state
            .control
            .room_of(&learner)
            .await
            .ok()
            .flatten()
            .is_some_and(|room| room == self.room.id);
        if !member {
            return Err(LiveError::NotFound(format!(
                "Learner `{learner}` is not in this class."
            )));
        }
        let session = self.state.sessions.for_learner(&learner).ok_or_else(|| {
            LiveError::NotFound("That learner has no console open right now.".into())
        })?;
        self.watching = Some((learner, session.subscribe()));
        Ok(())
    }
}

fn seq_of(message: &C) -> u64 {
    match message {
        C::Hello { .. } => 0,
        C::Ping { seq }
        | C::Follow { seq, .. }
        | C::Demo { seq }
        | C::Goto { seq, .. }
        | C::ResetAll { seq, .. }
        | C::Reveal { seq, .. }
        | C::Pace { seq, .. }
        | C::Scenario { seq, .. }
        | C::Autoplay { seq, .. }
        | C::AutoplayPause { seq, .. }
        | C::AutoplayStop { seq }
        | C::Watch { seq, .. } => *seq,
    }
}
