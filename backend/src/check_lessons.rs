//! `redis-tutor check-lessons`: every lesson (or one file) run in a fresh
//! sandbox, exactly as the every-block test runs them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use backend::config::Config;
use backend::lessons::{lint, runner, Lesson};
use backend::AppState;

pub async fn run(mut config: Config, file: Option<PathBuf>) -> anyhow::Result<()> {
    // One checker opens many sessions from one address.
    config.limits.sandboxes_per_ip = usize::MAX;
    config.limits.spawns_per_min_per_ip = u32::MAX;
    // Checking lessons records nothing: a throwaway control store.
    let scratch = tempfile::tempdir()?;
    config.data_dir = scratch.path().to_path_buf();
    let state = AppState::build(&config).await?;
    let lessons: Vec<Lesson> = match file {
        Some(path) => vec![Lesson::load(&path, 1)?],
        None => state.course.lessons.clone(),
    };
    let mut failed = 0;
    let mut warned = 0;
    for lesson in &lessons {
        // Text checks need no engine: run them even for a skipped lesson.
        let findings = lint::lint_file(&lesson.path)?;
        for warning in &findings.warnings {
            println!("warn {warning}");
        }
        warned += findings.warnings.len();
        if !findings.errors.is_empty() {
            failed += 1;
            for error in &findings.errors {
                println!("FAIL {error}");
            }
        }
        let missing: Vec<&str> = lesson
            .requires()
            .filter(|c| !state.engine.has(*c))
            .map(|c| c.as_str())
            .collect();
        if !missing.is_empty() {
            println!(
                "skip {} (engine lacks {})",
                lesson.path.display(),
                missing.join(", ")
            );
            continue;
        }
        let session = state
            .sessions
            .create(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await?;
        let failures = runner::run_lesson(&state.gateway, &session, lesson).await;
        state.sessions.remove(&session.id).await;
        if failures.is_empty() && findings.errors.is_empty() {
            println!(
                "ok   {} ({} blocks, {} tasks)",
                lesson.path.display(),
                lesson.blocks.runnable.len(),
                lesson.blocks.tasks.len()
            );
        } else if !failures.is_empty() {
            if findings.errors.is_empty() {
                failed += 1;
            }
            for failure in failures {
                println!("FAIL {failure}");
            }
        }
    }
    state.shutdown().await;
    if warned > 0 {
        println!("{warned} warnings: words a learner never has context for (see above)");
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} lessons failed", lessons.len());
    }
    Ok(())
}
