//! Widgets, one file each.

pub mod anomaly_chart;
pub mod autoplay_controls;
pub mod chart_panel;
pub mod class_board;
pub mod class_panel;
pub mod console_view;
pub mod demo_console;
pub mod engine_badge;
pub mod exercise_panel;
pub mod follow_controls;
pub mod follow_me;
pub mod grade_report;
pub mod join_card;
pub mod latency_chart;
pub mod learner_panel;
pub mod library_editor;
pub mod live_console;
pub mod memory_chart;
pub mod prompt;
pub mod rate_limit_chart;
pub mod room_charts;
pub mod scenario_controls;
pub mod streams_chart;
pub mod theme_toggle;
pub mod transcript;
