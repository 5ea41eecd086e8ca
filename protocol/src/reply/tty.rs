//! `format_cli`: a reply as `redis-cli --no-raw` prints it on a terminal
//! (redis-cli's `cliFormatReplyTTY`).

use super::Reply;

/// redis-cli's `sdscatrepr`: quoted, with C escapes and `\xNN` for every
/// byte that is not printable ASCII.
pub fn quote_bytes(out: &mut String, data: &[u8]) {
    out.push('"');
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                use std::fmt::Write;
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// Renders a reply exactly as `redis-cli --no-raw` prints it, without the
/// final newline. Cut-short aggregates end with one extra line saying how
/// much was left out (redis-cli never cuts, so it has no words for that).
pub fn format_cli(reply: &Reply) -> String {
    let mut out = String::new();
    write_reply(&mut out, reply, "");
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

fn write_reply(out: &mut String, reply: &Reply, prefix: &str) {
    use std::fmt::Write;
    match reply {
        Reply::Nil => out.push_str("(nil)\n"),
        Reply::Status { text } => {
            out.push_str(text);
            out.push('\n');
        }
        Reply::Error { text } => {
            let _ = writeln!(out, "(error) {text}");
        }
        Reply::Integer { value } => {
            let _ = writeln!(out, "(integer) {value}");
        }
        Reply::Bulk { data, omitted } => {
            quote_bytes(out, data);
            if *omitted > 0 {
                let _ = write!(
                    out,
                    " (… {omitted} more bytes not shown: reply truncated for display)"
                );
            }
            out.push('\n');
        }
        Reply::Double { value } => {
            let _ = writeln!(out, "(double) {}", format_double(*value));
        }
        Reply::Boolean { value } => {
            out.push_str(if *value { "(true)\n" } else { "(false)\n" });
        }
        Reply::BigNumber { text } => {
            let _ = writeln!(out, "(big number) {text}");
        }
        Reply::Verbatim { text, .. } => {
            out.push_str(text);
            out.push('\n');
        }
        Reply::Array { items, omitted } => {
            write_aggregate(out, items, *omitted, prefix, ')', "(empty array)");
        }
        Reply::Set { items, omitted } => {
            write_aggregate(out, items, *omitted, prefix, '~', "(empty set)");
        }
        Reply::Push { items, .. } => write_aggregate(out, items, 0, prefix, ')', "(empty push)"),
        Reply::Map { entries, omitted } => write_map(out, entries, *omitted, prefix),
    }
}

/// Digits needed for the largest 1-based index: redis-cli right-aligns
/// indexes to this width and indents nested replies by it plus two.
fn index_width(count: usize) -> usize {
    count.max(1).to_string().len()
}

fn write_aggregate(
    out: &mut String,
    items: &[Reply],
    omitted: u64,
    prefix: &str,
    sep: char,
    empty: &str,
) {
    use std::fmt::Write;
    if items.is_empty() && omitted == 0 {
        out.push_str(empty);
        out.push('\n');
        return;
    }
    let width = index_width(items.len());
    let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        let lead = if i == 0 { "" } else { prefix };
        let _ = write!(out, "{lead}{:>width$}{sep} ", i + 1);
        write_reply(out, item, &child_prefix);
    }
    write_omitted(out, omitted, prefix, items.is_empty(), "elements");
}

fn write_map(out: &mut String, entries: &[(Reply, Reply)], omitted: u64, prefix: &str) {
    use std::fmt::Write;
    if entries.is_empty() && omitted == 0 {
        out.push_str("(empty hash)\n");
        return;
    }
    let width = index_width(entries.len());
    let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, (key, value)) in entries.iter().enumerate() {
        let lead = if i == 0 { "" } else { prefix };
        let _ = write!(out, "{lead}{:>width$}# ", i + 1);
        write_reply(out, key, &child_prefix);
        out.pop();
        out.push_str(" => ");
        write_reply(out, value, &child_prefix);
    }
    write_omitted(out, omitted, prefix, entries.is_empty(), "entries");
}

fn write_omitted(out: &mut String, omitted: u64, prefix: &str, first: bool, what: &str) {
    use std::fmt::Write;
    if omitted > 0 {
        let lead = if first { "" } else { prefix };
        let _ = writeln!(
            out,
            "{lead}(… {omitted} more {what} not shown: reply truncated for display)"
        );
    }
}

/// RESP3 doubles as redis-cli shows them: `inf`, `-inf`, `nan`, otherwise
/// the shortest form that reads back the same.
pub(super) fn format_double(value: f64) -> String {
    if value.is_nan() {
        "nan".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::bulk(s)
    }

    #[test]
    fn scalars() {
        assert_eq!(format_cli(&Reply::Integer { value: -3 }), "(integer) -3");
        assert_eq!(format_cli(&Reply::Nil), "(nil)");
        assert_eq!(format_cli(&Reply::status("OK")), "OK");
        assert_eq!(
            format_cli(&Reply::error("ERR unknown command 'FOO'")),
            "(error) ERR unknown command 'FOO'"
        );
    }

    #[test]
    fn bulk_strings_are_quoted_and_escaped_like_sdscatrepr() {
        assert_eq!(format_cli(&bulk("hi")), r#""hi""#);
        assert_eq!(
            format_cli(&Reply::bulk(b"a\"b\\c\n\r\t\x07\x08\x00\x7f\xff".to_vec())),
            r#""a\"b\\c\n\r\t\a\b\x00\x7f\xff""#
        );
        assert_eq!(format_cli(&bulk("é")), r#""\xc3\xa9""#);
    }

    #[test]
    fn arrays_are_numbered_and_empty_ones_named() {
        assert_eq!(format_cli(&Reply::array(vec![])), "(empty array)");
        assert_eq!(
            format_cli(&Reply::array(vec![bulk("a"), Reply::Nil])),
            "1) \"a\"\n2) (nil)"
        );
    }

    #[test]
    fn indexes_are_padded_to_the_widest() {
        let items: Vec<Reply> = (0..10).map(|i| Reply::Integer { value: i }).collect();
        let text = format_cli(&Reply::array(items));
        assert!(text.starts_with(" 1) (integer) 0\n 2)"), "{text}");
        assert!(text.ends_with("10) (integer) 9"), "{text}");
    }

    #[test]
    fn nested_arrays_indent_by_index_width_plus_two() {
        let reply = Reply::array(vec![
            Reply::array(vec![bulk("1-0"), Reply::array(vec![bulk("f"), bulk("v")])]),
            Reply::array(vec![]),
        ]);
        assert_eq!(
            format_cli(&reply),
            "1) 1) \"1-0\"\n   2) 1) \"f\"\n      2) \"v\"\n2) (empty array)"
        );
    }

    #[test]
    fn resp3_kinds_render_like_redis_cli_3() {
        let map = Reply::Map {
            entries: vec![(bulk("a"), Reply::Integer { value: 1 })],
            omitted: 0,
        };
        assert_eq!(format_cli(&map), "1# \"a\" => (integer) 1");
        let set = Reply::Set {
            items: vec![bulk("x")],
            omitted: 0,
        };
        assert_eq!(format_cli(&set), "1~ \"x\"");
        assert_eq!(format_cli(&Reply::Double { value: 1.5 }), "(double) 1.5");
        assert_eq!(format_cli(&Reply::Boolean { value: true }), "(true)");
    }

    #[test]
    fn truncation_is_marked() {
        let reply = Reply::Array {
            items: vec![bulk("a")],
            omitted: 41,
        };
        let text = format_cli(&reply);
        assert!(text.starts_with("1) \"a\"\n(… 41 more elements"), "{text}");
    }
}
