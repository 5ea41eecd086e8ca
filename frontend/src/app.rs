//! The learner's app shell: header, routes, and the state every page
//! shares (so the transcript survives moving between lessons): one
//! connection, the console's state, the charts' state, the learner and
//! their class, each its own context. The instructor's pages are a
//! separate app (instructor_app.rs).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::class_state::ClassState;
use crate::components::engine_badge::EngineBadge;
use crate::components::follow_me::FollowMe;
use crate::components::learner_panel::LearnerPanel;
use crate::components::theme_toggle::ThemeToggle;
use crate::console_state::ConsoleState;
use crate::learner::LearnerState;
use crate::link::Connection;
use crate::pages::{
    console_page::ConsolePage, continue_page::ContinuePage, join_page::JoinPage,
    lesson_list::LessonList, lesson_page::LessonPage, not_found::NotFound,
};
use crate::sim_state::SimState;

/// The routes whose page has a console (the lesson pages and /console;
/// index.html's first script knows them too).
fn shows_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/lesson/")
}

#[component]
pub fn App() -> impl IntoView {
    crate::perf::mark_once(crate::perf::APP_STARTED);
    // First, before any request: a continue link's token becomes this
    // browser's learner.
    let learner = LearnerState::new();
    let connection = Connection::new();
    let sims = SimState::new(connection);
    let console = ConsoleState::new(
        connection,
        Callback::new(move |micros| sims.record_command(micros)),
    );
    // One room socket for every page, when the learner is in a class.
    let class = ClassState::new(sims);
    connection.on_push(move |pushed| {
        console.on_pushed(&pushed);
        sims.on_pushed(&pushed);
    });
    // The page being loaded has a console: it connects now, taking the
    // session index.html may have asked for already (`early`), before
    // anything else asks who the learner is.
    let path = web_sys::window().and_then(|w| w.location().pathname().ok());
    if path.as_deref().is_some_and(shows_console) {
        connection.start();
    }
    provide_context(connection);
    provide_context(console);
    provide_context(sims);
    provide_context(learner);
    provide_context(class);
    view! {
        <Router>
            <header class="shell-header">
                <A href="/" attr:class="shell-brand">
                    <span class="shell-logo" aria-hidden="true">"◆"</span>
                    " redis-tutor"
                </A>
                <span class="shell-tagline">"Redis for real-time AI, hands-on"</span>
                <nav class="shell-nav" aria-label="Main">
                    <A href="/">"Course"</A>
                    <A href="/console">"Console"</A>
                </nav>
                <EngineBadge/>
                <LearnerPanel/>
                <ThemeToggle/>
            </header>
            <FollowMe/>
            <main class="shell-main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=LessonList/>
                    <Route path=path!("/console") view=ConsolePage/>
                    <Route path=path!("/continue") view=ContinuePage/>
                    <Route path=path!("/lesson/:slug") view=LessonPage/>
                    <Route path=path!("/join") view=JoinPage/>
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::shows_console;

    #[test]
    fn lesson_pages_and_the_console_page_show_a_console() {
        assert!(shows_console("/lesson/why-redis"));
        assert!(shows_console("/console"));
        assert!(!shows_console("/"));
        assert!(!shows_console("/instructor"));
        assert!(!shows_console("/join"));
    }
}
