//! Follow-me: takes the page where the class state says the instructor is
//! (a lesson, and a step in it). Rendered once inside the router, which the
//! class state itself lives outside of. Draws nothing.

use gloo::timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::class_state::ClassState;

/// How often, and how many times, to look for the step while the lesson
/// loads.
const LOOK_EVERY_MS: u32 = 100;
const LOOKS: u32 = 50;

/// Lesson slugs and step anchors are slugs; anything else is not followed
/// (it would not make a safe path or selector).
fn plausible_slug(step: &str) -> bool {
    !step.is_empty()
        && step
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Scrolls `step` of `lesson` into view once that lesson's body holds it
/// (the page before may still be on screen, with a step of the same name).
async fn scroll_to_step(lesson: String, step: String) {
    let selector = format!(".lesson-body[data-lesson=\"{lesson}\"] [id=\"{step}\"]");
    for _ in 0..LOOKS {
        let found = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&selector).ok().flatten());
        if let Some(element) = found {
            element.scroll_into_view();
            return;
        }
        TimeoutFuture::new(LOOK_EVERY_MS).await;
    }
}

/// Pages follow-me leaves alone: the instructor's own screens (a browser
/// that is also in the class as a learner, while testing), and joining a
/// class, which is the learner's own errand.
fn stays_put(path: &str) -> bool {
    ["/instructor", "/projector", "/join"]
        .iter()
        .any(|screen| path.starts_with(screen))
}

#[component]
pub fn FollowMe() -> impl IntoView {
    let class = expect_context::<ClassState>();
    let navigate = use_navigate();
    let pathname = use_location().pathname;
    Effect::new(move |_| {
        let Some((_, place)) = class.jump.get() else {
            return;
        };
        let here = pathname.get_untracked();
        if !plausible_slug(&place.lesson) || stays_put(&here) {
            return;
        }
        let target = format!("/lesson/{}", place.lesson);
        if here != target {
            navigate(
                &target,
                NavigateOptions {
                    scroll: place.step.is_none(),
                    ..Default::default()
                },
            );
        }
        if let Some(step) = place.step.filter(|s| plausible_slug(s)) {
            leptos::task::spawn_local(scroll_to_step(place.lesson, step));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{plausible_slug, stays_put};

    #[test]
    fn step_anchors_are_slugs() {
        assert!(plausible_slug("sorted-sets-ranked"));
        assert!(plausible_slug("2-hashes"));
        assert!(!plausible_slug(""));
        assert!(!plausible_slug("a\"] body [id=\"x"));
    }

    #[test]
    fn the_instructor_screens_and_joining_stay_put() {
        assert!(stays_put("/instructor"));
        assert!(stays_put("/projector"));
        assert!(stays_put("/join"));
        assert!(!stays_put("/lesson/hashes"));
    }
}
