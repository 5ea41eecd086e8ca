//! `store-bench`: what an acknowledged write costs in the control store.
//! The same learner-progress write, measured side by side in one run:
//! with the embedded store's `appendfsync everysec` (the default) and
//! `always`, each confirmed by `WAITAOF 1 0`, against the bare write with
//! no confirmation. Sequential (one learner's latency) and 32 at once
//! (many learners: writes that share one fsync). Prints a markdown table.

use backend::metrics::micros;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::control::learners::LearnerRef;
use backend::control::{ControlStore, StoreConfig};
use backend::engine::Engine;

const SEQUENTIAL: usize = 20;
const CONCURRENT: usize = 32;
const ROUNDS: usize = 4;

use backend::metrics::percentile;

async fn open(engine: &Engine, dir: &std::path::Path, fsync: &'static str) -> Arc<ControlStore> {
    ControlStore::open(StoreConfig {
        engine_server: engine.server.clone(),
        data_dir: dir.to_path_buf(),
        url: None,
        confirm_ms: 3_000,
        learner_ttl: Duration::from_secs(90 * 24 * 3600),
        fsync,
    })
    .await
    .expect("control store starts")
}

/// p50 and p99 of sequential confirmed writes, and writes per second with
/// `CONCURRENT` in flight.
async fn confirmed(store: &Arc<ControlStore>, who: &LearnerRef) -> (u64, u64, f64) {
    let mut samples = Vec::new();
    for i in 0..SEQUENTIAL {
        let started = Instant::now();
        store
            .add_progress(who, "hashes", &format!("step-{i}"))
            .await
            .expect("write");
        samples.push(micros(started.elapsed()));
    }
    samples.sort_unstable();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let writes = (0..CONCURRENT).map(|i| {
            let (store, who) = (store.clone(), who.clone());
            tokio::spawn(async move {
                store
                    .add_progress(&who, "hashes", &format!("c-{round}-{i}"))
                    .await
                    .expect("write")
            })
        });
        for write in writes.collect::<Vec<_>>() {
            write.await.expect("task");
        }
    }
    let rate = (CONCURRENT * ROUNDS) as f64 / started.elapsed().as_secs_f64();
    (percentile(&samples, 50.0), percentile(&samples, 99.0), rate)
}

/// The same write with no fsync confirmation, as a baseline.
async fn bare(store: &ControlStore) -> (u64, u64) {
    let mut samples = Vec::new();
    for i in 0..SEQUENTIAL {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("bench:bare").arg("NX").arg(i).arg(i);
        let started = Instant::now();
        store.call(&cmd).await.expect("write");
        samples.push(micros(started.elapsed()));
    }
    samples.sort_unstable();
    (percentile(&samples, 50.0), percentile(&samples, 99.0))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = Engine::discover(std::path::Path::new(".engine"))?;
    let scratch = tempfile::tempdir()?;
    let everysec = open(&engine, &scratch.path().join("everysec"), "everysec").await;
    let always = open(&engine, &scratch.path().join("always"), "always").await;
    let (who_e, _) = everysec.create_learner(None).await?;
    let (who_a, _) = always.create_learner(None).await?;
    let (bare_p50, bare_p99) = bare(&everysec).await;
    let (e50, e99, erate) = confirmed(&everysec, &who_e).await;
    let (a50, a99, arate) = confirmed(&always, &who_a).await;
    println!("| control store write ({SEQUENTIAL} sequential; {CONCURRENT}×{ROUNDS} concurrent) | p50 | p99 | writes/s at {CONCURRENT} in flight |");
    println!("|---|---|---|---|");
    println!("| bare ZADD, no confirmation (baseline) | {bare_p50} µs | {bare_p99} µs | |");
    println!("| progress write + WAITAOF, appendfsync everysec (default) | {e50} µs | {e99} µs | {erate:.0} |");
    println!("| progress write + WAITAOF, appendfsync always | {a50} µs | {a99} µs | {arate:.0} |");
    println!(
        "ratios (p50): everysec {:.0}× bare, always {:.0}× bare, everysec {:.0}× always",
        e50 as f64 / bare_p50.max(1) as f64,
        a50 as f64 / bare_p50.max(1) as f64,
        e50 as f64 / a50.max(1) as f64
    );
    everysec.shutdown().await;
    always.shutdown().await;
    Ok(())
}
