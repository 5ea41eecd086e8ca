//! `/join#<CODE>`: a learner joins a class with its code (from the link or
//! the projector) and their name, as this browser's learner (made now if
//! the browser has none). The server remembers the membership; the learner
//! lands on the first lesson, beside the class panel, and the class state
//! connects to the room: follow-me then takes them to the instructor.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use protocol::JoinRoom;

use crate::api;
use crate::class_state::ClassState;
use crate::identity;
use crate::learner::{LearnerState, NAME_MAX};

/// The code in `#<code>`, as typed on the projector (codes match in any
/// case; they are shown in capitals).
pub fn code_in_fragment(fragment: &str) -> String {
    identity::token_in_fragment(fragment)
        .map(str::to_ascii_uppercase)
        .unwrap_or_default()
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let learner = expect_context::<LearnerState>();
    let class = expect_context::<ClassState>();
    let navigate = use_navigate();
    let fragment = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    let code = RwSignal::new(code_in_fragment(&fragment));
    let name = RwSignal::new(String::new());
    // The learner's name, once the server has said it, unless one is typed.
    Effect::new(move |_| {
        if let Some(known) = learner.name.get() {
            if name.with_untracked(String::is_empty) {
                name.set(known);
            }
        }
    });
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let join = JoinRoom {
            code: code.get_untracked().trim().to_owned(),
            name: name.get_untracked().trim().to_owned(),
        };
        if join.code.is_empty() || join.name.is_empty() {
            failure.set(Some("Type the class code and your name.".to_owned()));
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let joined = match identity::ensure_token().await {
                Ok(_) => api::rooms::join(&join).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("You could not join: {e}")),
            };
            match joined {
                Ok(_) => {
                    // The server made the class name the display name too.
                    learner.name.set(Some(join.name));
                    // On a lesson before the room's welcome, so follow-me
                    // (which leaves /join alone) can move the page.
                    let landing = api::lessons()
                        .await
                        .ok()
                        .and_then(|lessons| lessons.into_iter().next())
                        .map_or_else(|| "/".to_owned(), |l| format!("/lesson/{}", l.slug));
                    navigate(&landing, Default::default());
                    class.refresh();
                }
                Err(why) => {
                    busy.set(false);
                    failure.set(Some(why));
                }
            }
        });
    };
    view! {
        <section class="join">
            <h1 class="join-title">"Join a class"</h1>
            <p class="join-lede">"Type the code your instructor shows, and the name the class will see."</p>
            <form class="join-form" on:submit=submit>
                <label for="join-code">"Class code"</label>
                <input id="join-code" type="text" autocomplete="off" spellcheck="false" maxlength="16"
                    autocapitalize="characters" placeholder="K7M2QX"
                    prop:value=move || code.get()
                    on:input=move |ev| code.set(event_target_value(&ev).to_ascii_uppercase())/>
                <label for="join-name">"Your name"</label>
                <input id="join-name" type="text" autocomplete="nickname" maxlength=NAME_MAX.to_string()
                    placeholder="Ada"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit" id="join-submit" disabled=move || busy.get()>"Join"</button>
            </form>
            {move || failure.get().map(|e| view! { <p class="join-error" role="alert">{e}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::code_in_fragment;

    #[test]
    fn the_code_comes_from_the_fragment_in_capitals() {
        assert_eq!(code_in_fragment("#k7m2qx"), "K7M2QX");
        assert_eq!(code_in_fragment(""), "");
        assert_eq!(code_in_fragment("#<b>"), "");
    }
}
