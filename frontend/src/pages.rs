//! One file per route.

pub mod console_page;
pub mod continue_page;
pub mod lesson_list;
pub mod lesson_page;
pub mod not_found;
