//! The instructor's side of a class: the instructor's key (a secret
//! printed at start-up, like Jupyter's token link) and the rules every
//! room follows (idle lifetime, capacity, join pace).

use std::time::Duration;

use sha2::Digest;

use crate::config::Config;
use crate::sandbox::per_minute::PerMinute;

/// Random bytes in a generated instructor token (256 bits).
const TOKEN_BYTES: usize = 32;

/// The instructor's secret. Only its digest is compared, so the
/// comparison takes the same time whatever the guess.
pub struct InstructorKey {
    token: String,
    digest: [u8; 32],
}

impl InstructorKey {
    /// `--instructor-token` if given, else a fresh random one.
    pub fn new(given: Option<&str>) -> Result<InstructorKey, getrandom::Error> {
        let token = match given.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => token.to_owned(),
            None => crate::secret::random_hex(TOKEN_BYTES)?,
        };
        let digest = sha2::Sha256::digest(token.as_bytes()).into();
        Ok(InstructorKey { token, digest })
    }

    /// The token itself, for the start-up link only.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `candidate` is the instructor's token, in constant time:
    /// both sides are hashed first, so neither the length nor the first
    /// differing byte of the secret shows in the timing.
    pub fn matches(&self, candidate: &str) -> bool {
        crate::secret::matches_digest(&self.digest, candidate)
    }
}

/// What every room is held to.
pub struct RoomRules {
    /// A room with no activity this long ends by itself (its keys' TTL).
    pub idle: Duration,
    /// Most learners in one room.
    pub capacity: u32,
    /// Wrong join codes per minute per client address.
    pub joins_per_min: u32,
    /// The wrong join codes of each client address.
    pub join_budget: PerMinute,
    /// No new step for this long (while present) marks a learner stuck.
    pub stuck_after: Duration,
    /// This many console errors in a row mark a learner stuck.
    pub stuck_errors: u32,
}

impl RoomRules {
    pub fn from_config(config: &Config) -> RoomRules {
        RoomRules {
            idle: Duration::from_secs(config.room_idle_hours.saturating_mul(60 * 60)),
            capacity: config.room_capacity,
            joins_per_min: config.joins_per_min_per_ip,
            join_budget: PerMinute::default(),
            stuck_after: Duration::from_secs(config.stuck_minutes.saturating_mul(60)),
            stuck_errors: config.stuck_errors.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let key = InstructorKey::new(Some("s3cret")).unwrap();
        assert!(key.matches("s3cret"));
        assert!(!key.matches("s3cre"));
        assert!(!key.matches("s3cret "));
    }

    #[test]
    fn a_generated_token_has_256_bits() {
        let key = InstructorKey::new(None).unwrap();
        assert_eq!(key.token().len(), 64);
        assert!(key.matches(key.token()));
    }
}
