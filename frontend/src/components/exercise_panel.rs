//! An exercise's panel on its lesson page: the function contract, the
//! learner's library in an editor (kept in this browser), Load into my
//! Redis (through the console, so the transcript shows it too), and Grade
//! with its progress and report.

use gloo::timers::future::TimeoutFuture;
use leptos::html::Textarea;
use leptos::prelude::*;
use protocol::{ExerciseInfo, GradeReport};

use super::grade_report::GradeReportView;
use super::library_editor::{select_line, LibraryEditor};
use crate::api;
use crate::console_state::ConsoleState;
use crate::exercise_draft as draft;
use crate::transcript_store::EntryKind;

/// How often the elapsed seconds of a grading run are updated, in ms.
const TICK_MS: u32 = 250;

/// What Redis answered the last Load.
#[derive(Clone)]
struct LoadAnswer {
    text: String,
    is_error: bool,
    /// The library's line a compile error points at.
    line: Option<usize>,
    /// Which Load of this page it answers (a new answer can read the same).
    number: u32,
}

#[component]
pub fn ExercisePanel(exercise: ExerciseInfo) -> impl IntoView {
    let console = expect_context::<ConsoleState>();
    let id = exercise.id.clone();
    let code = RwSignal::new(draft::load(&id).unwrap_or_else(|| draft::skeleton(&exercise)));
    {
        // Saved on every change, not on the first run: an untouched
        // skeleton is rebuilt from the contract, which may have changed.
        let id = id.clone();
        Effect::new(move |first: Option<()>| {
            code.with(|c| {
                if first.is_some() {
                    draft::save(&id, c);
                }
            });
        });
    }
    let editor: NodeRef<Textarea> = NodeRef::new();
    let loading = RwSignal::new(false);
    let answer = RwSignal::new(None::<LoadAnswer>);
    // The source as last loaded without an error, to tell the learner that
    // Grade would not see what the editor shows.
    let loaded = RwSignal::new(None::<String>);
    let grading = RwSignal::new(false);
    let elapsed = RwSignal::new(0u32);
    let report = RwSignal::new(None::<GradeReport>);
    let grade_error = RwSignal::new(None::<String>);
    let best = RwSignal::new(None::<(u32, u32)>);
    {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(results) = api::learner::results().await {
                let first = results.into_iter().find(|r| r.exercise == id);
                best.try_set(first.map(|r| (r.score, r.max_score)));
            }
        });
    }

    let on_load = move |_| {
        if loading.get_untracked() {
            return;
        }
        let source = code.get_untracked();
        let number = answer.with_untracked(|a| a.as_ref().map_or(0, |a| a.number)) + 1;
        loading.set(true);
        leptos::task::spawn_local(async move {
            console.running.update(|n| *n += 1);
            let entry = console.run_line(draft::load_line(&source)).await;
            console.running.update(|n| *n = n.saturating_sub(1));
            let shown = match entry.map(|e| e.kind) {
                Some(EntryKind::Command { text, is_error, .. }) => LoadAnswer {
                    line: is_error.then(|| draft::error_line(&text)).flatten(),
                    text,
                    is_error,
                    number,
                },
                _ => LoadAnswer {
                    text: "No answer: is the console connected?".to_owned(),
                    is_error: true,
                    line: None,
                    number,
                },
            };
            if !shown.is_error {
                loaded.try_set(Some(source));
            }
            answer.try_set(Some(shown));
            loading.try_set(false);
        });
    };

    let on_grade = {
        let id = id.clone();
        move |_| {
            if grading.get_untracked() {
                return;
            }
            grading.set(true);
            elapsed.set(0);
            report.set(None);
            grade_error.set(None);
            let started = js_sys::Date::now();
            // Ends when grading does, or when the panel is gone.
            leptos::task::spawn_local(async move {
                while grading.try_get_untracked() == Some(true) {
                    TimeoutFuture::new(TICK_MS).await;
                    elapsed.try_set(((js_sys::Date::now() - started) / 1000.0) as u32);
                }
            });
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match api::exercises::grade(&id).await {
                    Ok(graded) => {
                        let better = best
                            .try_get_untracked()
                            .flatten()
                            .is_none_or(|(score, _)| graded.score > score);
                        if better {
                            best.try_set(Some((graded.score, graded.max_score)));
                        }
                        report.try_set(Some(graded));
                    }
                    Err(e) => {
                        grade_error.try_set(Some(e.to_string()));
                    }
                }
                grading.try_set(false);
            });
        }
    };

    let load_answer = move || {
        answer.get().map(|a| {
            let goto = a.line.map(|line| {
                view! {
                    <button type="button" class="exercise-goto-line" data-testid="exercise-goto-line"
                        on:click=move |_| {
                            if let Some(area) = editor.get_untracked() {
                                select_line(&area, line);
                            }
                        }>
                        {format!("Show line {line}")}
                    </button>
                }
            });
            let prefix = a.line.map(|l| format!("Line {l} of your library: "));
            view! {
                <span class="exercise-load-answer" data-testid="exercise-load-answer"
                    data-error=a.is_error.to_string() data-load=a.number role="status">
                    {prefix}{a.text}
                </span>
                {goto}
            }
        })
    };
    let stale = move || {
        let differs = code.with(|c| loaded.with(|l| l.as_deref() != Some(c.as_str())));
        (differs && answer.with(Option::is_some)).then(|| {
            view! {
                <p class="exercise-stale" role="note">
                    "The editor has changes you have not loaded: Grade checks the library in your Redis."
                </p>
            }
        })
    };
    let progress = move || {
        grading.get().then(|| {
            view! {
                <span class="exercise-progress" data-testid="exercise-progress">
                    <span class="exercise-spinner" aria-hidden="true"></span>
                    {move || format!("Grading… {} s", elapsed.get())}
                </span>
            }
        })
    };
    let best_score = move || {
        best.get().map(|(score, max)| {
            view! { <span class="exercise-best" data-testid="exercise-best">{format!("Your best: {score}/{max}")}</span> }
        })
    };
    let contract = exercise
        .functions
        .iter()
        .map(|f| {
            view! {
                <tr>
                    <td><code>{f.name.clone()}</code></td>
                    <td><code>{f.called_as.clone()}</code></td>
                    <td>{f.returns.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let checks = exercise
        .checks
        .iter()
        .map(|c| view! { <li>{c.title.clone()}</li> })
        .collect_view();
    view! {
        <section class="exercise-panel" id="exercise" data-testid="exercise-panel"
            data-exercise=exercise.id.clone() aria-labelledby="exercise-title">
            <h2 class="exercise-title" id="exercise-title">{format!("Your library: {}", exercise.title)}</h2>
            <p class="exercise-lede">
                "Write these functions as one Lua library, load it into your Redis, then grade it. The grader copies your library into a fresh sandbox of its own, so grading never touches your data."
            </p>
            <table class="exercise-contract" data-testid="exercise-contract">
                <thead><tr><th>"function"</th><th>"called as"</th><th>"returns"</th></tr></thead>
                <tbody>{contract}</tbody>
            </table>
            <details class="exercise-checks">
                <summary>{format!("What the grader checks ({})", exercise.checks.len())}</summary>
                <ol>{checks}</ol>
            </details>
            <LibraryEditor code=code node=editor title=exercise.title.clone()/>
            <div class="exercise-actions">
                <button type="button" data-testid="exercise-load" on:click=on_load
                    disabled=move || loading.get()>"Load into my Redis"</button>
                {load_answer}
            </div>
            {stale}
            <div class="exercise-actions" aria-live="polite">
                <button type="button" class="exercise-grade" data-testid="exercise-grade" on:click=on_grade
                    disabled=move || grading.get()>"Grade"</button>
                {progress}
                {best_score}
            </div>
            {move || grade_error.get().map(|e| view! {
                <p class="exercise-grade-error page-error" data-testid="exercise-grade-error" role="alert">{e}</p>
            })}
            {move || report.get().map(|r| view! { <GradeReportView report=r/> })}
        </section>
    }
}
