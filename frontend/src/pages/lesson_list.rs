//! The course outline: every lesson, in order, from `/api/lessons`.

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::LessonSummary;

use crate::api;

#[component]
pub fn LessonList() -> impl IntoView {
    let lessons = LocalResource::new(api::lessons);
    view! {
        <section class="outline">
            <h1 class="outline-title">"The course"</h1>
            <p class="outline-lede">
                "Every lesson runs live against a real Redis of your own. Read a step, run its commands, see what Redis really says."
            </p>
            <Suspense fallback=|| view! { <p class="outline-loading">"Loading lessons…"</p> }>
                {move || {
                    lessons
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <OutlineList lessons=list/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="page-error" role="alert">
                                        {format!("Could not load the lessons: {e}")}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn OutlineList(lessons: Vec<LessonSummary>) -> impl IntoView {
    let progress = crate::progress::all();
    view! {
        <ol class="outline-list" data-testid="lesson-list">
            {lessons
                .into_iter()
                .map(|lesson| {
                    let href = format!("/lesson/{}", lesson.slug);
                    let status = progress
                        .get(&lesson.slug)
                        .and_then(|p| p.label())
                        .map(|label| {
                            view! {
                                <span class="outline-progress" data-progress=label data-testid="outline-progress">
                                    {label}
                                </span>
                            }
                        });
                    let missing = (!lesson.missing.is_empty())
                        .then(|| {
                            view! {
                                <span class="outline-missing">
                                    {format!("needs {} (not in this engine)", lesson.missing.join(", "))}
                                </span>
                            }
                        });
                    view! {
                        <li class="outline-item">
                            <A href=href attr:class="outline-link">
                                <span class="outline-number">{lesson.number}</span>
                                <span class="outline-text">
                                    <span class="outline-name">{lesson.title}</span>
                                    <span class="outline-summary">{lesson.summary}</span>
                                    {missing}
                                    {status}
                                </span>
                            </A>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
