//! What every request handler can reach.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::lessons::{Course, LessonError};

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub course: Arc<Course>,
    pub dist_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("broken lesson, refusing to start: {0}")]
    Lessons(#[from] LessonError),
}

impl AppState {
    /// Finds the engine and loads the whole course; fails on anything broken.
    pub fn from_config(config: &Config) -> Result<AppState, StartupError> {
        let engine = Engine::discover(&config.engine_dir)?;
        let course = Course::load(&config.lessons_dir)?;
        Ok(AppState {
            engine: Arc::new(engine),
            course: Arc::new(course),
            dist_dir: config.dist_dir.clone(),
        })
    }
}
