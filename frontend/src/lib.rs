//! redis-tutor's browser app: the course outline, lesson pages, the
//! console and the live charts.

mod api;
mod app;
mod charts;
mod components;
mod console_state;
mod credentials;
mod exercise_draft;
mod identity;
mod learner;
mod lesson_dom;
mod link;
mod pages;
mod progress;
mod sim_state;
mod transcript_store;

pub use app::App;
