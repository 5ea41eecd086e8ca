//! Integration tests: one binary, real engine, real HTTP, real browser.

mod api;
mod browser;
mod chaos;
mod charts_e2e;
mod console_e2e;
mod engine;
mod format_oracle;
mod gateway;
mod hostile;
mod lesson_blocks;
mod lessons;
mod lessons_e2e;
mod simulators;
mod support;
mod websocket;
