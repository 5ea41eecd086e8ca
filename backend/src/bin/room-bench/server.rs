//! The real `redis-tutor` as the benchmark's child process: its own temp
//! data and run dirs (it also works in the temp dir, so nothing lands in
//! the repository), a fixed instructor token, the per-address caps raised
//! for one machine playing a whole class. Dropping it stops it (SIGTERM,
//! then SIGKILL), so no run leaves a server behind, on error too.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use protocol::Health;

/// The instructor's bearer for the benchmark's server.
pub const INSTRUCTOR_TOKEN: &str = "room-bench-instructor-token-0123456789abcdef";

/// A cold start validates the whole course before listening.
const UP_WITHIN: Duration = Duration::from_secs(60);
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);
/// Lines of the server's output kept for an error message.
const TAIL_LINES: usize = 40;

/// Where the server binary and the course are.
pub struct Launch {
    pub binary: PathBuf,
    /// The workspace: `lessons/`, `.engine/`, `dist/`.
    pub root: PathBuf,
    pub learners: usize,
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
    child: Child,
    pub base: String,
    log: OutputLog,
    _dirs: tempfile::TempDir,
}

/// `path` must exist, or the run stops here saying what to do.
fn must_exist(path: &Path, hint: &str) -> anyhow::Result<()> {
    if !path.exists() {
        bail!("{} does not exist: {hint}", path.display());
    }
    Ok(())
}

impl ServerChild {
    /// Starts the server and waits until it listens and `/healthz` says
    /// its control store is `ok`.
    pub async fn start(launch: &Launch, http: &reqwest::Client) -> anyhow::Result<ServerChild> {
        must_exist(
            &launch.binary,
            "build both binaries with `cargo build --release -p backend --bins`, or pass --server",
        )?;
        must_exist(
            &launch.root.join("lessons/SUMMARY.md"),
            "pass --root <the redis-tutor workspace>",
        )?;
        let dirs = tempfile::Builder::new()
            .prefix("redis-tutor-room-bench-")
            .tempdir()
            .context("create a temp dir for the server's data")?;
        let run = dirs.path().join("run");
        std::fs::create_dir_all(&run).context("create the server's run dir")?;
        let caps = launch.learners.max(1).to_string();
        let joins = (launch.learners * 2 + 10).to_string();
        let mut command = Command::new(&launch.binary);
        command
            .current_dir(dirs.path())
            .args(["--addr", "127.0.0.1:0"])
            .arg("--engine-dir")
            .arg(launch.root.join(".engine"))
            .arg("--lessons-dir")
            .arg(launch.root.join("lessons"))
            .arg("--dist-dir")
            .arg(launch.root.join("dist"))
            .arg("--data-dir")
            .arg(dirs.path().join("data"))
            .arg("--run-dir")
            .arg(&run)
            .args(["--instructor-token", INSTRUCTOR_TOKEN])
            .args(["--room-capacity", &caps])
            .args(["--joins-per-min-per-ip", &joins])
            .args(["--learners-per-min-per-ip", &joins])
            .args(["--sandboxes-per-ip", "16"])
            .args(["--spawns-per-min-per-ip", "600"]);
        // Nothing from the caller's shell may redirect or re-tune it, or
        // bury its start-up error under a backtrace.
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
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("run {}", launch.binary.display()))?;
        let log = OutputLog::default();
        if let Some(out) = child.stdout.take() {
            log.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            log.follow(err);
        }
        let mut server = ServerChild {
            child,
            base: String::new(),
            log,
            _dirs: dirs,
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
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn health(&self, http: &reqwest::Client) -> Result<Health, String> {
        let response = http
            .get(self.url("/healthz"))
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

    async fn wait_until_healthy(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + HEALTHY_WITHIN;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match self.health(http).await {
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
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let diagnosis = self.diagnosis();
        bail!(
            "{} /healthz never reported the control store ok within {} s (last answer: {last}); {diagnosis}",
            self.base,
            HEALTHY_WITHIN.as_secs(),
        )
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM: the server ends its sandboxes and control store itself.
        backend::signal::send(self.pid(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
