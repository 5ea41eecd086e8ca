//! A Redis reply of any RESP2/RESP3 kind, and how redis-cli prints it:
//! `format_cli` renders it byte for byte like `redis-cli --no-raw`, and
//! `format_cli_for` first applies redis-cli's rule that prints some
//! commands' replies raw (INFO, CLIENT LIST, MEMORY DOCTOR, …) even then.

mod raw;
mod tty;

pub use raw::{format_cli_for, format_raw, output_mode, OutputMode};
pub use tty::{format_cli, quote_bytes};

use serde::{Deserialize, Serialize};

/// One reply from Redis. Aggregates may have been cut short for display:
/// `omitted` counts the elements (or map entries) that were dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Nil,
    /// A simple string such as `OK`, `QUEUED` or `PONG`.
    Status {
        text: String,
    },
    /// An error reply, including its code: `ERR unknown command …`.
    Error {
        text: String,
    },
    Integer {
        value: i64,
    },
    /// A binary-safe bulk string.
    Bulk {
        #[serde(with = "bulk_data")]
        data: Vec<u8>,
        /// Bytes cut off the end for display.
        #[serde(default, skip_serializing_if = "is_zero")]
        omitted: u64,
    },
    Array {
        items: Vec<Reply>,
        #[serde(default, skip_serializing_if = "is_zero")]
        omitted: u64,
    },
    Map {
        entries: Vec<(Reply, Reply)>,
        #[serde(default, skip_serializing_if = "is_zero")]
        omitted: u64,
    },
    Set {
        items: Vec<Reply>,
        #[serde(default, skip_serializing_if = "is_zero")]
        omitted: u64,
    },
    Double {
        value: f64,
    },
    Boolean {
        value: bool,
    },
    BigNumber {
        text: String,
    },
    Verbatim {
        format: String,
        text: String,
    },
    Push {
        kind: String,
        items: Vec<Reply>,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Reply {
    pub fn bulk(data: impl Into<Vec<u8>>) -> Reply {
        Reply::Bulk {
            data: data.into(),
            omitted: 0,
        }
    }

    pub fn array(items: Vec<Reply>) -> Reply {
        Reply::Array { items, omitted: 0 }
    }

    pub fn status(text: impl Into<String>) -> Reply {
        Reply::Status { text: text.into() }
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply::Error { text: text.into() }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error { .. })
    }
}

/// Bulk data travels as a JSON string when it is UTF-8 (almost always), and
/// as `{"hex": "…"}` otherwise, so binary values survive the trip.
mod bulk_data {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Hex { hex: String },
    }

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(data) {
            Ok(text) => Repr::Text(text.to_owned()).serialize(s),
            Err(_) => Repr::Hex {
                hex: data.iter().map(|b| format!("{b:02x}")).collect(),
            }
            .serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Text(text) => Ok(text.into_bytes()),
            Repr::Hex { hex } => {
                if hex.len() % 2 != 0 {
                    return Err(serde::de::Error::custom("odd-length hex"));
                }
                (0..hex.len())
                    .step_by(2)
                    .map(|i| {
                        hex.get(i..i + 2)
                            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                            .ok_or_else(|| serde::de::Error::custom("bad hex"))
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::bulk(s)
    }

    #[test]
    fn json_round_trip_keeps_binary_bulk_data() {
        let reply = Reply::array(vec![
            Reply::bulk(vec![0xffu8, 0, 1]),
            bulk("text"),
            Reply::Integer { value: 7 },
        ]);
        let json = serde_json::to_string(&reply).unwrap();
        assert!(json.contains(r#""hex":"ff0001""#), "{json}");
        assert!(json.contains(r#""data":"text""#), "{json}");
        let back: Reply = serde_json::from_str(&json).unwrap();
        assert_eq!(back, reply);
    }
}
