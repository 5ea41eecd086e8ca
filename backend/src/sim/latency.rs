//! Latency measurements for the charts: a background probe (PING every
//! 100 ms, like `redis-cli --latency`) and the feature-serving comparison
//! of N sequential reads, one pipeline, and one HMGET.

use crate::metrics::micros;
use std::time::{Duration, Instant};

use protocol::ChartFrame;
use redis::aio::{ConnectionLike, MultiplexedConnection};

use super::SimError;

/// How often the probe pings.
pub const PROBE_EVERY: Duration = Duration::from_millis(100);
/// Probe samples are sent in frames this often.
pub const PROBE_FRAME_EVERY: Duration = Duration::from_millis(500);
/// The probe stops by itself after this long.
pub const PROBE_MAX: Duration = Duration::from_secs(300);

/// Pings until `send` refuses a frame or the probe's time is up.
pub async fn run_probe(
    mut conn: MultiplexedConnection,
    mut send: impl FnMut(ChartFrame) -> bool,
) -> Result<(), SimError> {
    let started = Instant::now();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    let mut samples = Vec::new();
    let mut last_frame = Instant::now();
    while started.elapsed() < PROBE_MAX {
        tick.tick().await;
        let sent = Instant::now();
        conn.req_packed_command(&redis::cmd("PING")).await?;
        samples.push(micros(sent.elapsed()));
        if last_frame.elapsed() >= PROBE_FRAME_EVERY {
            let frame = ChartFrame::Latency {
                t_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                probe: std::mem::take(&mut samples),
            };
            if !send(frame) {
                return Ok(());
            }
            last_frame = Instant::now();
        }
    }
    Ok(())
}

/// Reads `n` features three ways and times each, end to end from the
/// backend: N round trips, one pipelined round trip, one HMGET.
pub async fn compare_reads(
    conn: &mut MultiplexedConnection,
    n: u32,
) -> Result<ChartFrame, SimError> {
    let n = n.clamp(1, protocol::sim_limits::COMPARE_READS_MAX);
    let key = "sim:compare:features";
    let mut hset = redis::cmd("HSET");
    hset.arg(key);
    for i in 0..n {
        hset.arg(format!("f{i}")).arg(i);
    }
    conn.req_packed_command(&hset).await?;

    let started = Instant::now();
    for i in 0..n {
        conn.req_packed_command(redis::cmd("HGET").arg(key).arg(format!("f{i}")))
            .await?;
    }
    let sequential = micros(started.elapsed());

    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("HGET").arg(key).arg(format!("f{i}"));
    }
    let started = Instant::now();
    conn.req_packed_commands(&pipe, 0, n as usize).await?;
    let pipelined = micros(started.elapsed());

    let mut hmget = redis::cmd("HMGET");
    hmget.arg(key);
    for i in 0..n {
        hmget.arg(format!("f{i}"));
    }
    let started = Instant::now();
    conn.req_packed_command(&hmget).await?;
    let single = micros(started.elapsed());

    conn.req_packed_command(redis::cmd("DEL").arg(key)).await?;
    Ok(ChartFrame::Compare {
        n,
        sequential_us: sequential,
        pipeline_us: pipelined,
        hmget_us: single,
    })
}
