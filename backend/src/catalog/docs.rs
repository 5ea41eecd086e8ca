//! `COMMAND DOCS` (a RESP2 reply of flat key/value arrays) → typed
//! `protocol::CommandDoc`s for the console's completion and hints.

use protocol::{ArgDoc, CommandDoc};
use redis::Value;

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Okay => Some("OK".to_owned()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `[k1, v1, k2, v2, …]` as pairs.
fn pairs(value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|pair| match pair {
                [k, v] => text(k).map(|k| (k, v)),
                _ => None,
            })
            .collect(),
        Value::Map(items) => items
            .iter()
            .filter_map(|(k, v)| text(k).map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}

fn argument(value: &Value) -> ArgDoc {
    let mut arg = ArgDoc::default();
    for (key, v) in pairs(value) {
        match key.as_str() {
            "name" => arg.name = text(v).unwrap_or_default(),
            "type" => arg.kind = text(v).unwrap_or_default(),
            "display_text" => arg.display = text(v),
            "token" => arg.token = text(v),
            "flags" => {
                if let Value::Array(flags) = v {
                    for flag in flags.iter().filter_map(text) {
                        match flag.as_str() {
                            "optional" => arg.optional = true,
                            "multiple" => arg.multiple = true,
                            "multiple_token" => arg.multiple_token = true,
                            _ => {}
                        }
                    }
                }
            }
            "arguments" => arg.arguments = arguments(v),
            _ => {}
        }
    }
    arg
}

fn arguments(value: &Value) -> Vec<ArgDoc> {
    match value {
        Value::Array(items) => items.iter().map(argument).collect(),
        _ => Vec::new(),
    }
}

fn command(name: &str, value: &Value) -> CommandDoc {
    let mut doc = CommandDoc {
        name: name.replace('|', " ").to_uppercase(),
        ..CommandDoc::default()
    };
    for (key, v) in pairs(value) {
        match key.as_str() {
            "summary" => doc.summary = text(v).unwrap_or_default(),
            "since" => doc.since = text(v).unwrap_or_default(),
            "group" => doc.group = text(v).unwrap_or_default(),
            "deprecated_since" => doc.deprecated_since = text(v),
            "replaced_by" => doc.replaced_by = text(v),
            "arguments" => doc.arguments = arguments(v),
            "subcommands" => doc.subcommands = commands(v),
            _ => {}
        }
    }
    doc
}

/// The whole `COMMAND DOCS` reply.
pub fn commands(value: &Value) -> Vec<CommandDoc> {
    pairs(value)
        .into_iter()
        .map(|(name, doc)| command(&name, doc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn arg(fields: &[&str]) -> Value {
        Value::Array(fields.iter().map(|f| bulk(f)).collect())
    }

    #[test]
    fn reads_names_flags_nesting_and_deprecation() {
        let data = Value::Array(vec![
            bulk("name"),
            bulk("data"),
            bulk("type"),
            bulk("block"),
            bulk("flags"),
            Value::Array(vec![Value::SimpleString("multiple".into())]),
            bulk("arguments"),
            Value::Array(vec![
                arg(&["name", "field", "type", "string"]),
                arg(&["name", "value", "type", "string"]),
            ]),
        ]);
        let reply = Value::Array(vec![
            bulk("hmset"),
            Value::Array(vec![
                bulk("summary"),
                bulk("Sets the values of multiple fields."),
                bulk("deprecated_since"),
                bulk("4.0.0"),
                bulk("replaced_by"),
                bulk("`HSET` with multiple field-value pairs"),
                bulk("arguments"),
                Value::Array(vec![arg(&["name", "key", "type", "key"]), data]),
            ]),
        ]);
        let docs = commands(&reply);
        assert_eq!(docs.len(), 1);
        let hmset = &docs[0];
        assert_eq!(hmset.name, "HMSET");
        assert_eq!(hmset.deprecated_since.as_deref(), Some("4.0.0"));
        assert!(hmset.arguments[1].multiple);
        let syntax: Vec<String> = hmset.arguments.iter().map(ArgDoc::syntax).collect();
        assert_eq!(syntax.join(" "), "key field value [field value ...]");
    }
}
