//! The spawner thread: every sandbox process is made here, one at a time,
//! on one thread that lives as long as the server.
//!
//! Why a thread of its own: making a child with `clone(CLONE_VFORK)`
//! suspends the calling thread until the child reaches `execve`. On a
//! runtime worker that was 0.3–5.7 ms per sandbox (measured with `perf
//! trace` while visitors arrived two a second), and every class line queued
//! on that worker waited with it. Why not tokio's blocking pool: the
//! parent-death signal follows the thread that made the child, and the
//! pool's threads end after 10 s idle, which would kill their sandboxes.
//! This thread never ends, so a sandbox dies with the server and only then.

use std::sync::mpsc;
use std::sync::OnceLock;

use tokio::sync::oneshot;

use super::harden::{clone_child, Cloned, Prepared};

type Reply = oneshot::Sender<std::io::Result<Cloned>>;

/// The spawner's inbox, opened with the thread on first use.
fn inbox() -> std::io::Result<&'static mpsc::Sender<(Prepared, Reply)>> {
    static INBOX: OnceLock<mpsc::Sender<(Prepared, Reply)>> = OnceLock::new();
    if let Some(inbox) = INBOX.get() {
        return Ok(inbox);
    }
    let (tx, rx) = mpsc::channel::<(Prepared, Reply)>();
    // Two callers racing here: the loser's thread finds its inbox closed
    // when the unused sender drops, and ends without ever making a child.
    std::thread::Builder::new()
        .name("sandbox-spawner".into())
        .spawn(move || {
            for (prepared, reply) in rx {
                // If the requester gave up meanwhile, the returned child
                // is dropped unadopted: killed and reaped (harden.rs).
                let _ = reply.send(clone_child(&prepared));
            }
        })?;
    Ok(INBOX.get_or_init(|| tx))
}

/// Makes the child of `prepared` on the spawner thread.
pub(super) async fn clone_on_spawner(prepared: Prepared) -> std::io::Result<Cloned> {
    let (reply, answer) = oneshot::channel();
    inbox()?
        .send((prepared, reply))
        .map_err(|_| std::io::Error::other("the sandbox spawner thread stopped"))?;
    answer
        .await
        .map_err(|_| std::io::Error::other("the sandbox spawner thread stopped"))?
}
