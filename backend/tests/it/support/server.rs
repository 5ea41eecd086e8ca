//! The real `redis-tutor` binary as a child process, for tests that must
//! kill it: its own port (`--addr 127.0.0.1:0`, read back from its
//! "is up" line), its own data and run dirs, its output kept for the
//! failure message; and the /proc look-ups that find its control store.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::{Health, LearnerCreated, LessonPage, LessonSummary, Me, SessionCreated};
use reqwest::StatusCode;
use serde_json::Value;

use super::{fixture, workspace_root};

/// Long enough for a cold start on a busy two-core machine (the course is
/// validated and the command catalog read before the server listens).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Per-request deadline: an answer that takes longer is a hang, not an
/// answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A temp folder holding a server's `data/` and `run/`; kept by the test
/// across restarts so the next start finds the same data.
pub struct ServerDirs {
    _root: tempfile::TempDir,
    pub data: PathBuf,
    pub run: PathBuf,
}

impl ServerDirs {
    pub fn new() -> ServerDirs {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("data");
        let run = root.path().join("run");
        std::fs::create_dir_all(&run).expect("run dir");
        ServerDirs {
            data,
            run,
            _root: root,
        }
    }

    /// Options for an embedded control store in `data/`.
    pub fn options(&self) -> ServerOptions {
        ServerOptions {
            data_dir: self.data.clone(),
            run_dir: self.run.clone(),
            control_url: None,
            extra: Vec::new(),
            wrapper: Vec::new(),
        }
    }
}

/// How to start one server.
#[derive(Clone)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
    /// `--control-url`: an external store instead of the embedded one.
    pub control_url: Option<String>,
    /// More flags, for example the per-IP caps a load test must raise.
    pub extra: Vec<String>,
    /// A program (and its arguments) to run the server through, such as
    /// `unshare -m sh -c '… exec "$0" "$@"'`; it must `exec` the server so
    /// the child's pid stays the server's.
    pub wrapper: Vec<String>,
}

impl ServerOptions {
    pub fn flag(mut self, flag: &str, value: &str) -> ServerOptions {
        self.extra.push(flag.to_owned());
        self.extra.push(value.to_owned());
        self
    }

    fn command(&self) -> Command {
        let binary = env!("CARGO_BIN_EXE_redis-tutor");
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let root = workspace_root();
        command
            .current_dir(&root)
            .args(["--addr", "127.0.0.1:0"])
            .arg("--engine-dir")
            .arg(root.join(".engine"))
            .arg("--lessons-dir")
            .arg(root.join("lessons"))
            .arg("--dist-dir")
            .arg(fixture("spa-dist"))
            .arg("--run-dir")
            .arg(&self.run_dir)
            .arg("--data-dir")
            .arg(&self.data_dir)
            // A small warm pool: these tests start few sessions, and the
            // machine has two cores.
            .args(["--pool-size", "1"]);
        if let Some(url) = &self.control_url {
            command.arg("--control-url").arg(url);
        }
        command.args(&self.extra);
        // Nothing from the developer's shell may redirect the server.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("REDIS_TUTOR_") {
                command.env_remove(key);
            }
        }
        command
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// Everything the process printed, stdout and stderr interleaved by line.
#[derive(Clone, Default)]
pub struct OutputLog(Arc<Mutex<String>>);

