//! `redis-tutor check-lessons`: every lesson (or one file) run in a fresh
//! sandbox, exactly as the every-block test runs them.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use backend::config::Config;
use backend::lessons::{runner, Lesson};
use backend::AppState;

pub async fn run(mut config: Config, file: Option<PathBuf>) -> anyhow::Result<()> {
    // One checker opens many sessions from one address.
    config.limits.sandboxes_per_ip = usize::MAX;
    config.limits.spawns_per_min_per_ip = u32::MAX;
    let state = AppState::build(&config).await?;
    let lessons: Vec<Lesson> = match file {
        Some(path) => vec![Lesson::load(&path, 1)?],
        None => state.course.lessons.clone(),
    };
    let mut failed = 0;
    for lesson in &lessons {
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
        if failures.is_empty() {
            println!(
                "ok   {} ({} blocks, {} tasks)",
                lesson.path.display(),
                lesson.blocks.runnable.len(),
                lesson.blocks.tasks.len()
            );
        } else {
            failed += 1;
            for failure in failures {
                println!("FAIL {failure}");
            }
        }
    }
    state.shutdown().await;
    if failed > 0 {
        anyhow::bail!("{failed} of {} lessons failed", lessons.len());
    }
    Ok(())
}
