//! The behaviour events the grader writes (a view, a click, a purchase
//! and their weights), random item ids, and entries as a consumer reads
//! them back from `XREADGROUP` or `XAUTOCLAIM`.

use redis::Value;

use crate::grading::harness::random_hex;

/// What a behaviour event is; its weight is what it adds to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    View,
    Click,
    Purchase,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::View, Kind::Click, Kind::Purchase];

    pub fn weight(self) -> u32 {
        match self {
            Kind::View => 1,
            Kind::Click => 3,
            Kind::Purchase => 10,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::View => "view",
            Kind::Click => "click",
            Kind::Purchase => "purchase",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One behaviour event, as the grader writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub item: String,
}

/// An event as a consumer reads it back from the stream.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub event: Event,
    /// Its position in what the grader wrote (for latency).
    pub seq: usize,
}

/// A random item id (members of the recs set).
pub fn item() -> String {
    format!("item:{}", random_hex(3))
}

/// A random index below `n` (n > 0).
pub fn random_below(n: usize) -> usize {
    let mut buf = [0u8; 8];
    // Only the spread of events matters, not unpredictability.
    let _ = getrandom::fill(&mut buf);
    (u64::from_le_bytes(buf) % n as u64) as usize
}

pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Double(d) => Some(d.to_string()),
        _ => None,
    }
}

/// `[[id, [field, value, …]], …]` into entries the grader wrote (others,
/// and deleted entries, are skipped).
pub fn parse_entries(value: Value) -> Vec<Entry> {
    let Value::Array(entries) = value else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let Value::Array(pair) = entry else {
                return None;
            };
            let id = text(pair.first()?)?;
            let Value::Array(fields) = pair.get(1)? else {
                return None;
            };
            let field = |name: &str| {
                fields
                    .chunks(2)
                    .find(|f| f.first().and_then(text).as_deref() == Some(name))
                    .and_then(|f| f.get(1))
                    .and_then(text)
            };
            Some(Entry {
                id,
                event: Event {
                    kind: Kind::parse(&field("type")?)?,
                    item: field("item")?,
                },
                seq: field("seq")?.parse().ok()?,
            })
        })
        .collect()
}
