//! A notice waiting for the learner: data brought back after giving way
//! (told to the first console), or a re-homed session's restart (told to
//! the first console or the first reply, whichever comes sooner: HTTP
//! clients have no console). Told once either way.

use std::sync::Mutex;

use protocol::Notice;

/// Who may deliver a session's greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greeting {
    /// Only a console: the data brought back after giving way is told
    /// where the learner looks at their data.
    ConsoleOnly,
    /// A console or a reply, whichever comes first.
    FirstOf,
}

#[derive(Default)]
pub(super) struct Waiting(Mutex<Option<(Notice, Greeting)>>);

impl Waiting {
    pub(super) fn set(&self, notice: Notice, how: Greeting) {
        if let Ok(mut waiting) = self.0.lock() {
            *waiting = Some((notice, how));
        }
    }

    /// For a console: whatever waits.
    pub(super) fn take_for_console(&self) -> Option<Notice> {
        self.0.lock().ok()?.take().map(|(notice, _)| notice)
    }

    /// For a reply: only what a reply may carry.
    pub(super) fn take_for_reply(&self) -> Option<Notice> {
        let mut waiting = self.0.lock().ok()?;
        match waiting.take() {
            Some((notice, Greeting::FirstOf)) => Some(notice),
            other => {
                *waiting = other;
                None
            }
        }
    }
}
