//! Blocking timeouts: B*POP-style seconds and XREAD's `BLOCK` milliseconds
//! must be greater than 0 (0 waits forever) and at most the configured
//! maximum, so the console never hangs.

use std::time::Duration;

use protocol::ErrorCode;

use super::{lower, refuse, Refusal, Verdict};
use crate::limits::SandboxLimits;

/// A timeout Redis itself refuses without waiting (negative, or not a
/// number), forwarded so the learner reads Redis's own error.
fn answered_by_redis(args: &[Vec<u8>]) -> Verdict {
    Verdict::Forward {
        args: args.to_vec(),
        blocks_for: Duration::ZERO,
    }
}

/// Text Redis cannot read as a number at all: no digit in it, and not one
/// of the words its number parser takes (`inf`, `nan`). Anything with a
/// digit could be a form Redis reads and Rust does not (`0x10`, sixteen
/// seconds), so it stays refused.
fn redis_refuses_as_a_number(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    !text.bytes().any(|b| b.is_ascii_digit())
        && !["inf", "infinity", "nan"]
            .iter()
            .any(|word| lower.trim_start_matches(['+', '-']).starts_with(word))
}

fn max_block_secs(limits: &SandboxLimits) -> f64 {
    limits.max_block_ms as f64 / 1000.0
}

/// B*POP-style timeouts, in seconds at `index`.
pub(super) fn blocking_seconds(
    args: &[Vec<u8>],
    index: usize,
    limits: &SandboxLimits,
) -> Result<Verdict, Refusal> {
    let name = lower(&args[0]).to_uppercase();
    let max = max_block_secs(limits);
    let text = String::from_utf8_lossy(&args[index]);
    let seconds: Option<f64> = text.parse().ok().filter(|s: &f64| s.is_finite());
    match seconds {
        Some(s) if s > 0.0 && s <= max => Ok(Verdict::Forward {
            args: args.to_vec(),
            blocks_for: Duration::from_secs_f64(s),
        }),
        Some(0.0) => Err(refuse(
            ErrorCode::BlockingForever,
            format!(
                "{name} with timeout 0 waits forever, and the console would hang. Give a timeout in seconds greater than 0 and at most {max}, for example 1 or 0.5."
            ),
        )),
        // Redis refuses these at once, in its own words.
        Some(s) if s < 0.0 => Ok(answered_by_redis(args)),
        None if redis_refuses_as_a_number(&text) => Ok(answered_by_redis(args)),
        _ => Err(refuse(
            ErrorCode::BlockingTimeout,
            format!(
                "{name} timeout `{text}` is not allowed: give a number of seconds greater than 0 and at most {max}."
            ),
        )),
    }
}

/// XREAD / XREADGROUP: `BLOCK ms` among the options before STREAMS. Redis
/// obeys the last `BLOCK` when there are several, so every one is checked.
pub(super) fn xread_block(args: &[Vec<u8>], limits: &SandboxLimits) -> Result<Verdict, Refusal> {
    let name = lower(&args[0]).to_uppercase();
    let mut blocks_for = Duration::ZERO;
    let mut i = 1;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "streams" => break,
            "group" => i += 3,
            "count" => i += 2,
            "block" => {
                let Some(raw) = args.get(i + 1) else { break };
                blocks_for = block_ms(&name, raw, limits)?;
                i += 2;
            }
            _ => i += 1,
        }
    }
    Ok(Verdict::Forward {
        args: args.to_vec(),
        blocks_for,
    })
}

/// One `BLOCK` value: 1 to `max_block_ms` milliseconds.
fn block_ms(name: &str, raw: &[u8], limits: &SandboxLimits) -> Result<Duration, Refusal> {
    let text = String::from_utf8_lossy(raw);
    if text.parse::<i64>().is_ok_and(|ms| ms < 0) || redis_refuses_as_a_number(&text) {
        // Redis answers at once, in its own words.
        return Ok(Duration::ZERO);
    }
    match text.parse::<u64>() {
        Ok(0) => Err(refuse(
            ErrorCode::BlockingForever,
            format!(
                "{name} BLOCK 0 waits forever, and the console would hang (with several BLOCK options Redis obeys the last, so each one must be 1 to {} milliseconds).",
                limits.max_block_ms
            ),
        )),
        Ok(ms) if ms <= limits.max_block_ms => Ok(Duration::from_millis(ms)),
        _ => Err(refuse(
            ErrorCode::BlockingTimeout,
            format!(
                "{name} BLOCK `{text}` is not allowed: give 1 to {} milliseconds.",
                limits.max_block_ms
            ),
        )),
    }
}
