//! Learners in the control store: identity (a token whose hash is all the
//! store keeps), display names, progress steps and task results. Every
//! write is one MULTI/EXEC that also renews the learner's idle TTL, then
//! confirmed on disk (`ControlStore::write`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol::{Me, TaskOutcome};
use redis::Value;

use super::schema::{self, SEP};
use super::{ControlStore, StoreError};

/// Longest display name, in characters.
pub const NAME_MAX_CHARS: usize = 40;
/// Random bytes in a learner token (256 bits) and a learner id (128 bits).
const TOKEN_BYTES: usize = 32;
/// How long a learner lives before its first write renews it to the idle
/// TTL (`--learner-idle-days`).
const NEWCOMER_TTL: Duration = Duration::from_secs(24 * 60 * 60);
const ID_BYTES: usize = 16;

/// A learner as an authenticated request knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerRef {
    pub id: String,
    /// sha-256 of the learner's token, hex (the token key's name).
    pub token_hash: String,
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(super) fn random_hex(bytes: usize) -> Result<String, StoreError> {
    crate::secret::random_hex(bytes)
        .map_err(|e| StoreError::Protocol(format!("no randomness: {e}")))
}

pub fn token_hash(token: &str) -> String {
    crate::secret::sha256_hex(token.as_bytes())
}

/// A display name as given, checked: `None` clears it. Rendered as text
/// everywhere, so HTML in it is harmless; control characters and lengths
/// past `NAME_MAX_CHARS` are refused with a sentence.
pub fn check_name(name: Option<&str>) -> Result<Option<String>, String> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().any(char::is_control) {
        return Err("A name cannot hold control characters (such as a tab or a new line).".into());
    }
    let chars = name.chars().count();
    if chars > NAME_MAX_CHARS {
        return Err(format!(
            "That name is {chars} characters long; a name may have at most {NAME_MAX_CHARS}."
        ));
    }
    Ok(Some(name.to_owned()))
}

pub(super) use crate::session::convert::text;

/// A RESP2 flat array of field/value pairs (HGETALL) as pairs of text.
pub(super) fn pairs(value: &Value) -> Vec<(String, String)> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        _ => &[],
    };
    items
        .chunks(2)
        .filter_map(|pair| Some((text(pair.first()?)?, text(pair.get(1)?)?)))
        .collect()
}

impl ControlStore {
    /// Renews the idle TTL of every key of `who`, inside a write.
    pub(super) fn renew(&self, pipe: &mut redis::Pipeline, who: &LearnerRef) {
        self.expire_in(pipe, who, self.learner_ttl);
    }

    /// Sets the TTL of every key of `who` to `ttl`, inside a write.
    fn expire_in(&self, pipe: &mut redis::Pipeline, who: &LearnerRef, ttl: Duration) {
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        for key in schema::learner_keys(&who.id) {
            pipe.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
        }
        pipe.cmd("PEXPIRE")
            .arg(schema::token(&who.token_hash))
            .arg(ttl)
            .ignore();
        pipe.cmd("HSET")
            .arg(schema::learner(&who.id))
            .arg("seen_ms")
            .arg(now_ms())
            .ignore();
    }

    /// A new learner; the token is returned once and only its hash kept.
    pub async fn create_learner(
        &self,
        name: Option<String>,
    ) -> Result<(LearnerRef, String), StoreError> {
        let token = random_hex(TOKEN_BYTES)?;
        let who = LearnerRef {
            id: random_hex(ID_BYTES)?,
            token_hash: token_hash(&token),
        };
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(schema::learner(&who.id))
            .arg("created_ms")
            .arg(now_ms())
            .arg("token")
            .arg(&who.token_hash)
            .ignore();
        if let Some(name) = &name {
            pipe.cmd("HSET")
                .arg(schema::learner(&who.id))
                .arg("name")
                .arg(name)
                .ignore();
        }
        pipe.cmd("SET")
            .arg(schema::token(&who.token_hash))
            .arg(&who.id)
            .ignore();
        // Until its first write (progress, a result, a new name, a room), a
        // learner is kept only a day: one created and never used costs
        // the shared store little, whoever created it.
        self.expire_in(&mut pipe, &who, self.learner_ttl.min(NEWCOMER_TTL));
        self.write(&mut pipe).await?;
        Ok((who, token))
    }

