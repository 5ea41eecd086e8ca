//! A grading report: the overall result and score, each check with its
//! mark, what was observed, a hint and the step that teaches it, and the
//! measured figures as small bar charts.

use leptos::prelude::*;
use protocol::{CheckReport, Figure, GradeReport, GradeStatus};

use super::chart_panel::ChartCanvas;
use crate::charts::figure;

/// The mark, its word (for screen readers and the data attribute) and
/// how the whole run reads.
fn words(status: GradeStatus) -> (&'static str, &'static str, &'static str) {
    match status {
        GradeStatus::Pass => ("✓", "pass", "Passed"),
        GradeStatus::Fail => ("✗", "fail", "Not yet"),
        GradeStatus::Error => ("!", "error", "Could not grade"),
    }
}

#[component]
pub fn GradeReportView(report: GradeReport) -> impl IntoView {
    let (_, status, headline) = words(report.status);
    let seconds = report.duration_ms as f64 / 1000.0;
    let summary = match report.status {
        GradeStatus::Error => format!(
            "{headline}: the grader could not run every check. This run does not count; try again in a moment."
        ),
        _ => format!(
            "{headline}: {}/{} checks passed, in {seconds:.1} s.",
            report.score, report.max_score
        ),
    };
    let checks = report
        .checks
        .into_iter()
        .map(|check| view! { <CheckItem check=check/> })
        .collect_view();
    let figures = (!report.figures.is_empty()).then(|| {
        let charts = report
            .figures
            .into_iter()
            .enumerate()
            .map(|(i, f)| view! { <FigureChart figure=f index=i/> })
            .collect_view();
        view! {
            <h3 class="grade-figures-title">"Measured while grading"</h3>
            <div class="grade-figures">{charts}</div>
        }
    });
    view! {
        <section class="grade-report" data-testid="grade-report" data-status=status
            data-score=report.score aria-label="Grading report">
            <p class="grade-summary" data-testid="grade-summary">
                <span class="grade-score">{format!("{}/{}", report.score, report.max_score)}</span>
                {summary}
            </p>
            // The measurements first: short, and what a passing run is
            // worth reading; the checks follow in the grader's order.
            {figures}
            <ol class="grade-checks">{checks}</ol>
        </section>
    }
}

#[component]
fn CheckItem(check: CheckReport) -> impl IntoView {
    let (mark, status, _) = words(check.status);
    let hint = (!check.hint.is_empty()).then(|| {
        view! {
            <p class="grade-hint" data-testid="grade-hint">
                <strong>"Hint: "</strong>{check.hint.clone()}
            </p>
        }
    });
    let step = (!check.step.is_empty()).then(|| {
        view! {
            <a class="grade-step" href=check.step.clone()>"Where the lesson teaches this"</a>
        }
    });
    view! {
        <li class="grade-check" data-testid="grade-check" data-check=check.id.clone() data-status=status>
            <span class="grade-mark" aria-label=status>{mark}</span>
            <div class="grade-check-body">
                <p class="grade-check-title">{check.title}</p>
                <p class="grade-message">{check.message}</p>
                {hint}
                {step}
            </div>
        </li>
    }
}

#[component]
fn FigureChart(figure: Figure, index: usize) -> impl IntoView {
    let label = format!("{} ({})", figure.title, figure.unit);
    view! {
        <ChartCanvas testid="grade-figure" label=label short=true
            draw=move |canvas| figure::draw(canvas, &figure, index)/>
    }
}
