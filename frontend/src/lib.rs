//! redis-tutor's browser app: the course outline and lesson pages.

mod api;
mod app;
mod charts;
mod components;
mod console;
mod link;
mod pages;
mod progress;

pub use app::App;
