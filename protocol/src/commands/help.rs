//! redis-cli's own `help` (and `?`), which redis-cli answers without
//! asking Redis: the banner, one command's block (its syntax, summary,
//! since and group), or every command of a group (`help @string`).

use super::{CommandCatalog, CommandDoc};

/// What `help` alone prints, less redis-cli's lines about its own settings
/// file, which the console does not have.
const BANNER: &str = "To get help about Redis commands type:
      \"help @<group>\" to get a list of commands in <group>
      \"help <command>\" for help on <command>
      \"help <tab>\" to get a list of possible help topics
      \"quit\" to exit";

impl CommandCatalog {
    /// The console's answer to `help` followed by `topic` (the words after
    /// it): the banner, a command's block, or a group's blocks. Empty for
    /// a topic nobody documents, as redis-cli prints nothing then.
    pub fn help(&self, topic: &[&str]) -> String {
        let Some(first) = topic.first() else {
            return BANNER.to_owned();
        };
        let blocks: Vec<String> = match first.strip_prefix('@') {
            Some(group) => self
                .commands
                .iter()
                .flat_map(|c| std::iter::once(c).chain(&c.subcommands))
                .filter(|c| c.group.eq_ignore_ascii_case(group))
                .map(block)
                .collect(),
            None => self
                .resolve(topic)
                .map(|(doc, _)| block(doc))
                .into_iter()
                .collect(),
        };
        blocks.concat()
    }
}

/// One command as redis-cli's help shows it (without its colours).
fn block(doc: &CommandDoc) -> String {
    let syntax: Vec<String> = doc.arguments.iter().map(|a| a.syntax()).collect();
    let usage = if syntax.is_empty() {
        doc.name.clone()
    } else {
        format!("{} {}", doc.name, syntax.join(" "))
    };
    format!(
        "\n  {usage}\n  summary: {}\n  since: {}\n  group: {}\n",
        doc.summary, doc.since, doc.group
    )
}

#[cfg(test)]
mod tests {
    use crate::{ArgDoc, CommandCatalog, CommandDoc};

    fn catalog() -> CommandCatalog {
        let doc = |name: &str, group: &str, args: Vec<ArgDoc>| CommandDoc {
            name: name.into(),
            summary: format!("Does {name}"),
            group: group.into(),
            since: "1.0.0".into(),
            arguments: args,
            ..CommandDoc::default()
        };
        let key = ArgDoc {
            name: "key".into(),
            kind: "key".into(),
            ..ArgDoc::default()
        };
        CommandCatalog {
            commands: vec![
                doc("GET", "string", vec![key.clone()]),
                doc("SET", "string", vec![key]),
                doc("HGETALL", "hash", vec![]),
            ],
        }
    }

    #[test]
    fn help_alone_is_the_banner() {
        assert!(catalog()
            .help(&[])
            .starts_with("To get help about Redis commands type:"));
    }

    #[test]
    fn help_on_a_command_is_its_block_in_any_case() {
        assert_eq!(
            catalog().help(&["get"]),
            "\n  GET key\n  summary: Does GET\n  since: 1.0.0\n  group: string\n"
        );
    }

    #[test]
    fn help_on_a_group_lists_its_commands_and_an_unknown_topic_nothing() {
        let string = catalog().help(&["@string"]);
        assert!(string.contains("  GET key") && string.contains("  SET key"));
        assert!(!string.contains("HGETALL"));
        assert_eq!(catalog().help(&["nosuch"]), "");
    }
}
