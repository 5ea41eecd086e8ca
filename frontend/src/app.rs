//! The app shell: header, routes, footer.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::components::engine_badge::EngineBadge;
use crate::pages::{lesson::LessonPage, lesson_list::LessonList, not_found::NotFound};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="shell-header">
                <A href="/" attr:class="shell-brand">
                    <span class="shell-logo" aria-hidden="true">"◆"</span>
                    " redis-tutor"
                </A>
                <span class="shell-tagline">"Redis for real-time AI, hands-on"</span>
                <EngineBadge/>
            </header>
            <main class="shell-main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=LessonList/>
                    <Route path=path!("/lesson/:slug") view=LessonPage/>
                </Routes>
            </main>
        </Router>
    }
}
