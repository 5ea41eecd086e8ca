//! The provisioned engine is Redis 8.2.3 with JSON, Search, Bloom and Vector
//! Sets, and `redis-server` on PATH is a working fallback.

use backend::engine::{Capability, Engine};

use crate::support::{default_config, workspace_root, TestRedis};

fn bundled() -> Engine {
    let engine = Engine::discover(&default_config().engine_dir).expect("engine found");
    assert_eq!(
        engine.info.source, "bundled",
        "run `make test`: setup provisions .engine/"
    );
    engine
}

#[test]
fn provisioned_engine_is_redis_8_2_3_with_every_capability() {
    let engine = bundled();
    assert_eq!(engine.info.version, "8.2.3");
    for capability in Capability::ALL {
        assert!(engine.has(capability), "missing {}", capability.as_str());
    }
}

#[tokio::test]
async fn provisioned_modules_load_and_answer() {
    let engine = bundled();
    let redis = TestRedis::start(&engine).await;
    let mut con = redis.connect().await.unwrap();

    let modules: redis::Value = redis::cmd("MODULE")
        .arg("LIST")
        .query_async(&mut con)
        .await
        .unwrap();
    let listing = format!("{modules:?}");
    for module in &engine.modules {
        assert!(
            listing.contains(module.list_name),
            "{} not in {listing}",
            module.list_name
        );
    }

    let ok: String = redis::cmd("JSON.SET")
        .arg(&["t:doc", "$", r#"{"score":0.5}"#])
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(ok, "OK");
    let score: String = redis::cmd("JSON.GET")
        .arg(&["t:doc", "$.score"])
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(score, "[0.5]");

    let added: i64 = redis::cmd("VADD")
        .arg(&["t:vec", "VALUES", "2", "1", "0", "a"])
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(added, 1);
}

#[test]
fn falls_back_to_redis_server_on_path_without_modules() {
    let nowhere = tempfile::tempdir().unwrap();
    let engine = Engine::discover(nowhere.path()).expect("setup installs Debian's redis-server");
    assert_eq!(engine.info.source, "path");
    assert!(engine.modules.is_empty());
    assert!(!engine.has(Capability::Json));
    assert!(engine.loadmodule_args().is_empty());
}

/// Redis data files a server writes into its `dir`.
const DATA_FILES: &[&str] = &["dump.rdb", "appendonly.aof", "appendonlydir"];

fn data_files_in(dir: &std::path::Path) -> Vec<String> {
    DATA_FILES
        .iter()
        .filter(|name| dir.join(name).exists())
        .map(|name| format!("{}", dir.join(name).display()))
        .collect()
}

#[tokio::test]
async fn a_test_server_saves_into_its_own_dir_never_the_repository() {
    let engine = bundled();
    let redis = TestRedis::start(&engine).await;
    let mut con = redis.connect().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(&["t:k", "v"])
        .query_async(&mut con)
        .await
        .unwrap();
    let saved: String = redis::cmd("SAVE").query_async(&mut con).await.unwrap();
    assert_eq!(saved, "OK");
    assert!(
        redis.dir().join("dump.rdb").exists(),
        "SAVE writes into the server's own dir"
    );
    // Neither the repository root nor the test's working directory (the
    // crate dir) holds a data file.
    let root = workspace_root();
    let cwd = std::env::current_dir().unwrap();
    let stray: Vec<String> = [root.as_path(), cwd.as_path()]
        .iter()
        .flat_map(|dir| data_files_in(dir))
        .collect();
    assert!(stray.is_empty(), "stray Redis data files: {stray:?}");
}
