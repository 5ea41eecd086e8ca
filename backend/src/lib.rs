//! redis-tutor's server: lessons, the engine learners get, and the browser app.

pub mod config;
pub mod engine;
pub mod http;
pub mod lessons;
pub mod shutdown;
pub mod state;

pub use http::router;
pub use state::AppState;
