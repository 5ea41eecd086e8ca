//! Text checks on a lesson file that need no engine:
//!
//! - **Claims about declared output** (errors): the "What just happened"
//!   paragraph right after a ```redis block with a declared ```output may
//!   quote replies in backticks. The quoted replies of a few unambiguous
//!   forms, `(integer) N`, `(nil)`, `OK` and a short `"string"`, must be
//!   lines of that declared output (after the `1) ` numbering redis-cli
//!   puts in front of array items). The check is deliberately
//!   conservative: a bare `0`, an `(error) …`, a string with `…` or a
//!   backtick in it, a reply used as a noun after "a"/"an" ("treat a
//!   `(nil)` as missing"), a reply in a sentence about another run ("run it
//!   again later: it answers `(integer) 0`", "it would answer …") or a
//!   paragraph without a declared output are never checked, because the prose legitimately names values from other
//!   blocks or hypothetical ones ("`0` would mean…"). To name a reply from
//!   another server version or another command, write it without quotes
//!   or backticks.
//! - **Project words** (warnings): words a learner never has context for,
//!   because they name our own working documents: "audit", "errata",
//!   "erratum". "Issue" is plain English ("issue a command", "the same
//!   issue") and matching the word would mostly flag good prose, so only
//!   its tracker form is flagged: `issue 13`, `issue #13`. Refer to an
//!   upstream one with its repository instead (`redis/redis#5034`).

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use super::runner::Failure;

/// What the lint found in one file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Findings {
    /// Statements that contradict the lesson's own declared output.
    pub errors: Vec<Failure>,
    /// Words that belong to the project, not to the lesson.
    pub warnings: Vec<Failure>,
}

/// Lints one lesson file (front matter included: the summary is shown too).
pub fn lint_file(path: &Path) -> std::io::Result<Findings> {
    let source = std::fs::read_to_string(path)?;
    Ok(lint_source(path, &source))
}

pub fn lint_source(path: &Path, source: &str) -> Findings {
    let at = |line: usize, message: String| Failure {
        path: PathBuf::from(path),
        line,
        message,
    };
    let mut findings = Findings::default();
    for (line, message) in output_claims(source) {
        findings.errors.push(at(line, message));
    }
    for (line, message) in project_words(source) {
        findings.warnings.push(at(line, message));
    }
    findings
}

/// A reply quoted in prose that the check understands, or `None`.
fn checkable_reply(code: &str) -> Option<&str> {
    let code = code.trim();
    if code == "OK" || code == "(nil)" {
        return Some(code);
    }
    if let Some(n) = code.strip_prefix("(integer) ") {
        let digits = n.strip_prefix('-').unwrap_or(n);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            return Some(code);
        }
        return None;
    }
    let inner = code.strip_prefix('"')?.strip_suffix('"')?;
    let short = inner.chars().count() <= 40;
    let plain = !inner.contains(['"', '…', '`']);
    if short && plain && !inner.is_empty() {
        return Some(code);
    }
    None
}

/// One line of redis-cli output without its array numbering: `1) 2) "x"`
/// becomes `"x"`.
fn reply_of(line: &str) -> &str {
    let mut rest = line.trim_start();
    loop {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        match rest[digits..].strip_prefix(") ") {
            Some(tail) if digits > 0 => rest = tail.trim_start(),
            _ => return rest.trim_end(),
        }
    }
}

