//! What a room socket says, as signals every class view reads: where the
//! instructor is, the pace lock, the demo console's lines, its charts'
//! frames, autoplay, presence and a watched learner's lines. The learner's
//! class, the instructor's page and the projector each own one.

use leptos::prelude::*;
use protocol::{AutoplayState, ChartFrame, ConsoleLine, Place, RoomRole, RoomServerMessage};

use crate::room_link::RoomLink;
use crate::sim_state::SimState;
use crate::transcript_store::Tone;

/// Console lines kept on screen.
pub const LINES_KEPT: usize = 200;
/// Notices kept on screen.
const NOTICES_KEPT: usize = 4;

/// One line of a live console, with a key for the list.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveLine {
    pub id: u64,
    pub line: ConsoleLine,
}

/// A sentence for the class panel.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomNotice {
    pub id: u64,
    pub tone: Tone,
    pub text: String,
}

/// Who is there, for the instructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub connected: u32,
    pub following: u32,
}

/// A place in words: `hashes › hset`, or the lesson alone.
pub fn place_label(lesson: &str, step: Option<&str>) -> String {
    match step {
        Some(step) => format!("{lesson} › {step}"),
        None => lesson.to_owned(),
    }
}

/// Appends `item`, keeping the last `cap` items.
pub fn push_capped<T>(items: &mut Vec<T>, item: T, cap: usize) {
    items.push(item);
    if items.len() > cap {
        let excess = items.len() - cap;
        items.drain(..excess);
    }
}

/// How many of `backlog`'s lines (the demo console's latest, as a welcome
/// brings them) the page already shows: the longest start of `backlog`
/// that `shown` ends with. A page that reconnects after a blip appends
/// only what was typed while it was away; a fresh page shows it all.
pub fn backlog_overlap(shown: &[ConsoleLine], backlog: &[ConsoleLine]) -> usize {
    (1..=shown.len().min(backlog.len()))
        .rev()
        .find(|&k| shown.ends_with(&backlog[..k]))
        .unwrap_or(0)
}

/// Whether `frame` belongs to a run the charts draw over time (its first
/// one starts the chart afresh), rather than a one-off measurement.
pub fn is_run_frame(frame: &ChartFrame) -> bool {
    matches!(
        frame,
        ChartFrame::RateLimit { .. } | ChartFrame::Anomaly { .. } | ChartFrame::Stream { .. }
    )
}

#[derive(Clone, Copy)]
pub struct RoomState {
    pub link: RoomLink,
    pub name: RwSignal<Option<String>>,
    pub role: RwSignal<Option<RoomRole>>,
    /// Where the instructor is (follow-me).
    pub position: RwSignal<Option<Place>>,
    /// Steps after this place are locked.
    pub pace: RwSignal<Option<Place>>,
    /// Whether this learner follows the instructor.
    pub following: RwSignal<bool>,
    /// The demo console, as the room sees it.
    pub lines: RwSignal<Vec<LiveLine>>,
    pub autoplay: RwSignal<Option<AutoplayState>>,
    pub presence: RwSignal<Option<Presence>>,
    /// The learner the instructor watches, and their mirrored lines.
    pub watching: RwSignal<Option<String>>,
    pub watched: RwSignal<Vec<LiveLine>>,
    /// Solutions revealed while this page was open: (lesson, task).
    pub revealed: RwSignal<Vec<(String, usize)>>,
    pub notices: RwSignal<Vec<RoomNotice>>,
    /// Where the scenario's frames go.
    pub sims: SimState,
    next_id: StoredValue<u64>,
}

impl RoomState {
    pub fn new(sims: SimState) -> RoomState {
        RoomState {
            link: RoomLink::new(),
            name: RwSignal::new(None),
            role: RwSignal::new(None),
            position: RwSignal::new(None),
            pace: RwSignal::new(None),
            following: RwSignal::new(false),
            lines: RwSignal::new(Vec::new()),
            autoplay: RwSignal::new(None),
            presence: RwSignal::new(None),
            watching: RwSignal::new(None),
            watched: RwSignal::new(Vec::new()),
            revealed: RwSignal::new(Vec::new()),
            notices: RwSignal::new(Vec::new()),
            sims,
            next_id: StoredValue::new(0),
        }
    }

    /// Safe to call after the page has gone (a reply arriving late).
    /// A page's own view of `room` as `token`, with charts fed by the room
    /// alone (its connection never starts, so the page asks for no sandbox
    /// of its own); `on_welcome` runs on every (re)connection. Closed when
    /// the calling component goes.
    pub fn open_for_page(
        room: String,
        token: String,
        on_welcome: impl Fn(RoomState) + 'static,
    ) -> RoomState {
        let live = RoomState::new(SimState::new(crate::link::Connection::new()));
        live.link.open(room, token, move |message| {
            let welcomed = matches!(message, RoomServerMessage::Welcome { .. });
            live.apply(message);
            if welcomed {
                on_welcome(live);
            }
        });
        on_cleanup(move || live.link.close());
        live
    }

    fn next_id(&self) -> u64 {
        self.next_id
            .try_update_value(|id| {
                *id += 1;
                *id
            })
            .unwrap_or(0)
    }

    pub fn notice(&self, tone: Tone, text: impl Into<String>) {
        let notice = RoomNotice {
            id: self.next_id(),
            tone,
            text: text.into(),
        };
        self.notices
            .update(|all| push_capped(all, notice, NOTICES_KEPT));
    }

