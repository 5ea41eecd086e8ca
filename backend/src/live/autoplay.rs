//! Autoplay: the server runs a lesson's blocks one by one in the room's
//! demo sandbox at a set pace, moving followers along, for a booth or a
//! recorded demo. Pausable and resumable; one per room.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::{AutoplayState, Place, RoomServerMessage};
use tokio::sync::watch;

use super::{LiveError, LiveRoom};
use crate::gateway::Origin;
use crate::lessons::runner;
use crate::session::Session;
use crate::state::AppState;

/// The pace bounds, in milliseconds: fast enough for a rehearsal, slow
/// enough for a booth.
pub const MIN_PACE_MS: u64 = 500;
pub const MAX_PACE_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, Default)]
struct Control {
    paused: bool,
    stopped: bool,
}

/// A running autoplay: dropping it does not stop it, `stop` does.
pub struct Autoplay {
    control: watch::Sender<Control>,
    /// Where it is, as the room was last told.
    shown: Arc<Mutex<AutoplayState>>,
}

impl Autoplay {
    /// Pauses or resumes; the state to announce, or `None` when it
    /// already finished.
    pub fn pause(&self, paused: bool) -> Option<AutoplayState> {
        if self.control.is_closed() {
            return None;
        }
        self.control.send_modify(|c| c.paused = paused);
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.paused = paused;
        Some(shown.clone())
    }

    pub fn stop(&self) {
        self.control.send_modify(|c| c.stopped = true);
    }
}

impl LiveRoom {
    /// Starts autoplay of `lesson` on the demo sandbox `demo`.
    pub fn autoplay(
        self: &Arc<Self>,
        state: &AppState,
        demo: Arc<Session>,
        lesson: &str,
        pace_ms: u64,
    ) -> Result<(), LiveError> {
        if !(MIN_PACE_MS..=MAX_PACE_MS).contains(&pace_ms) {
            return Err(LiveError::Invalid(format!(
                "The pace must be between {MIN_PACE_MS} and {MAX_PACE_MS} ms; it was {pace_ms}."
            )));
        }
        if state.course.find(lesson).is_none() {
            return Err(LiveError::NotFound(format!(
                "There is no lesson `{lesson}`."
            )));
        }
        let (control, watcher) = watch::channel(Control::default());
        let shown = Arc::new(Mutex::new(AutoplayState {
            lesson: lesson.to_owned(),
            block: 0,
            blocks: 0,
            paused: false,
            finished: false,
        }));
        self.set_autoplay(Autoplay {
            control,
            shown: shown.clone(),
        });
        tokio::spawn(run(
            self.clone(),
            state.clone(),
            demo,
            Duration::from_millis(pace_ms),
            watcher,
            shown,
        ));
        Ok(())
    }
}

/// Waits while paused; false once stopped (or the room let go of it).
async fn may_go_on(control: &mut watch::Receiver<Control>) -> bool {
    loop {
        let now = *control.borrow_and_update();
        if now.stopped {
            return false;
        }
        if !now.paused {
            return true;
        }
        if control.changed().await.is_err() {
            return false;
        }
    }
}

/// Sleeps `pace`, cut short by a stop; a pause holds it until resumed.
async fn wait_pace(control: &mut watch::Receiver<Control>, pace: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + pace;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return may_go_on(control).await,
            changed = control.changed() => {
                if changed.is_err() || control.borrow().stopped {
                    return false;
                }
            }
        }
    }
}

/// Updates the shared state with `change` and tells the room.
fn announce(
    room: &LiveRoom,
    shown: &Mutex<AutoplayState>,
    change: impl FnOnce(&mut AutoplayState),
) {
    let state = {
        let mut shown = shown.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut shown);
        shown.clone()
    };
    room.publish(&RoomServerMessage::Autoplay { state });
}

async fn run(
    room: Arc<LiveRoom>,
    state: AppState,
    demo: Arc<Session>,
    pace: Duration,
    mut control: watch::Receiver<Control>,
    shown: Arc<Mutex<AutoplayState>>,
) {
    let slug = shown
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .lesson
        .clone();
    let Some(lesson) = state.course.find(&slug) else {
        return;
    };
    let blocks = &lesson.blocks.runnable;
    if let Err(message) = runner::open_lesson(&state.gateway, &demo, lesson).await {
        tracing::warn!("autoplay could not load {slug}'s starting data: {message}");
    }
    room.goto(Place {
        lesson: slug.clone(),
        step: None,
    });
    for (index, block) in blocks.iter().enumerate() {
        let paused = control.borrow().paused;
        announce(&room, &shown, |s| {
            s.block = index;
            s.blocks = blocks.len();
            s.paused = paused;
        });
        if !may_go_on(&mut control).await {
            break;
        }
        if let Some(step) = &block.step {
            room.goto(Place {
                lesson: slug.clone(),
                step: Some(step.clone()),
            });
        }
        // Backend origin: autoplay waits its turn rather than being
        // refused by the learner's rate limit.
        runner::run_block(&state.gateway, &demo, block, Origin::Backend).await;
        if !wait_pace(&mut control, pace).await {
            break;
        }
    }
    announce(&room, &shown, |s| {
        s.finished = true;
        s.paused = false;
    });
}
