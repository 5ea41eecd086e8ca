//! Learner progress, kept in the browser: which lessons were visited,
//! which blocks were run, which tasks passed. A lesson is completed when
//! all its tasks pass (or, without tasks, when every block was run).

use std::collections::{BTreeMap, BTreeSet};

use gloo::storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

const KEY: &str = "redis-tutor.progress";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub visited: bool,
    pub ran: BTreeSet<usize>,
    pub passed: BTreeSet<usize>,
    pub completed: bool,
}

impl LessonProgress {
    /// What the outline shows.
    pub fn label(&self) -> Option<&'static str> {
        if self.completed {
            Some("completed")
        } else if !self.ran.is_empty() {
            Some("in progress")
        } else if self.visited {
            Some("visited")
        } else {
            None
        }
    }
}

fn load() -> BTreeMap<String, LessonProgress> {
    LocalStorage::get(KEY).unwrap_or_default()
}

pub fn get(slug: &str) -> LessonProgress {
    load().remove(slug).unwrap_or_default()
}

pub fn all() -> BTreeMap<String, LessonProgress> {
    load()
}

fn update(slug: &str, change: impl FnOnce(&mut LessonProgress)) -> LessonProgress {
    let mut all = load();
    let entry = all.entry(slug.to_owned()).or_default();
    change(entry);
    let result = entry.clone();
    let _ = LocalStorage::set(KEY, &all);
    result
}

pub fn visited(slug: &str) {
    update(slug, |p| p.visited = true);
}

/// Marks block `index` as run; completes a lesson without tasks once every
/// block ran.
pub fn ran(slug: &str, index: usize, blocks: usize, tasks: usize) {
    update(slug, |p| {
        p.ran.insert(index);
        if tasks == 0 && p.ran.len() >= blocks {
            p.completed = true;
        }
    });
}

pub fn passed(slug: &str, task: usize, tasks: usize) {
    update(slug, |p| {
        p.passed.insert(task);
        if p.passed.len() >= tasks {
            p.completed = true;
        }
    });
}
