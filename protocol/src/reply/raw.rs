//! redis-cli's raw output: which commands redis-cli prints raw even with
//! `--no-raw`, and how a raw reply looks (`cliFormatReplyRaw`).
//!
//! The rule is redis-cli's own, from `cliSendCommand` in redis/redis
//! `src/redis-cli.c` (the same in 7.0, the oracle the tests run, and 8.x):
//! it sets `output_raw` for these commands and then prints the reply with
//! `cliFormatReplyRaw` and no trailing newline, so INFO shows its
//! `# Memory` section as lines instead of one quoted string.

use super::tty::format_double;
use super::Reply;

/// How redis-cli prints one command's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// `--no-raw`: quoted strings, `(integer)`, numbered arrays.
    Standard,
    /// The bytes as the server sent them, for replies that are text meant
    /// for people (INFO, CLIENT LIST, MEMORY DOCTOR, …).
    Raw,
}

/// redis-cli's choice for the command `args` (the arguments as split,
/// after any `N` repeat count): `cliSendCommand`'s `output_raw` test.
pub fn output_mode<A: AsRef<[u8]>>(args: &[A]) -> OutputMode {
    let is = |i: usize, word: &str| {
        args.get(i)
            .is_some_and(|a| a.as_ref().eq_ignore_ascii_case(word.as_bytes()))
    };
    let sub = |words: &[&str]| words.iter().any(|w| is(1, w));
    let argc = args.len();
    let raw = is(0, "info")
        || is(0, "lolwut")
        || (argc >= 2 && is(0, "debug") && sub(&["htstats", "htstats-key", "client-eviction"]))
        || (argc >= 2 && is(0, "memory") && sub(&["malloc-stats", "doctor"]))
        || (argc == 2 && is(0, "cluster") && sub(&["nodes", "info"]))
        || (argc >= 2 && is(0, "client") && sub(&["list", "info"]))
        || (argc == 3 && is(0, "latency") && sub(&["graph"]))
        || (argc == 2 && is(0, "latency") && sub(&["doctor"]))
        || (argc >= 2 && is(0, "proxy") && sub(&["info"]));
    if raw {
        OutputMode::Raw
    } else {
        OutputMode::Standard
    }
}

/// The console text for the reply to `args`, exactly as redis-cli
/// `--no-raw` prints it, without the final newline. This is what the
/// gateway shows for a console line; `format_cli` alone is right only for
/// commands that redis-cli does not print raw.
pub fn format_cli_for<A: AsRef<[u8]>>(args: &[A], reply: &Reply) -> String {
    match output_mode(args) {
        OutputMode::Standard => super::format_cli(reply),
        OutputMode::Raw => format_raw(reply),
    }
}

