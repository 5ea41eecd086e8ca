//! What every request handler can reach, built once at start-up.

use std::path::PathBuf;
use std::sync::Arc;

use crate::allowlist;
use crate::catalog::CommandCatalog;
use crate::classroom::{InstructorKey, RoomRules};
use crate::config::Config;
use crate::control::{ControlStore, StoreConfig, StoreError};
use crate::engine::{Engine, EngineError};
use crate::gateway::Gateway;
use crate::lessons::{Course, LessonError};
use crate::metrics::Metrics;
use crate::sandbox::per_minute::PerMinute;
use crate::sandbox::{SandboxError, SandboxPool, SandboxSpec};
use crate::session::SessionRegistry;
use crate::static_json::CourseJson;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub course: Arc<Course>,
    /// The course's JSON answers, encoded once.
    pub course_json: Arc<CourseJson>,
    pub dist_dir: PathBuf,
    pub catalog: Arc<CommandCatalog>,
    pub sessions: Arc<SessionRegistry>,
    pub gateway: Arc<Gateway>,
    pub metrics: Arc<Metrics>,
    pub control: Arc<ControlStore>,
    pub grade_throttle: Arc<crate::grading::throttle::Throttle>,
    /// The instructor's secret (`--instructor-token` or a random one).
    pub instructor: Arc<InstructorKey>,
    pub rooms: Arc<RoomRules>,
    /// How fast one address may create learners.
    pub newcomers: Arc<Newcomers>,
    /// The live side of every room with pages open (follow-me, the demo
    /// console, scenarios).
    pub classrooms: Arc<crate::live::Classrooms>,
    /// This node among the nodes sharing `--control-url`; none for a
    /// single server.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Where the server was told to listen: a join link's origin when a
    /// request carries no usable Host header.
    pub listen: std::net::SocketAddr,
}

/// New learners per minute per client address (`--learners-per-min-per-ip`):
/// each is a record in the shared store, so one stranger must not be able
/// to create them without end.
#[derive(Default)]
pub struct Newcomers {
    pub per_min: u32,
    pub budget: PerMinute,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("broken lesson, refusing to start: {0}")]
    Lessons(#[from] LessonError),
    #[error("the engine does not start as a sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("the course does not encode as JSON: {0}")]
    Encode(#[from] std::io::Error),
    #[error("no randomness for the instructor token: {0}")]
    Random(String),
}

impl AppState {
    /// Finds the engine, loads the whole course, learns the engine's
    /// commands and starts the warm pool; fails on anything broken.
    pub async fn build(config: &Config) -> Result<AppState, StartupError> {
        let engine = Arc::new(Engine::discover(&config.engine_dir)?);
        let course = Course::load(&config.lessons_dir)?;
        let course_json = CourseJson::encode(&course, &engine)?;
        let control = ControlStore::open(StoreConfig {
            engine_server: engine.server.clone(),
            data_dir: config.data_dir.clone(),
            url: config.control_url.clone(),
            confirm_ms: config.store_confirm_ms,
            learner_ttl: std::time::Duration::from_secs(config.learner_idle_days * 24 * 60 * 60),
            fsync: config.control_fsync.as_str(),
        })
        .await?;
        let cluster = crate::cluster::Cluster::join(config, control.clone()).await?;
        // Every node must take the same instructor link: with no token
        // given, the first node's is shared through the store.
        let shared_token = match (&config.instructor_token, &cluster) {
            (None, Some(cluster)) => Some(cluster.instructor_token().await?),
            _ => None,
        };
        let instructor = InstructorKey::new(
            config
                .instructor_token
                .as_deref()
                .or(shared_token.as_deref()),
        )
        .map_err(|e| StartupError::Random(e.to_string()))?;
        crate::sandbox::sweep_stale_roots(&config.run_parent());
        let run_root = config.sandbox_root();
        let catalog = CommandCatalog::probe(&engine, &config.limits, &run_root).await?;
        let pool = SandboxPool::new(SandboxSpec {
            engine: engine.clone(),
            limits: config.limits.clone(),
            acl_rules: allowlist::acl_rules(&|name| catalog.has(name)),
            run_root,
        });
        pool.start_refilling();
        let sessions = SessionRegistry::new(pool);
        sessions.start_reaper();
        let metrics = Arc::new(Metrics::default());
        let gateway = Arc::new(Gateway::new(&catalog, metrics.clone()));
        Ok(AppState {
            engine,
            course: Arc::new(course),
            course_json: Arc::new(course_json),
            dist_dir: config.dist_dir.clone(),
            catalog: Arc::new(catalog),
            sessions,
            gateway,
            metrics,
            control,
            grade_throttle: Arc::default(),
            instructor: Arc::new(instructor),
            rooms: Arc::new(RoomRules::from_config(config)),
            newcomers: Arc::new(Newcomers {
                per_min: config.learners_per_min_per_ip,
                budget: PerMinute::default(),
            }),
            classrooms: Arc::default(),
            cluster,
            listen: config.addr,
        })
    }

    /// Ends every sandbox (sessions and warm pool) and removes their
    /// now-empty parent folder.
    pub async fn shutdown(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.leave().await;
        }
        self.sessions.shutdown().await;
        self.control.shutdown().await;
        let _ = std::fs::remove_dir(&self.sessions.pool().spec().run_root);
    }
}
