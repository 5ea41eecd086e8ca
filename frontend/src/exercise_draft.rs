//! The learner's library for an exercise as they write it: kept per
//! exercise in localStorage (with their progress, so a reload or another
//! lesson never loses it), a starting skeleton built from the contract,
//! the console line that loads it, and where Redis says a load failed.

use gloo::storage::{LocalStorage, Storage};
use protocol::ExerciseInfo;

const KEY_PREFIX: &str = "redis-tutor.exercise.";

/// The saved library of exercise `id`, if the learner wrote one.
pub fn load(id: &str) -> Option<String> {
    LocalStorage::get::<String>(format!("{KEY_PREFIX}{id}")).ok()
}

pub fn save(id: &str, code: &str) {
    let _ = LocalStorage::set(format!("{KEY_PREFIX}{id}"), code);
}

/// A library that loads but does nothing yet: the shebang, and one stub
/// per function of the contract with how it is called in a comment, so
/// the first Load already works and the contract sits next to the code.
pub fn skeleton(exercise: &ExerciseInfo) -> String {
    let library = exercise.id.replace('-', "_");
    let mut code = format!("#!lua name={library}\n");
    for function in &exercise.functions {
        code.push_str(&format!(
            "\n-- {}\n-- returns {}\nredis.register_function('{}', function(keys, args)\n  return 0\nend)\n",
            function.called_as, function.returns, function.name
        ));
    }
    code
}

/// `code` as one double-quoted argument of redis-cli's splitter: escapes
/// for what would end or bend the string, `\xHH` for other control bytes
/// (a NUL would end the line). Everything else, UTF-8 included, is sent
/// as is, so the library Redis stores is byte for byte what was typed.
pub fn quoted(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 8 + 2);
    out.push('"');
    for c in code.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The console line that loads (or replaces) the library.
pub fn load_line(code: &str) -> String {
    format!("FUNCTION LOAD REPLACE {}", quoted(code))
}

/// The line of the library a load error points at: Lua's compile errors
/// read `user_function:3: …` (Redis keeps the shebang's line, so it is
/// the editor's own numbering).
pub fn error_line(message: &str) -> Option<usize> {
    let (_, after) = message.split_once("user_function:")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<Vec<u8>> {
        protocol::split_args(line.as_bytes()).expect("the line splits")
    }

    #[test]
    fn a_library_with_quotes_escapes_and_newlines_is_one_argument() {
        let code = "#!lua name=x\n\tlocal s = \"a\\\"b\\n\" .. 'c' -- \\x41\r\nreturn s\u{1}é";
        let args = split(&load_line(code));
        assert_eq!(args.len(), 4);
        assert_eq!(args[0], b"FUNCTION");
        assert_eq!(args[2], b"REPLACE");
        assert_eq!(args[3], code.as_bytes());
    }

    #[test]
    fn a_nul_byte_does_not_end_the_line() {
        let args = split(&load_line("a\0b"));
        assert_eq!(args[3], b"a\0b");
    }

    #[test]
    fn the_skeleton_registers_every_function_of_the_contract() {
        let exercise = ExerciseInfo {
            id: "rate-limiter".into(),
            title: "t".into(),
            lesson: "l".into(),
            functions: vec![protocol::FunctionSpec {
                name: "rl_sliding".into(),
                called_as: "FCALL rl_sliding 1 <key>".into(),
                returns: "1 allowed".into(),
            }],
            checks: Vec::new(),
        };
        let code = skeleton(&exercise);
        assert!(code.starts_with("#!lua name=rate_limiter\n"));
        assert!(code.contains("redis.register_function('rl_sliding', function(keys, args)"));
    }

    #[test]
    fn a_compile_error_gives_its_line() {
        let message = "ERR Error compiling function: user_function:3: '=' expected near 'x'";
        assert_eq!(error_line(message), Some(3));
        assert_eq!(error_line("ERR Library 'x' already exists"), None);
    }
}
