//! `redis-tutor`: parse config, load everything, serve until told to stop.

use anyhow::Context;
use backend::config::{Command, Config};
use backend::{router, shutdown, AppState};
use clap::Parser;
use tracing_subscriber::EnvFilter;

mod check_lessons;
mod grade_cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let mut config = Config::parse();
    match config.command.take() {
        Some(Command::CheckLessons { file }) => return check_lessons::run(config, file).await,
        Some(Command::Grade {
            exercise,
            redis_url,
            format,
        }) => return grade_cli::run(&exercise, &redis_url, format).await,
        None => {}
    }
    // Serving only: the subcommands print their own output on stdout.
    raise_nofile();

    let state = AppState::build(&config).await?;
    let engine = &state.engine;
    tracing::info!(
        server = %engine.server.display(),
        version = %engine.info.version,
        source = %engine.info.source,
        capabilities = %engine.info.capabilities.join(","),
        "engine found"
    );
    if engine.info.capabilities.is_empty() {
        tracing::warn!(
            "engine has no modules: lessons that need JSON, Search or Bloom will say so"
        );
    }
    tracing::info!(lessons = state.course.lessons.len(), "course loaded");
    let instructor_app = config
        .dist_dir
        .join(backend::http::INSTRUCTOR_APP_DIR)
        .join("index.html");
    if !config.dist_dir.join("index.html").is_file() || !instructor_app.is_file() {
        tracing::warn!(
            dist = %config.dist_dir.display(),
            "the browser apps are not built; run `make run` (or `make frontend`)"
        );
    }

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    if let Some(cluster) = &state.cluster {
        cluster.listening_on(addr, state.sessions.clone()).await;
        backend::live::facts::keep_console_facts(
            state.sessions.clone(),
            state.control.clone(),
            cluster.id.clone(),
        );
    }
    tracing::info!("serving on http://{addr}");
    println!("redis-tutor is up: http://{addr}");
    // Like Jupyter's token link: the secret rides in the fragment, so it
    // never reaches a server or proxy log when the link is opened.
    println!(
        "instructor: http://{addr}/instructor#{}",
        state.instructor.token()
    );
    let limits = state.sessions.pool().spec().limits.clone();
    backend::http::serve(listener, router(state.clone()), &limits, shutdown::signal()).await?;
    state.shutdown().await;
    tracing::info!("stopped; every sandbox ended");
    Ok(())
}

/// Every learner holds several fds: take the whole hard limit (logged).
fn raise_nofile() {
    match backend::limits::nofile::raise_to_hard() {
        Ok(n) => tracing::info!(
            soft_before = n.soft_before,
            soft = n.soft,
            hard = n.hard,
            learners = n.learners(),
            "open-files limit (RLIMIT_NOFILE) raised to the hard limit"
        ),
        Err(e) => tracing::warn!("{e}; the server may refuse connections early"),
    }
}
