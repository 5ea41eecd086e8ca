//! redis-tutor's server: lessons, the engine learners get, and the browser app.

pub mod allowlist;
pub mod catalog;
pub mod classroom;
pub mod cluster;
pub mod config;
pub mod control;
pub mod engine;
pub mod gateway;
pub mod grading;
pub mod heartbeat;
pub mod http;
pub mod lessons;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod sandbox;
pub mod secret;
pub mod session;
pub mod shutdown;
pub mod signal;
pub mod sim;
pub mod state;
pub mod static_json;

pub use http::router;
pub use state::AppState;
