//! One file per route.

pub mod lesson;
pub mod lesson_list;
pub mod not_found;
