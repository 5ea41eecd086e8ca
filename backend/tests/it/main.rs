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
mod hostile_admission;
mod hostile_http;
mod hostile_memory;
mod hostile_runaway;
mod lesson_blocks;
mod lessons;
mod lessons_e2e;
mod sim_anomaly;
mod sim_latency_memory;
mod sim_rate_limit;
mod sim_streams;
mod support;
mod websocket;
