//! redis-tutor's browser apps, sharing this library: the learner's (the
//! course outline, lesson pages, the console and the live charts, joining
//! a class and following it; `App`, src/main.rs) and the instructor's (the
//! instructor's screen and the projector; `InstructorApp`,
//! src/bin/instructor.rs).

mod api;
mod app;
mod board_view;
mod charts;
mod class_dom;
mod class_state;
mod components;
mod console_state;
mod credentials;
mod dialogs;
mod early;
mod exercise_draft;
mod identity;
mod instructor_app;
mod instructor_room;
mod instructor_store;
mod learner;
mod lesson_dom;
mod link;
mod page_socket;
mod pages;
mod perf;
mod progress;
mod room_link;
mod room_state;
mod room_status;
mod sim_state;
mod transcript_store;

pub use app::App;
pub use instructor_app::InstructorApp;
