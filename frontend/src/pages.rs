//! One file per route.

pub mod console;
pub mod lesson;
pub mod lesson_list;
pub mod not_found;
