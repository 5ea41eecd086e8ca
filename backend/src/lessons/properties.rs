//! Property test of the lesson parser: whatever a lesson file holds, it
//! loads or is refused with `file:line: message`, and never panics. The
//! inputs are built from the pieces lessons are made of (front matter,
//! fences of every kind, task TOML, headings) shuffled with noise, so the
//! parser's deeper paths are reached, not only its first refusal.

use proptest::prelude::*;

use super::{Lesson, LessonError};

/// Lines lessons are made of, whole or broken.
const PIECES: &[&str] = &[
    "+++",
    "slug = \"fuzz\"",
    "title = \"Fuzz\"",
    "summary = \"A lesson.\"",
    "requires = []",
    "requires = [\"json\"]",
    "setup = [\"SET a 1\"]",
    "setup = [",
    "key_prefix = \"fz\"",
    "## A step",
    "## ",
    "```redis",
    "```redis strict",
    "```redis expect_error=\"ERR\"",
    "```redis output=\"OK\"",
    "```output",
    "```task",
    "```",
    "goal = \"Set a\"",
    "solution = [\"SET a 1\"]",
    "[[check]]",
    "command = \"GET a\"",
    "equals = \"1\"",
    "SET a 1",
    "HSET h f v",
    "\"unterminated",
    "",
];

fn lesson_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => ".{0,30}",
    ];
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

proptest! {
    // 256 cases in `make test`; `make fuzz` sets PROPTEST_CASES.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_lesson_file_loads_or_says_where_it_is_wrong(text in lesson_text()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("99-fuzz.md");
        std::fs::write(&path, &text).unwrap();
        match Lesson::load(&path, 1) {
            Ok(_) => {}
            Err(LessonError::At { line, message, .. }) => {
                let lines = text.split('\n').count();
                prop_assert!((1..=lines + 1).contains(&line), "line {line} of {lines}: {message}");
                prop_assert!(!message.trim().is_empty());
            }
            Err(other) => prop_assert!(false, "not located in the file: {other}"),
        }
    }
}
