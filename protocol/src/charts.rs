//! Live chart frames the server streams over the session's WebSocket, and
//! the simulator requests that start them.

use serde::{Deserialize, Serialize};

/// Which rate limiter a simulation drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    FixedWindow,
    SlidingWindow,
    TokenBucket,
    /// The learner's own script (`RateLimitSim::custom_script`).
    Custom,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
        Algorithm::TokenBucket,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Algorithm::FixedWindow => "fixed window",
            Algorithm::SlidingWindow => "sliding window",
            Algorithm::TokenBucket => "token bucket",
            Algorithm::Custom => "your script",
        }
    }
}

/// Settings of a rate-limit simulation (clamped by the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitSim {
    /// Requests per second from all users together.
    pub rate: f64,
    /// Simulated users, each with its own limit.
    pub users: u32,
    /// Requests allowed per user per window.
    pub limit: u32,
    pub window_ms: u64,
    /// Limiters to run side by side on the same traffic.
    pub algorithms: Vec<Algorithm>,
    pub duration_ms: u64,
    /// Send only in half a window around every second window boundary,
    /// where a fixed window lets twice its limit through.
    #[serde(default)]
    pub bursty: bool,
    /// Lua for `Algorithm::Custom`: called with KEYS[1] (one key per user)
    /// and ARGV = now_ms, limit, window_ms, request id; returns 1 or 0.
    #[serde(default)]
    pub custom_script: Option<String>,
}

/// Allowed and blocked requests of one limiter in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateCounts {
    pub algorithm: Algorithm,
    pub allowed: u32,
    pub blocked: u32,
    /// `(allowed, blocked)` per user, indexed by user number.
    pub per_user: Vec<(u32, u32)>,
}

/// Settings of an anomaly-detection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalySim {
    /// A perfectly flat metric (0.1 every time), where the tutorial's
    /// variance goes negative and its deviation comes out as NaN.
    #[serde(default)]
    pub flat: bool,
    pub duration_ms: u64,
}

/// What one detection script said about the recent samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyStats {
    /// `None` when the script gave no usable number.
    pub mean: Option<f64>,
    pub std: Option<f64>,
    /// More than 3 standard deviations from the mean.
    pub flagged: bool,
    /// The reply as Redis sent it (to show the truncation).
    pub raw: String,
}

/// One consumer of the simulated group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerView {
    pub name: String,
    /// Entries it read and has not acknowledged (XINFO CONSUMERS).
    pub pending: u64,
    pub idle_ms: u64,
    /// False once the learner killed it.
    pub alive: bool,
}

/// Which collection the memory explorer grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    Hash,
    Set,
    SortedSet,
}

/// Size and encoding of a collection with `n` elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryPoint {
    pub n: u32,
    /// MEMORY USAGE, in bytes.
    pub bytes: u64,
    /// OBJECT ENCODING: listpack, intset, hashtable, skiplist…
    pub encoding: String,
}

/// One frame of a live chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "chart", rename_all = "snake_case")]
pub enum ChartFrame {
    /// Requests decided in `[t_ms, t_ms + bucket_ms)` since the simulation began.
    RateLimit {
        t_ms: u64,
        bucket_ms: u64,
        counts: Vec<RateCounts>,
    },
    /// Probe round trips (PING), in microseconds, since the last frame.
    Latency { t_ms: u64, probe: Vec<u64> },
    /// N feature reads three ways, each timed end to end, in microseconds.
    Compare {
        n: u32,
        sequential_us: u64,
        pipeline_us: u64,
        hmget_us: u64,
    },
    /// One new sample and both scripts' verdicts on it.
    Anomaly {
        t_ms: u64,
        value: f64,
        tutorial: AnomalyStats,
        stable: AnomalyStats,
    },
    /// The stream, its group and consumers (XLEN, XINFO GROUPS/CONSUMERS).
    Stream {
        t_ms: u64,
        length: u64,
        /// Entries delivered to the group and not yet acknowledged.
        pending: u64,
        /// Entries not yet delivered to the group (`None` when Redis
        /// cannot tell).
        lag: Option<u64>,
        /// Entries recovered with XAUTOCLAIM so far.
        claimed: u64,
        consumers: Vec<ConsumerView>,
    },
    /// A collection grown element by element.
    Memory {
        kind: MemoryKind,
        points: Vec<MemoryPoint>,
    },
    /// One embedding stored three ways, MEMORY USAGE in bytes.
    Embeddings {
        dimensions: u32,
        json_bytes: u64,
        blob_bytes: u64,
        /// `None` when the engine has no vector sets.
        vset_bytes: Option<u64>,
    },
    /// The simulation ended (time up, stopped, or the learner left).
    Done { reason: String },
}
