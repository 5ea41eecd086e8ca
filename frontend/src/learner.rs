//! The learner as the page knows them: name, token (for the continue
//! link), and whether their progress is safe on the server. One worker
//! keeps the server and the browser's cache in step: it fetches
//! `GET /api/me` on first contact, uploads what only this browser knew,
//! and drains the outbox of steps; what fails stays queued in
//! localStorage and is retried until the server is back.

use gloo::timers::callback::Interval;
use leptos::prelude::*;
use protocol::{Me, ProgressStep};

use crate::api;
use crate::api::learner::LearnerFailure;
use crate::identity;
use crate::progress;

/// How often a failed sync is retried, in ms.
const RETRY_MS: u32 = 5_000;
/// The longest name the server accepts, in characters.
pub const NAME_MAX: usize = 40;

/// What the save indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    /// Not heard from the server yet.
    Checking,
    /// Everything run so far is stored on the server.
    Saved,
    /// The server or its store is unreachable: progress waits here.
    Offline,
}

#[derive(Clone, Copy)]
pub struct LearnerState {
    pub name: RwSignal<Option<String>>,
    pub token: RwSignal<Option<String>>,
    pub sync: RwSignal<SyncStatus>,
    /// Bumped whenever the progress cache changes, so views read it again.
    pub revision: RwSignal<u32>,
    /// What `GET /api/me` said last (to tell what "Forget me" erased).
    last: StoredValue<Option<Me>>,
    /// Whether this page has merged the server's view yet.
    contacted: StoredValue<bool>,
    busy: StoredValue<bool>,
    again: StoredValue<bool>,
}

impl LearnerState {
    /// Adopts a continue link's token first, then starts syncing.
    pub fn new() -> LearnerState {
        identity::adopt_from_location();
        let state = LearnerState {
            name: RwSignal::new(None),
            token: RwSignal::new(identity::token()),
            sync: RwSignal::new(SyncStatus::Checking),
            revision: RwSignal::new(0),
            last: StoredValue::new(None),
            contacted: StoredValue::new(false),
            busy: StoredValue::new(false),
            again: StoredValue::new(false),
        };
        state.kick();
        Interval::new(RETRY_MS, move || {
            if state.sync.get_untracked() != SyncStatus::Saved || !progress::outbox().is_empty() {
                state.kick();
            }
        })
        .forget();
        state
    }

    /// A block under `step` of `lesson` was run.
    pub fn record_step(&self, lesson: &str, step: &str) {
        let mut outbox = progress::outbox();
        progress::enqueue(
            &mut outbox,
            [ProgressStep {
                lesson: lesson.to_owned(),
                step: step.to_owned(),
            }],
        );
        progress::set_outbox(&outbox);
        self.kick();
    }

    /// Tells views that the cache changed.
    pub fn touched(&self) {
        self.revision.update(|r| *r += 1);
    }

    /// Runs the worker (or, if it is running, has it go round once more).
    fn kick(&self) {
        if self.busy.get_value() {
            self.again.set_value(true);
            return;
        }
        self.busy.set_value(true);
        let state = *self;
        leptos::task::spawn_local(async move {
            loop {
                state.again.set_value(false);
                let outcome = state.work().await;
                state.sync.set(match outcome {
                    Ok(()) => SyncStatus::Saved,
                    Err(_) => SyncStatus::Offline,
                });
                // Offline waits for the retry timer rather than spinning.
                if outcome.is_err() || !state.again.get_value() {
                    break;
                }
            }
            state.busy.set_value(false);
        });
    }

    async fn work(&self) -> Result<(), LearnerFailure> {
        let token = identity::ensure_token().await?;
        self.token.set(Some(token));
        if !self.contacted.get_value() {
            let me = self.or_start_over(api::learner::me().await)?;
            self.merge(&me).await;
            self.contacted.set_value(true);
        }
        self.flush().await
    }

