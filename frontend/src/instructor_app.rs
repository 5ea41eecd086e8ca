//! The instructor's app: `/instructor` and `/projector`, built as its own
//! wasm (`src/bin/instructor.rs`, `instructor.html`) so a learner's lesson
//! page never downloads the room's controls, the class board or the
//! projector (docs/benchmarks.md, "Browser app size"). The server sends
//! this app's index.html for those two paths only; every link out of it
//! is a full page load into the learner's app (`rel="external"` keeps the
//! router from treating it as one of these routes).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::engine_badge::EngineBadge;
use crate::components::theme_toggle::ThemeToggle;
use crate::pages::{instructor_page::InstructorPage, projector_page::ProjectorPage};

#[component]
pub fn InstructorApp() -> impl IntoView {
    view! {
        <Router>
            <header class="shell-header">
                <a href="/" rel="external" class="shell-brand">
                    <span class="shell-logo" aria-hidden="true">"◆"</span>
                    " redis-tutor"
                </a>
                <span class="shell-tagline">"Redis for real-time AI, hands-on"</span>
                <nav class="shell-nav" aria-label="Main">
                    <a href="/" rel="external">"Course"</a>
                    <a href="/console" rel="external">"Console"</a>
                </nav>
                <EngineBadge/>
                <ThemeToggle/>
            </header>
            <main class="shell-main">
                <Routes fallback=ElsewhereNotFound>
                    <Route path=path!("/instructor") view=InstructorPage/>
                    <Route path=path!("/projector") view=ProjectorPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// Only reached by a link inside this app to a path it does not own.
#[component]
fn ElsewhereNotFound() -> impl IntoView {
    view! {
        <section class="page-message">
            <h1>"Page not found"</h1>
            <p>"There is nothing here. " <a href="/" rel="external">"Back to the course outline"</a> "."</p>
        </section>
    }
}
