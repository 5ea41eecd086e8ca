//! One lesson: its rendered body with previous/next links.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use protocol::LessonPage as Lesson;

use crate::api;
use crate::components::anomaly_chart::AnomalyChart;
use crate::components::console::Console;
use crate::components::latency_chart::LatencyChart;
use crate::components::memory_chart::MemoryChart;
use crate::components::rate_limit_chart::RateLimitChart;
use crate::components::streams_chart::StreamsChart;
use crate::console::{ConsoleState, Tone};
use crate::progress;

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
    let slug = page.summary.slug.clone();
    let blocks = page.blocks.len();
    let tasks = page.tasks.len();
    progress::visited(&slug);
    let status = RwSignal::new(progress::get(&slug).label().unwrap_or("new"));
    // Deep links: the body arrives after the first paint, so scroll to the
    // step named in the URL once it is in the page.
    request_animation_frame(|| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Ok(hash) = window.location().hash() else {
            return;
        };
        let id = hash.trim_start_matches('#');
        if let Some(step) = window.document().and_then(|d| d.get_element_by_id(id)) {
            step.scroll_into_view();
        }
    });
    // Buttons inside the server-rendered body (Run, Check, Show solution)
    // are handled here, by delegation.
    let on_click = {
        let slug = slug.clone();
        move |ev: leptos::ev::MouseEvent| {
            use leptos::wasm_bindgen::JsCast;
            let Some(target) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let classes = target.class_list();
            if classes.contains("run-button") {
                let block = target.closest(".runnable").ok().flatten();
                let code = block
                    .as_ref()
                    .and_then(|b| b.query_selector("code").ok().flatten())
                    .and_then(|code| code.text_content());
                let index = block
                    .and_then(|b| b.get_attribute("data-block"))
                    .and_then(|i| i.parse::<usize>().ok());
                if let Some(code) = code {
                    console.run_text(code);
                }
                if let Some(index) = index {
                    progress::ran(&slug, index, blocks, tasks);
                    status.set(progress::get(&slug).label().unwrap_or("new"));
                }
            } else if classes.contains("task-show-solution") {
                if let Some(solution) = target
                    .closest(".task")
                    .ok()
                    .flatten()
                    .and_then(|t| t.query_selector(".task-solution").ok().flatten())
                {
                    let _ = solution.toggle_attribute("hidden");
                }
            } else if classes.contains("task-check") {
                let Some(task) = target.closest(".task").ok().flatten() else {
                    return;
                };
                let Some(index) = task
                    .get_attribute("data-task")
                    .and_then(|i| i.parse::<usize>().ok())
                else {
                    return;
                };
                let result = task.query_selector(".task-result").ok().flatten();
                let slug = slug.clone();
                leptos::task::spawn_local(async move {
                    let (text, passed) = match api::check_task(&slug, index).await {
                        Ok(outcome) if outcome.passed => {
                            ("✓ Passed: every check holds.".to_owned(), true)
                        }
                        Ok(outcome) => {
                            let details: Vec<String> = outcome
                                .checks
                                .iter()
                                .filter(|c| !c.passed)
                                .map(|c| {
                                    format!(
                                        "{}: {}",
                                        c.command,
                                        c.detail.clone().unwrap_or_default()
                                    )
                                })
                                .collect();
                            (format!("✗ Not yet. {}", details.join(" · ")), false)
                        }
                        Err(e) => (format!("✗ {e}"), false),
                    };
                    if let Some(result) = result {
                        result.set_text_content(Some(&text));
                        let _ = result
                            .set_attribute("data-passed", if passed { "true" } else { "false" });
                    }
                    if passed {
                        progress::passed(&slug, index, tasks);
                        status.set(progress::get(&slug).label().unwrap_or("new"));
                    }
                });
            }
        }
    };
    let start_fresh = {
        let slug = slug.clone();
        move |_| {
            let slug = slug.clone();
            leptos::task::spawn_local(async move {
                if let Err(e) = api::start_lesson(&slug).await {
                    console.notice(Tone::Warn, e.to_string());
                }
            });
        }
    };
    view! {
        <div class="lesson-layout">
            <article class="lesson">
                <p class="lesson-kicker">
                    {format!("Lesson {}", page.summary.number)}
                    <span class="lesson-status" data-testid="lesson-status">{move || status.get()}</span>
                </p>
                <h1 class="lesson-title">{page.summary.title.clone()}</h1>
                {missing}
                <p class="lesson-start">
                    <button type="button" class="lesson-start-fresh" data-testid="start-fresh" on:click=start_fresh>
                        "Start fresh"
                    </button>
                    " loads this lesson's starting data into a clean sandbox."
                </p>
                // Rendered on the server by pulldown-cmark with raw HTML escaped.
                <div class="lesson-body" inner_html=page.html on:click=on_click></div>
                {(slug == "rate-limiting").then(|| view! { <RateLimitChart/> })}
                {(slug == "anomaly-detection").then(|| view! { <AnomalyChart/> })}
                {(slug == "streams").then(|| view! { <StreamsChart/> })}
                {(slug == "memory").then(|| view! { <MemoryChart/> })}
                {(slug == "feature-serving" || slug == "latency").then(|| view! { <LatencyChart/> })}
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
