//! Raised hands in a room: a sorted set of learner → when they raised it,
//! written only by a member of a room that has not ended (checked inside
//! the write), oldest first.

use std::time::Duration;

use super::super::learners::{now_ms, pairs, text, LearnerRef};
use super::super::schema;
use super::super::{ControlStore, StoreError};
use super::{millis, Room};

/// Raises (ARGV[2] = 1, keeping the first raise's time) or lowers a hand
/// (KEYS: room, roster, hands, code; ARGV: learner, raised, now, ttl) if
/// the room is open and the learner is on its roster.
const HAND: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'ended') == '1' then
  return 'gone'
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 'stranger' end
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[1], 'active_ms', ARGV[3])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return 'ok'
"#;

/// How raising or lowering a hand ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOutcome {
    Done,
    /// The room has ended (or expired) since it was read.
    Gone,
    /// The learner is not on the room's roster.
    NotMember,
}

impl ControlStore {
    /// Raises or lowers `who`'s hand in `room`, in one transaction with
    /// the membership check.
    pub async fn set_hand(
        &self,
        room: &Room,
        who: &LearnerRef,
        raised: bool,
        ttl: Duration,
    ) -> Result<HandOutcome, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(HAND)
            .arg(4)
            .arg(schema::room(&room.id))
            .arg(schema::roster(&room.id))
            .arg(schema::hands(&room.id))
            .arg(schema::room_code(&room.code))
            .arg(&who.id)
            .arg(u8::from(raised))
            .arg(now_ms())
            .arg(millis(ttl));
        self.renew(&mut pipe, who);
        let values = self.write(&mut pipe).await?;
        Ok(match values.first().and_then(text).as_deref() {
            Some("ok") => HandOutcome::Done,
            Some("stranger") => HandOutcome::NotMember,
            _ => HandOutcome::Gone,
        })
    }

    /// The raised hands in room `id`: (learner, raised at ms), oldest
    /// first.
    pub async fn raised_hands(&self, id: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let found = self
            .call(
                redis::cmd("ZRANGE")
                    .arg(schema::hands(id))
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES"),
            )
            .await?;
        Ok(pairs(&found)
            .into_iter()
            .filter_map(|(learner, at)| Some((learner, at.parse::<f64>().ok()? as u64)))
            .collect())
    }
}
