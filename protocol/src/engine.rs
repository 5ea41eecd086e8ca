//! What the server knows about the Redis engine learners get.

use serde::{Deserialize, Serialize};

/// The Redis engine found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// `redis-server --version` number, e.g. `8.2.3`.
    pub version: String,
    /// Where the binary came from: `bundled` (the project's `.engine/`) or `path`.
    pub source: String,
    /// Module capabilities that will be loaded into every sandbox:
    /// `json`, `search`, `bloom`, plus `vectorset` when the server has it built in.
    pub capabilities: Vec<String>,
}
