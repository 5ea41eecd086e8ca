//! Learner progress as this browser knows it: which lessons were visited,
//! which blocks and steps were run, which tasks passed. The server is the
//! truth (`GET /api/me`); this is its offline cache, plus the outbox of
//! steps not yet stored there. A lesson is completed when all its tasks
//! pass (or, without tasks, when every block or every step was run).

use std::collections::{BTreeMap, BTreeSet};

use gloo::storage::{LocalStorage, Storage};
use protocol::{LessonPage, Me, ProgressStep};
use serde::{Deserialize, Serialize};

const KEY: &str = "redis-tutor.progress";
/// Steps run but not yet confirmed by the server, oldest first.
const OUTBOX_KEY: &str = "redis-tutor.outbox";

/// How big a lesson is, learned from its page, so completion can be
/// decided (and shown in the outline) without fetching it again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonShape {
    pub blocks: usize,
    pub steps: usize,
    pub tasks: usize,
}

// `default` so progress saved before steps and shapes existed still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    pub visited: bool,
    /// Block indices run in this browser.
    pub ran: BTreeSet<usize>,
    /// Step anchors run, here or (per the server) anywhere.
    pub steps: BTreeSet<String>,
    pub passed: BTreeSet<usize>,
    pub shape: Option<LessonShape>,
    pub completed: bool,
}

impl LessonProgress {
    /// What the outline shows.
    pub fn label(&self) -> Option<&'static str> {
        if self.completed {
            Some("completed")
        } else if !self.ran.is_empty() || !self.steps.is_empty() || !self.passed.is_empty() {
            Some("in progress")
        } else if self.visited {
            Some("visited")
        } else {
            None
        }
    }

    /// Whether the lesson's page must be fetched to map old block indices
    /// to steps, or to know when it is complete.
    pub fn needs_page(&self) -> bool {
        self.shape.is_none()
            && (!self.ran.is_empty() || !self.steps.is_empty() || !self.passed.is_empty())
    }

    /// Completion never goes back: a task checked again and failed does
    /// not undo a finished lesson.
    fn settle(&mut self) {
        let Some(shape) = self.shape else {
            return;
        };
        let done = if shape.tasks > 0 {
            self.passed.iter().filter(|&&t| t < shape.tasks).count() >= shape.tasks
        } else {
            (shape.blocks > 0 && self.ran.len() >= shape.blocks)
                || (shape.steps > 0 && self.steps.len() >= shape.steps)
        };
        self.completed |= done;
    }

    /// Learns the lesson's shape and the steps of blocks run before steps
    /// were recorded.
    pub fn learn_page(&mut self, page: &LessonPage) {
        self.shape = Some(LessonShape {
            blocks: page.blocks.len(),
            steps: page.steps.len(),
            tasks: page.tasks.len(),
        });
        for &index in &self.ran {
            if let Some(step) = page.blocks.get(index).and_then(|b| b.step.clone()) {
                self.steps.insert(step);
            }
        }
        self.settle();
    }
}

pub type Course = BTreeMap<String, LessonProgress>;

/// Folds the server's view into the cache and returns what the server
/// lacks: steps known here only, to upload. Task results cannot be
/// uploaded (only a real check records one), so a task passed here alone
/// stays passed here until its next check records it on the server.
pub fn merge_server(course: &mut Course, me: &Me) -> Vec<ProgressStep> {
    for (lesson, steps) in &me.progress {
        let entry = course.entry(lesson.clone()).or_default();
        entry.steps.extend(steps.iter().cloned());
    }
    for outcome in &me.results {
        let entry = course.entry(outcome.lesson.clone()).or_default();
        if outcome.passed {
            entry.passed.insert(outcome.task);
        } else {
            entry.passed.remove(&outcome.task);
        }
    }
    let mut missing = Vec::new();
    for (lesson, progress) in course.iter_mut() {
        progress.settle();
        let known = me.progress.get(lesson);
        for step in &progress.steps {
            if !known.is_some_and(|k| k.contains(step)) {
                missing.push(ProgressStep {
                    lesson: lesson.clone(),
                    step: step.clone(),
                });
            }
        }
    }
    missing
}

/// Adds `steps` to `outbox`, each at most once.
pub fn enqueue(outbox: &mut Vec<ProgressStep>, steps: impl IntoIterator<Item = ProgressStep>) {
    for step in steps {
        if !outbox.contains(&step) {
            outbox.push(step);
        }
    }
}

fn load() -> Course {
    LocalStorage::get(KEY).unwrap_or_default()
}

fn save(course: &Course) {
    let _ = LocalStorage::set(KEY, course);
}

pub fn get(slug: &str) -> LessonProgress {
    load().remove(slug).unwrap_or_default()
}

pub fn all() -> Course {
    load()
}

/// Changes the whole cache at once (a merge from the server).
pub fn update_all<T>(change: impl FnOnce(&mut Course) -> T) -> T {
    let mut course = load();
    let result = change(&mut course);
    save(&course);
    result
}

fn update<T>(slug: &str, change: impl FnOnce(&mut LessonProgress) -> T) -> T {
    update_all(|course| change(course.entry(slug.to_owned()).or_default()))
}

pub fn visited(slug: &str) {
    update(slug, |p| p.visited = true);
}

pub fn learn_page(page: &LessonPage) {
    update(&page.summary.slug, |p| p.learn_page(page));
}

/// Marks block `index` (under `step`) as run. Returns whether the step is
/// new to this browser, so it is sent to the server once.
pub fn ran(slug: &str, index: usize, step: Option<&str>) -> bool {
    update(slug, |p| {
        p.ran.insert(index);
        let new = step.is_some_and(|s| p.steps.insert(s.to_owned()));
        p.settle();
        new
    })
}

pub fn passed(slug: &str, task: usize) {
    update(slug, |p| {
        p.passed.insert(task);
        p.settle();
    });
}

pub fn outbox() -> Vec<ProgressStep> {
    LocalStorage::get(OUTBOX_KEY).unwrap_or_default()
}

pub fn set_outbox(outbox: &[ProgressStep]) {
    if outbox.is_empty() {
        LocalStorage::delete(OUTBOX_KEY);
    } else {
        let _ = LocalStorage::set(OUTBOX_KEY, outbox);
    }
}

/// Forgets everything this browser kept about the learner's progress.
pub fn clear() {
    LocalStorage::delete(KEY);
    LocalStorage::delete(OUTBOX_KEY);
}

#[cfg(test)]
mod tests;
