//! Shared test support: `TestApp` runs the real router on a random port with
//! the real engine (HTTP calls and a WebSocket client, `WsClient`);
//! `TestRedis` starts the engine on a private unix socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use backend::config::Config;
use backend::engine::Engine;
use backend::{router, AppState};
use clap::Parser;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("backend/ sits inside the workspace")
        .to_path_buf()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The instructor token every `default_config()` app is started with.
pub const INSTRUCTOR_TOKEN: &str = "test-instructor-token-0123456789abcdef";

/// The configuration the app would get from `redis-tutor` in the workspace
/// root with no flags, but on a random port.
pub fn default_config() -> Config {
    let root = workspace_root();
    let mut config = Config::try_parse_from([
        "redis-tutor",
        "--addr",
        "127.0.0.1:0",
        "--instructor-token",
        INSTRUCTOR_TOKEN,
    ])
    .expect("default flags parse");
    config.engine_dir = root.join(&config.engine_dir);
    config.lessons_dir = root.join(&config.lessons_dir);
    config.dist_dir = root.join(&config.dist_dir);
    // Each app its own control store, never the repository's `.data/`.
    config.data_dir = scratch_dir("data");
    config
}

/// A fresh folder under the system temp dir that outlives the test (the
/// control store in it stops when the test's thread ends).
pub fn scratch_dir(what: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("redis-tutor-test-{what}-"))
        .tempdir()
        .expect("a temp dir")
        .keep()
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::with_config(default_config()).await
    }

    /// An app whose limits are changed by `tune` (for example a shorter
    /// command deadline, so runaway-script cases finish quickly).
    pub async fn with_limits(tune: impl FnOnce(&mut backend::limits::SandboxLimits)) -> TestApp {
        let mut config = default_config();
        tune(&mut config.limits);
        Self::with_config(config).await
    }

    pub async fn with_config(config: Config) -> TestApp {
        let state = AppState::build(&config).await.expect("app state builds");
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .expect("bind a random port");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        // Served as production serves it: header and body deadlines, the
        // JSON error shape for the framework's own refusals.
        let (app, limits) = (router(state.clone()), config.limits.clone());
        let server = tokio::spawn(async move {
            backend::http::serve(listener, app, &limits, std::future::pending())
                .await
                .expect("server runs");
        });
        TestApp {
            base: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            _server: server,
        }
    }

    /// `POST /api/sessions` → the new session's id.
    pub async fn new_session(&self) -> String {
        let response = self
            .http
            .post(format!("{}/api/sessions", self.base))
            .send()
            .await
            .expect("request reaches the test server");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let created: protocol::SessionCreated = response.json().await.expect("session JSON");
        created.session
    }

    /// A new session for a new anonymous learner: (session, learner token).
    pub async fn new_learner_session(&self) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/api/sessions", self.base))
            .send()
            .await
            .expect("request reaches the test server");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let created: protocol::SessionCreated = response.json().await.expect("session JSON");
        (
            created.session,
            created.learner_token.expect("an anonymous learner's token"),
        )
    }

    /// A new session and a second connection to its sandbox, as the chart
    /// simulators get one.
    pub async fn session_with_connection(&self) -> (String, redis::aio::MultiplexedConnection) {
        let id = self.new_session().await;
        let session = self.state.sessions.get(&id).expect("the session exists");
        let conn = session
            .sandbox_connection()
            .await
            .expect("a connection to the sandbox");
        (id, conn)
    }

    /// `POST /api/exec` as `session`; the raw response.
    pub async fn exec_raw(&self, session: &str, line: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/exec", self.base))
            .bearer_auth(session)
            .json(&protocol::ExecRequest { line: line.into() })
            .send()
            .await
            .expect("request reaches the test server")
    }

    /// `POST /api/exec` that must succeed (200), even if Redis answered an error.
    pub async fn exec(&self, session: &str, line: &str) -> protocol::ExecResponse {
        let response = self.exec_raw(session, line).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, reqwest::StatusCode::OK, "{line}: {body}");
        serde_json::from_str(&body).expect("ExecResponse JSON")
    }

    /// `POST /api/exec` that must be refused: (status, error code, message).
    pub async fn exec_refused(&self, session: &str, line: &str) -> (u16, String, String) {
        let response = self.exec_raw(session, line).await;
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert!(
            (400..600).contains(&status),
            "{line}: expected a refusal, got {status} {body}"
        );
        let err: protocol::ApiError = serde_json::from_str(&body).expect("ApiError JSON");
        (status, err.error.code.to_string(), err.error.message)
    }

    /// `method path` as `session` (or any bearer), with no body.
    async fn send_as(
        &self,
        method: reqwest::Method,
        session: &str,
        path: &str,
    ) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(session)
            .send()
            .await
            .expect("request reaches the test server")
    }

    /// `GET path` as `session` (or any bearer).
    pub async fn get_as(&self, session: &str, path: &str) -> reqwest::Response {
        self.send_as(reqwest::Method::GET, session, path).await
    }

    /// `POST path` as `session`, with no body.
    pub async fn post_as(&self, session: &str, path: &str) -> reqwest::Response {
        self.send_as(reqwest::Method::POST, session, path).await
    }

    /// `POST /api/sessions/reset` as `session`: a fresh sandbox.
    pub async fn reset(&self, session: &str) -> reqwest::Response {
        self.post_as(session, "/api/sessions/reset").await
    }

    /// `DELETE /api/sessions` as `session`: the session ends.
    pub async fn delete(&self, session: &str) -> reqwest::Response {
        self.http
            .delete(format!("{}/api/sessions", self.base))
            .bearer_auth(session)
            .send()
            .await
            .expect("request reaches the test server")
    }

    /// `POST /api/lessons/<slug>/tasks/<n>/check` as `session`.
    pub async fn check_task(&self, session: &str, slug: &str, n: usize) -> protocol::TaskResult {
        let response = self
            .post_as(session, &format!("/api/lessons/{slug}/tasks/{n}/check"))
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        response.json().await.expect("TaskResult JSON")
    }

    /// `GET /ws?session=<session>` as a URL.
    pub fn ws_url(&self, session: &str) -> String {
        format!(
            "{}/ws?session={session}",
            self.base.replace("http://", "ws://")
        )
    }

    /// The console's WebSocket for `session`, past its opening `SessionState`.
    pub async fn ws(&self, session: &str) -> ws::WsClient {
        ws::WsClient::connect(&self.ws_url(session)).await
    }

    /// A request to `path` with the instructor's bearer token.
    pub fn as_instructor(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(INSTRUCTOR_TOKEN)
    }

    /// `GET path` with `token` as the bearer, its JSON answer read as `T`.
    pub async fn get_json_as<T: serde::de::DeserializeOwned>(&self, token: &str, path: &str) -> T {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request reaches the test server")
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not the expected JSON: {e}"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request reaches the test server")
    }
}

/// The engine on a private unix socket, killed on drop: the smallest real
/// Redis a test can talk to.
pub struct TestRedis {
    pub socket: PathBuf,
    _child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl TestRedis {
    pub async fn start(engine: &Engine) -> TestRedis {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("redis.sock");
        let child = tokio::process::Command::new(&engine.server)
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir.path())
            .args(engine.loadmodule_args())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("engine starts");
        let redis = TestRedis {
            socket,
            _child: child,
            dir,
        };
        for _ in 0..200 {
            if let Ok(mut con) = redis.connect().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut con)
                    .await
                    .is_ok()
                {
                    return redis;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("engine never answered PING on {}", redis.socket.display());
    }

    /// The server's `dir`: where a SAVE would put its dump.rdb.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn connect(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::open(format!("unix://{}", self.socket.display()))?;
        client.get_multiplexed_async_connection().await
    }
}

pub mod browser;
pub mod external_redis;
pub mod grading;
pub mod nodes;
pub mod pages;
pub mod room_ws;
pub mod server;
pub mod ws;
