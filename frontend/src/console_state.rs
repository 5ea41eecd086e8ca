//! The console's state (provided once as context): the transcript, the
//! history, the server's transaction state, and what the console does with
//! them: run typed or pasted lines, run a lesson's block on the server,
//! tell the server which lesson is open, reset the sandbox.
//! Components only read these signals and call these methods; all network
//! work goes through `link`.

use gloo::storage::{LocalStorage as BrowserStorage, Storage};
use leptos::prelude::*;
use protocol::{
    BlockLine, ClientMessage, CommandCatalog, ErrorBody, ErrorCode, ExecResponse, Notice,
    NoticeKind, ServerMessage,
};

use crate::link::{Connection, Pushed};
use crate::transcript_store::{self, Entry, EntryKind, Tone};

const HISTORY_KEY: &str = "redis-tutor.history";
const HISTORY_MAX: usize = 200;

/// The tone a server notice is shown in: only lost data is a warning.
pub fn tone_of(kind: NoticeKind) -> Tone {
    match kind {
        NoticeKind::Info | NoticeKind::Reset => Tone::Info,
        NoticeKind::Restarted | NoticeKind::ScriptKilled => Tone::Warn,
    }
}

#[derive(Clone, Copy)]
pub struct ConsoleState {
    pub entries: RwSignal<Vec<Entry>>,
    /// The session is inside MULTI on the server (redis-cli's `(TX)`).
    pub in_multi: RwSignal<bool>,
    /// Typed and pasted text goes to Redis exactly as redis-cli sends it.
    pub strict: RwSignal<bool>,
    /// Lines (or blocks) sent and not answered yet.
    pub running: RwSignal<usize>,
    pub catalog: RwSignal<Option<CommandCatalog>>,
    catalog_asked: StoredValue<bool>,
    pub history: RwSignal<Vec<String>>,
    /// The lesson on screen: told to the server again after a reconnect
    /// to a new sandbox, so its starting data is there.
    lesson: StoredValue<Option<String>>,
    /// The server was told about `lesson` for the current sandbox.
    lesson_told: StoredValue<bool>,
    next_id: StoredValue<u64>,
    connection: Connection,
    /// Told each round trip a command took (the latency chart).
    on_timed: Callback<u64>,
}

impl ConsoleState {
    pub fn new(connection: Connection, on_timed: Callback<u64>) -> ConsoleState {
        let saved = transcript_store::load();
        let next_id = saved.iter().map(|e| e.id).max().unwrap_or(0);
        let state = ConsoleState {
            entries: RwSignal::new(saved),
            in_multi: RwSignal::new(false),
            strict: RwSignal::new(false),
            running: RwSignal::new(0),
            catalog: RwSignal::new(None),
            catalog_asked: StoredValue::new(false),
            history: RwSignal::new(BrowserStorage::get(HISTORY_KEY).unwrap_or_default()),
            lesson: StoredValue::new(None),
            lesson_told: StoredValue::new(false),
            next_id: StoredValue::new(next_id),
            connection,
            on_timed,
        };
        Effect::new(move |_| state.entries.with(|e| transcript_store::save(e)));
        state
    }

    /// Fetches the command catalog (hints, completion, deprecations) once
    /// the console is connected: at about 145 KB of JSON to fetch and
    /// decode, it would otherwise hold up the page and the sandbox on
    /// their way to a ready console, and nothing needs it before a command
    /// is typed.
    fn load_catalog(&self) {
        if self.catalog_asked.get_value() {
            return;
        }
        self.catalog_asked.set_value(true);
        let catalog = self.catalog;
        leptos::task::spawn_local(async move {
            if let Ok(loaded) = crate::api::commands().await {
                catalog.set(Some(loaded));
            }
        });
    }

    /// What the connection pushes that concerns the console.
    pub fn on_pushed(&self, pushed: &Pushed) {
        match pushed {
            Pushed::Notice(notice) => self.server_notice(notice),
            Pushed::SessionState { in_multi } => self.in_multi.set(*in_multi),
            Pushed::Connected { fresh } => {
                self.load_catalog();
                if *fresh || !self.lesson_told.get_value() {
                    if let Some(lesson) = self.lesson.get_value() {
                        self.send_open_lesson(lesson);
                    }
                }
            }
            Pushed::Frame(_) => {}
        }
    }

