//! What the board and the CSV show of each room member: their latest
//! step, how many steps and tasks they did, their last activity and their
//! best grading scores, read for the whole roster in one pipeline.

use std::collections::BTreeMap;

use protocol::GradeReport;
use redis::Value;

use super::super::learners::{pairs, text};
use super::super::schema::{self, SEP};
use super::super::{ControlStore, StoreError};
use super::Member;

/// What the store knows of one member's work, for the board and the CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub member: Member,
    /// The latest progress step: (lesson, step).
    pub latest: Option<(String, String)>,
    /// When the latest step was first run (Unix ms).
    pub latest_ms: Option<u64>,
    pub steps_done: u64,
    /// When their first progress step was run (Unix ms).
    pub first_step_ms: Option<u64>,
    /// Their last activity (`seen_ms`), Unix ms; 0 if unknown.
    pub seen_ms: u64,
    pub tasks_passed: u64,
    /// Every task passed, as (lesson, task).
    pub passed: Vec<(String, String)>,
    /// Best grading score per exercise: (score, max).
    pub best: BTreeMap<String, (u32, u32)>,
}

/// An integer reply (or its text), 0 when absent.
pub(super) fn number(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
        Some(other) => text(other).and_then(|t| t.parse().ok()).unwrap_or(0),
        None => 0,
    }
}

/// `lesson<SEP>rest` as its two parts.
fn split(member: &str) -> Option<(String, String)> {
    let (lesson, rest) = member.split_once(SEP)?;
    Some((lesson.to_owned(), rest.to_owned()))
}

/// The texts of an array reply (`SMEMBERS`).
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) | Value::Set(items) => items.iter().filter_map(text).collect(),
        _ => Vec::new(),
    }
}

/// `ZRANGE … WITHSCORES` of one member: (member, score).
fn scored(value: Option<&Value>) -> Option<(String, u64)> {
    match value {
        Some(Value::Array(items)) => {
            let member = text(items.first()?)?;
            let score = text(items.get(1)?)?.parse::<f64>().ok()?;
            Some((member, score as u64))
        }
        _ => None,
    }
}

impl ControlStore {
    /// What the store knows of each member's work, in one pipelined read.
    pub async fn member_facts(&self, members: Vec<Member>) -> Result<Vec<MemberFacts>, StoreError> {
        const PER_MEMBER: usize = 6;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for m in &members {
            let progress = schema::progress(&m.learner);
            pipe.cmd("ZRANGE")
                .arg(&progress)
                .arg(-1)
                .arg(-1)
                .arg("WITHSCORES");
            pipe.cmd("ZRANGE")
                .arg(&progress)
                .arg(0)
                .arg(0)
                .arg("WITHSCORES");
            pipe.cmd("ZCARD").arg(&progress);
            pipe.cmd("SMEMBERS").arg(schema::passed(&m.learner));
            pipe.cmd("HGET")
                .arg(schema::learner(&m.learner))
                .arg("seen_ms");
            pipe.cmd("HGETALL").arg(schema::best(&m.learner));
        }
        let values = self.read(&pipe).await?;
        Ok(members
            .into_iter()
            .zip(values.chunks(PER_MEMBER))
            .map(|(member, v)| {
                let passed: Vec<(String, String)> = v
                    .get(3)
                    .map(texts)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| split(m))
                    .collect();
                let latest = scored(v.first());
                MemberFacts {
                    member,
                    latest_ms: latest.as_ref().map(|(_, at)| *at),
                    latest: latest.and_then(|(m, _)| split(&m)),
                    first_step_ms: scored(v.get(1)).map(|(_, at)| at),
                    steps_done: number(v.get(2)),
                    tasks_passed: passed.len() as u64,
                    passed,
                    seen_ms: number(v.get(4)),
                    best: v
                        .get(5)
                        .map(pairs)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(exercise, json)| {
                            let report: GradeReport = serde_json::from_str(&json).ok()?;
                            Some((exercise, (report.score, report.max_score)))
                        })
                        .collect(),
                }
            })
            .collect())
    }
}
