//! `redis-tutor grade <exercise> --redis-url …`: the server's grader,
//! run against any Redis 7.2+ from a terminal or a CI job.

use std::sync::Arc;

use anyhow::Context;
use backend::config::ReportFormat;
use backend::grading::{self, harness::Connector, sandboxed, Harness};
use protocol::GradeStatus;

pub async fn run(exercise: &str, url: &str, format: ReportFormat) -> anyhow::Result<()> {
    let exercise = grading::find(exercise).with_context(|| {
        let ids: Vec<&str> = grading::exercises().iter().map(|e| e.id).collect();
        format!(
            "there is no exercise `{exercise}`; choose one of {}",
            ids.join(", ")
        )
    })?;
    let client = redis::Client::open(url).with_context(|| format!("{url} is not a Redis URL"))?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let libraries = sandboxed::libraries(&mut conn)
        .await
        .context("FUNCTION LIST failed (grading needs Redis 7.2 or newer)")?;
    let missing = sandboxed::missing_functions(exercise, &libraries);
    anyhow::ensure!(
        missing.is_empty(),
        "no function {} is loaded in {url}: load your library with FUNCTION LOAD REPLACE first",
        missing.join(", ")
    );
    let submission = sandboxed::submission_id(&mut conn).await?;
    let connect: Connector = Box::new(move || {
        let client = client.clone();
        Box::pin(async move { client.get_multiplexed_async_connection().await })
    });
    let titles: Vec<(&str, &str)> = exercise.checks.iter().map(|c| (c.id, c.title)).collect();
    let mut harness = Harness::new(connect);
    if format == ReportFormat::Text {
        harness = harness.with_progress(move |id| {
            let title = titles.iter().find(|(c, _)| *c == id).map_or(id, |(_, t)| t);
            eprintln!("  checking: {title}…");
        });
    }
    let harness = Arc::new(harness);
    if format == ReportFormat::Text {
        eprintln!(
            "grading {} ({} checks) in {url}, keys under {}…",
            exercise.id,
            exercise.checks.len(),
            harness.prefix()
        );
    }
    let report = exercise.run(harness.clone(), submission).await;
    harness
        .clean_up()
        .await
        .context("could not delete the grading keys")?;
    match format {
        ReportFormat::Json => println!("{}", serde_json::to_string(&report)?),
        ReportFormat::Text => {
            for check in &report.checks {
                let mark = match check.status {
                    GradeStatus::Pass => "pass ",
                    GradeStatus::Fail => "FAIL ",
                    GradeStatus::Error => "error",
                };
                println!("{mark} {}: {}", check.title, check.message);
                if !check.hint.is_empty() {
                    println!("      hint: {} (see {})", check.hint, check.step);
                }
            }
            for figure in &report.figures {
                let points: Vec<String> = figure
                    .points
                    .iter()
                    .map(|(label, value)| format!("{label} {value:.1} {}", figure.unit))
                    .collect();
                println!("figure {}: {}", figure.title, points.join(", "));
            }
            println!(
                "{}: {}/{} checks passed in {} ms",
                exercise.id, report.score, report.max_score, report.duration_ms
            );
        }
    }
    match report.status {
        GradeStatus::Pass => Ok(()),
        GradeStatus::Fail => std::process::exit(1),
        GradeStatus::Error => std::process::exit(2),
    }
}
