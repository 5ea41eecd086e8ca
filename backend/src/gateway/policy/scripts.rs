//! Script flags. A Lua script may start with a shebang such as
//! `#!lua flags=no-writes`; some flags lift protections the sandbox relies
//! on. Redis knows five (no-writes, allow-oom, allow-stale, no-cluster,
//! allow-cross-slot-keys):
//! - `allow-oom` lets a script write into a sandbox whose maxmemory is
//!   full, and keep writing: refused.
//! - `no-writes` and `no-cluster` only add restrictions: allowed.
//! - `allow-stale` (run on a stale replica) and `allow-cross-slot-keys`
//!   (cluster slots) change nothing on a standalone sandbox: allowed, so
//!   lessons may show them.
//!
//! Unknown flags reach Redis, which answers with its own error.

use protocol::ErrorCode;

use super::{refuse, Refusal};

/// Flags refused in the sandbox, with why.
const REFUSED_FLAGS: &[(&str, &str)] = &[(
    "allow-oom",
    "it lets a script keep writing after the sandbox's memory (maxmemory) is full",
)];

fn refusal(flag: &str, why: &str) -> Refusal {
    refuse(
        ErrorCode::CommandRefused,
        format!(
            "The script flag {flag} is not allowed in the sandbox: {why}. Remove it from the script (flags such as no-writes are fine)."
        ),
    )
}

/// The flags named on a script's first line (`#!lua flags=a,b`), split as
/// Redis splits them; empty without a shebang.
fn shebang_flags(body: &[u8]) -> Vec<String> {
    let Some(rest) = body.strip_prefix(b"#!") else {
        return Vec::new();
    };
    let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
    // Redis splits the shebang like redis-cli splits a line (quotes too).
    let parts = protocol::split_args(line).unwrap_or_default();
    parts
        .iter()
        .filter_map(|part| part.strip_prefix(b"flags="))
        .flat_map(|flags| flags.split(|b| *b == b','))
        .map(|flag| String::from_utf8_lossy(flag).trim().to_ascii_lowercase())
        .collect()
}

/// The refusal for a script (EVAL, EVAL_RO, SCRIPT LOAD) whose shebang
/// sets a flag that lifts a protection; `None` when it is fine.
pub fn script_flags_refusal(body: &[u8]) -> Option<Refusal> {
    let flags = shebang_flags(body);
    REFUSED_FLAGS
        .iter()
        .find(|(flag, _)| flags.iter().any(|f| f == flag))
        .map(|(flag, why)| refusal(flag, why))
}

/// Why `flag` is refused, if it is.
pub fn refused_flag(flag: &str) -> Option<&'static str> {
    REFUSED_FLAGS
        .iter()
        .find(|(refused, _)| refused.eq_ignore_ascii_case(flag))
        .map(|(_, why)| *why)
}

/// The same check for a function library (FUNCTION LOAD), whose flags are
/// given to `redis.register_function` inside the code rather than in the
/// shebang: any mention of a refused flag is refused.
pub fn library_flags_refusal(body: &[u8]) -> Option<Refusal> {
    if let Some(refused) = script_flags_refusal(body) {
        return Some(refused);
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    REFUSED_FLAGS
        .iter()
        .find(|(flag, _)| text.contains(flag))
        .map(|(flag, why)| refusal(flag, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_allow_oom_in_a_shebang() {
        for body in [
            "#!lua flags=allow-oom\nreturn 1",
            "#!lua flags=no-writes,allow-oom\nreturn 1",
            "#!lua \"flags=allow-oom\"\nreturn 1",
            "#!lua flags=ALLOW-OOM\nreturn 1",
        ] {
            let refused = script_flags_refusal(body.as_bytes()).expect(body);
            assert!(refused.message.contains("allow-oom"), "{}", refused.message);
        }
    }

    #[test]
    fn allows_flags_that_lift_nothing_here() {
        for body in [
            "return 1",
            "#!lua\nreturn 1",
            "#!lua flags=no-writes\nreturn 1",
            "#!lua flags=no-cluster,allow-stale,allow-cross-slot-keys\nreturn 1",
            "return 'allow-oom'",
            "-- #!lua flags=allow-oom\nreturn 1",
        ] {
            assert!(script_flags_refusal(body.as_bytes()).is_none(), "{body}");
        }
    }

    #[test]
    fn libraries_may_not_register_allow_oom_functions() {
        let library = "#!lua name=lib\nredis.register_function{function_name='f', callback=function() return 1 end, flags={'allow-oom'}}";
        assert!(library_flags_refusal(library.as_bytes()).is_some());
        assert!(library_flags_refusal(
            b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
        )
        .is_none());
    }
}
