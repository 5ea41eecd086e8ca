//! Shows which Redis the learner's sandbox runs, and with which modules.

use leptos::prelude::*;

use crate::api;

#[component]
pub fn EngineBadge() -> impl IntoView {
    let engine = LocalResource::new(api::engine);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                engine
                    .get()
                    .and_then(Result::ok)
                    .map(|info| {
                        let modules = if info.capabilities.is_empty() {
                            "no modules".to_owned()
                        } else {
                            info.capabilities.join(" · ")
                        };
                        view! {
                            <span class="engine-badge" title="The Redis engine your sandbox runs">
                                {format!("Redis {}", info.version)}
                                <span class="engine-badge-modules">{modules}</span>
                            </span>
                        }
                    })
            }}
        </Suspense>
    }
}
