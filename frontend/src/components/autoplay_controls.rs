//! Autoplay: the demo sandbox runs the chosen lesson's blocks one by one,
//! a set time apart, taking the followers along; pause, resume or stop it,
//! and see where it is (from the room's `autoplay` pushes).

use leptos::prelude::*;
use protocol::{AutoplayState, RoomClientMessage};

use crate::instructor_room::InstructorRoom;

/// Time between two blocks unless the instructor says otherwise, in ms.
const PACE_DEFAULT_MS: u64 = 4_000;
/// Bounds of the pace box, in ms.
const PACE_MIN_MS: u64 = 500;
const PACE_MAX_MS: u64 = 60_000;

/// `hashes: block 3 of 9, paused`: blocks counted from 1.
pub fn autoplay_label(state: &AutoplayState) -> String {
    let at = format!(
        "{}: block {} of {}",
        state.lesson,
        (state.block + 1).min(state.blocks.max(1)),
        state.blocks
    );
    if state.finished {
        format!("{}: finished", state.lesson)
    } else if state.paused {
        format!("{at}, paused")
    } else {
        format!("{at}, playing")
    }
}

#[component]
pub fn AutoplayControls(room: InstructorRoom, lesson: ReadSignal<String>) -> impl IntoView {
    let pace_ms = RwSignal::new(PACE_DEFAULT_MS);
    let said = RwSignal::new(None::<String>);
    let state = room.live.autoplay;
    let playing = move || state.with(|s| s.as_ref().is_some_and(|s| !s.finished));
    let paused = move || state.with(|s| s.as_ref().is_some_and(|s| s.paused && !s.finished));
    let ask = move |make: Box<dyn FnOnce(u64) -> RoomClientMessage>| {
        leptos::task::spawn_local(async move {
            said.set(room.ask(make).await.err());
        });
    };
    let start = move |_| {
        let (lesson, pace_ms) = (lesson.get_untracked(), pace_ms.get_untracked());
        if lesson.is_empty() {
            said.set(Some("Choose a lesson first.".to_owned()));
            return;
        }
        ask(Box::new(move |seq| RoomClientMessage::Autoplay {
            seq,
            lesson,
            pace_ms,
        }));
    };
    let pause = move |_| {
        let paused = !paused();
        ask(Box::new(move |seq| RoomClientMessage::AutoplayPause {
            seq,
            paused,
        }));
    };
    let stop = move |_| ask(Box::new(|seq| RoomClientMessage::AutoplayStop { seq }));
    view! {
        <div class="autoplay" aria-label="Autoplay">
            <h3>"Autoplay the lesson"</h3>
            <div class="instructor-actions">
                <label class="autoplay-field">
                    <span>"ms between blocks"</span>
                    <input id="autoplay-pace" type="number" min=PACE_MIN_MS max=PACE_MAX_MS step="500"
                        prop:value=move || pace_ms.get().to_string()
                        on:input=move |ev| {
                            if let Ok(ms) = event_target_value(&ev).trim().parse::<u64>() {
                                pace_ms.set(ms.clamp(PACE_MIN_MS, PACE_MAX_MS));
                            }
                        }/>
                </label>
                <button type="button" id="autoplay-start" on:click=start>"Start"</button>
                <button type="button" id="autoplay-pause" disabled=move || !playing() on:click=pause>
                    {move || if paused() { "Resume" } else { "Pause" }}
                </button>
                <button type="button" id="autoplay-stop" disabled=move || !playing() on:click=stop>"Stop"</button>
            </div>
            <p class="autoplay-state" role="status">
                {move || state.with(|s| s.as_ref().map_or_else(|| "Not playing.".to_owned(), autoplay_label))}
            </p>
            {move || said.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(block: usize, paused: bool, finished: bool) -> AutoplayState {
        AutoplayState {
            lesson: "hashes".into(),
            block,
            blocks: 9,
            paused,
            finished,
        }
    }

    #[test]
    fn counts_blocks_from_one() {
        assert_eq!(
            autoplay_label(&state(2, true, false)),
            "hashes: block 3 of 9, paused"
        );
        assert_eq!(
            autoplay_label(&state(0, false, false)),
            "hashes: block 1 of 9, playing"
        );
    }

    #[test]
    fn a_finished_run_says_so() {
        assert_eq!(autoplay_label(&state(9, false, true)), "hashes: finished");
    }
}
