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
        };
        let value: serde_json::Value = serde_json::to_value(&page).unwrap();
        assert_eq!(value["slug"], "why-redis");
        assert_eq!(value["next"], "setup");
        let back: LessonPage = serde_json::from_value(value).unwrap();
        assert_eq!(back, page);
    }
}