/// A reply as redis-cli's `cliFormatReplyRaw` writes it: strings as their
/// bytes, errors without `(error)`, integers bare, aggregates one element
/// per line. redis-cli writes INFO's `\r\n` line ends as they come and the
/// terminal shows lines; the console gets `\n` so it shows the same lines.
/// Without the final newline, like `format_cli`.
pub fn format_raw(reply: &Reply) -> String {
    let mut out = Vec::new();
    write_raw(&mut out, reply);
    let mut text = String::from_utf8_lossy(&out).replace("\r\n", "\n");
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

fn write_raw(out: &mut Vec<u8>, reply: &Reply) {
    match reply {
        Reply::Nil => {}
        Reply::Error { text } => {
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        Reply::Status { text } | Reply::Verbatim { text, .. } | Reply::BigNumber { text } => {
            out.extend_from_slice(text.as_bytes());
        }
        Reply::Bulk { data, omitted } => {
            out.extend_from_slice(data);
            if *omitted > 0 {
                let note =
                    format!("\n(… {omitted} more bytes not shown: reply truncated for display)");
                out.extend_from_slice(note.as_bytes());
            }
        }
        Reply::Integer { value } => out.extend_from_slice(value.to_string().as_bytes()),
        Reply::Double { value } => out.extend_from_slice(format_double(*value).as_bytes()),
        Reply::Boolean { value } => {
            out.extend_from_slice(if *value { b"(true)" } else { b"(false)" });
        }
        Reply::Array { items, omitted } | Reply::Set { items, omitted } => {
            write_lines(out, items.iter(), *omitted, write_raw);
        }
        Reply::Push { items, .. } => write_lines(out, items.iter(), 0, write_raw),
        Reply::Map { entries, omitted } => {
            write_lines(out, entries.iter(), *omitted, |out, (key, value)| {
                write_raw(out, key);
                out.push(b' ');
                write_raw(out, value);
            });
        }
    }
}

/// Elements separated by redis-cli's multi-bulk delimiter (a newline).
fn write_lines<T>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = T>,
    omitted: u64,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        write(out, item);
    }
    if omitted > 0 {
        let note = format!("\n(… {omitted} more elements not shown: reply truncated for display)");
        out.extend_from_slice(note.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(line: &str) -> OutputMode {
        let args: Vec<&str> = line.split_whitespace().collect();
        output_mode(&args)
    }

    #[test]
    fn redis_cli_prints_these_commands_raw() {
        for line in [
            "INFO",
            "info memory",
            "INFO server clients",
            "LOLWUT",
            "lolwut VERSION 5",
            "MEMORY DOCTOR",
            "memory malloc-stats",
            "CLIENT LIST",
            "client list TYPE normal",
            "CLIENT INFO",
            "CLUSTER NODES",
            "cluster info",
            "LATENCY DOCTOR",
            "LATENCY GRAPH command",
            "DEBUG HTSTATS 0",
            "DEBUG HTSTATS-KEY k",
            "DEBUG CLIENT-EVICTION",
            "PROXY INFO",
        ] {
            assert_eq!(mode(line), OutputMode::Raw, "{line}");
        }
    }

    #[test]
    fn everything_else_and_the_wrong_arity_stay_standard() {
        for line in [
            "GET info",
            "MEMORY USAGE k",
            "MEMORY STATS",
            "CLIENT ID",
            "CLUSTER NODES extra",
            "CLUSTER",
            "LATENCY DOCTOR extra",
            "LATENCY GRAPH",
            "LATENCY LATEST",
            "CONFIG GET maxmemory",
            "ECHO INFO",
            "",
        ] {
            assert_eq!(mode(line), OutputMode::Standard, "{line}");
        }
    }

    #[test]
    fn info_text_shows_as_lines_not_one_quoted_string() {
        let info = Reply::bulk("# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\n");
        assert_eq!(
            format_cli_for(&["INFO", "memory"], &info),
            "# Memory\nused_memory:1000\nmaxmemory:0"
        );
        assert_eq!(
            format_cli_for(&["GET", "k"], &info),
            r##""# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\n""##
        );
    }

    #[test]
    fn raw_replies_of_other_kinds_look_like_cli_format_reply_raw() {
        let raw = |reply: Reply| format_cli_for(&["CLIENT", "LIST"], &reply);
        assert_eq!(raw(Reply::error("ERR nope")), "ERR nope");
        assert_eq!(raw(Reply::Integer { value: 7 }), "7");
        assert_eq!(raw(Reply::Nil), "");
        assert_eq!(raw(Reply::status("OK")), "OK");
        assert_eq!(
            raw(Reply::array(vec![
                Reply::bulk("a"),
                Reply::Integer { value: 2 }
            ])),
            "a\n2"
        );
        let map = Reply::Map {
            entries: vec![(Reply::bulk("k"), Reply::bulk("v"))],
            omitted: 0,
        };
        assert_eq!(raw(map), "k v");
    }

    #[test]
    fn a_cut_raw_reply_still_says_so() {
        let reply = Reply::Bulk {
            data: b"id=1 addr=x\n".to_vec(),
            omitted: 10,
        };
        assert_eq!(
            format_raw(&reply),
            "id=1 addr=x\n\n(… 10 more bytes not shown: reply truncated for display)"
        );
    }
}
