//! Classroom rooms in the control store: a room (name, lessons, join
//! code, lock, capacity), its code → room index, its roster and the
//! learner → room index that admits members by the room's capacity. Every
//! write is one MULTI/EXEC confirmed on disk and renews the room's idle
//! TTL, so a room nobody uses for `--room-idle-hours` ends by itself.
//! Checks that must agree with the write (a locked roster, a full room,
//! a code already taken) run inside it as a script.

mod board;
mod hands;

use board::number;
pub use board::MemberFacts;
pub use hands::HandOutcome;

use std::collections::BTreeMap;
use std::time::Duration;

use super::learners::{now_ms, pairs, random_hex, text, LearnerRef};
use super::schema::{self, SEP};
use super::{ControlStore, StoreError};

/// The join code's alphabet: no 0/O, 1/I/L, so a code read off a
/// projector is typed right. 31^6 ≈ 887 million codes.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const CODE_LEN: usize = 6;
/// Random bytes in a room id (128 bits).
const ID_BYTES: usize = 16;
/// Fresh codes tried when one is taken (with a few thousand live rooms
/// among 887 million codes, a second try is already rare).
const CODE_TRIES: usize = 5;

/// Claims the code and creates the room, unless the code belongs to
/// another room. A retried write finds its own claim and succeeds again.
const CREATE: &str = r#"
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"#;

/// Deletes each learner → room index (KEYS) that still names room
/// ARGV[1]: a learner who joined another room since keeps theirs.
const FORGET_MEMBERS: &str = r#"
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
"#;

/// Adds a learner to the roster (KEYS: room, roster, code, learner,
/// hands, learner → room index) if the room is open, not locked and not
/// full; someone already in the roster always gets back in (a second
/// device), keeping their join time. The index names this room from now.
const JOIN: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'ended') == '1' then
  return 'gone'
end
local old = redis.call('HGET', KEYS[2], ARGV[1])
local joined = ARGV[3]
if old then
  joined = string.match(old, '^(%d+),') or joined
else
  if redis.call('HGET', KEYS[1], 'locked') == '1' then return 'locked' end
  local capacity = tonumber(redis.call('HGET', KEYS[1], 'capacity')) or 0
  if redis.call('HLEN', KEYS[2]) >= capacity then return 'full' end
end
redis.call('HSET', KEYS[2], ARGV[1], joined .. ',' .. ARGV[2])
redis.call('HSET', KEYS[1], 'active_ms', ARGV[3])
redis.call('HSET', KEYS[4], 'name', ARGV[2])
redis.call('SET', KEYS[6], ARGV[5], 'PX', ARGV[4])
for _, i in ipairs({1, 2, 3, 5}) do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return 'ok'
"#;

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: String,
    pub name: String,
    pub code: String,
    pub lessons: Vec<String>,
    pub created_ms: u64,
    pub active_ms: u64,
    pub locked: bool,
    pub capacity: u32,
    pub ended: bool,
}

/// One learner in a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub learner: String,
    pub name: String,
    pub joined_ms: u64,
}

/// How a join attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    Joined,
    /// No such room, or it has ended.
    Gone,
    Locked,
    Full,
}

/// A join code as typed, in canonical form (upper case), if it can be one.
pub fn canonical_code(typed: &str) -> Option<String> {
    let code = typed.trim().to_ascii_uppercase();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

fn new_code() -> Result<String, StoreError> {
    let mut code = String::with_capacity(CODE_LEN);
    // Rejection sampling: only bytes below a multiple of 31 are used, so
    // every character is equally likely.
    let limit = (256 / CODE_ALPHABET.len() * CODE_ALPHABET.len()) as u8;
    while code.len() < CODE_LEN {
        let mut buf = [0u8; 16];
        getrandom::fill(&mut buf)
            .map_err(|e| StoreError::Protocol(format!("no randomness: {e}")))?;
        for b in buf.into_iter().filter(|b| *b < limit) {
            if code.len() < CODE_LEN {
                code.push(CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()] as char);
            }
        }
    }
    Ok(code)
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)
}

