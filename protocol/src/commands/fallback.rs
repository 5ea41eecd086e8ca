//! Argument docs for module commands whose `COMMAND DOCS` entry has no
//! arguments (Redis 8.2.3 lists FT.SEARCH and VSIM with only their group
//! and module), so they get hints too. Only the common options: a hint,
//! not a reference. Used only when the catalog has no arguments of its own.

use std::sync::OnceLock;

use super::{ArgDoc, CommandDoc};

fn arg(name: &str, kind: &str) -> ArgDoc {
    ArgDoc {
        name: name.into(),
        kind: kind.into(),
        ..ArgDoc::default()
    }
}

fn flag(token: &str) -> ArgDoc {
    ArgDoc {
        token: Some(token.into()),
        optional: true,
        ..arg(&token.to_ascii_lowercase(), "pure-token")
    }
}

/// One of the words of a `oneof`.
fn choice(token: &str) -> ArgDoc {
    ArgDoc {
        optional: false,
        ..flag(token)
    }
}

/// `[TOKEN name]`.
fn option(token: &str, name: &str, kind: &str) -> ArgDoc {
    ArgDoc {
        token: Some(token.into()),
        optional: true,
        ..arg(name, kind)
    }
}

/// `[TOKEN a b …]`.
fn option_block(token: &str, name: &str, parts: Vec<ArgDoc>) -> ArgDoc {
    ArgDoc {
        token: Some(token.into()),
        optional: true,
        arguments: parts,
        ..arg(name, "block")
    }
}

fn many(arg: ArgDoc) -> ArgDoc {
    ArgDoc {
        multiple: true,
        ..arg
    }
}

fn ft_search() -> CommandDoc {
    CommandDoc {
        name: "FT.SEARCH".into(),
        summary: "Searches the index with a textual query".into(),
        group: "module".into(),
        arguments: vec![
            arg("index", "string"),
            arg("query", "string"),
            flag("NOCONTENT"),
            flag("VERBATIM"),
            flag("WITHSCORES"),
            ArgDoc {
                multiple: true,
                multiple_token: true,
                ..option_block(
                    "FILTER",
                    "filter",
                    vec![
                        arg("numeric_field", "string"),
                        arg("min", "double"),
                        arg("max", "double"),
                    ],
                )
            },
            option_block(
                "RETURN",
                "return",
                vec![arg("count", "integer"), many(arg("identifier", "string"))],
            ),
            option_block(
                "SORTBY",
                "sortby",
                vec![
                    arg("sortby", "string"),
                    ArgDoc {
                        optional: true,
                        arguments: vec![choice("ASC"), choice("DESC")],
                        ..arg("order", "oneof")
                    },
                ],
            ),
            option_block(
                "LIMIT",
                "limit",
                vec![arg("offset", "integer"), arg("num", "integer")],
            ),
            option_block(
                "PARAMS",
                "params",
                vec![
                    arg("nargs", "integer"),
                    ArgDoc {
                        multiple: true,
                        arguments: vec![arg("name", "string"), arg("value", "string")],
                        ..arg("values", "block")
                    },
                ],
            ),
            option("DIALECT", "dialect", "integer"),
        ],
        ..CommandDoc::default()
    }
}

fn vsim() -> CommandDoc {
    let with_token = |token: &str, name: &str, kind: &str| ArgDoc {
        optional: false,
        ..option(token, name, kind)
    };
    CommandDoc {
        name: "VSIM".into(),
        summary: "Returns the elements most similar to a vector or an element".into(),
        group: "module".into(),
        arguments: vec![
            arg("key", "key"),
            ArgDoc {
                arguments: vec![
                    with_token("ELE", "element", "string"),
                    with_token("FP32", "vector", "string"),
                    ArgDoc {
                        optional: false,
                        ..option_block(
                            "VALUES",
                            "values",
                            vec![arg("num", "integer"), many(arg("value", "double"))],
                        )
                    },
                ],
                ..arg("query", "oneof")
            },
            flag("WITHSCORES"),
            flag("WITHATTRIBS"),
            option("COUNT", "num", "integer"),
            option("EPSILON", "delta", "double"),
            option("EF", "search-exploration-factor", "integer"),
            option("FILTER", "expression", "string"),
            option("FILTER-EF", "max-filtering-effort", "integer"),
            flag("TRUTH"),
            flag("NOTHREAD"),
        ],
        ..CommandDoc::default()
    }
}

fn docs() -> &'static [CommandDoc] {
    static DOCS: OnceLock<Vec<CommandDoc>> = OnceLock::new();
    DOCS.get_or_init(|| vec![ft_search(), vsim()])
}

/// The fallback entry a line starts with, as `CommandCatalog::resolve`.
pub(super) fn resolve(words: &[&str]) -> Option<(&'static CommandDoc, usize)> {
    let name = words.first()?;
    docs()
        .iter()
        .find(|doc| doc.name.eq_ignore_ascii_case(name))
        .map(|doc| (doc, 1))
}
