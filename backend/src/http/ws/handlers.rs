//! The socket's requests that do more than one call: a console line, a
//! reset, a lesson opened, a lesson block run, a measurement. Each turns
//! its outcome into the one reply the browser waits for.

use protocol::{ChartFrame, ErrorBody, ErrorCode, ServerMessage};

use std::sync::Arc;

use protocol::Notice;

use crate::gateway::Origin;
use crate::lessons::runner;
use crate::session::Session;
use crate::sim::Simulations;
use crate::sim::{Measurement, SimError};
use crate::state::AppState;

/// What one socket serves: its session, and the simulations it started.
/// The loop lends it to one request at a time (`Console::dispatch`).
pub(super) struct Console {
    pub(super) session: Arc<Session>,
    pub(super) state: AppState,
    pub(super) sims: Simulations,
}

/// A request's outcome: the reply, a measurement's frame to send just
/// before it, and a notice the request caused that the reply does not
/// hold (a reset's, which also comes by the stream and is said once).
pub(super) struct Answer {
    pub(super) frame: Option<ChartFrame>,
    pub(super) reply: ServerMessage,
    pub(super) also: Option<Notice>,
}

impl Answer {
    pub(super) fn reply(reply: ServerMessage) -> Answer {
        Answer {
            frame: None,
            reply,
            also: None,
        }
    }
}

/// A simulator request's acknowledgement, or why it failed.
pub(super) fn ack(seq: u64, done: Result<(), SimError>) -> ServerMessage {
    match done {
        Ok(()) => ServerMessage::Ack { seq },
        Err(e) => failed(seq, ErrorCode::SimulationFailed, e.to_string()),
    }
}

fn failed(seq: u64, code: ErrorCode, message: String) -> ServerMessage {
    ServerMessage::Error {
        seq,
        error: ErrorBody::new(code, message),
    }
}

impl Console {
    pub(super) async fn exec(&self, seq: u64, line: &str) -> ServerMessage {
        match self
            .state
            .gateway
            .run_line(&self.session, line, Origin::Learner)
            .await
        {
            Ok(result) => ServerMessage::Result { seq, result },
            Err(e) => ServerMessage::Error {
                seq,
                error: e.body(),
            },
        }
    }

    pub(super) async fn reset(&self, seq: u64) -> Answer {
        match self.state.sessions.reset(&self.session).await {
            Ok(notice) => Answer {
                also: Some(notice),
                ..Answer::reply(ServerMessage::ResetDone { seq })
            },
            Err(e) => Answer::reply(failed(seq, e.code(), e.to_string())),
        }
    }

    fn lesson(&self, seq: u64, slug: &str) -> Result<&crate::lessons::Lesson, Box<ServerMessage>> {
        self.state.course.find(slug).ok_or_else(|| {
            Box::new(failed(
                seq,
                ErrorCode::NotFound,
                format!("There is no lesson `{slug}`; the lesson list shows every lesson."),
            ))
        })
    }

    pub(super) async fn open_lesson(&self, seq: u64, slug: &str) -> ServerMessage {
        let lesson = match self.lesson(seq, slug) {
            Ok(lesson) => lesson,
            Err(reply) => return *reply,
        };
        let gateway = &self.state.gateway;
        match runner::open_lesson(gateway, &self.session, lesson).await {
            Ok(notice) => ServerMessage::LessonOpened {
                seq,
                notice,
                in_multi: self.session.in_multi().await,
            },
            Err(message) => failed(
                seq,
                ErrorCode::SetupFailed,
                format!(
                    "This lesson's starting data could not be loaded: {message}. Try Start fresh."
                ),
            ),
        }
    }

    pub(super) async fn run_block(&self, seq: u64, slug: &str, index: usize) -> ServerMessage {
        let lesson = match self.lesson(seq, slug) {
            Ok(lesson) => lesson,
            Err(reply) => return *reply,
        };
        let Some(block) = lesson.blocks.runnable.get(index) else {
            return failed(
                seq,
                ErrorCode::NotFound,
                format!(
                    "Lesson `{slug}` has no block {index}: its runnable blocks are numbered 0 to {}.",
                    lesson.blocks.runnable.len().saturating_sub(1)
                ),
            );
        };
        if let Some(refusal) = self.paced(seq, lesson, block).await {
            return refusal;
        }
        let gateway = &self.state.gateway;
        let lines = runner::run_block(gateway, &self.session, block, Origin::Learner).await;
        ServerMessage::BlockRan {
            seq,
            lines,
            in_multi: self.session.in_multi().await,
        }
    }

    /// A refusal when the learner's class is paused before `block`'s step.
    async fn paced(
        &self,
        seq: u64,
        lesson: &crate::lessons::Lesson,
        block: &crate::lessons::blocks::RunnableBlock,
    ) -> Option<ServerMessage> {
        let pace = self
            .state
            .classrooms
            .pace_for_session(&self.state, &self.session)
            .await?;
        if pace.lesson != lesson.meta.slug {
            return None;
        }
        let steps = &lesson.blocks.steps;
        let at = |step: &Option<String>| {
            step.as_ref()
                .and_then(|s| steps.iter().position(|x| x == s))
        };
        let (Some(lock), Some(here)) = (at(&pace.step), at(&block.step)) else {
            return None;
        };
        (here > lock).then(|| {
            failed(
                seq,
                ErrorCode::Forbidden,
                format!(
                    "Your instructor paused the class at “{}”; this block opens when the class moves on.",
                    pace.step.as_deref().unwrap_or_default()
                ),
            )
        })
    }

    pub(super) async fn measure(&self, seq: u64, measurement: Measurement) -> Answer {
        match self.sims.measure(measurement).await {
            Ok(frame) => Answer {
                frame: Some(frame),
                ..Answer::reply(ServerMessage::Ack { seq })
            },
            Err(e) => Answer::reply(failed(seq, ErrorCode::SimulationFailed, e.to_string())),
        }
    }
}
