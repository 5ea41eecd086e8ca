//! Simulators that drive a learner's sandbox for the live charts: traffic
//! through rate limiters (and, later, metric generators and stream
//! consumers). They use their own connection to the sandbox, are bounded
//! in rate and duration, and stop when the learner leaves.

pub mod anomaly;
pub mod latency;
pub mod memory;
pub mod rate_limit;
pub mod streams;
