//! The live charts, drawn with plotters on a canvas: one file per chart,
//! and `plot` for the canvas, colours, legend and axes they share.

pub mod anomaly;
pub mod latency;
pub mod memory;
pub mod plot;
pub mod rate_limit;
pub mod streams;
