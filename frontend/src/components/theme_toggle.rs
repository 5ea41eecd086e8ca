//! Dark/light switch; the choice is kept in localStorage and applied as
//! `data-theme` on <html>, which the style tokens follow.

use gloo::storage::{LocalStorage, Storage};
use leptos::prelude::*;

const THEME_KEY: &str = "redis-tutor.theme";

fn apply(theme: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", theme);
    }
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme =
        RwSignal::new(LocalStorage::get::<String>(THEME_KEY).unwrap_or_else(|_| "dark".into()));
    Effect::new(move |_| apply(&theme.get()));
    let toggle = move |_| {
        let next = if theme.get_untracked() == "dark" {
            "light"
        } else {
            "dark"
        };
        let _ = LocalStorage::set(THEME_KEY, next);
        theme.set(next.to_owned());
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            on:click=toggle
            aria-label=move || format!("Switch to the {} theme", if theme.get() == "dark" { "light" } else { "dark" })
        >
            {move || if theme.get() == "dark" { "☀" } else { "☾" }}
        </button>
    }
}
