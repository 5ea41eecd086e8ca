//! A plain redis-server from the engine binary on a private unix socket, the
//! yardstick's back end: no modules, no sandbox, no persistence. It counts as
//! started only once it answers PING (the socket file appears before the
//! server listens on it), and it is killed on drop.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::readiness;

pub struct PlainRedis {
    child: Child,
    pub socket: PathBuf,
    pub dir: tempfile::TempDir,
}

impl PlainRedis {
    pub fn start(server: &Path) -> anyhow::Result<PlainRedis> {
        let dir = tempfile::tempdir().context("make a temp dir for redis-server")?;
        let socket = dir.path().join("redis.sock");
        let log = dir.path().join("redis.log");
        // Its own dir, no persistence: nothing lands in the caller's cwd
        // (a stray dump.rdb once ended up in the repository root).
        let child = Command::new(server)
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", server.display()))?;
        let mut redis = PlainRedis { child, socket, dir };
        readiness::wait_until_answers(
            &server.display().to_string(),
            &format!("answer PING on {}", redis.socket.display()),
            &mut redis.child,
            &log,
            || ping(&redis.socket),
        )?;
        Ok(redis)
    }

    /// Runs one command with redis-cli (seeding a key, loading a script).
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("redis-cli")
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .context("run redis-cli (the setup installs redis-tools)")?;
        if !output.status.success() {
            bail!(
                "redis-cli {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

impl Drop for PlainRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ping(socket: &Path) -> std::io::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"PING\r\n")?;
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer)?;
    if &answer == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "answered {:?}",
            String::from_utf8_lossy(&answer)
        )))
    }
}