impl ControlStore {
    /// A new room with a fresh join code; durable once it returns.
    pub async fn create_room(
        &self,
        name: &str,
        lessons: &[String],
        capacity: u32,
        ttl: Duration,
    ) -> Result<Room, StoreError> {
        let id = random_hex(ID_BYTES)?;
        let now = now_ms();
        let joined = lessons.join(&SEP.to_string());
        for _ in 0..CODE_TRIES {
            let code = new_code()?;
            let mut pipe = redis::pipe();
            pipe.cmd("EVAL")
                .arg(CREATE)
                .arg(2)
                .arg(schema::room_code(&code))
                .arg(schema::room(&id))
                .arg(&id)
                .arg(millis(ttl))
                .arg("name")
                .arg(name)
                .arg("code")
                .arg(&code)
                .arg("lessons")
                .arg(&joined)
                .arg("created_ms")
                .arg(now)
                .arg("active_ms")
                .arg(now)
                .arg("locked")
                .arg(0)
                .arg("capacity")
                .arg(capacity)
                .arg("ended")
                .arg(0);
            let values = self.write(&mut pipe).await?;
            if number(values.first()) == 1 {
                return Ok(Room {
                    id,
                    name: name.to_owned(),
                    code,
                    lessons: lessons.to_vec(),
                    created_ms: now,
                    active_ms: now,
                    locked: false,
                    capacity,
                    ended: false,
                });
            }
        }
        Err(StoreError::Protocol(format!(
            "no free join code after {CODE_TRIES} tries"
        )))
    }

    /// The room `id`, if it exists (ended rooms too, until they expire).
    pub async fn room(&self, id: &str) -> Result<Option<Room>, StoreError> {
        let found = self
            .call(redis::cmd("HGETALL").arg(schema::room(id)))
            .await?;
        let fields: BTreeMap<String, String> = pairs(&found).into_iter().collect();
        let Some(name) = fields.get("name") else {
            return Ok(None);
        };
        let field = |key: &str| fields.get(key).map(String::as_str).unwrap_or_default();
        Ok(Some(Room {
            id: id.to_owned(),
            name: name.clone(),
            code: field("code").to_owned(),
            lessons: field("lessons")
                .split(SEP)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_ms: field("created_ms").parse().unwrap_or(0),
            active_ms: field("active_ms").parse().unwrap_or(0),
            locked: field("locked") == "1",
            capacity: field("capacity").parse().unwrap_or(0),
            ended: field("ended") == "1",
        }))
    }

    /// The room a (canonical) join code opens, if any.
    pub async fn room_for_code(&self, code: &str) -> Result<Option<String>, StoreError> {
        let found = self
            .call(redis::cmd("GET").arg(schema::room_code(code)))
            .await?;
        Ok(text(&found))
    }

