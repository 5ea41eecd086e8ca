//! One file per route.

pub mod console_page;
pub mod continue_page;
pub mod instructor_page;
pub mod join_page;
pub mod lesson_list;
pub mod lesson_page;
pub mod not_found;
pub mod projector_page;
