//! Unknown client-side routes.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page-message">
            <h1>"Page not found"</h1>
            <p>"There is nothing here. " <A href="/">"Back to the course outline"</A> "."</p>
        </section>
    }
}