    /// Puts `who` in the roster of room `id` under `name` (also their
    /// display name), in one transaction with the checks.
    pub async fn join_room(
        &self,
        id: &str,
        code: &str,
        who: &LearnerRef,
        name: &str,
        ttl: Duration,
    ) -> Result<JoinOutcome, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(JOIN)
            .arg(6)
            .arg(schema::room(id))
            .arg(schema::roster(id))
            .arg(schema::room_code(code))
            .arg(schema::learner(&who.id))
            .arg(schema::hands(id))
            .arg(schema::member_of(&who.id))
            .arg(&who.id)
            .arg(name)
            .arg(now_ms())
            .arg(millis(ttl))
            .arg(id);
        self.renew(&mut pipe, who);
        let values = self.write(&mut pipe).await?;
        Ok(match values.first().and_then(text).as_deref() {
            Some("ok") => JoinOutcome::Joined,
            Some("locked") => JoinOutcome::Locked,
            Some("full") => JoinOutcome::Full,
            _ => JoinOutcome::Gone,
        })
    }

    /// Marks the room active now and renews every key's idle TTL, inside
    /// a write.
    fn touch_room(pipe: &mut redis::Pipeline, room: &Room, ttl: Duration) {
        pipe.cmd("HSET")
            .arg(schema::room(&room.id))
            .arg("active_ms")
            .arg(now_ms())
            .ignore();
        for key in [
            schema::room(&room.id),
            schema::roster(&room.id),
            schema::room_code(&room.code),
            schema::hands(&room.id),
        ] {
            pipe.cmd("PEXPIRE").arg(key).arg(millis(ttl)).ignore();
        }
    }

    pub async fn lock_room(
        &self,
        room: &Room,
        locked: bool,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(schema::room(&room.id))
            .arg("locked")
            .arg(u8::from(locked))
            .ignore();
        Self::touch_room(&mut pipe, room, ttl);
        self.write(&mut pipe).await.map(drop)
    }

    /// Forgets that `learners` are in `room`, inside a write.
    fn forget_members<'a>(
        pipe: &mut redis::Pipeline,
        room: &Room,
        learners: impl ExactSizeIterator<Item = &'a str>,
    ) {
        let cmd = pipe.cmd("EVAL").arg(FORGET_MEMBERS).arg(learners.len());
        for learner in learners {
            cmd.arg(schema::member_of(learner));
        }
        cmd.arg(&room.id).ignore();
    }

    /// Takes `learner` off the roster (their hand and their room index
    /// with them); false if they were not on it.
    pub async fn remove_from_room(
        &self,
        room: &Room,
        learner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HDEL").arg(schema::roster(&room.id)).arg(learner);
        pipe.cmd("ZREM")
            .arg(schema::hands(&room.id))
            .arg(learner)
            .ignore();
        Self::forget_members(&mut pipe, room, std::iter::once(learner));
        Self::touch_room(&mut pipe, room, ttl);
        let values = self.write(&mut pipe).await?;
        Ok(number(values.first()) == 1)
    }

    /// Ends the room: its code stops working at once, its hands come down
    /// and its members are admitted per address again; the board and the
    /// export stay readable until the idle TTL runs out.
    pub async fn end_room(&self, room: &Room, ttl: Duration) -> Result<(), StoreError> {
        // Someone joining between this read and the write keeps an index
        // naming an ended room: `room_of` checks the room, so it admits
        // nobody.
        let roster = self.roster(&room.id).await?;
        let mut pipe = redis::pipe();
        Self::forget_members(&mut pipe, room, roster.iter().map(|m| m.learner.as_str()));
        pipe.cmd("DEL").arg(schema::hands(&room.id)).ignore();
        pipe.cmd("HSET")
            .arg(schema::room(&room.id))
            .arg("ended")
            .arg(1)
            .ignore();
        Self::touch_room(&mut pipe, room, ttl);
        pipe.cmd("DEL").arg(schema::room_code(&room.code)).ignore();
        self.write(&mut pipe).await.map(drop)
    }

    /// The open room `learner` is a member of, if any: the index, checked
    /// against the room (not ended) and its roster (still on it).
    pub async fn room_of(&self, learner: &str) -> Result<Option<String>, StoreError> {
        let found = self
            .call(redis::cmd("GET").arg(schema::member_of(learner)))
            .await?;
        let Some(id) = text(&found) else {
            return Ok(None);
        };
        let mut pipe = redis::pipe();
        pipe.cmd("HGET").arg(schema::room(&id)).arg("ended");
        pipe.cmd("HEXISTS").arg(schema::roster(&id)).arg(learner);
        let values = self.read(&pipe).await?;
        let open = values.first().and_then(text).as_deref() == Some("0");
        Ok((open && number(values.get(1)) == 1).then_some(id))
    }

    /// The roster, in the order they joined.
    pub async fn roster(&self, id: &str) -> Result<Vec<Member>, StoreError> {
        let found = self
            .call(redis::cmd("HGETALL").arg(schema::roster(id)))
            .await?;
        let mut members: Vec<Member> = pairs(&found)
            .into_iter()
            .filter_map(|(learner, value)| {
                let (joined, name) = value.split_once(',')?;
                Some(Member {
                    learner,
                    name: name.to_owned(),
                    joined_ms: joined.parse().ok()?,
                })
            })
            .collect();
        members.sort_by(|a, b| (a.joined_ms, &a.learner).cmp(&(b.joined_ms, &b.learner)));
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_only_the_unambiguous_alphabet() {
        for _ in 0..200 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), CODE_LEN);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(canonical_code(&code.to_ascii_lowercase()), Some(code));
        }
    }

    #[test]
    fn typed_codes_are_matched_case_insensitively_and_checked() {
        assert_eq!(canonical_code(" abc234 "), Some("ABC234".into()));
        assert_eq!(canonical_code("ABC23"), None);
        assert_eq!(canonical_code("ABC230"), None);
    }
}
