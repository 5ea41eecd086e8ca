//! Hint cases: a table over the engine's own docs, and every prefix of
//! whole command lines.

use crate::commands::CommandCatalog;

/// HSET, ZADD, SET, XADD, EVAL, HMSET, FT.SEARCH and VSIM as Redis 8.2.3
/// documents them (FT.SEARCH and VSIM with no arguments, so the fallback
/// answers); written by scripts/command-docs-fixture.py.
fn engine_docs() -> CommandCatalog {
    serde_json::from_str(include_str!("../testdata/command-docs.json")).expect("fixture JSON")
}

/// (typed, hint): each line a learner might be typing, and the hint.
const CASES: &[(&str, Option<&str>)] = &[
    ("HSET ", Some("key field value [field value ...]")),
    ("HSET k ", Some("field value [field value ...]")),
    ("HSET k f ", Some("value [field value ...]")),
    ("HSET k f v ", Some("[field value ...]")),
    ("hset k f v f2 ", Some("value [field value ...]")),
    ("HSET k f v f2 v2 ", Some("[field value ...]")),
    ("ZADD k ", Some("[NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]")),
    ("ZADD k 1 ", Some("member [score member ...]")),
    ("ZADD k 1 a ", Some("[score member ...]")),
    ("ZADD k 1 a 2 ", Some("member [score member ...]")),
    ("ZADD k NX ", Some("[GT | LT] [CH] [INCR] score member [score member ...]")),
    ("ZADD k XX GT ", Some("[CH] [INCR] score member [score member ...]")),
    ("ZADD k CH NX ", Some("[GT | LT] [INCR] score member [score member ...]")),
    ("zadd k lt ch incr ", Some("[NX | XX] score member [score member ...]")),
    ("ZADD k INCR 1.5 ", Some("member [score member ...]")),
    ("ZADD k -inf ", Some("member [score member ...]")),
    ("SET ", Some("key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]")),
    ("SET k v ", Some("[NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]")),
    ("SET k v EX ", Some("seconds [NX | XX] [GET]")),
    ("SET k v px ", Some("milliseconds [NX | XX] [GET]")),
    ("SET k v EX 10 ", Some("[NX | XX] [GET]")),
    ("SET k v KEEPTTL ", Some("[NX | XX] [GET]")),
    ("SET k v GET ", Some("[NX | XX] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]")),
    ("SET k v NX GET EX 5 ", None),
    ("SET k v EX 10 NX ", Some("[GET]")),
    ("SET \"a key\" \"a value\" ", Some("[NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]")),
    ("XADD s ", Some("[NOMKSTREAM] [KEEPREF | DELREF | ACKED] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]")),
    ("XADD s * ", Some("field value [field value ...]")),
    ("XADD s 1-0 f ", Some("value [field value ...]")),
    ("XADD s MAXLEN ", Some("[= | ~] threshold [LIMIT count] [NOMKSTREAM] [KEEPREF | DELREF | ACKED] <* | id> field value [field value ...]")),
    ("XADD s MAXLEN ~ ", Some("threshold [LIMIT count] [NOMKSTREAM] [KEEPREF | DELREF | ACKED] <* | id> field value [field value ...]")),
    ("XADD s MAXLEN ~ 1000 ", Some("[LIMIT count] [NOMKSTREAM] [KEEPREF | DELREF | ACKED] <* | id> field value [field value ...]")),
    ("XADD s NOMKSTREAM MAXLEN 10 * ", Some("field value [field value ...]")),
    ("XADD s * f v ", Some("[field value ...]")),
    ("EVAL ", Some("script numkeys [key [key ...]] [arg [arg ...]]")),
    ("EVAL \"return redis.call('GET', KEYS[1])\" ", Some("numkeys [key [key ...]] [arg [arg ...]]")),
    ("EVAL \"return 1\" 0 ", Some("[key [key ...]] [arg [arg ...]]")),
    ("EVAL \"return 1\" 1 k ", Some("[key ...] [arg [arg ...]]")),
    ("HMSET k ", Some("field value [field value ...]")),
    ("FT.SEARCH ", Some("index query [NOCONTENT] [VERBATIM] [WITHSCORES] [FILTER numeric_field min max [FILTER numeric_field min max ...]] [RETURN count identifier [identifier ...]] [SORTBY sortby [ASC | DESC]] [LIMIT offset num] [PARAMS nargs name value [name value ...]] [DIALECT dialect]")),
    ("FT.SEARCH idx \"@tag:{red}\" LIMIT ", Some("offset num [NOCONTENT] [VERBATIM] [WITHSCORES] [FILTER numeric_field min max [FILTER numeric_field min max ...]] [RETURN count identifier [identifier ...]] [SORTBY sortby [ASC | DESC]] [PARAMS nargs name value [name value ...]] [DIALECT dialect]")),
    ("ft.search idx * SORTBY n DESC LIMIT 0 10 RETURN 1 t NOCONTENT VERBATIM WITHSCORES FILTER n 0 1 PARAMS 2 a b ", Some("[name value ...] [DIALECT dialect]")),
    ("VSIM vs ", Some("<ELE element | FP32 vector | VALUES num value [value ...]> [WITHSCORES] [WITHATTRIBS] [COUNT num] [EPSILON delta] [EF search-exploration-factor] [FILTER expression] [FILTER-EF max-filtering-effort] [TRUTH] [NOTHREAD]")),
    ("VSIM vs ELE ", Some("element [WITHSCORES] [WITHATTRIBS] [COUNT num] [EPSILON delta] [EF search-exploration-factor] [FILTER expression] [FILTER-EF max-filtering-effort] [TRUTH] [NOTHREAD]")),
    ("VSIM vs VALUES 3 1 0 0 WITHSCORES COUNT ", Some("num [WITHATTRIBS] [EPSILON delta] [EF search-exploration-factor] [FILTER expression] [FILTER-EF max-filtering-effort] [TRUTH] [NOTHREAD]")),
    ("NOSUCHCOMMAND ", None),
    ("HSET k f v", None),
];

