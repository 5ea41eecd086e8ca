//! Which notices a socket has shown, so each reaches the browser once.
//!
//! A notice can come two ways: in the reply to this socket's own request
//! (a restart the learner's line ran into) and on the session's event
//! stream (everything that happens to the session, this socket's doing
//! included). Whichever copy comes first is shown; the other is dropped.
//!
//! While a request is running, the loop keeps reading the stream. During
//! a long request (a lesson block, which can wait for seconds) a restart
//! goes out at once, because the learner was promised the notice within
//! one; the reply's copy is then taken out of the reply. Everything else
//! waits for the reply, whose copy then wins: one line's reply follows a
//! restart at once anyway, and a reset's or a lesson's own notices keep
//! their place after it.
//!
//! A line that met its sandbox dying is answered with the error
//! `sandbox_restarted` rather than a notice; its stream copy is a notice
//! with the same words, and the error counts as that notice told.

use std::collections::VecDeque;

use protocol::{ErrorCode, Notice, NoticeKind, ServerMessage};

/// Notices remembered at most per list; beyond this the oldest goes.
const REMEMBERED: usize = 16;

/// What the socket's request, if any, is doing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Running {
    Nothing,
    /// Its reply follows anything it causes at once (one line, a reset).
    Short,
    /// Its reply can be seconds away (a lesson block).
    Long,
}

#[derive(Default)]
pub(super) struct Told {
    /// Rode in a reply; the stream's copy is still to come.
    carried: VecDeque<Notice>,
    /// Sent from the stream while the running request may still carry it.
    streamed: VecDeque<Notice>,
    /// From the stream while a request runs, to be sent after its reply.
    held: VecDeque<Notice>,
}

impl Told {
    /// A notice from the stream: `Some` when it should be sent now.
    pub(super) fn on_stream(&mut self, notice: Notice, running: Running) -> Option<Notice> {
        if take(&mut self.carried, &notice) {
            return None;
        }
        match running {
            Running::Nothing => Some(notice),
            Running::Long if urgent(notice.kind) => {
                remember(&mut self.streamed, notice.clone());
                Some(notice)
            }
            Running::Long | Running::Short => {
                remember(&mut self.held, notice);
                None
            }
        }
    }

    /// The running request's reply is ready: drops from it what the stream
    /// already said, remembers the rest of what it carries (and `also`, a
    /// notice the request caused but the reply does not hold, such as a
    /// reset's), and returns the held notices still to send after it.
    pub(super) fn settle(
        &mut self,
        reply: &mut ServerMessage,
        also: Option<Notice>,
    ) -> Vec<Notice> {
        for list in notices_in(reply) {
            list.retain(|notice| {
                let shown = take(&mut self.streamed, notice);
                if !shown {
                    remember(&mut self.carried, notice.clone());
                }
                !shown
            });
        }
        for notice in also.into_iter().chain(restarts_refused_in(reply)) {
            if !take(&mut self.streamed, &notice) {
                remember(&mut self.carried, notice);
            }
        }
        // What went out early and the reply did not hold came from elsewhere.
        self.streamed.clear();
        let held: Vec<Notice> = self.held.drain(..).collect();
        held.into_iter()
            .filter(|notice| !take(&mut self.carried, notice))
            .collect()
    }
}

/// Notices the learner must not wait for: their sandbox was replaced.
fn urgent(kind: NoticeKind) -> bool {
    matches!(kind, NoticeKind::Restarted | NoticeKind::ScriptKilled)
}

/// The notice lists inside a reply (a line's, or each line's of a block).
fn notices_in(reply: &mut ServerMessage) -> Vec<&mut Vec<Notice>> {
    match reply {
        ServerMessage::Result { result, .. } => vec![&mut result.notices],
        ServerMessage::BlockRan { lines, .. } => lines
            .iter_mut()
            .filter_map(|line| line.result.as_mut())
            .map(|result| &mut result.notices)
            .collect(),
        _ => Vec::new(),
    }
}

/// The restart notices a reply told as errors: a line (or a block's
/// line) that met its sandbox dying.
fn restarts_refused_in(reply: &ServerMessage) -> Vec<Notice> {
    let as_notice = |error: &protocol::ErrorBody| {
        (error.code == ErrorCode::SandboxRestarted).then(|| Notice {
            kind: NoticeKind::Restarted,
            message: error.message.clone(),
        })
    };
    match reply {
        ServerMessage::Error { error, .. } => as_notice(error).into_iter().collect(),
        ServerMessage::BlockRan { lines, .. } => lines
            .iter()
            .filter_map(|line| line.error.as_ref().and_then(as_notice))
            .collect(),
        _ => Vec::new(),
    }
}

/// Removes the first copy of `notice`; whether there was one.
fn take(list: &mut VecDeque<Notice>, notice: &Notice) -> bool {
    match list.iter().position(|n| n == notice) {
        Some(at) => {
            list.remove(at);
            true
        }
        None => false,
    }
}

