//! Command documentation from the engine's own `COMMAND DOCS`, and what
//! the console builds from it: Tab completion, redis-cli-style argument
//! hints, and deprecation notices. No hand-written command tables.

use serde::{Deserialize, Serialize};

mod fallback;
mod help;
mod hints;

/// One command (or subcommand) as `COMMAND DOCS` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandDoc {
    /// Uppercase, with a space for subcommands: `HGETALL`, `CONFIG GET`.
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub since: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcommands: Vec<CommandDoc>,
}

/// One argument of a command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgDoc {
    pub name: String,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`,
    /// `pure-token`, `oneof` or `block`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub multiple_token: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgDoc>,
}

/// Every command the engine documents, for completion and hints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandCatalog {
    pub commands: Vec<CommandDoc>,
}

/// What Tab does with the current input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The new input text.
    pub text: String,
    /// All candidates when there was more than one.
    pub candidates: Vec<String>,
}

fn match_case(candidate: &str, typed: &str) -> String {
    if typed.chars().any(|c| c.is_ascii_uppercase()) || typed.is_empty() {
        candidate.to_owned()
    } else {
        candidate.to_ascii_lowercase()
    }
}

fn common_prefix(words: &[&str]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for word in &words[1..] {
        len = len.min(
            first
                .bytes()
                .zip(word.bytes())
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count(),
        );
    }
    first[..len].to_owned()
}

impl CommandCatalog {
    pub fn find(&self, name: &str) -> Option<&CommandDoc> {
        self.commands
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The command (or subcommand) a line starts with, and how many words
    /// its name took.
    pub fn resolve<'a>(&'a self, words: &[&str]) -> Option<(&'a CommandDoc, usize)> {
        let command = self.find(words.first()?)?;
        if let Some(sub_word) = words.get(1) {
            let full = format!("{} {}", command.name, sub_word);
            if let Some(sub) = command
                .subcommands
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&full))
            {
                return Some((sub, 2));
            }
        }
        Some((command, 1))
    }

    /// Tab: complete the command name or subcommand being typed.
    pub fn complete(&self, input: &str) -> Option<Completion> {
        let words: Vec<&str> = input.split_whitespace().collect();
        let typing_new_word = input.ends_with(char::is_whitespace) || words.is_empty();
        let (prefix_words, partial) = if typing_new_word {
            (&words[..], "")
        } else {
            (&words[..words.len() - 1], words[words.len() - 1])
        };
        let candidates: Vec<&str> = match prefix_words {
            [] => self
                .commands
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| {
                    n.len() >= partial.len() && n[..partial.len()].eq_ignore_ascii_case(partial)
                })
                .collect(),
            [command] => {
                let doc = self.find(command)?;
                doc.subcommands
                    .iter()
                    .filter_map(|s| s.name.split_once(' ').map(|(_, sub)| sub))
                    .filter(|n| {
                        n.len() >= partial.len() && n[..partial.len()].eq_ignore_ascii_case(partial)
                    })
                    .collect()
            }
            _ => return None,
        };
        if candidates.is_empty() || (partial.is_empty() && prefix_words.is_empty()) {
            return None;
        }
        let head: String = prefix_words.iter().map(|w| format!("{w} ")).collect();
        if candidates.len() == 1 {
            return Some(Completion {
                text: format!("{head}{} ", match_case(candidates[0], partial)),
                candidates: Vec::new(),
            });
        }
        let prefix = common_prefix(&candidates);
        let mut sorted: Vec<String> = candidates.iter().map(|c| (*c).to_owned()).collect();
        sorted.sort();
        Some(Completion {
            text: format!(
                "{head}{}",
                match_case(&prefix, partial).to_owned()
                    + &partial[prefix.len().min(partial.len())..]
            ),
            candidates: sorted,
        })
    }

    /// The grey hint after the input: the arguments still to type. Words
    /// are split as the console splits them (quotes keep a script one
    /// word), and only once the input ends with a space.
    pub fn hint(&self, input: &str) -> Option<String> {
        if !input.ends_with(' ') {
            return None;
        }
        let split = crate::args::split_args(input.as_bytes()).ok()?;
        let owned: Vec<String> = split
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let words: Vec<&str> = owned.iter().map(String::as_str).collect();
        // Module commands may be listed with no arguments at all.
        let (doc, used) = match self.resolve(&words) {
            Some((doc, used)) if !doc.arguments.is_empty() || !doc.subcommands.is_empty() => {
                (doc, used)
            }
            found => fallback::resolve(&words).or(found)?,
        };
        if !doc.subcommands.is_empty() && used == 1 && doc.arguments.is_empty() {
            let subs: Vec<&str> = doc
                .subcommands
                .iter()
                .filter_map(|s| s.name.split_once(' ').map(|(_, sub)| sub))
                .collect();
            return (words.len() == 1).then(|| format!("<{}>", subs.join(" | ")));
        }
        hints::remaining(&doc.arguments, &words[used..])
    }

    /// A notice for deprecated commands: since when, and what to use.
    pub fn deprecation(&self, input: &str) -> Option<String> {
        let words: Vec<&str> = input.split_whitespace().collect();
        let (doc, _) = self.resolve(&words)?;
        let since = doc.deprecated_since.as_ref()?;
        let instead = doc
            .replaced_by
            .as_deref()
            .map(|r| format!(" Use {} instead.", r.replace('`', "")))
            .unwrap_or_default();
        Some(format!(
            "{} is deprecated since Redis {since}.{instead}",
            doc.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(name: &str, kind: &str) -> ArgDoc {
        ArgDoc {
            name: name.into(),
            kind: kind.into(),
            ..ArgDoc::default()
        }
    }

    fn token(name: &str, token: &str) -> ArgDoc {
        ArgDoc {
            token: Some(token.into()),
            optional: true,
            ..arg(name, "pure-token")
        }
    }

    fn choice(name: &str, token: &str) -> ArgDoc {
        ArgDoc {
            token: Some(token.into()),
            ..arg(name, "pure-token")
        }
    }

    fn zadd() -> CommandDoc {
        CommandDoc {
            name: "ZADD".into(),
            arguments: vec![
                arg("key", "key"),
                ArgDoc {
                    optional: true,
                    arguments: vec![choice("nx", "NX"), choice("xx", "XX")],
                    ..arg("condition", "oneof")
                },
                token("change", "CH"),
                ArgDoc {
                    multiple: true,
                    arguments: vec![arg("score", "double"), arg("member", "string")],
                    ..arg("data", "block")
                },
            ],
            ..CommandDoc::default()
        }
    }

    fn catalog() -> CommandCatalog {
        let named = |name: &str| CommandDoc {
            name: name.into(),
            ..CommandDoc::default()
        };
        CommandCatalog {
            commands: vec![
                named("HGET"),
                named("HGETALL"),
                named("HGETDEL"),
                CommandDoc {
                    deprecated_since: Some("4.0.0".into()),
                    replaced_by: Some("`HSET` with multiple field-value pairs".into()),
                    ..named("HMSET")
                },
                zadd(),
                CommandDoc {
                    subcommands: vec![named("CONFIG GET"), named("CONFIG SET")],
                    ..named("CONFIG")
                },
            ],
        }
    }

    #[test]
    fn syntax_reads_like_the_redis_docs() {
        let zadd = zadd();
        let syntax: Vec<String> = zadd.arguments.iter().map(ArgDoc::syntax).collect();
        assert_eq!(
            syntax.join(" "),
            "key [NX | XX] [CH] score member [score member ...]"
        );
    }

    #[test]
    fn tab_completes_a_unique_prefix_in_the_typed_case() {
        let c = catalog();
        assert_eq!(c.complete("HGETA").unwrap().text, "HGETALL ");
        assert_eq!(c.complete("hgeta").unwrap().text, "hgetall ");
        assert_eq!(c.complete("config s").unwrap().text, "config set ");
    }

    #[test]
    fn tab_on_an_ambiguous_prefix_lists_candidates() {
        let completion = catalog().complete("HGE").unwrap();
        assert_eq!(completion.text, "HGET");
        assert_eq!(completion.candidates, ["HGET", "HGETALL", "HGETDEL"]);
        assert!(catalog().complete("NOPE").is_none());
    }

    #[test]
    fn hints_show_the_arguments_still_to_type() {
        let c = catalog();
        assert_eq!(
            c.hint("ZADD ").unwrap(),
            "key [NX | XX] [CH] score member [score member ...]"
        );
        assert_eq!(
            c.hint("ZADD k ").unwrap(),
            "[NX | XX] [CH] score member [score member ...]"
        );
        assert_eq!(
            c.hint("ZADD k NX ").unwrap(),
            "[CH] score member [score member ...]"
        );
        assert_eq!(c.hint("zadd k 1 a ").unwrap(), "[score member ...]");
        assert_eq!(c.hint("CONFIG ").unwrap(), "<GET | SET>");
        assert_eq!(c.hint("ZADD"), None, "no hint until a space");
    }

    #[test]
    fn module_commands_without_docs_get_fallback_hints_and_real_docs_win() {
        let c = catalog();
        let search = c.hint("FT.SEARCH idx ").unwrap();
        assert!(search.starts_with("query [NOCONTENT]"), "{search}");
        let documented = CommandCatalog {
            commands: vec![CommandDoc {
                name: "VSIM".into(),
                arguments: vec![arg("key", "key"), arg("documented", "string")],
                ..CommandDoc::default()
            }],
        };
        assert_eq!(documented.hint("VSIM k ").as_deref(), Some("documented"));
        // Redis 8.2.3 lists VSIM with no arguments: the fallback answers.
        let listed = CommandCatalog {
            commands: vec![CommandDoc {
                name: "VSIM".into(),
                ..CommandDoc::default()
            }],
        };
        assert!(listed.hint("VSIM k ").unwrap().starts_with("<ELE element"));
    }

    #[test]
    fn deprecated_commands_name_their_replacement() {
        let notice = catalog().deprecation("hmset k f v").unwrap();
        assert_eq!(
            notice,
            "HMSET is deprecated since Redis 4.0.0. Use HSET with multiple field-value pairs instead."
        );
        assert!(catalog().deprecation("HGET k f").is_none());
    }
}