#[test]
fn hints_follow_the_argument_tree_for_the_engines_own_docs() {
    let catalog = engine_docs();
    let mut wrong = Vec::new();
    for (typed, want) in CASES {
        let got = catalog.hint(typed);
        if got.as_deref() != *want {
            wrong.push(format!("{typed:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Whole command lines a learner could run: lines from the lessons'
/// own kinds of commands, with options in several orders.
const VALID: &[&str] = &[
    "HSET user:1 age 31 country nl plan pro",
    "ZADD leaderboard NX CH 10 alice 20 bob",
    "ZADD leaderboard XX GT INCR 5 alice",
    "SET session:1 token NX GET EX 60",
    "SET session:1 token PXAT 1700000000000 XX",
    "SET cache:1 v KEEPTTL",
    "XADD events NOMKSTREAM MINID = 0-1 LIMIT 10 * type click user 7",
    "XADD events 1-1 type view",
    "EVAL \"return {KEYS[1], ARGV[1]}\" 1 rate:user:1 100",
    "FT.SEARCH idx:models \"@task:{fraud}\" RETURN 2 name score SORTBY score DESC LIMIT 0 5 DIALECT 2",
    "VSIM vec:items VALUES 3 0.1 0.2 0.3 WITHSCORES COUNT 5 FILTER \".year > 2000\"",
    "VSIM vec:items ELE item:42 COUNT 3",
];

/// Every word boundary inside a valid line has a hint, and a fixed
/// word typed next is one the hint offered.
#[test]
fn every_prefix_of_a_valid_line_has_a_hint_offering_the_next_keyword() {
    let catalog = engine_docs();
    for line in VALID {
        let words = crate::args::split_args(line.as_bytes()).expect(line);
        let mut typed = String::new();
        for (n, word) in line_words(line).iter().enumerate() {
            typed.push_str(word);
            typed.push(' ');
            let Some(next) = words.get(n + 1) else {
                break;
            };
            let hint = catalog
                .hint(&typed)
                .unwrap_or_else(|| panic!("no hint for {typed:?}"));
            let next = String::from_utf8_lossy(next);
            let is_keyword =
                next.len() > 1 && next.chars().all(|c| c.is_ascii_uppercase() || c == '-');
            if is_keyword {
                let offered = hint
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                    .any(|w| w == next);
                assert!(offered, "{typed:?} hints {hint:?}, without {next}");
            }
        }
    }
}

/// The line's words as typed (quotes kept), so prefixes stay valid input.
fn line_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ' ' if !quoted => words.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    words.push(current);
    words
}
