//! Follow-me, for the instructor: pick a lesson and a step, then send the
//! class there, lock the steps after it (pace), reveal a task's solution,
//! or reset every learner's sandbox to the lesson's starting data. The
//! chosen lesson is also what autoplay plays.

use leptos::prelude::*;
use protocol::{Place, RoomClientMessage, RoomServerMessage};

use super::autoplay_controls::AutoplayControls;
use crate::api;
use crate::dialogs;
use crate::instructor_room::InstructorRoom;
use crate::room_state::place_label;

#[component]
pub fn FollowControls(room: InstructorRoom) -> impl IntoView {
    let lessons = LocalResource::new(api::lessons);
    let lesson = RwSignal::new(String::new());
    let step = RwSignal::new(String::new());
    // Start where the class is, else on the first lesson.
    Effect::new(move |_| {
        if !lesson.with_untracked(String::is_empty) {
            return;
        }
        if let Some(place) = room.live.position.get() {
            lesson.set(place.lesson);
            step.set(place.step.unwrap_or_default());
        } else if let Some(Ok(list)) = lessons.get() {
            if let Some(first) = list.first() {
                lesson.set(first.slug.clone());
            }
        }
    });
    let steps = LocalResource::new(move || {
        let slug = lesson.get();
        async move {
            if slug.is_empty() {
                return Vec::new();
            }
            api::lesson(&slug)
                .await
                .map(|p| p.steps)
                .unwrap_or_default()
        }
    });
    let place = move || Place {
        lesson: lesson.get_untracked(),
        step: Some(step.get_untracked()).filter(|s| !s.is_empty()),
    };
    let said = RwSignal::new(None::<(bool, String)>);
    let send = move |make: Box<dyn FnOnce(u64) -> RoomClientMessage>, done: String| {
        if lesson.with_untracked(String::is_empty) {
            said.set(Some((false, "Choose a lesson first.".to_owned())));
            return;
        }
        leptos::task::spawn_local(async move {
            said.set(Some(match room.ask(make).await {
                Ok(RoomServerMessage::Done { count, failed, .. }) => {
                    (true, format!("{done}: {count} done, {failed} failed."))
                }
                Ok(_) => (true, done),
                Err(why) => (false, why),
            }));
        });
    };
    let goto = move |_| {
        let place = place();
        let done = format!(
            "Sent the class to {}",
            place_label(&place.lesson, place.step.as_deref())
        );
        send(
            Box::new(move |seq| RoomClientMessage::Goto { seq, place }),
            done,
        );
    };
    let pace_lock = move |_| {
        let place = place();
        let done = format!(
            "Locked every step after {}",
            place_label(&place.lesson, place.step.as_deref())
        );
        send(
            Box::new(move |seq| RoomClientMessage::Pace {
                seq,
                place: Some(place),
            }),
            done,
        );
    };
    let pace_unlock = move |_| {
        send(
            Box::new(|seq| RoomClientMessage::Pace { seq, place: None }),
            "Unlocked every step".to_owned(),
        );
    };
    let reveal_task = RwSignal::new(0_usize);
    let reveal = move |_| {
        let (lesson, task) = (lesson.get_untracked(), reveal_task.get_untracked());
        let done = format!("Revealed task {task} of {lesson}");
        send(
            Box::new(move |seq| RoomClientMessage::Reveal { seq, lesson, task }),
            done,
        );
    };
    let reset_all = move |_| {
        let lesson = lesson.get_untracked();
        if !dialogs::confirm(&format!(
            "Reset every learner's sandbox and load the starting data of “{lesson}”? Their data is deleted."
        )) {
            return;
        }
        send(
            Box::new(move |seq| RoomClientMessage::ResetAll { seq, lesson }),
            "Reset the sandboxes".to_owned(),
        );
    };
    let position = move || {
        room.live.position.with(|p| match p {
            Some(p) => format!(
                "The class is at {}.",
                place_label(&p.lesson, p.step.as_deref())
            ),
            None => "You have not sent the class anywhere yet.".to_owned(),
        })
    };
    let pace = move || {
        room.live.pace.with(|p| match p {
            Some(p) => format!(
                "Steps after {} are locked.",
                place_label(&p.lesson, p.step.as_deref())
            ),
            None => "No step is locked.".to_owned(),
        })
    };
    view! {
        <section class="instructor-section follow-controls" aria-label="Follow me">
            <h2>"Follow me"</h2>
            <p class="instructor-position" role="status">{position}" "{pace}</p>
            <div class="follow-place">
                <label>
                    <span>"Lesson"</span>
                    <select id="goto-lesson" on:change=move |ev| {
                        lesson.set(event_target_value(&ev));
                        step.set(String::new());
                    }>
                        {move || lessons.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|l| {
                            let slug = l.slug.clone();
                            let selected = move || lesson.get() == slug;
                            view! {
                                <option value=l.slug.clone() prop:selected=selected>
                                    {format!("{}. {}", l.number, l.title)}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Step"</span>
                    <select id="goto-step" on:change=move |ev| step.set(event_target_value(&ev))>
                        <option value="" prop:selected=move || step.with(String::is_empty)>"(top of the lesson)"</option>
                        {move || steps.get().unwrap_or_default().into_iter().map(|s| {
                            let value = s.clone();
                            let selected = move || step.get() == value;
                            view! { <option value=s.clone() prop:selected=selected>{s.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <div class="instructor-actions">
                <button type="button" id="goto-push" on:click=goto>"Send the class here"</button>
                <button type="button" id="pace-lock" on:click=pace_lock>"Lock the steps after this"</button>
                <button type="button" id="pace-unlock" on:click=pace_unlock>"Unlock every step"</button>
            </div>
            <div class="instructor-actions">
                <label class="reveal-field">
                    <span>"Task (0-based)"</span>
                    <input id="reveal-task" type="number" min="0" step="1"
                        prop:value=move || reveal_task.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).trim().parse::<usize>() {
                                reveal_task.set(n);
                            }
                        }/>
                </label>
                <button type="button" id="reveal-push" on:click=reveal>"Reveal its solution"</button>
                <button type="button" id="reset-all" class="console-danger" on:click=reset_all>
                    "Reset every sandbox to this lesson"
                </button>
            </div>
            {move || said.get().map(|(ok, text)| view! {
                <p class="follow-result" class=("instructor-error", !ok) role="status">{text}</p>
            })}
            <AutoplayControls room=room lesson=lesson.read_only()/>
        </section>
    }
}
