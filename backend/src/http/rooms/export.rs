//! A room's roster for the instructor to keep: CSV for a spreadsheet (one
//! row per learner, one column per exercise; fields quoted per RFC 4180,
//! and a field a spreadsheet would run as a formula gets a leading `'`),
//! and the same as JSON.

use axum::extract::{Path, State};
use axum::Json;
use protocol::{ClassExport, ExportRow, ExportScore};

use super::super::auth::BearerInstructor;
use super::super::HttpError;
use super::{facts, find};
use crate::control::rooms::MemberFacts;
use crate::grading;
use crate::state::AppState;

/// Minutes from joining (or the first step, if earlier) to the last
/// activity.
fn minutes_spent(f: &MemberFacts) -> u64 {
    let first = f
        .first_step_ms
        .map_or(f.member.joined_ms, |at| at.min(f.member.joined_ms));
    f.seen_ms.saturating_sub(first) / 60_000
}

/// `GET /api/rooms/{id}/export.json`.
pub async fn export_json(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
) -> Result<Json<ClassExport>, HttpError> {
    let room = find(&state, &id).await?;
    let learners = facts(&state, &room)
        .await?
        .into_iter()
        .map(|f| ExportRow {
            minutes_spent: minutes_spent(&f),
            learner: f.member.learner,
            name: f.member.name,
            steps_done: f.steps_done,
            tasks_passed: f.tasks_passed,
            scores: f
                .best
                .into_iter()
                .map(|(exercise, (score, max))| (exercise, ExportScore { score, max }))
                .collect(),
        })
        .collect();
    Ok(Json(ClassExport { learners }))
}

/// One CSV field: neutralised, then quoted when it needs to be.
fn field(value: &str) -> String {
    // `=`, `+`, `-`, `@` (and tab or carriage return, which some
    // spreadsheets skip before one) start a formula: a learner's name
    // must never run in the instructor's spreadsheet.
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn row(fields: impl IntoIterator<Item = String>) -> String {
    let mut line = fields
        .into_iter()
        .map(|f| field(&f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The header, then one row per learner. A score is the best number of
/// checks passed (the header says out of how many): `5/7` would turn
/// into a date in a spreadsheet.
pub fn csv(learners: &[MemberFacts]) -> String {
    let exercises = grading::exercises();
    let mut out = row(["name", "steps_done", "tasks_passed"]
        .into_iter()
        .map(str::to_owned)
        .chain(
            exercises
                .iter()
                .map(|e| format!("{} (of {})", e.id, e.checks.len())),
        )
        .chain(["minutes_spent".to_owned()]));
    for f in learners {
        let minutes = minutes_spent(f);
        out.push_str(&row([
            f.member.name.clone(),
            f.steps_done.to_string(),
            f.tasks_passed.to_string(),
        ]
        .into_iter()
        .chain(exercises.iter().map(|e| {
            f.best
                .get(e.id)
                .map(|(score, _)| score.to_string())
                .unwrap_or_default()
        }))
        .chain([minutes.to_string()])));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_commas_and_quotes() {
        assert_eq!(field("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(field("Ada \"the\" first"), "\"Ada \"\"the\"\" first\"");
        assert_eq!(field("Ada"), "Ada");
    }

    #[test]
    fn neutralises_formulas() {
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("+33"), "'+33");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            field("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
    }
}
