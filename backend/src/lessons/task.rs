//! Try-it tasks: a goal, a solution, and checks compared semantically
//! (numbers with tolerance, sets as sets, JSON as values).

use protocol::Reply;
use serde::Deserialize;

/// A task as written in a ```task block (TOML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// What the learner should achieve (markdown, one or two sentences).
    pub goal: String,
    /// A nudge shown on request.
    #[serde(default)]
    pub hint: Option<String>,
    /// Command lines that achieve the goal; the test runs them.
    pub solution: Vec<String>,
    /// What must hold afterwards.
    pub check: Vec<Check>,
}

/// One read-only command and exactly one expectation about its reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub command: String,
    /// What the check asks, in the lesson's own terms ("the hash expires
    /// in about an hour"): shown to the learner instead of the command,
    /// which may be an internal script.
    #[serde(default)]
    pub says: Option<String>,
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub number: Option<f64>,
    #[serde(default)]
    pub tolerance: Option<f64>,
    #[serde(default)]
    pub set: Option<Vec<String>>,
    #[serde(default)]
    pub list: Option<Vec<String>>,
    #[serde(default)]
    pub json: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub nil: Option<bool>,
}

impl TaskSpec {
    pub fn parse(text: &str) -> Result<TaskSpec, String> {
        let spec: TaskSpec = toml::from_str(text).map_err(|e| format!("task: {}", e.message()))?;
        if spec.goal.trim().is_empty() || spec.solution.is_empty() || spec.check.is_empty() {
            return Err("task: needs a goal, a solution and at least one [[check]]".to_owned());
        }
        for check in &spec.check {
            let kinds = [
                check.equals.is_some(),
                check.number.is_some(),
                check.set.is_some(),
                check.list.is_some(),
                check.json.is_some(),
                check.error.is_some(),
                check.nil.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(format!(
                    "task: the check `{}` needs exactly one of equals, number, set, list, json, error, nil",
                    check.command
                ));
            }
            if let Some(json) = &check.json {
                serde_json::from_str::<serde_json::Value>(json).map_err(|e| {
                    format!(
                        "task: `json` in the check `{}` is not JSON: {e}",
                        check.command
                    )
                })?;
            }
        }
        Ok(spec)
    }
}

