//! The stress: 20 clients on 10 connections send 200 requests to one
//! sliding window and 200 to one token bucket, interleaved, while a probe
//! samples `MEMORY USAGE` of both keys. Each limiter must allow exactly its
//! limit; the memory it took during and after is a figure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use protocol::Figure;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::calls::{self, connect, memory_of, request, secs, Step, Stop};
use crate::grading::harness::random_hex;
use crate::grading::{Harness, Outcome};

pub const SLIDING: &str = "sliding-exact-under-load";
pub const BUCKET: &str = "bucket-burst";

const CLIENTS: usize = 20;
/// Two clients share each connection (the sandbox allows 20 clients).
const CONNECTIONS: usize = 10;
const REQUESTS_PER_CLIENT: usize = 10;
const WINDOW_MS: u64 = 60_000;
const LIMIT: u64 = 50;
const CAPACITY: u64 = 50;
/// Slow enough that a burst refills nothing: a tenth of a token a second.
const RATE: f64 = 0.1;

pub struct Stressed {
    pub sliding: Outcome,
    pub bucket: Outcome,
    pub memory: Option<Figure>,
}

/// What one client saw: allowed counts, or the first failure, per limiter.
struct Tally {
    sliding: Step<u64>,
    bucket: Step<u64>,
}

pub async fn run(harness: &Harness) -> Stressed {
    harness.starting(SLIDING);
    harness.starting(BUCKET);
    match stress(harness).await {
        Ok(stressed) => stressed,
        Err(stop) => {
            let outcome = Outcome::from(stop);
            Stressed {
                sliding: outcome.clone(),
                bucket: outcome,
                memory: None,
            }
        }
    }
}

async fn stress(harness: &Harness) -> Step<Stressed> {
    let sliding_key = harness.key("sliding");
    let bucket_key = harness.key("bucket");
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        conns.push(connect(harness).await?);
    }
    let mut probe = connect(harness).await?;
    let tag = random_hex(4);
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        let mut conn = conns[client % CONNECTIONS].clone();
        let (sliding_key, bucket_key, tag) = (sliding_key.clone(), bucket_key.clone(), tag.clone());
        clients.spawn(async move {
            let mut tally = Tally {
                sliding: Ok(0),
                bucket: Ok(0),
            };
            for i in 0..REQUESTS_PER_CLIENT {
                if let Ok(n) = &mut tally.sliding {
                    let id = format!("{tag}-{client}-{i}");
                    match request(
                        &mut conn,
                        &calls::sliding(&sliding_key, WINDOW_MS, LIMIT, &id),
                    )
                    .await
                    {
                        Ok(allowed) => *n += u64::from(allowed),
                        Err(stop) => tally.sliding = Err(stop),
                    }
                }
                if let Ok(n) = &mut tally.bucket {
                    match request(&mut conn, &calls::bucket(&bucket_key, CAPACITY, RATE)).await {
                        Ok(allowed) => *n += u64::from(allowed),
                        Err(stop) => tally.bucket = Err(stop),
                    }
                }
            }
            tally
        });
    }
    let keys = [sliding_key.as_str(), bucket_key.as_str()];
    let finished = {
        let done = done.clone();
        async move {
            let mut tallies = Vec::with_capacity(CLIENTS);
            while let Some(joined) = clients.join_next().await {
                match joined {
                    Ok(tally) => tallies.push(tally),
                    Err(e) => {
                        done.store(true, Ordering::Relaxed);
                        return Err(Stop::Error(format!("a stress client stopped: {e}")));
                    }
                }
            }
            done.store(true, Ordering::Relaxed);
            Ok((tallies, started.elapsed()))
        }
    };
    let sample = async {
        let mut peak = 0;
        while !done.load(Ordering::Relaxed) {
            peak = peak.max(memory_of(&mut probe, &keys).await?);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok::<u64, Stop>(peak)
    };
    let (finished, peak) = tokio::join!(finished, sample);
    let (tallies, took) = finished?;
    let after = memory_of(&mut probe, &keys).await;

    let sent = (CLIENTS * REQUESTS_PER_CLIENT) as u64;
    let (sliding_steps, bucket_steps): (Vec<_>, Vec<_>) =
        tallies.into_iter().map(|t| (t.sliding, t.bucket)).unzip();
    let sliding = judge(sliding_steps.into_iter().sum(), |n| {
        let what = format!(
            "allowed {n} of {sent} requests from {CLIENTS} concurrent clients in {:.2} s, with a limit of {LIMIT} per {} s",
            secs(took),
            WINDOW_MS / 1000
        );
        if n == LIMIT {
            Outcome::Pass(what)
        } else if n > LIMIT {
            Outcome::Fail(format!(
                "{what}: {} requests got through that the limit was there to stop",
                n - LIMIT
            ))
        } else {
            Outcome::Fail(format!(
                "{what}: {} requests within the limit were denied",
                LIMIT - n
            ))
        }
    });
    let bucket = judge(bucket_steps.into_iter().sum(), |n| {
        let what = format!(
            "allowed {n} of {sent} requests from {CLIENTS} concurrent clients in {:.2} s, from a new bucket of capacity {CAPACITY} that refills {RATE} tokens a second",
            secs(took)
        );
        if n == CAPACITY {
            Outcome::Pass(what)
        } else if n > CAPACITY {
            Outcome::Fail(format!("{what}: a burst may take the capacity and no more"))
        } else {
            Outcome::Fail(format!(
                "{what}: a new bucket is full, so a burst should get all {CAPACITY}"
            ))
        }
    });
    let memory = match (peak, after) {
        (Ok(peak), Ok(after)) => Some(Figure {
            id: "memory".into(),
            title: "Memory of the two limiter keys (MEMORY USAGE, summed)".into(),
            unit: "bytes".into(),
            points: vec![
                ("during the stress (peak)".into(), peak as f64),
                ("after the stress".into(), after as f64),
            ],
        }),
        _ => None,
    };
    Ok(Stressed {
        sliding,
        bucket,
        memory,
    })
}

fn judge(total: Step<u64>, verdict: impl FnOnce(u64) -> Outcome) -> Outcome {
    match total {
        Ok(n) => verdict(n),
        Err(stop) => stop.into(),
    }
}
