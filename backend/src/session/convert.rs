//! redis-rs `Value` → `protocol::Reply`, cut to a display budget (about
//! 1,000 elements / 256 KiB) with what was cut counted, so the browser never
//! receives a reply too big to show.

use protocol::Reply;
use redis::Value;

/// The text of a string reply (bulk or status), for the backend's own
/// reads of its stores.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// What is left to show of one reply.
pub struct Budget {
    elements: usize,
    bytes: usize,
}

impl Budget {
    pub fn new(elements: usize, bytes: usize) -> Budget {
        Budget { elements, bytes }
    }

    fn take_element(&mut self) -> bool {
        if self.elements == 0 || self.bytes == 0 {
            return false;
        }
        self.elements -= 1;
        true
    }

    fn take_bytes(&mut self, wanted: usize) -> usize {
        let granted = wanted.min(self.bytes);
        self.bytes -= granted;
        granted
    }
}

/// The text of an error reply, code included (`ERR …`, `WRONGTYPE …`).
pub fn error_text(error: &redis::ServerError) -> String {
    match error.details() {
        Some(details) => format!("{} {details}", error.code()),
        None => error.code().to_owned(),
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn items(values: Vec<Value>, budget: &mut Budget) -> (Vec<Reply>, u64) {
    let total = values.len();
    let mut out = Vec::new();
    for value in values {
        if !budget.take_element() {
            break;
        }
        out.push(convert(value, budget));
    }
    let omitted = count(total - out.len());
    (out, omitted)
}

pub fn convert(value: Value, budget: &mut Budget) -> Reply {
    match value {
        Value::Nil => Reply::Nil,
        Value::Int(value) => Reply::Integer { value },
        Value::Okay => Reply::status("OK"),
        Value::SimpleString(text) => Reply::Status { text },
        Value::ServerError(error) => Reply::error(error_text(&error)),
        Value::BulkString(mut data) => {
            let shown = budget.take_bytes(data.len());
            let omitted = count(data.len() - shown);
            data.truncate(shown);
            Reply::Bulk { data, omitted }
        }
        Value::Array(values) => {
            let (items, omitted) = items(values, budget);
            Reply::Array { items, omitted }
        }
        Value::Set(values) => {
            let (items, omitted) = items(values, budget);
            Reply::Set { items, omitted }
        }
        Value::Map(pairs) => {
            let total = pairs.len();
            let mut entries = Vec::new();
            for (k, v) in pairs {
                if !budget.take_element() {
                    break;
                }
                entries.push((convert(k, budget), convert(v, budget)));
            }
            let omitted = count(total - entries.len());
            Reply::Map { entries, omitted }
        }
        Value::Attribute { data, .. } => convert(*data, budget),
        Value::Double(value) => Reply::Double { value },
        Value::Boolean(value) => Reply::Boolean { value },
        Value::VerbatimString { format, text } => Reply::Verbatim {
            format: format.to_string(),
            text,
        },
        Value::BigNumber(digits) => Reply::BigNumber {
            text: String::from_utf8_lossy(&digits).into_owned(),
        },
        Value::Push { kind, data } => {
            let (items, _) = items(data, budget);
            Reply::Push {
                kind: format!("{kind:?}").to_lowercase(),
                items,
            }
        }
        // redis::Value is non-exhaustive across versions.
        #[allow(unreachable_patterns)]
        other => Reply::error(format!(
            "ERR unsupported reply type from redis-rs: {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big() -> Budget {
        Budget::new(1000, 256 * 1024)
    }

    #[test]
    fn scalars_map_one_to_one() {
        assert_eq!(convert(Value::Okay, &mut big()), Reply::status("OK"));
        assert_eq!(
            convert(Value::Int(5), &mut big()),
            Reply::Integer { value: 5 }
        );
        assert_eq!(convert(Value::Nil, &mut big()), Reply::Nil);
        assert_eq!(
            convert(Value::BulkString(b"x".to_vec()), &mut big()),
            Reply::bulk("x")
        );
    }

    #[test]
    fn long_arrays_are_cut_and_counted() {
        let values = (0..5000).map(Value::Int).collect();
        let Reply::Array { items, omitted } = convert(Value::Array(values), &mut big()) else {
            panic!("array expected")
        };
        assert_eq!(items.len(), 1000);
        assert_eq!(omitted, 4000);
    }

    #[test]
    fn big_strings_are_cut_to_the_byte_budget() {
        let reply = convert(Value::BulkString(vec![b'a'; 10]), &mut Budget::new(10, 4));
        assert_eq!(
            reply,
            Reply::Bulk {
                data: b"aaaa".to_vec(),
                omitted: 6
            }
        );
    }
}
