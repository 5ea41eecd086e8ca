//! The real `redis-tutor` as the load generator's child process: its own
//! temp data and run dirs, the per-address caps raised so one machine can
//! play a whole class, and the faults: `kill9` ends it at once, `restart`
//! starts it again on the same data dir and port (learners keep their
//! tokens and progress), `stop` ends it the polite way. Dropping it stops
//! it, so no run leaves a server behind, on error too.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use protocol::Health;

/// A cold start validates the whole course before listening.
const UP_WITHIN: Duration = Duration::from_secs(60);
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);
/// How long a polite stop (SIGTERM: every sandbox ended) may take.
const STOP_WITHIN: Duration = Duration::from_secs(20);
/// Lines of the server's output kept for an error message.
const TAIL_LINES: usize = 40;

/// Where the server binary and the course are, and how it is tuned.
pub struct Launch {
    pub binary: PathBuf,
    /// The workspace: `lessons/`, `.engine/`, `dist/`.
    pub root: PathBuf,
    /// Flags on top of the data and run dirs (the raised caps).
    pub flags: Vec<String>,
}

/// The server's output: the last lines, and its address once it said it
/// is up.
#[derive(Default)]
struct Output {
    tail: VecDeque<String>,
    up: Option<String>,
}

#[derive(Clone, Default)]
struct OutputLog(Arc<Mutex<Output>>);

impl OutputLog {
    /// Drains `stream` on a thread of its own: a full pipe would stall the
    /// server.
    fn follow(&self, stream: impl Read + Send + 'static) {
        let log = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut output = log.0.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(addr) = line.split("redis-tutor is up: ").nth(1) {
                    output.up = Some(addr.trim().to_owned());
                }
                if output.tail.len() == TAIL_LINES {
                    output.tail.pop_front();
                }
                output.tail.push_back(line);
            }
        });
    }

    fn up(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).up.clone()
    }

    fn tail(&self) -> String {
        let output = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let lines: Vec<&str> = output.tail.iter().map(String::as_str).collect();
        lines.join("\n")
    }
}

pub struct ServerChild {
    launch: Launch,
    child: Child,
    /// `http://127.0.0.1:PORT`, kept across restarts.
    pub base: String,
    log: OutputLog,
    dirs: tempfile::TempDir,
}

/// `path` must exist, or the run stops here saying what to do.
fn must_exist(path: &Path, hint: &str) -> anyhow::Result<()> {
    if !path.exists() {
        bail!("{} does not exist: {hint}", path.display());
    }
    Ok(())
}

impl ServerChild {
    /// Starts the server on a free port and waits until `/healthz` says
    /// its control store is `ok`.
    pub async fn start(launch: Launch, http: &reqwest::Client) -> anyhow::Result<ServerChild> {
        must_exist(
            &launch.binary,
            "build both binaries with `cargo build --release -p backend --bins`, or pass --server",
        )?;
        must_exist(
            &launch.root.join("lessons/SUMMARY.md"),
            "pass --root <the redis-tutor workspace>",
        )?;
        let dirs = tempfile::Builder::new()
            .prefix("redis-tutor-load-")
            .tempdir()
            .context("create a temp dir for the server's data")?;
        std::fs::create_dir_all(dirs.path().join("run")).context("create the run dir")?;
        let log = OutputLog::default();
        let child = spawn(&launch, dirs.path(), "127.0.0.1:0", &log)?;
        let mut server = ServerChild {
            launch,
            child,
            base: String::new(),
            log,
            dirs,
        };
        server.base = server.wait_until_up().await?;
        server.wait_until_healthy(http).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The parent of every sandbox root (`server-<pid>/sandbox-*`).
    pub fn run_dir(&self) -> PathBuf {
        self.dirs.path().join("run")
    }

    /// SIGKILL, and reap it: no clean-up of its own happens.
    pub fn kill9(&mut self) {
        backend::signal::send(self.pid(), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Starts it again on the same data dir, run dir and port, and waits
    /// until it is healthy.
    pub async fn restart(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let addr = self.base.trim_start_matches("http://").to_owned();
        self.log = OutputLog::default();
        self.child = spawn(&self.launch, self.dirs.path(), &addr, &self.log)?;
        self.base = self.wait_until_up().await?;
        self.wait_until_healthy(http).await
    }

    /// SIGTERM and wait: the server ends its sandboxes and control store.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        backend::signal::send(self.pid(), libc::SIGTERM);
        let deadline = Instant::now() + STOP_WITHIN;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// The server's state and last output, for an error message.
    pub fn diagnosis(&mut self) -> String {
        let state = match self.child.try_wait() {
            Ok(Some(status)) => format!("the server exited ({status})"),
            _ => format!("the server (pid {}) is still running", self.pid()),
        };
        format!("{state}; its last output:\n{}", self.log.tail())
    }

    async fn wait_until_up(&mut self) -> anyhow::Result<String> {
        let deadline = Instant::now() + UP_WITHIN;
        loop {
            if let Some(base) = self.log.up() {
                return Ok(base);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the output threads take the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                bail!(
                    "the server exited at start-up ({status}); its last output:\n{}",
                    self.log.tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the server did not print `redis-tutor is up` within {} s; its last output:\n{}",
                    UP_WITHIN.as_secs(),
                    self.log.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_until_healthy(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + HEALTHY_WITHIN;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match health(http, &self.url("/healthz")).await {
                Ok(health) if health.control_store == "ok" => return Ok(()),
                Ok(health) => last = format!("{health:?}"),
                Err(e) => last = e,
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "the server exited before /healthz said ok ({status}); its last output:\n{}",
                    self.log.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let diagnosis = self.diagnosis();
        bail!(
            "{} /healthz never reported the control store ok within {} s (last answer: {last}); {diagnosis}",
            self.base,
            HEALTHY_WITHIN.as_secs(),
        )
    }
}

/// The server process, its output drained into `log`.
fn spawn(launch: &Launch, dir: &Path, addr: &str, log: &OutputLog) -> anyhow::Result<Child> {
    let mut command = Command::new(&launch.binary);
    command
        .current_dir(dir)
        .args(["--addr", addr])
        .arg("--engine-dir")
        .arg(launch.root.join(".engine"))
        .arg("--lessons-dir")
        .arg(launch.root.join("lessons"))
        .arg("--dist-dir")
        .arg(launch.root.join("dist"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--run-dir")
        .arg(dir.join("run"))
        .args(&launch.flags);
    // Nothing from the caller's shell may redirect or re-tune it, or bury
    // its start-up error under a backtrace.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("REDIS_TUTOR_")
            || ["RUST_LOG", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"].contains(&&*key_text)
        {
            command.env_remove(key);
        }
    }
    let mut child = command
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("run {}", launch.binary.display()))?;
    if let Some(out) = child.stdout.take() {
        log.follow(out);
    }
    if let Some(err) = child.stderr.take() {
        log.follow(err);
    }
    Ok(child)
}

/// `GET /healthz` as JSON.
pub async fn health(http: &reqwest::Client, url: &str) -> Result<Health, String> {
    let response = http
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{e:#}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.stop();
    }
}
