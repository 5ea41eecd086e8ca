//! The course outline: every lesson, in order, from `/api/lessons`, with
//! the learner's progress in each and, on an exercise, their best grade.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::A;
use protocol::LessonSummary;

use crate::api;
use crate::learner::LearnerState;
use crate::progress;

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
    // Read again whenever the learner's progress changes (the server's
    // view arriving, most of all).
    let learner = expect_context::<LearnerState>();
    let course = Memo::new(move |_| {
        learner.revision.track();
        progress::all()
    });
    let scores = LocalResource::new(move || {
        let known = learner.token.get().is_some();
        async move {
            if known {
                best_scores().await
            } else {
                HashMap::new()
            }
        }
    });
    view! {
        <ol class="outline-list" data-testid="lesson-list">
            {lessons
                .into_iter()
                .map(|lesson| {
                    let href = format!("/lesson/{}", lesson.slug);
                    let slug = lesson.slug.clone();
                    let status = move || {
                        course
                            .with(|c| c.get(&slug).and_then(|p| p.label()))
                            .map(|label| {
                                view! {
                                    <span class="outline-progress" data-progress=label data-testid="outline-progress">
                                        {label}
                                    </span>
                                }
                            })
                    };
                    let best = {
                        let slug = lesson.slug.clone();
                        move || {
                            scores.get().and_then(|s| s.get(&slug).cloned()).map(|(score, max)| {
                                view! {
                                    <span class="outline-score" data-testid="outline-score"
                                        data-full=(score == max).to_string()
                                        title="Your best grade in this exercise">
                                        {format!("best {score}/{max}")}
                                    </span>
                                }
                            })
                        }
                    };
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
                                    {best}
                                </span>
                            </A>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The learner's best score per exercise lesson (slug → score, out of),
/// from `/api/me/results` (the best report per exercise comes first).
/// Nothing when either call fails: the outline works without grades.
async fn best_scores() -> HashMap<String, (u32, u32)> {
    let (Ok(exercises), Ok(results)) = (
        api::exercises::exercises().await,
        api::learner::results().await,
    ) else {
        return HashMap::new();
    };
    let mut best = HashMap::new();
    for report in results {
        if let Some(exercise) = exercises.iter().find(|e| e.id == report.exercise) {
            best.entry(exercise.lesson.clone())
                .or_insert((report.score, report.max_score));
        }
    }
    best
}
