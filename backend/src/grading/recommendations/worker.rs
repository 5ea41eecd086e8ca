//! The grader's own worker loop, as the lesson shows it: a producer
//! `XADD`s events while a consumer reads them with `XREADGROUP … BLOCK`
//! and calls `rec_apply` for each, then reads the item's score back; the
//! time from `XADD` to that read is the event-to-recommendation latency.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::events::{Entry, Event};
use super::feed::{self, Checked, Feed, Stop};
use crate::grading::harness::{random_hex, Harness};

/// How long the consumer may take to apply everything it was sent (less
/// than a check may take, so this more precise message wins).
const CONSUME_DEADLINE: Duration = Duration::from_millis(2_500);
/// Each `XREADGROUP` blocks at most this long (well under the harness's
/// per-call deadline).
const BLOCK_MS: u64 = 100;
/// Entries per `XREADGROUP`.
const BATCH: usize = 20;

/// A consumer name for this run.
pub fn consumer(role: &str) -> String {
    format!("{role}-{}", random_hex(2))
}

/// Calls `rec_apply` for each entry in order.
pub async fn apply_all(
    conn: &mut MultiplexedConnection,
    feed: &Feed,
    entries: &[Entry],
    top_n: usize,
) -> Checked<()> {
    for entry in entries {
        feed.apply(conn, entry, top_n).await?;
    }
    Ok(())
}

/// Writes `events`, one every `pace` (all at once when zero), while a
/// worker reads and applies them; returns each event's latency from its
/// `XADD` to its item's score being readable, in production order.
pub async fn produce_and_consume(
    harness: &Harness,
    feed: &Feed,
    events: &[Event],
    pace: Duration,
    top_n: usize,
) -> Checked<Vec<Duration>> {
    let mut producer = feed::connect(harness).await?;
    let mut worker = feed::connect(harness).await?;
    feed.create_group(&mut worker).await?;
    let sent: Mutex<Vec<Option<Instant>>> = Mutex::new(vec![None; events.len()]);
    let produce = async {
        for (seq, event) in events.iter().enumerate() {
            sent.lock().expect("sent times")[seq] = Some(Instant::now());
            feed.add(&mut producer, event, seq).await?;
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
        }
        Checked::Ok(())
    };
    let consume = async {
        let name = consumer("worker");
        let started = Instant::now();
        let mut latencies: Vec<Option<Duration>> = vec![None; events.len()];
        let mut applied = 0;
        while applied < events.len() {
            if started.elapsed() > CONSUME_DEADLINE {
                return Err(Stop::Fail(format!(
                    "the grader's worker applied only {applied} of {} events within {} s: rec_apply is too slow for a stream",
                    events.len(),
                    CONSUME_DEADLINE.as_secs_f64()
                )));
            }
            for entry in feed.read(&mut worker, &name, BATCH, BLOCK_MS).await? {
                feed.apply(&mut worker, &entry, top_n).await?;
                // The recommendation is served from here on.
                feed.score(&mut worker, &entry.event.item).await?;
                let sent_at = sent
                    .lock()
                    .expect("sent times")
                    .get(entry.seq)
                    .copied()
                    .flatten();
                if let (Some(sent_at), Some(slot)) = (sent_at, latencies.get_mut(entry.seq)) {
                    *slot = Some(sent_at.elapsed());
                }
                applied += 1;
            }
        }
        Ok(latencies.into_iter().flatten().collect())
    };
    // The first failure ends both sides.
    let ((), latencies) = tokio::try_join!(produce, consume)?;
    Ok(latencies)
}

/// The `p`-th percentile (0 < p ≤ 100, nearest rank) of `samples`.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&samples[..1], 99.0), Duration::from_micros(1));
    }
}
