//! Bounds of the live-chart simulators, in one place: the server clamps
//! every request to them and the browser's inputs offer the same ranges.

/// Rate-limit simulator: requests per second from all users together.
pub const RATE_MAX: f64 = 2_000.0;
/// Rate-limit simulator: simulated users.
pub const USERS_MAX: u32 = 50;
/// Rate-limit simulator: longest run.
pub const RATE_LIMIT_DURATION_MAX_MS: u64 = 120_000;
/// Anomaly generator: longest run.
pub const ANOMALY_DURATION_MAX_MS: u64 = 180_000;
/// Streams simulation: longest run.
pub const STREAMS_DURATION_MAX_MS: u64 = 180_000;
/// Streams simulation: how long the browser's Start runs it.
pub const STREAMS_DEFAULT_MS: u64 = 90_000;
/// Memory explorer: most elements a collection is grown to.
pub const MEMORY_ELEMENTS_MAX: u32 = 1_000;
/// Memory explorer: how far the browser's buttons grow a collection
/// (past every compact-encoding threshold of the default config).
pub const MEMORY_GROW_DEFAULT: u32 = 700;
/// Read comparison: most reads in one comparison.
pub const COMPARE_READS_MAX: u32 = 500;
/// A learner's own limiter script, in bytes.
pub const CUSTOM_SCRIPT_MAX_BYTES: usize = 16 * 1024;