    /// The learner a token belongs to, if any.
    pub async fn learner_for_token(&self, token: &str) -> Result<Option<LearnerRef>, StoreError> {
        let hash = token_hash(token);
        let found = self
            .call(redis::cmd("GET").arg(schema::token(&hash)))
            .await?;
        Ok(text(&found).map(|id| LearnerRef {
            id,
            token_hash: hash,
        }))
    }

    pub async fn me(&self, who: &LearnerRef) -> Result<Me, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HGET").arg(schema::learner(&who.id)).arg("name");
        pipe.cmd("ZRANGE")
            .arg(schema::progress(&who.id))
            .arg(0)
            .arg(-1);
        pipe.cmd("HGETALL").arg(schema::results(&who.id));
        let values = self.read(&pipe).await?;
        let name = values.first().and_then(text);
        let mut progress: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(Value::Array(members)) = values.get(1) {
            for member in members.iter().filter_map(text) {
                if let Some((lesson, step)) = member.split_once(SEP) {
                    progress
                        .entry(lesson.to_owned())
                        .or_default()
                        .push(step.to_owned());
                }
            }
        }
        let results = values
            .get(2)
            .map(pairs)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(field, value)| {
                let (lesson, task) = field.split_once(SEP)?;
                let (passed, at_ms) = value.split_once(',')?;
                Some(TaskOutcome {
                    lesson: lesson.to_owned(),
                    task: task.parse().ok()?,
                    passed: passed == "1",
                    at_ms: at_ms.parse().ok()?,
                })
            })
            .collect();
        Ok(Me {
            learner: who.id.clone(),
            name,
            progress,
            results,
        })
    }

    /// Records that `who` ran `step` of `lesson` (the first time counts).
    pub async fn add_progress(
        &self,
        who: &LearnerRef,
        lesson: &str,
        step: &str,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(schema::progress(&who.id))
            .arg("NX")
            .arg(now_ms())
            .arg(format!("{lesson}{SEP}{step}"))
            .ignore();
        self.renew(&mut pipe, who);
        self.write(&mut pipe).await.map(drop)
    }

    /// Records a task's check: its latest outcome, and (agreeing with it,
    /// in the same transaction) the set of tasks ever passed.
    pub async fn record_result(
        &self,
        who: &LearnerRef,
        lesson: &str,
        task: usize,
        passed: bool,
    ) -> Result<(), StoreError> {
        let field = format!("{lesson}{SEP}{task}");
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(schema::results(&who.id))
            .arg(&field)
            .arg(format!("{},{}", u8::from(passed), now_ms()))
            .ignore();
        if passed {
            pipe.cmd("SADD")
                .arg(schema::passed(&who.id))
                .arg(&field)
                .ignore();
        }
        self.renew(&mut pipe, who);
        self.write(&mut pipe).await.map(drop)
    }

    pub async fn rename(&self, who: &LearnerRef, name: Option<String>) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        match name {
            Some(name) => pipe
                .cmd("HSET")
                .arg(schema::learner(&who.id))
                .arg("name")
                .arg(name),
            None => pipe.cmd("HDEL").arg(schema::learner(&who.id)).arg("name"),
        }
        .ignore();
        self.renew(&mut pipe, who);
        self.write(&mut pipe).await.map(drop)
    }

    /// Erases the learner and everything of theirs, in one transaction.
    pub async fn erase(&self, who: &LearnerRef) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL")
            .arg(&schema::learner_keys(&who.id)[..])
            .arg(schema::token(&who.token_hash))
            .arg(schema::member_of(&who.id))
            .ignore();
        self.write(&mut pipe).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_capped_and_free_of_control_characters() {
        assert_eq!(check_name(Some("  Ada ")), Ok(Some("Ada".into())));
        assert_eq!(check_name(Some("   ")), Ok(None));
        assert_eq!(check_name(None), Ok(None));
        assert!(check_name(Some("a\tb")).is_err());
        assert!(check_name(Some(&"x".repeat(41))).is_err());
        assert_eq!(
            check_name(Some("<b>Ada</b>")),
            Ok(Some("<b>Ada</b>".into()))
        );
    }

    #[test]
    fn only_the_tokens_hash_is_a_key_name() {
        let hash = token_hash("secret");
        assert_eq!(hash.len(), 64);
        assert!(!schema::token(&hash).contains("secret"));
    }
}