/// (line, message) for each quoted reply missing from the declared output
/// it describes.
fn output_claims(source: &str) -> Vec<(usize, String)> {
    let line_of = |offset: usize| 1 + source[..offset.min(source.len())].matches('\n').count();
    let mut problems = Vec::new();
    // The open fence's language and text, while reading a code block.
    let mut open: Option<(String, String)> = None;
    // Whether the last code block was a redis block, with nothing since.
    let mut last_redis = false;
    // The declared output the next paragraph may describe.
    let mut declared: Option<String> = None;
    // Inside the paragraph after an output block: its line, and its
    // prose and code spans in order.
    let mut paragraph: Option<(usize, Vec<Piece>)> = None;
    for (event, range) in Parser::new(source).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info.split_whitespace().next().unwrap_or("").to_owned();
                open = Some((lang, String::new()));
            }
            Event::Text(text) if open.is_some() => {
                if let Some((_, content)) = open.as_mut() {
                    content.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let (lang, content) = open.take().unwrap_or_default();
                declared = (lang == "output" && last_redis).then_some(content);
                last_redis = lang == "redis";
            }
            Event::Start(Tag::Paragraph) => {
                last_redis = false;
                paragraph = declared
                    .is_some()
                    .then(|| (line_of(range.start), Vec::new()));
            }
            Event::Text(text) => {
                if let Some((_, pieces)) = paragraph.as_mut() {
                    pieces.push(Piece::Prose(text.to_string()));
                }
            }
            Event::Code(code) => {
                if let Some((_, pieces)) = paragraph.as_mut() {
                    pieces.push(Piece::Code(code.to_string()));
                }
            }
            Event::End(TagEnd::Paragraph) => {
                let output = declared.take();
                let Some((line, pieces)) = paragraph.take() else {
                    continue;
                };
                let Some(output) = output else { continue };
                let starts_right = match pieces.first() {
                    Some(Piece::Prose(text)) => text.trim_start().starts_with("What just happened"),
                    _ => false,
                };
                if !starts_right {
                    continue;
                }
                let replies: Vec<&str> = output.lines().map(reply_of).collect();
                for span in claims_in(&pieces) {
                    if let Some(claim) = checkable_reply(&span) {
                        if !replies.contains(&claim) {
                            problems.push((
                                line,
                                format!(
                                    "the text quotes the reply `{claim}`, but the declared output above has no such line"
                                ),
                            ));
                        }
                    }
                }
            }
            // A heading, list or table between the output and the
            // paragraph: the paragraph no longer describes it.
            Event::Start(_) if paragraph.is_none() => {
                last_redis = false;
                declared = None;
            }
            _ => {}
        }
    }
    problems
}

/// A run of a paragraph: prose, or an inline code span.
enum Piece {
    Prose(String),
    Code(String),
}

/// Words that make a sentence about some other run than the block's own:
/// a later one, a hypothetical one, another server.
const ELSEWHERE: &[&str] = &[
    "would",
    "could",
    "might",
    "again",
    "later",
    "if",
    "unless",
    "otherwise",
    "instead",
    "next",
];

/// The code spans of a paragraph that state a reply of the block above:
/// not after "a"/"an", and not in a sentence with an `ELSEWHERE` word.
fn claims_in(pieces: &[Piece]) -> Vec<String> {
    let mut claims = Vec::new();
    // The current sentence: its candidate spans, and whether it is about
    // another run.
    let mut spans: Vec<String> = Vec::new();
    let mut elsewhere = false;
    let mut before = "";
    for piece in pieces {
        match piece {
            Piece::Code(code) => {
                if !after_article(before) {
                    spans.push(code.clone());
                }
                before = "";
            }
            Piece::Prose(text) => {
                // Split at sentence ends: `.`, `!` or `?` before a space.
                let mut rest = text.as_str();
                while let Some(end) = sentence_end(rest) {
                    elsewhere |= has_elsewhere_word(&rest[..end]);
                    if !elsewhere {
                        claims.append(&mut spans);
                    }
                    spans.clear();
                    elsewhere = false;
                    rest = &rest[end..];
                }
                elsewhere |= has_elsewhere_word(rest);
                before = text;
            }
        }
    }
    if !elsewhere {
        claims.append(&mut spans);
    }
    claims
}

/// The byte after the first sentence end in `text` (`.`, `!`, `?` followed
/// by whitespace or the end of the text).
fn sentence_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|i| {
        let ends = matches!(bytes[i], b'.' | b'!' | b'?');
        let next_blank = bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace());
        (ends && next_blank).then_some(i + 1)
    })
}

fn has_elsewhere_word(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| ELSEWHERE.iter().any(|e| w.eq_ignore_ascii_case(e)))
}

