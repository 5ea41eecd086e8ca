//! Start-up on a data dir: one the server cannot use stops it, with an
//! error that names the directory, instead of serving learners whose
//! writes could never be kept; one holding a large store is waited for
//! while the store loads.
//!
//! These tests run as root, for whom `chmod 0500` does not stop a write,
//! so a mode bit proves nothing. Instead: a path that runs through a
//! regular file (no one, root included, can create a directory there), and
//! a real read-only mount (a bind mount remounted `ro` in a private mount
//! namespace made by `unshare -m`, so nothing outside the test sees it).

use std::time::Duration;

use crate::support::server::{
    control_processes, in_private_mount, run_to_exit, Exited, ServerDirs, ServerProcess,
};
use crate::support::workspace_root;

fn assert_refused_naming(exited: &Exited, dir: &std::path::Path) {
    assert!(
        !exited.status.success(),
        "the server should refuse to start; it exited with {}:\n{}",
        exited.status,
        exited.output
    );
    let dir = dir.display().to_string();
    assert!(
        exited.output.contains(&dir),
        "the error should name {dir}:\n{}",
        exited.output
    );
    assert!(
        !exited.output.contains("redis-tutor is up"),
        "it must not serve first:\n{}",
        exited.output
    );
}

#[tokio::test]
async fn refuses_to_start_when_the_data_dir_lies_under_a_regular_file() {
    let dirs = ServerDirs::new();
    let file = dirs.run.join("not-a-directory");
    std::fs::write(&file, b"a regular file").unwrap();
    let mut options = dirs.options();
    options.data_dir = file.join("data");

    let exited = run_to_exit(&options).await;
    assert_refused_naming(&exited, &options.data_dir);
}

#[tokio::test]
async fn refuses_to_start_on_a_read_only_data_dir() {
    let dirs = ServerDirs::new();
    let data = dirs.data.clone();
    std::fs::create_dir_all(&data).unwrap();
    // Without CAP_SYS_ADMIN there is no private read-only mount to make;
    // the regular-file case above still runs.
    let mount = "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" \"$0\"";
    let Some(wrapper) = in_private_mount(mount, &data) else {
        return;
    };
    let mut options = dirs.options();
    options.wrapper = wrapper;

    let exited = run_to_exit(&options).await;
    assert_refused_naming(&exited, &data);
    // Nothing was started on it and left behind.
    assert!(control_processes(&data).is_empty());
}

/// Keys in the pre-filled store: enough that loading them takes a
/// noticeable moment (a few hundred ms here), as a store with many
/// learners does.
const FILLER_KEYS: u64 = 400_000;

/// Fills `data/control` (the embedded store's `dir`, with the AOF in
/// `appendonly/`, as `control/embedded.rs` lays it out) with a plain engine,
/// rewrites the AOF so it starts with an RDB preamble, and stops it.
async fn prefill_control_store(data: &std::path::Path) {
    let store = data.join("control");
    std::fs::create_dir_all(&store).unwrap();
    let socket_dir = tempfile::tempdir().unwrap();
    let socket = socket_dir.path().join("fill.sock");
    let mut child = tokio::process::Command::new(workspace_root().join(".engine/bin/redis-server"))
        .args(["--port", "0", "--save", ""])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--dir")
        .arg(&store)
        .args(["--appendonly", "yes", "--appenddirname", "appendonly"])
        .args([
            "--aof-use-rdb-preamble",
            "yes",
            "--enable-debug-command",
            "yes",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the engine starts");
    let client = redis::Client::open(format!("unix://{}", socket.display())).unwrap();
    let mut conn = None;
    for _ in 0..250 {
        // DEBUG POPULATE takes longer than redis-rs's default deadline.
        let config =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
        if let Ok(c) = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            conn = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut conn = conn.expect("the filler engine answers");
    let _: () = redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(FILLER_KEYS)
        .arg("filler")
        .arg(32)
        .query_async(&mut conn)
        .await
        .expect("DEBUG POPULATE");
    let _: () = redis::cmd("SET")
        .arg("rt:schema")
        .arg(1)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: String = redis::cmd("BGREWRITEAOF")
        .query_async(&mut conn)
        .await
        .unwrap();
    let rewritten = async {
        loop {
            let info: String = redis::cmd("INFO")
                .arg("persistence")
                .query_async(&mut conn)
                .await
                .unwrap();
            if info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), rewritten)
        .await
        .expect("AOF rewritten");
    let _ = redis::cmd("SHUTDOWN").query_async::<()>(&mut conn).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
}

#[tokio::test]
async fn starts_on_a_large_existing_store_once_it_has_loaded() {
    let dirs = ServerDirs::new();
    prefill_control_store(&dirs.data).await;

    // The store's socket opens before its data is loaded; the server must
    // wait for the load instead of taking `LOADING` for a broken store.
    let server = ServerProcess::start(&dirs.options()).await;
    let learner = server.new_learner(serde_json::json!({"name": "Ada"})).await;
    assert_eq!(server.me(&learner.token).await.name.as_deref(), Some("Ada"));
}

#[tokio::test]
async fn a_stale_pidfile_never_ends_an_unrelated_redis_server() {
    // A server killed with -9 leaves its control store's pidfile behind
    // (`control-run/control.pid`, as `control/embedded.rs` lays it out).
    // By the next start that pid may belong to any other redis-server on
    // the host (a sandbox, another server's store): here, a bystander.
    let dirs = ServerDirs::new();
    let scratch = tempfile::tempdir().unwrap();
    let mut bystander =
        tokio::process::Command::new(workspace_root().join(".engine/bin/redis-server"))
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(scratch.path().join("bystander.sock"))
            .arg("--dir")
            .arg(scratch.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the engine starts");
    let pid = bystander.id().expect("a pid");
    assert!(
        crate::support::server::eventually(Duration::from_secs(5), || scratch
            .path()
            .join("bystander.sock")
            .exists())
        .await
    );
    let run = dirs.data.join("control-run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("control.pid"), pid.to_string()).unwrap();

    let server = ServerProcess::start(&dirs.options()).await;
    assert_ne!(server.control_pid().await, pid);
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the server ended an unrelated redis-server (pid {pid}) named by a stale pidfile:\n{}",
        server.log.text()
    );
}
