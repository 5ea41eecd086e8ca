//! Turning a pasted block (a lesson snippet) into console lines.
//!
//! redis-cli runs each physical line as it comes. The console does the
//! same in strict mode; otherwise it offers three stated conveniences:
//! full-line `#` comments are skipped, a trailing `\` joins the next line,
//! and a quoted string may span lines (an EVAL script) as one argument.

/// Splits `text` into the lines the console will run, in order.
pub fn console_lines(text: &str, strict: bool) -> Vec<String> {
    let physical = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    if strict {
        // redis-cli ignores only lines with no arguments at all.
        return physical
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
    }
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut joiner = "";
    for line in physical {
        if current.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
        }
        current.push_str(joiner);
        // A continued line's indentation is layout, not content.
        current.push_str(if joiner == " " {
            line.trim_start()
        } else {
            line
        });
        if open_quote(&current) {
            joiner = "\n";
            continue;
        }
        let trimmed_end = current.trim_end();
        if let Some(without) = trimmed_end.strip_suffix('\\') {
            current = without.trim_end().to_owned();
            joiner = " ";
            continue;
        }
        lines.push(std::mem::take(&mut current));
        joiner = "";
    }
    if !current.trim().is_empty() {
        lines.push(current);
    }
    lines
}

/// Whether a quote is still open at the end of `text`, following
/// sdssplitargs' quoting rules.
fn open_quote(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut double, mut single) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if double {
            if c == b'\\' && i + 1 < bytes.len() {
                i += 1;
            } else if c == b'"' {
                double = false;
            }
        } else if single {
            if c == b'\\' && bytes.get(i + 1) == Some(&b'\'') {
                i += 1;
            } else if c == b'\'' {
                single = false;
            }
        } else if c == b'"' {
            double = true;
        } else if c == b'\'' {
            single = true;
        }
        i += 1;
    }
    double || single
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let lines = console_lines("# Store\n\nHSET k a 1\n  # again\nHGET k a\n", false);
        assert_eq!(lines, ["HSET k a 1", "HGET k a"]);
    }

    #[test]
    fn a_trailing_backslash_joins_the_next_line() {
        let lines = console_lines(
            "HSET user:1 \\\n  age 28 \\\n  region \"us-west\"\nHGETALL user:1",
            false,
        );
        assert_eq!(
            lines,
            ["HSET user:1 age 28 region \"us-west\"", "HGETALL user:1"]
        );
    }

    #[test]
    fn a_multi_line_quoted_script_is_one_line_with_its_newlines() {
        let text = "EVAL \"\nlocal n = redis.call('INCR', KEYS[1])\n-- # not a comment line\nreturn n\n\" 1 counter\nGET counter";
        let lines = console_lines(text, false);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "EVAL \"\nlocal n = redis.call('INCR', KEYS[1])\n-- # not a comment line\nreturn n\n\" 1 counter"
        );
    }

    #[test]
    fn strict_mode_sends_every_physical_line_like_redis_cli() {
        let lines = console_lines("# comment\nHSET k \\\n  a 1\n\n", true);
        assert_eq!(lines, ["# comment", "HSET k \\", "  a 1"]);
    }

    #[test]
    fn windows_line_endings_are_tolerated() {
        assert_eq!(console_lines("PING\r\nPING\r\n", false), ["PING", "PING"]);
    }
}
