//! The transcript's entries, their plain-text form (Copy), and their copy in
//! sessionStorage, so a reload of the tab shows what was on screen and
//! where the learner had scrolled to.

use gloo::storage::{SessionStorage, Storage};
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};

const ENTRIES_KEY: &str = "redis-tutor.transcript";
const SCROLL_KEY: &str = "redis-tutor.transcript-scroll";
/// Entries kept across a reload: enough to pick up where one left off,
/// small enough for sessionStorage's few megabytes.
const KEPT_ENTRIES: usize = 300;

/// How a notice line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EntryKind {
    /// A command and what came back.
    Command {
        prompt: String,
        line: String,
        text: String,
        is_error: bool,
        /// The server's round trip to the sandbox, when Redis answered.
        micros: Option<u64>,
        /// Refusals carry a code.
        code: Option<ErrorCode>,
    },
    Notice {
        tone: Tone,
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: u64,
    pub kind: EntryKind,
}

impl Entry {
    /// The entry as redis-cli would have printed it.
    pub fn plain_text(&self) -> String {
        match &self.kind {
            EntryKind::Command {
                prompt, line, text, ..
            } => format!("{prompt}{line}\n{text}"),
            EntryKind::Notice { text, .. } => format!("# {text}"),
        }
    }
}

/// The entries saved by this tab, if any.
pub fn load() -> Vec<Entry> {
    SessionStorage::get(ENTRIES_KEY).unwrap_or_default()
}

pub fn save(entries: &[Entry]) {
    let start = entries.len().saturating_sub(KEPT_ENTRIES);
    let _ = SessionStorage::set(ENTRIES_KEY, &entries[start..]);
}

pub fn load_scroll() -> Option<i32> {
    SessionStorage::get(SCROLL_KEY).ok()
}

pub fn save_scroll(top: i32) {
    let _ = SessionStorage::set(SCROLL_KEY, top);
}