/// Whether prose ends in "a " or "an ": the code span after it is a noun
/// ("a `(nil)`"), not a reply that was seen.
fn after_article(before: &str) -> bool {
    let Some(rest) = before.strip_suffix(' ') else {
        return false;
    };
    let last = rest
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    last.eq_ignore_ascii_case("a") || last.eq_ignore_ascii_case("an")
}

/// (line, message) for each project word in the file.
fn project_words(source: &str) -> Vec<(usize, String)> {
    const WORDS: &[&str] = &["audit", "audits", "audited", "errata", "erratum"];
    let mut found = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let words: Vec<(usize, String)> = word_spans(line);
        for (k, (_, word)) in words.iter().enumerate() {
            if WORDS.contains(&word.as_str()) {
                found.push((
                    i + 1,
                    format!("`{word}` names one of our working documents, which a learner never sees; say what was found or measured in the lesson's own words"),
                ));
            }
            if word == "issue" || word == "issues" {
                let (end, _) = words[k];
                let after = line[end + word.len()..].trim_start();
                let after = after.strip_prefix('#').unwrap_or(after);
                if after.starts_with(|c: char| c.is_ascii_digit()) {
                    found.push((
                        i + 1,
                        format!("`{word}` followed by a number reads like our issue tracker; describe the problem itself (or link an upstream one as owner/repo#N)"),
                    ));
                }
            }
        }
    }
    found
}

/// The lowercase words of a line, each with its byte offset.
fn word_spans(line: &str) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, line[s..i].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(source: &str) -> Vec<String> {
        output_claims(source).into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn a_quoted_reply_must_be_in_the_declared_output() {
        let good = "```redis\nZINCRBY k 0.01 a\nSCARD s\n```\n\n```output\n\"0.93\"\n(integer) 3\n```\n\n**What just happened:** `ZINCRBY` answered `\"0.93\"` and `SCARD` `(integer) 3`.\n";
        assert!(claims(good).is_empty(), "{:?}", claims(good));
        let bad = good.replace("answered `\"0.93\"`", "answered `\"0.94\"`");
        let found = claims(&bad);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("\"0.94\""), "{found:?}");
    }

    #[test]
    fn array_numbering_is_ignored_and_integers_match_whole() {
        let source = "```redis\nX\n```\n\n```output\n1) 1) (integer) 12\n2) OK\n```\n\n**What just happened:** `(integer) 12` and `OK`, not `(integer) 1`.\n";
        let found = claims(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`(integer) 1`"));
    }

    #[test]
    fn only_the_paragraph_right_after_a_declared_output_is_checked() {
        // No declared output: nothing to compare with.
        let undeclared = "```redis\nX\n```\n\n**What just happened:** `(integer) 9`.\n";
        assert!(claims(undeclared).is_empty());
        // A later paragraph may talk about anything.
        let later = "```redis\nX\n```\n\n```output\nOK\n```\n\n**What just happened:** `OK`.\n\nElsewhere `(integer) 9`.\n";
        assert!(claims(later).is_empty());
        // Bare numbers, errors and elided strings are not checked.
        let loose = "```redis\nX\n```\n\n```output\nOK\n```\n\n**What just happened:** `0`, `(error) ERR x`, `\"0.8999…\"`, treat a `(nil)` as missing.\n";
        assert!(claims(loose).is_empty());
        // A sentence about another run; the next sentence is checked again.
        let later = "```redis\nX\n```\n\n```output\nOK\n```\n\n**What just happened:** `OK`. Run it again a second later: it answers `(integer) 0`. Now `(integer) 5`.\n";
        let found = claims(later);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`(integer) 5`"));
    }

    #[test]
    fn project_words_are_flagged_but_plain_issue_is_not() {
        let text = "The audit found it.\nSee the ERRATA.\nRedis issues a reply; an issue with keys.\nFixed in issue #13 and issue 7.\n";
        let lines: Vec<usize> = project_words(text).into_iter().map(|(l, _)| l).collect();
        assert_eq!(lines, [1, 2, 4, 4]);
    }
}
