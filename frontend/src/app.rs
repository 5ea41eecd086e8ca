//! The app shell: header, routes, and the console state every page shares
//! (so the transcript survives moving between lessons).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::components::engine_badge::EngineBadge;
use crate::components::theme_toggle::ThemeToggle;
use crate::console::ConsoleState;
use crate::pages::{
    console::ConsolePage, lesson::LessonPage, lesson_list::LessonList, not_found::NotFound,
};

#[component]
pub fn App() -> impl IntoView {
    provide_context(ConsoleState::start());
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
                <ThemeToggle/>
            </header>
            <main class="shell-main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=LessonList/>
                    <Route path=path!("/console") view=ConsolePage/>
                    <Route path=path!("/lesson/:slug") view=LessonPage/>
                </Routes>
            </main>
        </Router>
    }
}
