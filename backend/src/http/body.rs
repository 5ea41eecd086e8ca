//! Reading a JSON request body and refusing a bad one, in one place for
//! every route that takes a body: the refusal is the usual JSON error with
//! an example of what was expected.

use axum::extract::rejection::JsonRejection;
use axum::Json;
use protocol::ErrorCode;

use super::HttpError;

/// A refusal with `code` and a sentence.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> HttpError {
    HttpError::BadRequest {
        code,
        message: message.into(),
    }
}

/// A 400 `invalid_request` with a sentence.
pub fn bad_request(message: impl Into<String>) -> HttpError {
    refuse(ErrorCode::InvalidRequest, message)
}

/// The body, or a 400 that shows `example`.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, HttpError> {
    body.map(|Json(value)| value).map_err(|e| {
        bad_request(format!(
            "The body must be JSON like {example} ({}).",
            why_not(&e)
        ))
    })
}

/// What was wrong with a JSON body, in words: serde's own text without the
/// names of our Rust types, or axum's sentence for a missing content type.
pub fn why_not(rejection: &JsonRejection) -> String {
    let text = rejection.body_text();
    let detail = [
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to parse the request body as JSON: ",
    ]
    .iter()
    .find_map(|prefix| text.strip_prefix(prefix))
    .unwrap_or(&text);
    plain_text(detail)
}

/// A serde_json error as a reader should see it: "expected struct
/// ExecRequest" and "expected u64" name our code, not the JSON.
pub fn plain(error: &serde_json::Error) -> String {
    plain_text(&error.to_string())
}

fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("struct ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "struct ".len()..];
        let name_end = after
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(after.len());
        let mut tail = &after[name_end..];
        // "with 1 element" / "with 2 elements" counts the struct's fields.
        if let Some(counted) = tail.strip_prefix(" with ") {
            if let Some(end) = counted.find(" element") {
                if counted[..end].bytes().all(|b| b.is_ascii_digit()) {
                    let after = &counted[end + " element".len()..];
                    tail = after.strip_prefix('s').unwrap_or(after);
                }
            }
        }
        out.push_str("an object");
        rest = tail;
    }
    out.push_str(rest);
    [
        ("expected u64", "expected a whole number from 0 up"),
        ("expected u32", "expected a whole number from 0 up"),
        ("expected usize", "expected a whole number from 0 up"),
        ("expected u8", "expected a whole number from 0 up"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("internally tagged enum ", "message with a type, "),
    ]
    .iter()
    .fold(out, |text, (from, to)| text.replace(from, to))
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct ExecRequest {
        line: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Seq {
        seq: u64,
    }

    fn said<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        super::plain(&serde_json::from_str::<T>(json).unwrap_err())
    }

    #[test]
    fn our_type_names_do_not_reach_the_reader() {
        let empty = said::<ExecRequest>("[]");
        assert!(
            !empty.contains("ExecRequest") && empty.contains("an object"),
            "{empty}"
        );
        let number = said::<ExecRequest>("5");
        assert!(!number.contains("ExecRequest"), "{number}");
        let big = said::<Seq>(r#"{"seq": 18446744073709551616}"#);
        assert!(
            !big.contains("u64") && big.contains("whole number"),
            "{big}"
        );
        let syntax = said::<ExecRequest>("{not json");
        assert!(syntax.contains("line 1 column 2"), "{syntax}");
    }
}
