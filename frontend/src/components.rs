//! Small widgets, one file each.

pub mod engine_badge;
