//! A control store whose disk fills up while the server runs: writes stop
//! being acknowledged, and the answer names the folder, never a silent
//! loss. The disk is a tiny tmpfs mounted over the data dir in a private
//! mount namespace (`unshare -m`), so nothing outside the test sees it.

use crate::support::server::{in_private_mount, ServerDirs, ServerProcess};

/// Enough for the store to start and take a few hundred writes.
const TMPFS_SIZE: &str = "384k";

#[tokio::test]
async fn a_full_disk_mid_run_answers_503_naming_the_data_dir() {
    let dirs = ServerDirs::new();
    let data = dirs.data.clone();
    std::fs::create_dir_all(&data).unwrap();
    let mount = format!("mount -t tmpfs -o size={TMPFS_SIZE} tmpfs \"$0\"");
    let Some(wrapper) = in_private_mount(&mount, &data) else {
        return;
    };
    let mut options = dirs.options();
    options.wrapper = wrapper;
    let server = ServerProcess::start(&options).await;
    let learner = server.new_learner(serde_json::json!({})).await;
    let name = "n".repeat(40);
    let mut acknowledged = 0;
    let refusal = loop {
        let response = server
            .rename(&learner.token, serde_json::Value::String(name.clone()))
            .await;
        if response.status() == 204 {
            acknowledged += 1;
            assert!(acknowledged < 20_000, "the tiny disk never filled up");
            continue;
        }
        break response;
    };
    assert!(acknowledged > 0, "some writes fit before the disk filled");
    assert_eq!(refusal.status(), 503);
    let err: protocol::ApiError = refusal.json().await.unwrap();
    assert_eq!(err.error.code, "store_unavailable");
    let dir = data.display().to_string();
    // The first refusal may come before the cause is known; soon every
    // refusal names the folder.
    let mut message = err.error.message;
    for _ in 0..50 {
        if message.contains(&dir) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let response = server
            .rename(&learner.token, serde_json::Value::String(name.clone()))
            .await;
        assert_ne!(
            response.status(),
            204,
            "a write was acknowledged on a full disk"
        );
        let err: protocol::ApiError = response.json().await.unwrap();
        message = err.error.message;
    }
    assert!(message.contains(&dir), "names {dir}: {message}");
}
