//! All server configuration, read in one place: clap flags with env
//! fallbacks, and the named defaults they fall back to.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::limits::SandboxLimits;

/// Where the server listens unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The engine the project's setup provisions (`make run` / `make test`).
pub const DEFAULT_ENGINE_DIR: &str = ".engine";
/// The course content.
pub const DEFAULT_LESSONS_DIR: &str = "lessons";
/// Trunk's output: the browser app.
pub const DEFAULT_DIST_DIR: &str = "dist";
/// Where the embedded control store keeps learners, progress and results.
pub const DEFAULT_DATA_DIR: &str = ".data";
/// Days an idle learner's data is kept before it expires.
pub const DEFAULT_LEARNER_IDLE_DAYS: u64 = 90;
/// How long one write may wait for its fsync to be confirmed, in ms.
pub const DEFAULT_STORE_CONFIRM_MS: u64 = 3_000;
/// How long a node's lease lives without a heartbeat, in ms: a node
/// killed with `-9` is forgotten this long after its last beat.
pub const DEFAULT_LEASE_MS: u64 = 2_000;
/// Hours a classroom room lives without activity before it ends by itself.
pub const DEFAULT_ROOM_IDLE_HOURS: u64 = 12;
/// Most learners in one room.
pub const DEFAULT_ROOM_CAPACITY: u32 = 200;
/// Learners created per minute per client address: a whole class (a room's
/// capacity) behind one address gets in at once, while one stranger cannot
/// fill the shared store with learners.
pub const DEFAULT_LEARNERS_PER_MIN_PER_IP: u32 = 200;
/// Attempts to join a room per minute per client address: with 31^6
/// (about 887 million) codes, guessing one is hopeless at this pace.
pub const DEFAULT_JOINS_PER_MIN_PER_IP: u32 = 10;
/// A learner present in a room with no new step for this long is marked
/// stuck on the class board.
pub const DEFAULT_STUCK_MINUTES: u64 = 10;
/// A learner with this many console errors in a row is marked stuck.
pub const DEFAULT_STUCK_ERRORS: u32 = 5;

/// redis-tutor: learn Redis for real-time AI, hands-on, against a real Redis of your own.
#[derive(Debug, Clone, Parser)]
#[command(name = "redis-tutor", version, about, long_about = None)]
pub struct Config {
    /// Address to serve HTTP and WebSocket on.
    #[arg(long, env = "REDIS_TUTOR_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Folder holding the provisioned engine: `bin/redis-server` and `lib/*.so`
    /// modules. When it has no `bin/redis-server`, `redis-server` on PATH is
    /// used instead, without modules.
    #[arg(long, env = "REDIS_TUTOR_ENGINE_DIR", default_value = DEFAULT_ENGINE_DIR)]
    pub engine_dir: PathBuf,

    /// Folder with `SUMMARY.md` and one markdown file per lesson.
    #[arg(long, env = "REDIS_TUTOR_LESSONS_DIR", default_value = DEFAULT_LESSONS_DIR)]
    pub lessons_dir: PathBuf,

    /// Folder with the built browser app (`trunk build` output); every
    /// unknown path falls back to its `index.html`.
    #[arg(long, env = "REDIS_TUTOR_DIST_DIR", default_value = DEFAULT_DIST_DIR)]
    pub dist_dir: PathBuf,

    /// Parent folder for the sandboxes' private run dirs (default: a
    /// `redis-tutor` folder in the system temp dir).
    #[arg(long, env = "REDIS_TUTOR_RUN_DIR")]
    pub run_dir: Option<PathBuf>,

    /// Folder where the embedded control store keeps its data (its AOF):
    /// learners, progress and results. Unused with `--control-url`.
    #[arg(long, env = "REDIS_TUTOR_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,

    /// A shared control store instead of the embedded one (`redis://` or
    /// `rediss://`, with its password): every node of a deployment points
    /// at the same one. It must run with `appendonly yes`.
    #[arg(long, env = "REDIS_TUTOR_CONTROL_URL")]
    pub control_url: Option<String>,

    /// This node's name among the nodes sharing `--control-url`
    /// (default: a random one per start). Unused without it.
    #[arg(long, env = "REDIS_TUTOR_NODE_ID")]
    pub node_id: Option<String>,

    /// The address other nodes reach this one at, e.g.
    /// `http://10.0.0.5:8080` (default: `http://` + `--addr`, with
    /// 127.0.0.1 for an unspecified address). Unused without `--control-url`.
    #[arg(long, env = "REDIS_TUTOR_ADVERTISE")]
    pub advertise: Option<String>,

    /// How long this node's lease lives without a heartbeat, in ms
    /// (beats come every quarter of it).
    #[arg(long, env = "REDIS_TUTOR_LEASE_MS", default_value_t = DEFAULT_LEASE_MS)]
    pub lease_ms: u64,

    /// When the embedded control store fsyncs its AOF. Every acknowledged
    /// write waits for its fsync (`WAITAOF`), so `always` (about 0.25 ms a
    /// write here) beats `everysec` (a write waits for the next once-a-second
    /// fsync: about 1 s); docs/benchmarks.md has the figures.
    #[arg(long, env = "REDIS_TUTOR_CONTROL_FSYNC", value_enum, default_value_t = ControlFsync::Always)]
    pub control_fsync: ControlFsync,

    /// Days an idle learner's data is kept before it expires.
    #[arg(long, env = "REDIS_TUTOR_LEARNER_IDLE_DAYS", default_value_t = DEFAULT_LEARNER_IDLE_DAYS)]
    pub learner_idle_days: u64,