fn remember(list: &mut VecDeque<Notice>, notice: Notice) {
    if list.len() == REMEMBERED {
        list.pop_front();
    }
    list.push_back(notice);
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{ExecResponse, Reply};

    fn notice(kind: NoticeKind, message: &str) -> Notice {
        Notice {
            kind,
            message: message.into(),
        }
    }

    fn result_with(notices: Vec<Notice>) -> ServerMessage {
        ServerMessage::Result {
            seq: 1,
            result: ExecResponse {
                reply: Reply::Nil,
                text: "(nil)".into(),
                micros: 1,
                in_multi: false,
                repeat: 1,
                notices,
            },
        }
    }

    fn reply_notices(reply: &mut ServerMessage) -> Vec<Notice> {
        notices_in(reply)
            .into_iter()
            .flat_map(|l| l.clone())
            .collect()
    }

    #[test]
    fn a_reply_first_means_the_stream_copy_is_skipped() {
        let mut told = Told::default();
        let restart = notice(NoticeKind::Restarted, "restarted");
        let mut reply = result_with(vec![restart.clone()]);
        assert!(told.settle(&mut reply, None).is_empty());
        assert_eq!(reply_notices(&mut reply), vec![restart.clone()]);
        assert_eq!(told.on_stream(restart.clone(), Running::Nothing), None);
        // Only that one copy: a second restart with the same words is new.
        assert_eq!(
            told.on_stream(restart.clone(), Running::Nothing),
            Some(restart)
        );
    }

    #[test]
    fn a_restart_during_a_request_goes_out_at_once_and_leaves_the_reply() {
        let mut told = Told::default();
        let restart = notice(NoticeKind::Restarted, "restarted");
        assert_eq!(
            told.on_stream(restart.clone(), Running::Long),
            Some(restart.clone())
        );
        let mut reply = result_with(vec![restart.clone()]);
        assert!(told.settle(&mut reply, None).is_empty());
        assert!(reply_notices(&mut reply).is_empty(), "not shown twice");
        // A later copy on the stream is a new restart.
        assert_eq!(
            told.on_stream(restart.clone(), Running::Nothing),
            Some(restart)
        );
    }

    #[test]
    fn other_notices_wait_for_the_reply_and_a_reset_is_said_once() {
        let mut told = Told::default();
        let reset = notice(NoticeKind::Reset, "fresh");
        let info = notice(NoticeKind::Info, "loaded");
        assert_eq!(told.on_stream(reset.clone(), Running::Short), None);
        assert_eq!(told.on_stream(info.clone(), Running::Short), None);
        let mut reply = ServerMessage::ResetDone { seq: 1 };
        assert_eq!(told.settle(&mut reply, Some(reset)), vec![info]);
    }

    #[test]
    fn a_restart_the_reply_never_held_is_not_taken_from_a_later_reply() {
        let mut told = Told::default();
        let watcher = notice(NoticeKind::Restarted, "killed");
        assert!(told.on_stream(watcher.clone(), Running::Long).is_some());
        let mut first = result_with(Vec::new());
        told.settle(&mut first, None);
        let mut second = result_with(vec![watcher.clone()]);
        told.settle(&mut second, None);
        assert_eq!(reply_notices(&mut second), vec![watcher]);
    }

    #[test]
    fn a_line_refused_for_a_restart_counts_as_its_notice() {
        let message = "Your sandbox was restarted";
        let restart = notice(NoticeKind::Restarted, message);
        let refused = || ServerMessage::Error {
            seq: 1,
            error: protocol::ErrorBody::new(ErrorCode::SandboxRestarted, message),
        };
        // One line: the stream's copy waits, and the error wins.
        let mut told = Told::default();
        assert_eq!(told.on_stream(restart.clone(), Running::Short), None);
        assert!(told.settle(&mut refused(), None).is_empty());
        // The copy arriving after the reply is skipped too.
        let mut told = Told::default();
        assert!(told.settle(&mut refused(), None).is_empty());
        assert_eq!(told.on_stream(restart.clone(), Running::Nothing), None);
        // A restart during a block went out at once; the error stays in
        // the block's line and the notice is not remembered for later.
        let mut told = Told::default();
        assert!(told.on_stream(restart.clone(), Running::Long).is_some());
        let mut block = ServerMessage::BlockRan {
            seq: 1,
            lines: vec![protocol::BlockLine {
                line: "BLPOP k 4".into(),
                result: None,
                error: Some(protocol::ErrorBody::new(
                    ErrorCode::SandboxRestarted,
                    message,
                )),
            }],
            in_multi: false,
        };
        told.settle(&mut block, None);
        assert_eq!(
            told.on_stream(restart.clone(), Running::Nothing),
            Some(restart)
        );
    }
}
