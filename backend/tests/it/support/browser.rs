//! Headless Chromium (Debian's) driven through chromedriver with fantoccini.
//! One `Browser` per test: its own chromedriver, its own profile dir.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::workspace_root;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(20);

pub struct Browser {
    pub client: Client,
    _driver: tokio::process::Child,
    profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    pub async fn launch() -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).is_file(),
            "{CHROMEDRIVER} missing: run `make test` (setup installs chromium-driver)"
        );
        let port = free_port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");

        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,860",
                    "--hide-scrollbars", "--force-color-profile=srgb", "--force-dark-mode",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                        profile,
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session via chromedriver: {last_error}");
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` never appeared: {e}"))
    }

    /// Runs `js` (a function body returning a value) in the page.
    pub async fn js(&self, js: &str) -> serde_json::Value {
        self.client
            .execute(js, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Polls `condition` (a JS expression) until it is true.
    pub async fn wait_until(&self, condition: &str, what: &str) {
        let script = format!("return !!({condition});");
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            if self.js(&script).await == serde_json::Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}: `{condition}`");
    }

    /// A browser of the given window size on `url`, with the page's console
    /// connected to a sandbox.
    pub async fn open(url: &str, width: u32, height: u32) -> Browser {
        let browser = Browser::visit(url, width, height).await;
        browser.wait_connected().await;
        browser
    }

    /// A browser of the given window size on `url`, not waiting for anything.
    pub async fn visit(url: &str, width: u32, height: u32) -> Browser {
        let browser = Browser::launch().await;
        browser
            .client
            .set_window_size(width, height)
            .await
            .expect("window size");
        browser.client.goto(url).await.expect("page loads");
        browser
    }

    /// Waits until the page's console says it is connected to a sandbox.
    pub async fn wait_connected(&self) {
        super::pages::ConsolePage::new(self).wait_connected().await;
    }

    /// Saves a PNG under docs/screenshots/ (shown in the README).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = workspace_root().join("docs/screenshots").join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn close(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("browser session closes");
    }
}

/// Chromium outlives chromedriver when a test fails midway (its processes
/// are not chromedriver's to take down): end every process started with
/// this browser's own profile dir.
impl Drop for Browser {
    fn drop(&mut self) {
        let profile = self.profile.path().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for pid in entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&profile) {
                super::server::signal(pid, "KILL");
            }
        }
    }
}