    /// An unknown token means this learner was erased (elsewhere, or by a
    /// server that lost its store): the next round starts a new one.
    fn or_start_over<T>(&self, result: Result<T, LearnerFailure>) -> Result<T, LearnerFailure> {
        if let Err(LearnerFailure::Unknown) = &result {
            identity::clear_token();
            self.token.set(None);
            self.contacted.set_value(false);
            self.sync.set(SyncStatus::Offline);
            self.kick();
        }
        result
    }

    /// The server is the truth; what only this browser knew goes up.
    async fn merge(&self, me: &Me) {
        self.name.set(me.name.clone());
        self.last.set_value(Some(me.clone()));
        progress::update_all(|course| progress::merge_server(course, me));
        // Lessons whose size is unknown here (a fresh browser, or blocks
        // run before steps existed): one fetch each, then never again.
        let unknown: Vec<String> = progress::all()
            .into_iter()
            .filter(|(_, p)| p.needs_page())
            .map(|(slug, _)| slug)
            .collect();
        for slug in unknown {
            if let Ok(page) = api::lesson(&slug).await {
                progress::learn_page(&page);
            }
        }
        let missing = progress::update_all(|course| progress::merge_server(course, me));
        let mut outbox = progress::outbox();
        progress::enqueue(&mut outbox, missing);
        progress::set_outbox(&outbox);
        self.touched();
    }

    /// Sends the outbox, oldest first; stops at the first failure that a
    /// retry could fix.
    async fn flush(&self) -> Result<(), LearnerFailure> {
        while let Some(step) = progress::outbox().first().cloned() {
            match self.or_start_over(api::learner::record_step(&step).await) {
                Ok(()) => {}
                // A step the course no longer has: nothing to retry.
                Err(LearnerFailure::Refused(_)) => {
                    progress::update_all(|course| {
                        if let Some(p) = course.get_mut(&step.lesson) {
                            p.steps.remove(&step.step);
                        }
                    });
                }
                Err(e) => return Err(e),
            }
            let mut outbox = progress::outbox();
            outbox.retain(|s| s != &step);
            progress::set_outbox(&outbox);
        }
        Ok(())
    }

    /// Sets the display name (empty clears it).
    pub async fn rename(&self, name: &str) -> Result<(), String> {
        let name = name.trim();
        if name.chars().count() > NAME_MAX {
            return Err(format!("A name has at most {NAME_MAX} characters."));
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot contain control characters.".to_owned());
        }
        let name = (!name.is_empty()).then(|| name.to_owned());
        identity::ensure_token()
            .await
            .map_err(|e| format!("Your name was not saved: {e}"))?;
        match self.or_start_over(api::learner::rename(name.clone()).await) {
            Ok(()) => {
                self.name.set(name);
                Ok(())
            }
            Err(LearnerFailure::Refused(why)) => Err(why),
            Err(e) => Err(format!(
                "Your name was not saved: {e} Try again in a moment."
            )),
        }
    }

    /// Erases the learner on the server and everything this browser kept;
    /// says what was erased.
    pub async fn forget(&self) -> Result<String, String> {
        let erased = match api::learner::forget().await {
            Ok(()) => self.erased_summary(),
            Err(LearnerFailure::Unknown) => {
                "The server had nothing stored for this browser.".to_owned()
            }
            Err(e) => return Err(format!("Nothing was erased: {e}")),
        };
        progress::clear();
        identity::clear_token();
        crate::credentials::forget_session();
        self.token.set(None);
        self.name.set(None);
        self.last.set_value(None);
        self.contacted.set_value(false);
        self.touched();
        Ok(format!(
            "{erased} This browser's copy of your progress and your learner token are gone too."
        ))
    }

    fn erased_summary(&self) -> String {
        let Some(me) = self.last.get_value() else {
            return "Erased everything the server kept about you.".to_owned();
        };
        let lessons = me.progress.len();
        let results = me.results.len();
        let name = me
            .name
            .map(|n| format!("your name “{n}”, "))
            .unwrap_or_default();
        format!(
            "Erased {name}your progress in {lessons} lesson{}, {results} task result{} and your sandbox.",
            plural(lessons),
            plural(results),
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