impl OutputLog {
    fn follow(&self, stream: impl Read + Send + 'static) {
        let log = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut text = log.0.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// A running `redis-tutor`. Dropping it stops it as an operator would
/// (SIGTERM, then SIGKILL after a grace period).
pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub log: OutputLog,
}

/// A server that exited on its own: its status and what it printed.
pub struct Exited {
    pub status: ExitStatus,
    pub output: String,
}

fn spawn(options: &ServerOptions) -> (Child, OutputLog) {
    let mut child = options.command().spawn().expect("redis-tutor starts");
    let log = OutputLog::default();
    log.follow(child.stdout.take().expect("piped stdout"));
    log.follow(child.stderr.take().expect("piped stderr"));
    (child, log)
}

/// Runs a server that is expected to refuse to start; panics if it is
/// still up after `START_TIMEOUT`.
pub async fn run_to_exit(options: &ServerOptions) -> Exited {
    let (mut child, log) = spawn(options);
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            // The output threads finish when the pipes close.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Exited {
                status,
                output: log.text(),
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server was expected to exit but is still running:\n{}",
                log.text()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl ServerProcess {
    /// Starts the server and waits until it listens and `/healthz` reports
    /// its control store `ok`.
    pub async fn start(options: &ServerOptions) -> ServerProcess {
        let (mut child, log) = spawn(options);
        let deadline = Instant::now() + START_TIMEOUT;
        let base = loop {
            if let Some(addr) = log
                .text()
                .lines()
                .find_map(|l| l.split("redis-tutor is up: ").nth(1).map(str::to_owned))
            {
                break addr.trim().to_owned();
            }
            if let Some(status) = child.try_wait().expect("try_wait") {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("the server exited at start-up ({status}):\n{}", log.text());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server never said it was up:\n{}", log.text());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let server = ServerProcess {
            child,
            base,
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("HTTP client"),
            data_dir: options.data_dir.clone(),
            log,
        };
        server
            .wait_for_health("ok", Duration::from_secs(30))
            .await
            .unwrap_or_else(|last| {
                panic!(
                    "/healthz never reported ok (last: {last}):\n{}",
                    server.log.text()
                )
            });
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Still running (not exited, not a zombie waiting to be reaped).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// SIGKILL, as the OOM killer or a power cut would; reaps the process.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// SIGTERM, as systemd or Ctrl-C would, and waits for the exit.
    pub async fn stop(&mut self) -> ExitStatus {
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                self.kill9();
                panic!(
                    "the server did not stop within 20 s of SIGTERM:\n{}",
                    self.log.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn health(&self) -> Result<Health, String> {
        // JSON on request; a probe without an Accept header gets plain text.
        let response = self
            .http
            .get(format!("{}/healthz", self.base))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if status != StatusCode::OK {
            return Err(format!("{status} {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
    }

    /// Polls `/healthz` until `control_store` is `want`; the last answer
    /// seen otherwise.
    pub async fn wait_for_health(&self, want: &str, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match self.health().await {
                Ok(h) if h.control_store == want => return Ok(()),
                Ok(h) => last = format!("{h:?}"),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(last)
    }

    /// The one control redis-server of this server: a child of it, working
    /// in its data dir. Waits for it to appear (it may be restarting).
    pub async fn control_pid(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = control_processes(&self.data_dir);
            let mine: Vec<u32> = found
                .iter()
                .filter(|p| p.ppid == self.pid())
                .map(|p| p.pid)
                .collect();
            if mine.len() == 1 {
                return mine[0];
            }
            if Instant::now() > deadline {
                panic!(
                    "expected exactly one control store child of server {}, found {found:?}:\n{}",
                    self.pid(),
                    self.log.text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/learners` → 201, the new learner.
    pub async fn new_learner(&self, body: Value) -> LearnerCreated {
        let response = self
            .http
            .post(self.url("/api/learners"))
            .json(&body)
            .send()
            .await
            .expect("POST /api/learners");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::CREATED, "POST /api/learners: {text}");
        serde_json::from_str(&text).expect("LearnerCreated JSON")
    }

    /// `POST /api/sessions`, as `learner` or anonymous → 201.
    pub async fn new_session(&self, learner: Option<&str>) -> SessionCreated {
        let mut request = self.http.post(self.url("/api/sessions"));
        if let Some(token) = learner {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /api/sessions");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::CREATED, "POST /api/sessions: {text}");
        serde_json::from_str(&text).expect("SessionCreated JSON")
    }

    /// `GET /api/me` as `token`: the raw answer.
    pub async fn me_raw(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/me")
    }

    /// `GET /api/me` as `token`, which must succeed.
    pub async fn me(&self, token: &str) -> Me {
        let response = self.me_raw(token).await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "GET /api/me: {text}");
        serde_json::from_str(&text).expect("Me JSON")
    }

    /// `POST /api/me/progress` as `token`: the raw answer (or the transport
    /// error, when the server is gone).
    pub async fn progress(
        &self,
        token: &str,
        lesson: &str,
        step: &str,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url("/api/me/progress"))
            .bearer_auth(token)
            .json(&protocol::ProgressStep {
                lesson: lesson.into(),
                step: step.into(),
            })
            .send()
            .await
    }

    /// `PATCH /api/me` `{"name": …}` as `token`: the raw answer.
    pub async fn rename(&self, token: &str, name: Value) -> reqwest::Response {
        self.http
            .patch(self.url("/api/me"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .expect("PATCH /api/me")
    }

    /// `POST /api/lessons/<slug>/tasks/<n>/check` as `session`.
    pub async fn check_task(
        &self,
        session: &str,
        slug: &str,
        task: usize,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url(&format!("/api/lessons/{slug}/tasks/{task}/check")))
            .bearer_auth(session)
            .send()
            .await
    }

    /// `POST /api/exec` `line` as `session`: the raw answer.
    pub async fn exec(&self, session: &str, line: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/exec"))
            .bearer_auth(session)
            .json(&protocol::ExecRequest { line: line.into() })
            .send()
            .await
            .expect("POST /api/exec")
    }

    /// The first step of the first lesson that has steps: (slug, anchor).
    pub async fn first_step(&self) -> (String, String) {
        let page = self
            .lessons()
            .await
            .into_iter()
            .find(|p| !p.steps.is_empty())
            .expect("a lesson with steps");
        (page.summary.slug, page.steps[0].clone())
    }

    /// Every lesson page of the course, in order.
    pub async fn lessons(&self) -> Vec<LessonPage> {
        let list: Vec<LessonSummary> = self
            .http
            .get(self.url("/api/lessons"))
            .send()
            .await
            .expect("GET /api/lessons")
            .json()
            .await
            .expect("lesson list JSON");
        let mut pages = Vec::new();
        for lesson in list {
            let page: LessonPage = self
                .http
                .get(self.url(&format!("/api/lessons/{}", lesson.slug)))
                .send()
                .await
                .expect("GET /api/lessons/<slug>")
                .json()
                .await
                .expect("lesson page JSON");
            pages.push(page);
        }
        pages
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends signal `name` (`KILL`, `TERM`, `STOP`, `CONT`) to `pid` with
/// kill(1), as an operator would; a pid already gone is not an error.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// One process from /proc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    /// The kernel's state letter (`Z`: a zombie).
    pub state: char,
    pub cwd: Option<PathBuf>,
    pub cmdline: String,
}

/// `pid`'s /proc entry, if it exists.
pub fn proc_info(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid …: comm may hold spaces and parentheses.
    let close = stat.rfind(')')?;
    let mut rest = stat.get(close + 2..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            String::from_utf8_lossy(&raw)
                .replace('\0', " ")
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    Some(ProcInfo {
        pid,
        ppid,
        state,
        cwd,
        cmdline,
    })
}

/// Alive: present in /proc and not a zombie.
pub fn alive(pid: u32) -> bool {
    proc_info(pid).is_some_and(|p| p.state != 'Z')
}

/// Every live redis-server on the host that works in `data_dir` (its
/// current directory is the data dir or inside it: redis-server chdirs to
/// its `dir`), whoever its parent is, so an orphan is found too.
pub fn control_processes(data_dir: &Path) -> Vec<ProcInfo> {
    let data_dir = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Some(info) = proc_info(pid) else { continue };
        if info.state == 'Z' || !info.cmdline.contains("redis-server") {
            continue;
        }
        if info
            .cwd
            .as_deref()
            .is_some_and(|c| c.starts_with(&data_dir))
        {
            found.push(info);
        }
    }
    found
}

/// Polls `check` every 20 ms for up to `within`; whether it came true.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A response's `Content-Type`, or "" without one.
pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `error.code` of a JSON error body, if it is one.
pub fn error_code(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["error"]["code"].as_str().map(str::to_owned)
}

/// A port nobody listened on a moment ago (for a peer that cannot report
/// the port it bound, such as a plain redis-server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a random port")
        .port()
}

/// A wrapper that runs the server in a private mount namespace after
/// `mount` (a shell command using `$0` for `dir`), so a test can give it
/// a read-only or tiny disk nobody else sees; `None` where `unshare -m` is
/// not permitted (then the test says it skipped).
pub fn in_private_mount(mount: &str, dir: &std::path::Path) -> Option<Vec<String>> {
    let probe = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", mount])
        .arg(dir)
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: `unshare -m` with `{mount}` is not permitted here");
        return None;
    }
    let quoted = format!("'{}'", dir.display());
    Some(vec![
        "unshare".into(),
        "-m".into(),
        "sh".into(),
        "-c".into(),
        format!("{} && exec \"$@\"", mount.replace("\"$0\"", &quoted)),
        "sh".into(),
    ])
}
