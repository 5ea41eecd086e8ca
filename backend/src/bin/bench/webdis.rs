//! webdis (`/usr/bin/webdis`, Debian 12's 0.1.9) in front of a plain
//! redis-server from the same engine binary: the yardstick for the console
//! over HTTP and over WebSocket. It counts as started only once it answers
//! `GET /PING` (it listens before its Redis pool is connected), and it is
//! killed on drop.
//!
//! Its WebSocket (`"websockets": true`, JSON on `/.json`) has two quirks in
//! this version, both read off the wire: the handshake is answered only when
//! the request carries an `Origin` and 8 bytes after its headers (the old
//! hixie-76 key), and the socket is closed after every reply, so each
//! command needs a socket of its own (see `ws_load`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::plain_redis::PlainRedis;
use crate::readiness;

pub struct Webdis {
    child: Child,
    pub addr: SocketAddr,
    /// What it was started with: the engine binary, threads, pool size.
    spec: (PathBuf, usize, usize),
    /// Held, and dropped after `child` (field order): webdis never
    /// outlives its Redis.
    _redis: PlainRedis,
}

impl Webdis {
    /// webdis with `threads` worker threads and `pool` Redis connections per
    /// thread, on a free loopback port; `key` is set to `value` first.
    pub fn start(
        server: &Path,
        threads: usize,
        pool: usize,
        key: &str,
        value: &str,
    ) -> anyhow::Result<Webdis> {
        let redis = PlainRedis::start(server).context("start webdis's redis-server")?;
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
            "threads": threads,
            "pool_size": pool,
            "daemonize": false,
            "database": 0,
            "websockets": true,
            "verbosity": 3,
            "logfile": log,
        });
        std::fs::write(&conf, config.to_string()).context("write webdis.json")?;
        let child = Command::new("webdis")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start webdis (the setup installs it)")?;
        let mut webdis = Webdis {
            child,
            addr,
            spec: (server.to_path_buf(), threads, pool),
            _redis: redis,
        };
        readiness::wait_until_answers(
            "webdis",
            &format!("answer GET /PING on {addr}"),
            &mut webdis.child,
            &log,
            || ping(addr),
        )?;
        Ok(webdis)
    }

    /// The engine binary, threads and pool size it was started with.
    pub fn spec(&self) -> (PathBuf, usize, usize) {
        self.spec.clone()
    }
}

impl Drop for Webdis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