/// The scalar text of a reply, as a learner would read it.
fn scalar(reply: &Reply) -> Option<String> {
    match reply {
        Reply::Bulk { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
        Reply::Status { text } | Reply::BigNumber { text } | Reply::Verbatim { text, .. } => {
            Some(text.clone())
        }
        Reply::Integer { value } => Some(value.to_string()),
        Reply::Double { value } => Some(value.to_string()),
        Reply::Boolean { value } => Some(u8::from(*value).to_string()),
        _ => None,
    }
}

fn items(reply: &Reply) -> Option<Vec<String>> {
    match reply {
        Reply::Array { items, .. } | Reply::Set { items, .. } => items.iter().map(scalar).collect(),
        _ => None,
    }
}

fn show(reply: &Reply) -> String {
    protocol::format_cli(reply).replace('\n', " ")
}

impl Check {
    /// Ok, or a sentence saying what differed.
    pub fn evaluate(&self, reply: &Reply) -> Result<(), String> {
        let got = show(reply);
        if let Some(expected) = &self.error {
            return match reply {
                Reply::Error { text } if text.contains(expected.as_str()) => Ok(()),
                _ => Err(format!(
                    "expected an error containing `{expected}`, got {got}"
                )),
            };
        }
        if let Reply::Error { text } = reply {
            return Err(format!("Redis answered an error: {text}"));
        }
        if self.nil == Some(true) {
            return match reply {
                Reply::Nil => Ok(()),
                _ => Err(format!("expected (nil), got {got}")),
            };
        }
        if let Some(expected) = &self.equals {
            return match scalar(reply) {
                Some(text) if &text == expected => Ok(()),
                _ => Err(format!("expected `{expected}`, got {got}")),
            };
        }
        if let Some(expected) = self.number {
            let tolerance = self.tolerance.unwrap_or(1e-9);
            return match scalar(reply).and_then(|t| t.trim().parse::<f64>().ok()) {
                Some(n) if (n - expected).abs() <= tolerance => Ok(()),
                _ if tolerance < 1e-6 => Err(format!("expected {expected}, got {got}")),
                _ => Err(format!(
                    "expected a number between {} and {}, got {got}",
                    expected - tolerance,
                    expected + tolerance
                )),
            };
        }
        if let Some(expected) = &self.set {
            let mut want = expected.clone();
            want.sort();
            return match items(reply) {
                Some(mut have) => {
                    have.sort();
                    if have == want {
                        Ok(())
                    } else {
                        Err(format!(
                            "expected the members {expected:?} in any order, got {got}"
                        ))
                    }
                }
                None => Err(format!("expected a list of members, got {got}")),
            };
        }
        if let Some(expected) = &self.list {
            return match items(reply) {
                Some(have) if &have == expected => Ok(()),
                _ => Err(format!(
                    "expected exactly {expected:?} in this order, got {got}"
                )),
            };
        }
        if let Some(expected) = &self.json {
            let want: serde_json::Value =
                serde_json::from_str(expected).map_err(|e| e.to_string())?;
            return match scalar(reply)
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            {
                Some(have) if have == want => Ok(()),
                _ => Err(format!("expected the JSON value {want}, got {got}")),
            };
        }
        Err("this check has no expectation".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> Check {
        let spec = TaskSpec::parse(&format!(
            "goal = \"g\"\nsolution = [\"PING\"]\n[[check]]\ncommand = \"GET k\"\n{toml_text}\n"
        ))
        .unwrap();
        spec.check[0].clone()
    }

    #[test]
    fn numbers_compare_with_tolerance() {
        let c = check("number = 0.75\ntolerance = 0.01");
        assert!(c.evaluate(&Reply::bulk("0.7500000001")).is_ok());
        assert!(c.evaluate(&Reply::bulk("0.8")).is_err());
        assert!(c.evaluate(&Reply::bulk("not a number")).is_err());
        assert!(check("number = 3")
            .evaluate(&Reply::Integer { value: 3 })
            .is_ok());
    }

    #[test]
    fn sets_ignore_order_and_lists_do_not() {
        let reply = Reply::array(vec![Reply::bulk("b"), Reply::bulk("a")]);
        assert!(check("set = [\"a\", \"b\"]").evaluate(&reply).is_ok());
        assert!(check("list = [\"a\", \"b\"]").evaluate(&reply).is_err());
        assert!(check("list = [\"b\", \"a\"]").evaluate(&reply).is_ok());
        assert!(check("set = [\"a\"]").evaluate(&reply).is_err());
    }

    #[test]
    fn json_compares_values_not_text() {
        let c = check("json = '{\"a\": 1, \"b\": [1, 2]}'");
        assert!(c.evaluate(&Reply::bulk(r#"{"b":[1,2],"a":1}"#)).is_ok());
        assert!(c.evaluate(&Reply::bulk(r#"{"a":2,"b":[1,2]}"#)).is_err());
    }

    #[test]
    fn errors_nil_and_equals() {
        assert!(check("error = \"WRONGTYPE\"")
            .evaluate(&Reply::error("WRONGTYPE Operation"))
            .is_ok());
        assert!(check("nil = true").evaluate(&Reply::Nil).is_ok());
        assert!(check("equals = \"31\"")
            .evaluate(&Reply::bulk("31"))
            .is_ok());
        assert!(check("equals = \"31\"")
            .evaluate(&Reply::error("ERR x"))
            .is_err());
    }

    #[test]
    fn a_check_needs_exactly_one_expectation() {
        let err = TaskSpec::parse("goal = \"g\"\nsolution = [\"PING\"]\n[[check]]\ncommand = \"GET k\"\nequals = \"1\"\nnil = true\n").unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
        assert!(TaskSpec::parse(
            "goal = \"g\"\nsolution = []\n[[check]]\ncommand = \"GET k\"\nnil = true\n"
        )
        .is_err());
        assert!(
            TaskSpec::parse("goal = \"g\"\nsolution = [\"X\"]\ncheck = []\nextra = 1\n").is_err()
        );
    }
}
