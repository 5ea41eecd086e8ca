//! The instructor's demo console: a line typed here runs in the room's
//! demo sandbox (`/api/exec` as its session), and every screen of the
//! room, this one included, shows it through the room's `console` pushes.

use leptos::prelude::*;

use super::live_console::LiveConsole;
use crate::api;
use crate::api::rooms::ExecFailure;
use crate::api::ApiFailure;
use crate::console_state::prompt_for;
use crate::instructor_room::InstructorRoom;

#[component]
pub fn DemoConsole(room: InstructorRoom) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let ready = move || room.demo.with(Option::is_some);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let line = draft.get_untracked();
        if line.trim().is_empty() {
            return;
        }
        let Some(session) = room.demo.get_untracked() else {
            error.set(Some(
                "The demo sandbox is not ready yet: wait until the class connection is up."
                    .to_owned(),
            ));
            return;
        };
        leptos::task::spawn_local(async move {
            let mut outcome = api::rooms::exec(&session, &line).await;
            if matches!(outcome, Err(ExecFailure::SessionGone)) {
                outcome = match room.renew_demo().await {
                    Ok(session) => api::rooms::exec(&session, &line).await,
                    Err(why) => Err(ExecFailure::Failed(ApiFailure(why))),
                };
            }
            match outcome {
                // The reply arrives with the room's push, like everyone's.
                Ok(_) => {
                    // Unless the next line is already being typed.
                    draft.update(|d| {
                        if *d == line {
                            d.clear();
                        }
                    });
                    error.set(None);
                }
                Err(ExecFailure::Failed(e)) => error.set(Some(e.to_string())),
                Err(ExecFailure::SessionGone) => error.set(Some(
                    "The demo sandbox is gone and no new one could be had; try again in a moment."
                        .to_owned(),
                )),
            }
        });
    };
    view! {
        <section class="instructor-section demo-console" aria-label="Demo console">
            <h2>"Demo console"</h2>
            <LiveConsole lines=room.live.lines label="The demo console, as the class sees it"
                empty="Type a command below: the whole class sees it and its reply."/>
            <form class="demo-form" on:submit=send>
                <span class="console-prompt">{prompt_for(false)}</span>
                <input
                    id="demo-input"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    aria-label="A command for the demo sandbox"
                    placeholder=move || if ready() { "HSET user:1 name Ada" } else { "Waiting for the demo sandbox…" }
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
            </form>
            {move || error.get().map(|e| view! { <p class="demo-error" role="alert">{e}</p> })}
        </section>
    }
}
