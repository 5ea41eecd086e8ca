//! A session's event streams: everything that happens in it, for
//! observers (an instructor's mirror of a learner's console, a class's demo
//! console), and its notices alone, for its own consoles.
//!
//! Two channels, because a console has no use for its own commands coming
//! back: on one stream, every line a learner typed would wake their socket
//! a second time and copy the line and its reply for nothing. A command's
//! event is not even built while nobody observes the session.

use protocol::{ErrorBody, ExecResponse, Notice, SessionEvent};
use tokio::sync::broadcast;

/// Events buffered for slow observers; older ones are dropped for them.
const EVENT_BUFFER: usize = 256;
/// Notices buffered for a console (a few at a time at most).
const NOTICE_BUFFER: usize = 64;

#[derive(Clone)]
pub(super) struct Events {
    all: broadcast::Sender<SessionEvent>,
    notices: broadcast::Sender<Notice>,
}

impl Events {
    pub(super) fn new() -> Events {
        Events {
            all: broadcast::channel(EVENT_BUFFER).0,
            notices: broadcast::channel(NOTICE_BUFFER).0,
        }
    }

    /// Tells whoever listens; no listener is fine.
    pub(super) fn send(&self, event: SessionEvent) {
        if let SessionEvent::Notice { notice } = &event {
            let _ = self.notices.send(notice.clone());
        }
        let _ = self.all.send(event);
    }

    /// A line that ran, for observers (built only when there are some).
    pub(super) fn command(&self, line: &str, response: &ExecResponse) {
        if self.all.receiver_count() > 0 {
            let _ = self.all.send(SessionEvent::Command {
                line: line.to_owned(),
                text: response.text.clone(),
                micros: response.micros,
                is_error: response.reply.is_error(),
            });
        }
    }

    /// A line that was refused, for observers.
    pub(super) fn refused(&self, line: &str, error: &ErrorBody) {
        if self.all.receiver_count() > 0 {
            let _ = self.all.send(SessionEvent::Refused {
                line: line.to_owned(),
                error: error.clone(),
            });
        }
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.all.subscribe()
    }

    pub(super) fn subscribe_notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }
}
