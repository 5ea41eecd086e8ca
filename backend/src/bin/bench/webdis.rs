//! webdis in front of a plain redis-server from the same engine binary: the
//! yardstick for the console over HTTP and over WebSocket. It counts as
//! started only once it answers `GET /PING` (it listens before its Redis
//! pool is connected), and it is killed on drop.
//!
//! Which webdis: `webdis-0.1.22` (Debian 13's build, installed by
//! `scripts/webdis.sh` into the tools dir), whose WebSocket (`"websockets":
//! true`, JSON on `/.json`) is a standard RFC 6455 one that keeps its socket
//! across commands. Without it, Debian 12's `/usr/bin/webdis` 0.1.9, with a
//! warning: its WebSocket has two quirks, both read off the wire. The
//! handshake is answered only when the request carries an `Origin` and 8
//! bytes after its headers (the old hixie-76 key), and the socket is closed
//! after every reply, so each command needs a socket of its own (see
//! `ws_load`). Its HTTP side works, but its WebSocket figures cannot judge
//! the console's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::plain_redis::PlainRedis;
use crate::readiness;

/// The webdis that `scripts/webdis.sh` installs.
const CURRENT: &str = "webdis-0.1.22";
/// Debian 12's, from scripts/setup.sh.
const DEBIAN_12: &str = "/usr/bin/webdis";

/// What a webdis's WebSocket takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsDialect {
    /// RFC 6455, one socket kept across commands (0.1.22).
    Standard,
    /// 0.1.9's: a hixie-76 style handshake and a socket per command.
    Legacy,
}

/// A webdis executable and the WebSocket it speaks.
#[derive(Debug, Clone)]
pub struct Binary {
    pub path: PathBuf,
    pub ws: WsDialect,
}

impl Binary {
    /// `webdis-0.1.22` from the tools dir (`$REDIS_TUTOR_TOOLS`, else
    /// `~/.local/share/redis-tutor`) or `PATH`; else Debian 12's 0.1.9,
    /// with a warning on stderr.
    pub fn find() -> Binary {
        let tools = std::env::var_os("REDIS_TUTOR_TOOLS")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| {
                    PathBuf::from(home)
                        .join(".local")
                        .join("share")
                        .join("redis-tutor")
                })
            });
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        let current = tools
            .map(|tools| tools.join("bin"))
            .into_iter()
            .chain(on_path)
            .map(|dir| dir.join(CURRENT))
            .find(|candidate| candidate.is_file());
        match current {
            Some(path) => Binary {
                path,
                ws: WsDialect::Standard,
            },
            None => {
                eprintln!(
                    "bench: WARNING: no {CURRENT} (run scripts/webdis.sh, or `make bench`); \
                     falling back to {DEBIAN_12}, Debian 12's webdis 0.1.9, whose WebSocket \
                     closes after every reply and drops connections: the WebSocket comparison \
                     is NOT judgeable with it (its HTTP one is)"
                );
                Binary {
                    path: PathBuf::from(DEBIAN_12),
                    ws: WsDialect::Legacy,
                }
            }
        }
    }
}

pub struct Webdis {
    child: Child,
    pub addr: SocketAddr,
    pub ws: WsDialect,
    /// The version webdis logged at start-up ("unknown" if it did not).
    pub version: String,
    /// What it was started with, to start it again.
    spec: Spec,
    /// Held, and dropped after `child` (field order): webdis never
    /// outlives its Redis.
    _redis: PlainRedis,
}

/// The executable, the engine binary behind it, threads and pool size.
#[derive(Debug, Clone)]
pub struct Spec {
    pub binary: Binary,
    pub server: PathBuf,
    pub threads: usize,
    pub pool: usize,
}

impl Webdis {
    /// webdis with `threads` worker threads and `pool` Redis connections per
    /// thread, on a free loopback port; `key` is set to `value` first.
    pub fn start(spec: &Spec, key: &str, value: &str) -> anyhow::Result<Webdis> {
        let redis = PlainRedis::start(&spec.server).context("start webdis's redis-server")?;
        redis.cli(&["SET", key, value])?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("find a free port for webdis")?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let conf = redis.dir.path().join("webdis.json");
        let log = redis.dir.path().join("webdis.log");
        let config = serde_json::json!({
            "redis_host": redis.socket,
            "redis_port": 0,
            "http_host": "127.0.0.1",
            "http_port": port,
            "threads": spec.threads,
            "pool_size": spec.pool,
            "daemonize": false,
            "database": 0,
            "websockets": true,
            "verbosity": 3,
            "logfile": log,
        });
        std::fs::write(&conf, config.to_string()).context("write webdis.json")?;
        let child = Command::new(&spec.binary.path)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!(
                    "start {} (scripts/webdis.sh installs 0.1.22, the setup 0.1.9)",
                    spec.binary.path.display()
                )
            })?;
        let mut webdis = Webdis {
            child,
            addr,
            ws: spec.binary.ws,
            version: String::from("unknown"),
            spec: spec.clone(),
            _redis: redis,
        };
        readiness::wait_until_answers(
            "webdis",
            &format!("answer GET /PING on {addr}"),
            &mut webdis.child,
            &log,
            || ping(addr),
        )?;
        webdis.version = logged_version(&log).unwrap_or_else(|| "unknown".into());
        Ok(webdis)
    }

    /// What it was started with.
    pub fn spec(&self) -> Spec {
        self.spec.clone()
    }

    /// Its process id (for a profiler).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Webdis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Webdis 0.1.22 up and running`, from its log.
fn logged_version(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().find_map(|line| {
        let (_, rest) = line.split_once(" Webdis ")?;
        let version = rest.strip_suffix(" up and running")?;
        Some(version.trim().to_owned())
    })
}

fn ping(addr: SocketAddr) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    write!(
        stream,
        "GET /PING HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        addr
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let read = stream.read(&mut chunk)?;
        answer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&answer);
        if text.starts_with("HTTP/1.1 200") && text.contains("PONG") {
            return Ok(());
        }
        if read == 0 {
            let head = text.lines().next().unwrap_or("nothing").to_owned();
            return Err(std::io::Error::other(format!("answered {head:?}")));
        }
    }
}
