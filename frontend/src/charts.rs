//! The charts, drawn with plotters on a canvas: one file per chart, `bars`
//! for the bar charts several share, and `plot` for the canvas, colours,
//! legend and axes they all share.

pub mod anomaly;
pub mod bars;
pub mod figure;
pub mod latency;
pub mod memory;
pub mod plot;
pub mod rate_limit;
pub mod streams;
