//! One lesson: its rendered body with previous/next links, the console
//! beside it, the charts that belong to it, and on an exercise's lesson
//! its exercise panel. Opening it tells the
//! server, which loads the lesson's starting data when the sandbox lacks it.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_params_map};
use protocol::LessonPage as Lesson;

use crate::api;
use crate::class_dom;
use crate::class_state::ClassState;
use crate::components::anomaly_chart::AnomalyChart;
use crate::components::class_panel::ClassPanel;
use crate::components::console_view::ConsoleView;
use crate::components::exercise_panel::ExercisePanel;
use crate::components::latency_chart::LatencyChart;
use crate::components::memory_chart::MemoryChart;
use crate::components::rate_limit_chart::RateLimitChart;
use crate::components::streams_chart::StreamsChart;
use crate::console_state::ConsoleState;
use crate::learner::LearnerState;
use crate::lesson_dom;
use crate::link::Connection;
use crate::perf;
use crate::progress;
use crate::transcript_store::Tone;

#[component]
pub fn LessonPage() -> impl IntoView {
    // The console beside every lesson connects while the lesson loads, not
    // after: asking for the sandbox and fetching the text go in parallel.
    expect_context::<Connection>().start();
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
    let learner = expect_context::<LearnerState>();
    let slug = page.summary.slug.clone();
    let sources: Vec<String> = page.blocks.iter().map(|b| b.source.clone()).collect();
    let steps: Vec<Option<String>> = page.blocks.iter().map(|b| b.step.clone()).collect();
    progress::visited(&slug);
    progress::learn_page(&page);
    console.open_lesson(slug.clone());
    {
        let slug = slug.clone();
        on_cleanup(move || console.close_lesson(&slug));
    }
    let status = {
        let slug = slug.clone();
        move || {
            learner.revision.track();
            progress::get(&slug).label().unwrap_or("new")
        }
    };
    let body: NodeRef<leptos::html::Div> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(body) = body.get() {
            perf::mark_once(perf::LESSON_SHOWN);
            lesson_dom::decorate(&body);
            request_animation_frame(lesson_dom::scroll_to_hash);
        }
    });
    // The class's pace lock and revealed solutions, now and as they change.
    let class = expect_context::<ClassState>();
    {
        let slug = slug.clone();
        Effect::new(move |_| {
            let pace = class.live.pace.get();
            class.live.revealed.with(|revealed| {
                if let Some(body) = body.get() {
                    class_dom::apply_pace(&body, &slug, pace.as_ref());
                    class_dom::apply_reveals(&body, &slug, revealed);
                }
            });
        });
    }
    // A link to a step of this same lesson (a grading report's) changes
    // only the hash, which the router does not scroll to by itself.
    let hash = use_location().hash;
    Effect::new(move |previous: Option<String>| {
        let now = hash.get();
        if previous.is_some_and(|p| p != now) {
            request_animation_frame(lesson_dom::scroll_to_hash);
        }
        now
    });
    let exercise = {
        let slug = slug.clone();
        LocalResource::new(move || {
            let slug = slug.clone();
            async move {
                let list = api::exercises::exercises().await.ok()?;
                list.into_iter().find(|e| e.lesson == slug)
            }
        })
    };
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
                let Some(block) = target.closest(".runnable").ok().flatten() else {
                    return;
                };
                let index = block
                    .get_attribute("data-block")
                    .and_then(|i| i.parse::<usize>().ok());
                match index {
                    // A lesson block runs on the server, as the lesson says.
                    Some(index) => {
                        let source = sources.get(index).cloned().unwrap_or_default();
                        let step = steps.get(index).cloned().flatten();
                        let slug = slug.clone();
                        leptos::task::spawn_local(async move {
                            let entries = console.run_block(slug.clone(), index, &source).await;
                            lesson_dom::show_result(&block, &entries);
                            // Sent once per step: the server keeps steps,
                            // not blocks.
                            if progress::ran(&slug, index, step.as_deref()) {
                                if let Some(step) = &step {
                                    learner.record_step(&slug, step);
                                }
                            }
                            learner.touched();
                        });
                    }
                    // A task's solution: typed commands, with the paste rules.
                    None => {
                        if let Some(code) = block
                            .query_selector("code")
                            .ok()
                            .flatten()
                            .and_then(|code| code.text_content())
                        {
                            console.run_lines(&code, false);
                        }
                    }
                }
            } else if classes.contains("task-show-solution") {
                lesson_dom::toggle_solution(&target);
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
                                    let detail = c.detail.clone().unwrap_or_default();
                                    match &c.label {
                                        Some(label) => format!("{label} ({detail})"),
                                        None => format!("{}: {detail}", c.command),
                                    }
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
                    // The check itself recorded the result on the server.
                    if passed {
                        progress::passed(&slug, index);
                        learner.touched();
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
                match api::start_lesson(&slug).await {
                    // A clean sandbox: no transaction is open any more.
                    Ok(notice) => {
                        console.in_multi.set(false);
                        console.server_notice(&notice);
                    }
                    Err(e) => console.notice(Tone::Warn, e.to_string()),
                }
            });
        }
    };
    view! {
        <div class="lesson-layout">
            <article class="lesson">
                <p class="lesson-kicker">
                    {format!("Lesson {}", page.summary.number)}
                    <span class="lesson-status" data-testid="lesson-status">{status}</span>
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
                <div class="lesson-body" data-lesson=slug.clone() node_ref=body inner_html=page.html on:click=on_click></div>
                <Suspense fallback=|| ()>
                    {move || exercise.get().flatten().map(|e| view! { <ExercisePanel exercise=e/> })}
                </Suspense>
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
                <ClassPanel/>
                <ConsoleView/>
            </aside>
        </div>
    }
}
