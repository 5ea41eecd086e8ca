//! Function libraries as Redis holds them. A library's flags are given to
//! `redis.register_function` in its code, so the policy's look at the text
//! of `FUNCTION LOAD` can be fooled (`'allow' .. '-oom'`). After anything
//! that may load a library (FUNCTION LOAD, or EXEC of a transaction that
//! queued one), `FUNCTION LIST` on the sandbox's control connection says
//! what was really registered, and a library with a refused flag is
//! deleted at once, before any of its functions can run.

use protocol::{Notice, NoticeKind};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::policy::refused_flag;
use crate::session::convert::text;

/// Whether running `args` may have loaded a function library.
pub fn may_load(args: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    (is(0, "function") && is(1, "load")) || is(0, "exec")
}

/// Deletes every library with a function that carries a refused flag, and
/// says which; `None` when there was none (or the list could not be read).
pub async fn drop_refused(control: &mut MultiplexedConnection) -> Option<Notice> {
    let listed = control
        .req_packed_command(redis::cmd("FUNCTION").arg("LIST"))
        .await
        .ok()?;
    let found = refused(&listed);
    let (library, function, flag, why) = found.first()?.clone();
    for (library, ..) in &found {
        let _ = control
            .req_packed_command(redis::cmd("FUNCTION").arg("DELETE").arg(library))
            .await;
    }
    Some(Notice {
        kind: NoticeKind::Info,
        message: format!(
            "The library {library} was removed as soon as it was loaded: its function {function} has the flag {flag}, which is not allowed in the sandbox: {why}. Remove the flag and load it again (flags such as no-writes are fine)."
        ),
    })
}

/// (library, function, flag, why) for each function of `FUNCTION LIST`'s
/// reply that carries a refused flag.
fn refused(listed: &Value) -> Vec<(String, String, String, &'static str)> {
    let Value::Array(libraries) = listed else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for library in libraries {
        let Value::Array(items) = library else {
            continue;
        };
        let Some(name) = field(items, "library_name").and_then(text) else {
            continue;
        };
        let Some(Value::Array(functions)) = field(items, "functions") else {
            continue;
        };
        for function in functions {
            let Value::Array(items) = function else {
                continue;
            };
            let Some(Value::Array(flags)) = field(items, "flags") else {
                continue;
            };
            for flag in flags.iter().filter_map(text) {
                if let Some(why) = refused_flag(&flag) {
                    let function_name = field(items, "name").and_then(text).unwrap_or_default();
                    found.push((name.clone(), function_name, flag, why));
                }
            }
        }
    }
    found
}

/// The value after `key` in a flat key/value array (RESP2's maps).
fn field<'a>(items: &'a [Value], key: &str) -> Option<&'a Value> {
    items
        .chunks(2)
        .find(|pair| pair.first().and_then(text).as_deref() == Some(key))
        .and_then(|pair| pair.get(1))
}

#[cfg(test)]
mod tests {
    use redis::Value;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn function(name: &str, flags: &[&str]) -> Value {
        Value::Array(vec![
            bulk("name"),
            bulk(name),
            bulk("description"),
            Value::Nil,
            bulk("flags"),
            Value::Array(flags.iter().map(|f| bulk(f)).collect()),
        ])
    }

    #[test]
    fn a_function_with_allow_oom_is_found_by_its_registered_flags() {
        let listed = Value::Array(vec![Value::Array(vec![
            bulk("library_name"),
            bulk("oomlib"),
            bulk("engine"),
            bulk("LUA"),
            bulk("functions"),
            Value::Array(vec![
                function("plain", &[]),
                function("grow", &["no-writes", "allow-oom"]),
            ]),
        ])]);
        let found = super::refused(&listed);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].0.as_str(),
                found[0].1.as_str(),
                found[0].2.as_str()
            ),
            ("oomlib", "grow", "allow-oom")
        );
    }

    #[test]
    fn what_may_load_a_library() {
        let args = |line: &str| protocol::split_args(line.as_bytes()).unwrap();
        assert!(super::may_load(&args("function LOAD \"#!lua name=x\"")));
        assert!(super::may_load(&args("EXEC")));
        assert!(!super::may_load(&args("FUNCTION LIST")));
        assert!(!super::may_load(&args("FCALL f 0")));
    }
}
