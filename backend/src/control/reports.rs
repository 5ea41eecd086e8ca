//! Grading reports in the control store: every report of a learner
//! (newest first, the last `KEPT`), and the best per exercise, updated in
//! the same transaction so the two always agree.

use protocol::GradeReport;
use redis::Value;

use super::learners::LearnerRef;
use super::schema;
use super::{ControlStore, StoreError};

/// Reports kept per learner.
const KEPT: usize = 200;

/// Keeps the new report as the exercise's best when it scores at least
/// as high (a later equal score wins: it is the newer submission).
const KEEP_BEST: &str = r#"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local best = cjson.decode(current)
  if tonumber(best.score) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

fn json(value: &Value) -> Option<GradeReport> {
    match value {
        Value::BulkString(bytes) => serde_json::from_slice(bytes).ok(),
        _ => None,
    }
}

impl ControlStore {
    /// Stores a report durably (acknowledged only once on disk).
    pub async fn record_report(
        &self,
        who: &LearnerRef,
        report: &GradeReport,
    ) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(report).map_err(|e| StoreError::Protocol(e.to_string()))?;
        let mut pipe = redis::pipe();
        pipe.cmd("LPUSH")
            .arg(schema::reports(&who.id))
            .arg(&text)
            .ignore();
        pipe.cmd("LTRIM")
            .arg(schema::reports(&who.id))
            .arg(0)
            .arg(KEPT - 1)
            .ignore();
        pipe.cmd("EVAL")
            .arg(KEEP_BEST)
            .arg(1)
            .arg(schema::best(&who.id))
            .arg(&report.exercise)
            .arg(&text)
            .arg(report.score)
            .ignore();
        self.renew(&mut pipe, who);
        self.write(&mut pipe).await.map(drop)
    }

    /// The learner's reports: the best per exercise first (in course
    /// order of their ids as stored), then every other one, newest first.
    pub async fn reports(&self, who: &LearnerRef) -> Result<Vec<GradeReport>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL").arg(schema::best(&who.id));
        pipe.cmd("LRANGE")
            .arg(schema::reports(&who.id))
            .arg(0)
            .arg(-1);
        let values = self.read(&pipe).await?;
        let mut best: Vec<GradeReport> = match values.first() {
            Some(Value::Array(items)) => items.chunks(2).filter_map(|p| json(p.get(1)?)).collect(),
            _ => Vec::new(),
        };
        best.sort_by(|a, b| a.exercise.cmp(&b.exercise));
        let rest = match values.get(1) {
            Some(Value::Array(items)) => items.iter().filter_map(json).collect(),
            _ => Vec::new(),
        };
        let others: Vec<GradeReport> = rest
            .into_iter()
            .filter(|r| {
                !best
                    .iter()
                    .any(|b| b.graded_at == r.graded_at && b.exercise == r.exercise)
            })
            .collect();
        best.extend(others);
        Ok(best)
    }
}
