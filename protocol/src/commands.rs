//! Command documentation from the engine's own `COMMAND DOCS`, and what
//! the console builds from it: Tab completion, redis-cli-style argument
//! hints, and deprecation notices. No hand-written command tables.

use serde::{Deserialize, Serialize};

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

impl ArgDoc {
    /// The argument as the Redis docs write it: `key`, `[NX | XX]`,
    /// `score member [score member ...]`.
    pub fn syntax(&self) -> String {
        let value = match self.kind.as_str() {
            "oneof" => {
                let inner = join(&self.arguments, " | ");
                if self.optional {
                    inner
                } else {
                    format!("<{inner}>")
                }
            }
            "block" => join(&self.arguments, " "),
            "pure-token" => String::new(),
            _ => self.display.clone().unwrap_or_else(|| self.name.clone()),
        };
        let mut one = match (&self.token, value.is_empty()) {
            (Some(token), true) => token.clone(),
            (Some(token), false) => format!("{token} {value}"),
            (None, _) => value,
        };
        if self.multiple {
            let repeat = if self.multiple_token || self.token.is_none() {
                one.clone()
            } else {
                one.trim_start_matches(self.token.as_deref().unwrap_or(""))
                    .trim()
                    .to_owned()
            };
            one = format!("{one} [{repeat} ...]");
        }
        if self.optional {
            format!("[{one}]")
        } else {
            one
        }
    }

    fn matches_token(&self, word: &str) -> bool {
        match (&self.token, self.kind.as_str()) {
            (Some(token), _) => token.eq_ignore_ascii_case(word),
            (None, "oneof") => self.arguments.iter().any(|a| a.matches_token(word)),
            (None, "block") => self
                .arguments
                .first()
                .is_some_and(|a| a.matches_token(word)),
            _ => false,
        }
    }

    /// How many words this argument takes when present once.
    fn width(&self) -> usize {
        let value = match self.kind.as_str() {
            "pure-token" => 0,
            "oneof" => self.arguments.iter().map(ArgDoc::width).max().unwrap_or(1),
            "block" => self.arguments.iter().map(ArgDoc::width).sum(),
            _ => 1,
        };
        value + usize::from(self.token.is_some())
    }
}

fn join(args: &[ArgDoc], separator: &str) -> String {
    args.iter()
        .map(ArgDoc::syntax)
        .collect::<Vec<_>>()
        .join(separator)
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

    /// The grey hint after the input: the arguments still to type.
    pub fn hint(&self, input: &str) -> Option<String> {
        if !input.ends_with(' ') {
            return None;
        }
        let words: Vec<&str> = input.split_whitespace().collect();
        let (doc, used) = self.resolve(&words)?;
        if !doc.subcommands.is_empty() && used == 1 && doc.arguments.is_empty() {
            let subs: Vec<&str> = doc
                .subcommands
                .iter()
                .filter_map(|s| s.name.split_once(' ').map(|(_, sub)| sub))
                .collect();
            return (words.len() == 1).then(|| format!("<{}>", subs.join(" | ")));
        }
        let rest = remaining(&doc.arguments, &words[used..]);
        (!rest.is_empty()).then_some(rest)
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

/// Walks the typed words through the argument list and renders what is
/// left. Optional arguments whose token was not typed are skipped over.
fn remaining(args: &[ArgDoc], typed: &[&str]) -> String {
    let mut index = 0;
    let mut pending = 0usize;
    let mut repeating = false;
    for word in typed {
        if pending > 0 {
            pending -= 1;
            continue;
        }
        loop {
            let Some(arg) = args.get(index) else {
                return String::new();
            };
            if arg.optional && !arg.matches_token(word) {
                index += 1;
                continue;
            }
            pending = arg.width().saturating_sub(1);
            repeating = arg.multiple;
            if !arg.multiple {
                index += 1;
            }
            break;
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(arg) = args.get(index) {
        if repeating && pending == 0 {
            // The repeatable group was typed once: only its repetition is left.
            let mut again = arg.clone();
            again.optional = true;
            again.multiple = false;
            let once = again.syntax();
            parts.push(format!("{} ...]", once.trim_end_matches(']')));
            index += 1;
        }
    }
    parts.extend(args.iter().skip(index).map(ArgDoc::syntax));
    parts.join(" ")
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
    fn deprecated_commands_name_their_replacement() {
        let notice = catalog().deprecation("hmset k f v").unwrap();
        assert_eq!(
            notice,
            "HMSET is deprecated since Redis 4.0.0. Use HSET with multiple field-value pairs instead."
        );
        assert!(catalog().deprecation("HGET k f").is_none());
    }
}