    /// New learners per minute per client address (`POST /api/learners`;
    /// a first session without a token is paced as a new sandbox); then 429.
    #[arg(long, env = "REDIS_TUTOR_LEARNERS_PER_MIN_PER_IP", default_value_t = DEFAULT_LEARNERS_PER_MIN_PER_IP)]
    pub learners_per_min_per_ip: u32,

    /// How long one write may wait for the store to confirm its fsync
    /// (`WAITAOF`), in ms; past it the write answers 503.
    #[arg(long, env = "REDIS_TUTOR_STORE_CONFIRM_MS", default_value_t = DEFAULT_STORE_CONFIRM_MS)]
    pub store_confirm_ms: u64,

    /// The instructor's secret (the bearer for `/api/rooms`). Default:
    /// none given, so a random one (256 bits) is made at each start and
    /// printed in the instructor link; with `--control-url`, the first node
    /// makes it and every node shares it.
    #[arg(long, env = "REDIS_TUTOR_INSTRUCTOR_TOKEN", hide_env_values = true)]
    pub instructor_token: Option<String>,

    /// Hours a classroom room lives without activity before it ends by itself.
    #[arg(long, env = "REDIS_TUTOR_ROOM_IDLE_HOURS", default_value_t = DEFAULT_ROOM_IDLE_HOURS)]
    pub room_idle_hours: u64,

    /// Most learners in one room.
    #[arg(long, env = "REDIS_TUTOR_ROOM_CAPACITY", default_value_t = DEFAULT_ROOM_CAPACITY)]
    pub room_capacity: u32,

    /// Wrong room codes per minute per client address (then 429); right
    /// ones are never paced, so a class behind one address joins at once.
    #[arg(long, env = "REDIS_TUTOR_JOINS_PER_MIN_PER_IP", default_value_t = DEFAULT_JOINS_PER_MIN_PER_IP)]
    pub joins_per_min_per_ip: u32,

    /// Minutes without a new step before a present learner is marked
    /// stuck on the class board.
    #[arg(long, env = "REDIS_TUTOR_STUCK_MINUTES", default_value_t = DEFAULT_STUCK_MINUTES)]
    pub stuck_minutes: u64,

    /// Console errors in a row before a learner is marked stuck.
    #[arg(long, env = "REDIS_TUTOR_STUCK_ERRORS", default_value_t = DEFAULT_STUCK_ERRORS)]
    pub stuck_errors: u32,

    #[command(flatten)]
    pub limits: SandboxLimits,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How `redis-tutor grade` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The embedded control store's `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControlFsync {
    Everysec,
    Always,
}

impl ControlFsync {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlFsync::Everysec => "everysec",
            ControlFsync::Always => "always",
        }
    }
}

/// What to do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run every lesson's blocks and tasks in fresh sandboxes, as the test
    /// suite does, and report each problem with its file and line.
    CheckLessons {
        /// Check this lesson file on its own (it need not be in SUMMARY.md).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Grade the functions loaded in any Redis 7.2+ (yours, or a CI job's)
    /// against an exercise: writes only keys under a random prefix and
    /// deletes them afterwards; never flushes. Exits non-zero on a fail.
    Grade {
        /// The exercise id: feature-store, rate-limiter or recommendations.
        exercise: String,
        /// The Redis to grade, e.g. redis://127.0.0.1:6379 (with a password if it has one).
        #[arg(long)]
        redis_url: String,
        /// `text` (a line per check) or `json` (the report).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
}

impl Config {
    /// Where sandbox run dirs go; one sub-folder per server process so two
    /// servers on one host never share one.
    pub fn sandbox_root(&self) -> PathBuf {
        self.run_parent()
            .join(format!("server-{}", std::process::id()))
    }

    /// The URL other nodes reach this one at (`--advertise`, or `--addr`).
    pub fn advertised(&self) -> String {
        if let Some(url) = &self.advertise {
            return url.trim_end_matches('/').to_owned();
        }
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// The folder holding every server's sandbox root.
    pub fn run_parent(&self) -> PathBuf {
        self.run_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("redis-tutor"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::try_parse_from(["redis-tutor"]).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.engine_dir, PathBuf::from(DEFAULT_ENGINE_DIR));
        assert_eq!(config.lessons_dir, PathBuf::from(DEFAULT_LESSONS_DIR));
        assert_eq!(config.dist_dir, PathBuf::from(DEFAULT_DIST_DIR));
    }

    #[test]
    fn flags_override_defaults() {
        let config =
            Config::try_parse_from(["redis-tutor", "--addr", "127.0.0.1:0", "--dist-dir", "x"])
                .unwrap();
        assert_eq!(config.addr.port(), 0);
        assert_eq!(config.dist_dir, PathBuf::from("x"));
    }

    #[test]
    fn rejects_a_bad_address_with_a_clear_error() {
        let err = Config::try_parse_from(["redis-tutor", "--addr", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("--addr"), "{err}");
    }

    #[test]
    fn help_documents_every_flag() {
        let help = Config::command().render_long_help().to_string();
        for flag in [
            "--addr",
            "--engine-dir",
            "--lessons-dir",
            "--dist-dir",
            "--maxmemory-mb",
            "--pool-size",
            "--command-deadline-ms",
            "--memory-limit-mb",
            "--resets-per-min-per-ip",
            "--sockets-per-session",
            "--sockets-per-ip",
            "--header-timeout-ms",
            "--body-timeout-ms",
            "--sandbox-clients",
            "--instructor-token",
            "--room-idle-hours",
            "--stuck-minutes",
            "--stuck-errors",
        ] {
            assert!(help.contains(flag), "{flag} missing from --help");
        }
    }
}