    /// Takes in what the socket pushed.
    pub fn apply(&self, message: RoomServerMessage) {
        match message {
            RoomServerMessage::Welcome {
                name,
                role,
                position,
                pace,
                following,
                console,
                ..
            } => {
                self.name.set(Some(name));
                self.role.set(Some(role));
                self.position.set(position);
                self.pace.set(pace);
                self.following.set(following);
                self.catch_up(console);
            }
            RoomServerMessage::Goto { place } => self.position.set(Some(place)),
            RoomServerMessage::Console { line } => self.push_line(line),
            RoomServerMessage::Frame { frame } => self.feed(frame),
            RoomServerMessage::Reveal { lesson, task } => self.revealed.update(|all| {
                if !all.iter().any(|(l, t)| *l == lesson && *t == task) {
                    all.push((lesson, task));
                }
            }),
            RoomServerMessage::Pace { place } => self.pace.set(place),
            RoomServerMessage::Autoplay { state } => self.autoplay.set(Some(state)),
            RoomServerMessage::Notice { notice } => {
                self.notice(crate::console_state::tone_of(notice.kind), notice.message)
            }
            RoomServerMessage::Presence {
                connected,
                following,
            } => self.presence.set(Some(Presence {
                connected,
                following,
            })),
            RoomServerMessage::Watched { learner, line } => {
                let watching = self.watching.try_get_untracked().flatten();
                if watching.as_deref() == Some(learner.as_str()) {
                    let line = LiveLine {
                        id: self.next_id(),
                        line,
                    };
                    self.watched
                        .update(|all| push_capped(all, line, LINES_KEPT));
                }
            }
            RoomServerMessage::Error { error, .. } => self.notice(Tone::Warn, error.message),
            RoomServerMessage::Ended => self.notice(Tone::Info, "The instructor ended the class."),
            RoomServerMessage::Ack { .. }
            | RoomServerMessage::Done { .. }
            | RoomServerMessage::Demo { .. } => {}
        }
    }

    fn push_line(&self, line: ConsoleLine) {
        let line = LiveLine {
            id: self.next_id(),
            line,
        };
        self.lines.update(|all| push_capped(all, line, LINES_KEPT));
    }

    /// Shows the demo console's latest lines that this page has not shown.
    fn catch_up(&self, backlog: Vec<ConsoleLine>) {
        let shown: Vec<ConsoleLine> = self
            .lines
            .try_with_untracked(|all| all.iter().map(|l| l.line.clone()).collect())
            .unwrap_or_default();
        let known = backlog_overlap(&shown, &backlog);
        for line in backlog.into_iter().skip(known) {
            self.push_line(line);
        }
    }

    /// The demo sandbox's frames reach the charts as the page's own would;
    /// the first frame of a run clears the last run's.
    fn feed(&self, frame: ChartFrame) {
        let sims = self.sims;
        if is_run_frame(&frame) && sims.running.try_get_untracked() == Some(false) {
            sims.frames.set(Vec::new());
            sims.running.set(true);
            sims.status
                .set("The instructor's scenario is running.".to_owned());
        }
        sims.on_pushed(&crate::link::Pushed::Frame(frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_reads_lesson_then_step() {
        assert_eq!(place_label("hashes", Some("hset")), "hashes › hset");
        assert_eq!(place_label("hashes", None), "hashes");
    }

    #[test]
    fn a_capped_list_keeps_the_newest_items() {
        let mut items = vec![1, 2, 3];
        push_capped(&mut items, 4, 3);
        assert_eq!(items, vec![2, 3, 4]);
        push_capped(&mut items, 5, 10);
        assert_eq!(items, vec![2, 3, 4, 5]);
    }

    fn lines(texts: &[&str]) -> Vec<ConsoleLine> {
        texts
            .iter()
            .map(|t| ConsoleLine {
                line: (*t).to_owned(),
                text: "OK".to_owned(),
                is_error: false,
            })
            .collect()
    }

    #[test]
    fn a_fresh_page_shows_the_whole_backlog() {
        assert_eq!(backlog_overlap(&[], &lines(&["a", "b"])), 0);
    }

    #[test]
    fn a_reconnected_page_adds_only_what_it_missed() {
        let shown = lines(&["x", "a", "b"]);
        assert_eq!(backlog_overlap(&shown, &lines(&["a", "b", "c"])), 2);
        assert_eq!(backlog_overlap(&shown, &lines(&["a", "b"])), 2);
    }

    #[test]
    fn a_backlog_unlike_the_page_is_shown_in_full() {
        // Everything shown scrolled out of the server's backlog, or the
        // server restarted with an empty one.
        assert_eq!(backlog_overlap(&lines(&["a"]), &lines(&["b", "c"])), 0);
        assert_eq!(backlog_overlap(&lines(&["a"]), &[]), 0);
    }

    #[test]
    fn run_frames_are_told_from_one_off_measurements() {
        let stream = ChartFrame::Stream {
            t_ms: 0,
            length: 1,
            pending: 0,
            lag: None,
            claimed: 0,
            consumers: vec![],
        };
        assert!(is_run_frame(&stream));
        assert!(!is_run_frame(&ChartFrame::Done {
            reason: "stopped".into()
        }));
        assert!(!is_run_frame(&ChartFrame::Compare {
            n: 1,
            sequential_us: 1,
            pipeline_us: 1,
            hmget_us: 1
        }));
    }
}
