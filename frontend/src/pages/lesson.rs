//! One lesson: its rendered body with previous/next links.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::LessonPage as Lesson;

use crate::api;
use crate::components::console::Console;
use crate::console::ConsoleState;

#[component]
pub fn LessonPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let lesson = LocalResource::new(move || {
        let slug = slug();
        async move { api::lesson(&slug).await }
    });
    view! {
        <Suspense fallback=|| view! { <p class="lesson-loading">"Loading lesson…"</p> }>
            {move || {
                lesson
                    .get()
                    .map(|result| match result {
                        Ok(page) => view! { <LessonBody page=page/> }.into_any(),
                        Err(e) => {
                            view! {
                                <section class="page-message">
                                    <p class="page-error" role="alert">{e.to_string()}</p>
                                    <A href="/">"Back to the course outline"</A>
                                </section>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn LessonBody(page: Lesson) -> impl IntoView {
    let nav_link = |slug: Option<String>, label: &'static str, class: &'static str| {
        slug.map(|s| view! { <A href=format!("/lesson/{s}") attr:class=class>{label}</A> })
    };
    let missing = (!page.summary.missing.is_empty()).then(|| {
        view! {
            <p class="lesson-missing" role="note">
                {format!(
                    "This engine lacks {}: the commands of this lesson that need it will fail.",
                    page.summary.missing.join(", "),
                )}
            </p>
        }
    });
    let console = expect_context::<ConsoleState>();
    // Run buttons are rendered by the server next to each ```redis block;
    // one delegated handler sends the block's text to the console.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        use leptos::wasm_bindgen::JsCast;
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if !target.class_list().contains("run-button") {
            return;
        }
        let code = target
            .closest(".runnable")
            .ok()
            .flatten()
            .and_then(|block| block.query_selector("code").ok().flatten())
            .and_then(|code| code.text_content());
        if let Some(code) = code {
            console.run_text(code);
        }
    };
    view! {
        <div class="lesson-layout">
            <article class="lesson">
                <p class="lesson-kicker">{format!("Lesson {}", page.summary.number)}</p>
                <h1 class="lesson-title">{page.summary.title.clone()}</h1>
                {missing}
                // Rendered on the server by pulldown-cmark with raw HTML escaped.
                <div class="lesson-body" inner_html=page.html on:click=on_click></div>
                <nav class="lesson-nav" aria-label="Lesson navigation">
                    {nav_link(page.prev, "← Previous", "lesson-prev")}
                    <A href="/" attr:class="lesson-up">"Outline"</A>
                    {nav_link(page.next, "Next →", "lesson-next")}
                </nav>
            </article>
            <aside class="lesson-console">
                <Console/>
            </aside>
        </div>
    }
}