    /// A notice from the server, in the tone its kind calls for.
    /// One the transcript just showed is not shown again: an HTTP call's
    /// answer (Start fresh) also reaches this tab through the socket.
    pub fn server_notice(&self, notice: &Notice) {
        if matches!(notice.kind, NoticeKind::Restarted | NoticeKind::Reset) {
            self.in_multi.set(false);
        }
        let repeated = self.entries.with_untracked(|entries| {
            entries.last().is_some_and(
                |e| matches!(&e.kind, EntryKind::Notice { text, .. } if *text == notice.message),
            )
        });
        if !repeated {
            self.notice(tone_of(notice.kind), notice.message.clone());
        }
    }

    pub fn prompt(&self) -> String {
        prompt_for(self.in_multi.get_untracked())
    }

    fn push(&self, kind: EntryKind) -> Entry {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let entry = Entry { id, kind };
        self.entries.update(|entries| entries.push(entry.clone()));
        entry
    }

    pub fn notice(&self, tone: Tone, text: impl Into<String>) {
        self.push(EntryKind::Notice {
            tone,
            text: text.into(),
        });
    }

    pub fn clear(&self) {
        self.entries.set(Vec::new());
    }

    /// The whole transcript as plain text, as redis-cli would have printed it.
    pub fn transcript_text(&self) -> String {
        self.entries.with_untracked(|entries| {
            entries
                .iter()
                .map(Entry::plain_text)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    fn remember(&self, line: &str) {
        // Never keep secrets: any line with an AUTH argument stays out.
        let has_secret = protocol::split_args(line.as_bytes())
            .map(|args| args.iter().any(|a| a.eq_ignore_ascii_case(b"auth")))
            .unwrap_or(true);
        if has_secret || line.trim().is_empty() {
            return;
        }
        self.history.update(|history| {
            if history.last().map(String::as_str) != Some(line) {
                history.push(line.to_owned());
            }
            if history.len() > HISTORY_MAX {
                let excess = history.len() - HISTORY_MAX;
                history.drain(..excess);
            }
            let _ = BrowserStorage::set(HISTORY_KEY, &*history);
        });
    }

    /// Runs typed or pasted text: every line in order, each reply shown,
    /// stopping at nothing (as redis-cli does with a paste). The strict
    /// checkbox decides whether the paste conveniences apply.
    pub fn run_text(&self, text: String) {
        self.run_lines(&text, self.strict.get_untracked());
    }

    /// Runs `text` line by line with the paste conveniences on or off.
    pub fn run_lines(&self, text: &str, strict: bool) {
        let state = *self;
        let lines = protocol::paste::console_lines(text, strict);
        if lines.is_empty() {
            return;
        }
        self.remember(text.trim_end_matches('\n'));
        self.running.update(|n| *n += lines.len());
        leptos::task::spawn_local(async move {
            for line in lines {
                state.run_line(line).await;
                state.running.update(|n| *n = n.saturating_sub(1));
            }
        });
    }

    /// Runs one line as if typed (no paste rules) and returns its entry;
    /// the exercise panel also shows it beside its Load button.
    pub async fn run_line(&self, line: String) -> Option<Entry> {
        let prompt = self.prompt();
        // Parse errors are shown before sending, with redis-cli's words.
        match protocol::parse_line(line.as_bytes()) {
            Err(e) => {
                return Some(self.push(EntryKind::Command {
                    prompt,
                    line,
                    text: e.message().to_owned(),
                    is_error: true,
                    micros: None,
                    code: None,
                }));
            }
            Ok(parsed) if parsed.args.is_empty() => return None,
            Ok(_) => {}
        }
        let reply = self
            .connection
            .request(|seq| ClientMessage::Exec {
                seq,
                line: line.clone(),
            })
            .await;
        match reply {
            ServerMessage::Result { result, .. } => Some(self.push_result(prompt, line, result)),
            ServerMessage::Error { error, .. } => Some(self.push_refusal(prompt, line, error)),
            _ => None,
        }
    }

    /// One answered line, its notices and any deprecation hint; returns the
    /// command's entry.
    fn push_result(&self, prompt: String, line: String, result: ExecResponse) -> Entry {
        self.in_multi.set(result.in_multi);
        if result.micros > 0 {
            self.on_timed.run(result.micros);
        }
        let entry = self.push(EntryKind::Command {
            prompt,
            line: line.clone(),
            text: result.text,
            is_error: result.reply.is_error(),
            micros: Some(result.micros),
            code: None,
        });
        for notice in &result.notices {
            self.server_notice(notice);
        }
        let deprecation = self
            .catalog
            .with_untracked(|c| c.as_ref().and_then(|c| c.deprecation(&line)));
        if let Some(text) = deprecation {
            self.notice(Tone::Info, text);
        }
        entry
    }

    /// One line the server refused or could not run.
    fn push_refusal(&self, prompt: String, line: String, error: ErrorBody) -> Entry {
        if error.code == ErrorCode::SandboxRestarted {
            self.in_multi.set(false);
        }
        self.push(EntryKind::Command {
            prompt,
            line,
            text: error.message,
            is_error: true,
            micros: None,
            code: Some(error.code),
        })
    }

    /// Runs block `block` of `lesson` on the server, exactly as the lesson
    /// test runs it (strict or not is the block's own setting, never the
    /// checkbox's). Every line becomes one entry, as if typed; returns them
    /// so the page can also show them beside the block.
    pub async fn run_block(&self, lesson: String, block: usize, source: &str) -> Vec<Entry> {
        self.remember(source.trim_end_matches('\n'));
        self.running.update(|n| *n += 1);
        let reply = self
            .connection
            .request(|seq| ClientMessage::RunBlock { seq, lesson, block })
            .await;
        self.running.update(|n| *n = n.saturating_sub(1));
        match reply {
            ServerMessage::BlockRan {
                lines, in_multi, ..
            } => {
                let entries = lines
                    .into_iter()
                    .map(
                        |BlockLine {
                             line,
                             result,
                             error,
                         }| {
                            let prompt = self.prompt();
                            match (result, error) {
                                (Some(result), _) => self.push_result(prompt, line, result),
                                (None, error) => self.push_refusal(
                                    prompt,
                                    line,
                                    error.unwrap_or_else(|| {
                                        crate::link::local_error(
                                            ErrorCode::Unknown,
                                            "The server sent neither a reply nor an error.",
                                        )
                                    }),
                                ),
                            }
                        },
                    )
                    .collect();
                self.in_multi.set(in_multi);
                entries
            }
            ServerMessage::Error { error, .. } => {
                self.notice(Tone::Warn, error.message.clone());
                vec![Entry {
                    id: 0,
                    kind: EntryKind::Notice {
                        tone: Tone::Warn,
                        text: error.message,
                    },
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The learner opened `lesson`: the server loads its starting data if
    /// this sandbox lacks it and ends a transaction left open elsewhere.
    /// Before the socket answers, `Connected` sends it instead.
    pub fn open_lesson(&self, lesson: String) {
        self.lesson.set_value(Some(lesson.clone()));
        self.lesson_told.set_value(false);
        if self.connection.status.get_untracked() == crate::link::LinkStatus::Connected {
            self.send_open_lesson(lesson);
        }
    }

    /// The learner left lesson `lesson`'s page (the next page may have
    /// opened its own lesson already, which stays).
    pub fn close_lesson(&self, lesson: &str) {
        if self.lesson.get_value().as_deref() == Some(lesson) {
            self.lesson.set_value(None);
        }
    }

    fn send_open_lesson(&self, lesson: String) {
        self.lesson_told.set_value(true);
        let state = *self;
        leptos::task::spawn_local(async move {
            match state
                .connection
                .request(|seq| ClientMessage::OpenLesson { seq, lesson })
                .await
            {
                ServerMessage::LessonOpened {
                    notice, in_multi, ..
                } => {
                    state.in_multi.set(in_multi);
                    if let Some(notice) = notice {
                        state.notice(tone_of(notice.kind), notice.message);
                    }
                }
                ServerMessage::Error { error, .. } => state.notice(Tone::Warn, error.message),
                _ => {}
            }
        });
    }

    /// A fresh, empty sandbox for this session.
    pub fn reset(&self) {
        let state = *self;
        leptos::task::spawn_local(async move {
            match state
                .connection
                .request(|seq| ClientMessage::Reset { seq })
                .await
            {
                ServerMessage::ResetDone { .. } => {
                    state.in_multi.set(false);
                    state.notice(Tone::Info, "Your sandbox was reset: it is empty and ready.");
                }
                ServerMessage::Error { error, .. } => state.notice(Tone::Warn, error.message),
                _ => {}
            }
        });
    }
}

/// redis-cli's prompt, with `(TX)` inside a transaction.
pub fn prompt_for(in_multi: bool) -> String {
    if in_multi {
        "redis-tutor(TX)> ".to_owned()
    } else {
        "redis-tutor> ".to_owned()
    }
}
