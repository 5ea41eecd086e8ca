//! Simulators that drive a learner's sandbox for the live charts: traffic
//! through rate limiters, a metric generator with anomaly detection,
//! stream consumers, a latency probe and one-shot memory and latency
//! measurements. `Simulations` (in `control`) runs them for one socket:
//! each on its own connection to the sandbox, bounded in rate and duration,
//! every command within the sandbox's command deadline, and stopped when
//! the socket closes.

pub mod anomaly;
mod control;
pub mod latency;
pub mod memory;
pub mod rate_limit;
pub mod streams;

pub use control::{Measurement, Simulations};

/// Why a simulation could not start or stopped early; shown to the learner.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the sandbox did not answer: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("the limiter script failed: {0}")]
    Script(String),
    #[error("{0}")]
    NotRunning(&'static str),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
}
