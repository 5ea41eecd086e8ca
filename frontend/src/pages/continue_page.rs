//! `/continue#<token>`: a continue link opened on another device. The
//! token was adopted (and stripped from the address bar) before the app
//! first asked who the learner is; this page welcomes them back and shows
//! the course with their progress.

use leptos::prelude::*;

use crate::learner::{LearnerState, SyncStatus};
use crate::pages::lesson_list::LessonList;

#[component]
pub fn ContinuePage() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let message = move || match learner.sync.get() {
        SyncStatus::Checking => "Loading your progress…".to_owned(),
        SyncStatus::Offline => {
            "The server cannot be reached right now; your progress appears as soon as it is back."
                .to_owned()
        }
        SyncStatus::Saved => match learner.name.get() {
            Some(name) => format!("Welcome back, {name}: your progress is loaded."),
            None => "Welcome back: your progress is loaded.".to_owned(),
        },
    };
    view! {
        <p class="continue-message" role="status" data-testid="continue-message">{message}</p>
        <LessonList/>
    }
}
