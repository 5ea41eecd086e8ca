//! The learner in the header: their name (or "Anonymous learner"), whether
//! progress is safe on the server, and a panel to rename, continue on
//! another device, or be forgotten. Names are always shown as text.

use gloo::timers::callback::Timeout;
use leptos::prelude::*;

use crate::identity;
use crate::learner::{LearnerState, SyncStatus, NAME_MAX};
use crate::progress;

/// How long "Copied" stays on the Copy button, in ms.
const COPIED_MS: u32 = 1_500;

fn sync_words(status: SyncStatus) -> (&'static str, &'static str) {
    match status {
        SyncStatus::Checking => ("checking", "Checking where your progress is saved…"),
        SyncStatus::Saved => ("saved", "Your progress is saved on the server"),
        SyncStatus::Offline => (
            "offline",
            "Offline: progress kept in this browser and sent when the server is back",
        ),
    }
}

#[component]
pub fn LearnerPanel() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let shown_name = move || {
        learner
            .name
            .get()
            .unwrap_or_else(|| "Anonymous learner".to_owned())
    };
    let sync = move || sync_words(learner.sync.get());
    view! {
        <details class="learner" data-testid="learner">
            // On a phone only the dot shows, so the label carries the name.
            <summary
                class="learner-summary"
                title=move || sync().1
                aria-label=move || format!("{}: {}", shown_name(), sync().1)
            >
                <span class="learner-sync" data-sync=move || sync().0 data-testid="learner-sync" aria-hidden="true"></span>
                <span class="learner-name" data-testid="learner-name">{shown_name}</span>
            </summary>
            <div class="learner-panel" data-testid="learner-panel">
                <p class="learner-sync-text" role="status" data-sync=move || sync().0 data-testid="learner-sync-text">
                    {move || sync().1}
                </p>
                <ProgressLine/>
                <NameForm/>
                <ContinueLink/>
                <ForgetMe/>
            </div>
        </details>
    }
}

/// One line: what the learner has done, as the cache knows it.
#[component]
fn ProgressLine() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let line = move || {
        learner.revision.track();
        let course = progress::all();
        let started = course
            .values()
            .filter(|p| p.label().is_some_and(|l| l != "visited"));
        let (lessons, steps) = started.fold((0, 0), |(l, s), p| (l + 1, s + p.steps.len()));
        let done = course.values().filter(|p| p.completed).count();
        if lessons == 0 {
            "No steps run yet.".to_owned()
        } else {
            format!(
                "{} run in {}; {done} completed.",
                count(steps, "step"),
                count(lessons, "lesson"),
            )
        }
    };
    view! { <p class="learner-progress" data-testid="learner-progress">{line}</p> }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[component]
fn NameForm() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let draft = RwSignal::new(learner.name.get_untracked().unwrap_or_default());
    // Shows the name the server has whenever it changes (a sync, a save).
    Effect::new(move |_| draft.set(learner.name.get().unwrap_or_default()));
    let message = RwSignal::new(None::<(bool, String)>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = draft.get_untracked();
        leptos::task::spawn_local(async move {
            message.set(Some(match learner.rename(&name).await {
                Ok(()) => (true, "Saved.".to_owned()),
                Err(why) => (false, why),
            }));
        });
    };
    view! {
        <form class="learner-name-form" on:submit=save>
            <label for="learner-name-input">"Your name"</label>
            <input
                id="learner-name-input"
                type="text"
                autocomplete="nickname"
                placeholder="Anonymous learner"
                maxlength=NAME_MAX.to_string()
                data-testid="learner-name-input"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button type="submit" data-testid="learner-name-save">"Save"</button>
            {move || {
                message
                    .get()
                    .map(|(ok, text)| {
                        view! {
                            <p
                                class=if ok { "learner-ok" } else { "learner-error" }
                                role=if ok { "status" } else { "alert" }
                                data-testid="learner-name-message"
                            >
                                {text}
                            </p>
                        }
                    })
            }}
        </form>
    }
}

#[component]
fn ContinueLink() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let url = move || learner.token.get().and_then(|t| identity::continue_url(&t));
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let (Some(window), Some(url)) = (web_sys::window(), url()) {
            let _ = window.navigator().clipboard().write_text(&url);
            copied.set(true);
            Timeout::new(COPIED_MS, move || copied.set(false)).forget();
        }
    };
    view! {
        <section class="learner-continue">
            <h2 class="learner-heading">"Continue on another device"</h2>
            <p class="learner-note">
                "Open this link in another browser to carry on where you are. It is your key: anyone with it can see and change your progress."
            </p>
            <div class="learner-continue-row">
                <input
                    type="text"
                    readonly
                    aria-label="Continue link"
                    data-testid="learner-continue-url"
                    prop:value=move || url().unwrap_or_default()
                    placeholder="Waiting for the server…"
                />
                <button type="button" data-testid="learner-continue-copy" disabled=move || url().is_none() on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </section>
    }
}

#[component]
fn ForgetMe() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let outcome = RwSignal::new(None::<(bool, String)>);
    let forget = move |_| {
        let confirmed = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message(
                    "Forget you? Your name, progress, task results and sandbox are erased from the server and from this browser. This cannot be undone.",
                )
                .ok()
            })
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        leptos::task::spawn_local(async move {
            outcome.set(Some(match learner.forget().await {
                Ok(said) => (true, said),
                Err(why) => (false, why),
            }));
        });
    };
    view! {
        <section class="learner-forget">
            <button type="button" class="console-danger" data-testid="learner-forget" on:click=forget>
                "Forget me"
            </button>
            {move || {
                outcome
                    .get()
                    .map(|(ok, text)| {
                        view! {
                            <p class=if ok { "learner-ok" } else { "learner-error" } role="status" data-testid="learner-forget-result">
                                {text}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
