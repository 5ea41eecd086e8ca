//! Splitting a console line into arguments exactly as redis-cli does
//! (`sdssplitargs`), plus redis-cli's leading repeat count (`3 PING`).
//! Shared by the browser (to show parse errors before sending) and the
//! server (the only parser that decides what runs).

use serde::{Deserialize, Serialize};

/// Why a line could not be split. Both messages are redis-cli's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitError {
    /// An unbalanced quote, or a closing quote followed by a non-space.
    InvalidArguments,
    /// A leading repeat count that is zero, negative or out of range.
    InvalidRepeat,
}

impl SplitError {
    pub fn message(self) -> &'static str {
        match self {
            SplitError::InvalidArguments => "Invalid argument(s)",
            SplitError::InvalidRepeat => "Invalid redis-cli repeat command option value.",
        }
    }
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SplitError {}

/// A parsed console line: the command's arguments and how often to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// Binary-safe arguments; `args[0]` is the command name. Empty for a
    /// blank line, which redis-cli ignores.
    pub args: Vec<Vec<u8>>,
    /// redis-cli's `N CMD …` prefix; 1 when absent.
    pub repeat: u64,
}

/// C's `isspace` in the "C" locale, which sdssplitargs uses to skip blanks.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Port of `sdssplitargs`. The input is a C string there, so a NUL byte
/// ends the line, as it would in redis-cli.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, SplitError> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(SplitError::InvalidArguments);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(SplitError::InvalidArguments);
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(SplitError::InvalidArguments);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(SplitError::InvalidArguments);
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => current.push(other),
                }
            }
            p += 1;
        }
        args.push(current);
    }
}

/// C's `strtol(s, &end, 10)` consuming the whole string: leading C spaces
/// and a sign are allowed, and an empty string parses as 0 (as in
/// redis-cli, where `"" PING` is an invalid repeat, not a command).
fn strtol_whole(s: &[u8]) -> Option<Result<i64, ()>> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() {
        // No digits: strtol leaves `end` at the start; the whole string
        // was consumed only if it was empty.
        return s.is_empty().then_some(Ok(0));
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for d in digits {
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')))
        {
            Some(v) => v,
            None => return Some(Err(())),
        };
    }
    Some(Ok(if negative { -value } else { value }))
}

/// Splits a line and takes redis-cli's leading repeat count off it.
pub fn parse_line(line: &[u8]) -> Result<CommandLine, SplitError> {
    let mut args = split_args(line)?;
    if args.len() > 1 {
        if let Some(count) = strtol_whole(&args[0]) {
            return match count {
                Ok(n) if n > 0 => {
                    args.remove(0);
                    Ok(CommandLine {
                        args,
                        repeat: n.unsigned_abs(),
                    })
                }
                _ => Err(SplitError::InvalidRepeat),
            };
        }
    }
    Ok(CommandLine { args, repeat: 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<Vec<String>, SplitError> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn splits_on_blanks() {
        assert_eq!(split("  HSET  k\tf v \n").unwrap(), ["HSET", "k", "f", "v"]);
        assert!(split("").unwrap().is_empty());
        assert!(split("   ").unwrap().is_empty());
    }

    #[test]
    fn double_quotes_understand_escapes() {
        assert_eq!(
            split(r#"SET k "a b\n\r\t\"\\\x41\x4a\q""#).unwrap(),
            ["SET", "k", "a b\n\r\t\"\\AJq"]
        );
        assert_eq!(split_args(br#""\b\a\x00""#).unwrap(), [vec![8u8, 7, 0]]);
        // \x without two hex digits is just an escaped `x`.
        assert_eq!(split(r#""\xZZ""#).unwrap(), ["xZZ"]);
    }

    #[test]
    fn single_quotes_only_escape_a_quote() {
        assert_eq!(split(r"'it\'s \n raw'").unwrap(), [r"it's \n raw"]);
    }

    #[test]
    fn quotes_glue_onto_a_bare_word() {
        assert_eq!(split(r#"a"b c"d"#), Err(SplitError::InvalidArguments));
        assert_eq!(split(r#"a"b c" d"#).unwrap(), ["ab c", "d"]);
        assert_eq!(split("x'y z'").unwrap(), ["xy z"]);
    }

    #[test]
    fn unbalanced_or_glued_quotes_are_invalid() {
        for bad in [r#""abc"#, "'abc", r#""a"b"#, "'a'b", r#"SET k "v"x"#] {
            assert_eq!(split(bad), Err(SplitError::InvalidArguments), "{bad}");
        }
        assert_eq!(
            SplitError::InvalidArguments.to_string(),
            "Invalid argument(s)"
        );
    }

    #[test]
    fn empty_quotes_are_an_empty_argument() {
        assert_eq!(split(r#"SET k """#).unwrap(), ["SET", "k", ""]);
    }

    #[test]
    fn a_nul_byte_ends_the_line() {
        assert_eq!(split_args(b"PING\0 extra").unwrap(), [b"PING".to_vec()]);
    }

    #[test]
    fn repeat_count_is_taken_off_the_front() {
        let line = parse_line(b"3 PING").unwrap();
        assert_eq!(line.repeat, 3);
        assert_eq!(line.args, [b"PING".to_vec()]);
        assert_eq!(parse_line(b"+2 PING").unwrap().repeat, 2);
    }

    #[test]
    fn a_lone_number_is_a_command_not_a_repeat() {
        let line = parse_line(b"3").unwrap();
        assert_eq!(line.repeat, 1);
        assert_eq!(line.args, [b"3".to_vec()]);
        assert_eq!(parse_line(b"3x PING").unwrap().args.len(), 2);
    }

    #[test]
    fn zero_negative_empty_or_huge_repeats_are_refused() {
        for bad in [
            "0 PING",
            "-1 PING",
            r#""" PING"#,
            "99999999999999999999 PING",
        ] {
            assert_eq!(
                parse_line(bad.as_bytes()),
                Err(SplitError::InvalidRepeat),
                "{bad}"
            );
        }
    }
}
