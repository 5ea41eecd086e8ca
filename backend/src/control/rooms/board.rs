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
    pub steps_done: u64,
    /// When their first progress step was run (Unix ms).
    pub first_step_ms: Option<u64>,
    /// Their last activity (`seen_ms`), Unix ms; 0 if unknown.
    pub seen_ms: u64,
    pub tasks_passed: u64,
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
            pipe.cmd("SCARD").arg(schema::passed(&m.learner));
            pipe.cmd("HGET")
                .arg(schema::learner(&m.learner))
                .arg("seen_ms");
            pipe.cmd("HGETALL").arg(schema::best(&m.learner));
        }
        let values = self.read(&pipe).await?;
        Ok(members
            .into_iter()
            .zip(values.chunks(PER_MEMBER))
            .map(|(member, v)| MemberFacts {
                member,
                latest: scored(v.first()).and_then(|(m, _)| {
                    let (lesson, step) = m.split_once(SEP)?;
                    Some((lesson.to_owned(), step.to_owned()))
                }),
                first_step_ms: scored(v.get(1)).map(|(_, at)| at),
                steps_done: number(v.get(2)),
                tasks_passed: number(v.get(3)),
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
            })
            .collect())
    }
}
