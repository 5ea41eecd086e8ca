//! Where a page's room socket stands (`RoomStatus`, with the sentence a
//! status line shows) and how long it waits between attempts after drops.

/// First wait after a drop, in ms; it doubles up to `RETRY_MAX_MS`.
const RETRY_FIRST_MS: u32 = 500;
/// Longest wait between two attempts, in ms: a class should not sit
/// disconnected for long after a blip.
pub const RETRY_MAX_MS: u32 = 5_000;

/// How long to wait before attempt `failures + 1`, after `failures`
/// attempts in a row that failed (at least one).
pub fn backoff_ms(failures: u32) -> u32 {
    let doublings = failures.saturating_sub(1).min(16);
    RETRY_FIRST_MS
        .saturating_mul(1 << doublings)
        .min(RETRY_MAX_MS)
}

/// Where the room socket stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomStatus {
    /// Not opened (no room yet).
    Idle,
    Connecting,
    /// Welcomed by the server.
    Connected,
    /// Dropped; trying again by itself.
    Reconnecting,
    /// The server would not let this token in: its own words. Retrying
    /// would not help.
    Refused(String),
    /// The instructor ended the room.
    Ended,
}

impl RoomStatus {
    /// A sentence for a status line, or nothing when all is well.
    pub fn problem(&self) -> Option<String> {
        match self {
            RoomStatus::Idle | RoomStatus::Connected => None,
            RoomStatus::Connecting => Some("Connecting to the class…".to_owned()),
            RoomStatus::Reconnecting => {
                Some("The connection to the class dropped; reconnecting…".to_owned())
            }
            RoomStatus::Refused(why) => Some(why.clone()),
            RoomStatus::Ended => Some("The class has ended.".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_short_and_doubles() {
        assert_eq!(backoff_ms(1), 500);
        assert_eq!(backoff_ms(2), 1_000);
        assert_eq!(backoff_ms(3), 2_000);
        assert_eq!(backoff_ms(4), 4_000);
    }

    #[test]
    fn backoff_never_waits_longer_than_five_seconds() {
        assert_eq!(backoff_ms(5), RETRY_MAX_MS);
        assert_eq!(backoff_ms(60), RETRY_MAX_MS);
        assert_eq!(backoff_ms(u32::MAX), RETRY_MAX_MS);
    }
}
