//! `--control-url`: an external Redis holds the learners instead of the
//! embedded store. The learner API works end to end through it, the data
//! is in that Redis (and outlives the server), no embedded store is
//! started, and the token itself is never stored.

use reqwest::StatusCode;

use crate::support::external_redis::{ExternalRedis, PASSWORD};
use crate::support::server::{control_processes, ServerDirs, ServerProcess};

#[tokio::test]
async fn an_external_control_store_holds_the_learners_and_outlives_the_server() {
    let redis = ExternalRedis::start().await;
    let dirs = ServerDirs::new();
    let mut options = dirs.options();
    options.control_url = Some(redis.url());
    let server = ServerProcess::start(&options).await;
    assert!(
        control_processes(&dirs.data).is_empty(),
        "no embedded store with --control-url"
    );

    let (slug, step) = server.first_step().await;
    let learner = server.new_learner(serde_json::json!({"name": "Ada"})).await;
    let response = server.progress(&learner.token, &slug, &step).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let me = server.me(&learner.token).await;
    assert_eq!(me.learner, learner.learner);
    assert_eq!(me.name.as_deref(), Some("Ada"));
    assert_eq!(me.progress.get(&slug), Some(&vec![step.clone()]));

    let (keys, text) = redis.dump().await;
    assert!(
        keys.iter().any(|k| k.contains(&learner.learner)),
        "a key naming learner {} in the external store: {keys:?}",
        learner.learner
    );
    assert!(text.contains("Ada") && text.contains(&step), "{text}");
    assert!(
        !text.contains(&learner.token),
        "the learner's token itself is stored in the control store"
    );

    // Another server on the same store knows the learner.
    drop(server);
    let server = ServerProcess::start(&options).await;
    let me = server.me(&learner.token).await;
    assert_eq!(me.progress.get(&slug), Some(&vec![step.clone()]));
}

#[tokio::test]
async fn a_wrong_control_store_password_stops_the_start_without_printing_it() {
    let redis = ExternalRedis::start().await;
    let dirs = ServerDirs::new();
    let mut options = dirs.options();
    options.control_url = Some(format!("redis://:wrong@127.0.0.1:{}", redis.port));
    // A store that refuses us could never confirm a write: the server
    // says so at start-up rather than serving learners it cannot keep.
    let exited = crate::support::server::run_to_exit(&options).await;
    assert!(!exited.status.success(), "{}", exited.output);
    assert!(
        exited.output.contains("control store"),
        "the error should say the control store is the problem:\n{}",
        exited.output
    );
    assert!(
        !exited.output.contains(PASSWORD) && !exited.output.contains(":wrong@"),
        "the password must not be printed:\n{}",
        exited.output
    );
}
