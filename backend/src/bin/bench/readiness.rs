//! Waiting for a server the benchmark started. It counts as started only
//! once it answers (its socket file, or its port, exists before it accepts
//! anything: a new user's first run once failed on exactly that), and a
//! process that exits meanwhile fails at once, with the end of its log.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::bail;

/// How long a fresh server may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Polls `probe` until it succeeds. `name` is the server, `answer` what it
/// must do (`answer PING on …`), both for the error.
pub fn wait_until_answers(
    name: &str,
    answer: &str,
    child: &mut Child,
    log: &Path,
    mut probe: impl FnMut() -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = String::from("no attempt yet");
    while started.elapsed() < READY_WITHIN {
        if let Some(status) = child.try_wait()? {
            bail!(
                "{name} exited at start-up ({status}); its log ends:\n{}",
                tail(log)
            );
        }
        match probe() {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(POLL_EVERY);
    }
    bail!(
        "{name} did not {answer} within {} s (last try: {last}); its log ends:\n{}",
        READY_WITHIN.as_secs(),
        tail(log)
    )
}

/// The last lines of a log file, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("(no log: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}
