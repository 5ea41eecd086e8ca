//! Lessons as the browser sees them.

use serde::{Deserialize, Serialize};

/// One entry of the course outline (`GET /api/lessons`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonSummary {
    /// URL-safe id, unique in the course: `/lesson/<slug>`.
    pub slug: String,
    /// 1-based position in `lessons/SUMMARY.md`.
    pub number: usize,
    pub title: String,
    /// One sentence shown in the outline.
    pub summary: String,
    /// Engine capabilities the lesson needs (`json`, `search`, `bloom`, `vectorset`).
    pub requires: Vec<String>,
    /// Of `requires`, those the running engine lacks. Empty means runnable.
    pub missing: Vec<String>,
}

/// A whole lesson (`GET /api/lessons/<slug>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonPage {
    #[serde(flatten)]
    pub summary: LessonSummary,
    /// The body rendered to HTML on the server; raw HTML in the source is
    /// escaped, never passed through.
    pub html: String,
    /// Slug of the previous lesson in the outline, if any.
    pub prev: Option<String>,
    /// Slug of the next lesson in the outline, if any.
    pub next: Option<String>,
    /// Command lines "Start fresh" runs in a clean sandbox.
    #[serde(default)]
    pub setup: Vec<String>,
    /// Every runnable block, in order.
    #[serde(default)]
    pub blocks: Vec<LessonBlock>,
    /// Every Try-it task, in order.
    #[serde(default)]
    pub tasks: Vec<LessonTask>,
    /// The anchors of the lesson's `##` steps, in order: what
    /// `POST /api/me/progress` accepts as `step`.
    #[serde(default)]
    pub steps: Vec<String>,
}

/// A runnable ```redis block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonBlock {
    pub source: String,
    /// Sent exactly as redis-cli would, without the console's conveniences.
    pub strict: bool,
    /// Meant to fail with an error containing this text.
    pub expect_error: Option<String>,
    /// What the console prints for it, when the lesson declares it.
    pub output: Option<String>,
    /// The anchor of the step (`##` heading) the block sits under, if any.
    #[serde(default)]
    pub step: Option<String>,
}

/// A Try-it task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonTask {
    pub goal: String,
    pub hint: Option<String>,
    pub solution: Vec<String>,
}

/// The outcome of checking a task (`POST /api/lessons/<slug>/tasks/<n>/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResult {
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The command the check ran.
    pub command: String,
    /// What the check asks, in the lesson's terms, when the lesson says it
    /// (show it instead of `command`, which may be an internal script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub passed: bool,
    /// What differed, when it failed.
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesson_page_flattens_its_summary() {
        let page = LessonPage {
            summary: LessonSummary {
                slug: "why-redis".into(),
                number: 1,
                title: "Why".into(),
                summary: "s".into(),
                requires: vec![],
                missing: vec![],
            },
            html: "<p>x</p>".into(),
            prev: None,
            next: Some("setup".into()),
            setup: vec![],
            blocks: vec![],
            tasks: vec![],
            steps: vec!["zadd-basics".into()],
        };
        let value: serde_json::Value = serde_json::to_value(&page).unwrap();
        assert_eq!(value["slug"], "why-redis");
        assert_eq!(value["next"], "setup");
        let back: LessonPage = serde_json::from_value(value).unwrap();
        assert_eq!(back, page);
    }
}
