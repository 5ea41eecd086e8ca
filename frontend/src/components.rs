//! Widgets, one file each.

pub mod anomaly_chart;
pub mod chart_panel;
pub mod console_view;
pub mod engine_badge;
pub mod exercise_panel;
pub mod grade_report;
pub mod latency_chart;
pub mod learner_panel;
pub mod library_editor;
pub mod memory_chart;
pub mod prompt;
pub mod rate_limit_chart;
pub mod streams_chart;
pub mod theme_toggle;
pub mod transcript;
