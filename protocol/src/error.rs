//! The one JSON error shape every HTTP endpoint returns.

use serde::{Deserialize, Serialize};

/// `{"error":{"code":"…","message":"…"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable snake_case code a program can match on.
    pub code: String,
    /// A sentence for a human: what went wrong and what to do instead.
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_the_documented_shape() {
        let json = serde_json::to_string(&ApiError::new("not_found", "No such lesson.")).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"not_found","message":"No such lesson."}}"#
        );
    }
}
