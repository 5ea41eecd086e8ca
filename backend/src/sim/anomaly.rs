//! Anomaly detection, live: a metric generator pushes samples into the
//! learner's sandbox and, before each new sample, two scripts compute the
//! recent mean and standard deviation: the tutorial's (naive E[x²]−E[x]²,
//! numbers truncated to integers on the way out, NaN on flat data) and a
//! numerically stable, read-only one that returns decimals as strings.

use std::time::{Duration, Instant};

use protocol::{AnomalySim, AnomalyStats, ChartFrame};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::SimError;

/// Samples kept in the list the scripts read.
pub const WINDOW: usize = 60;
/// A sample is an anomaly when it is more than this many standard
/// deviations from the recent mean.
pub const K: f64 = 3.0;
/// No verdict until this many samples are in.
pub const WARM_UP: usize = 10;
pub const TICK: Duration = Duration::from_millis(200);

/// The tutorial's script, as written (S10 in the errata).
pub const TUTORIAL_SCRIPT: &str = "
local values = redis.call('LRANGE', KEYS[1], 0, -1)
local sum = 0
local sum_sq = 0
for i=1,#values do
  local val = tonumber(values[i])
  sum = sum + val
  sum_sq = sum_sq + (val * val)
end
local count = #values
local mean = sum / count
local variance = (sum_sq / count) - (mean * mean)
local std_dev = math.sqrt(variance)
return {mean, std_dev}";

/// Welford's algorithm: stable on flat or large values, empty-safe, and
/// its numbers leave Lua as strings so decimals survive.
pub const STABLE_SCRIPT: &str = "
local values = redis.call('LRANGE', KEYS[1], 0, -1)
local n, mean, m2 = 0, 0, 0
for i = 1, #values do
  local x = tonumber(values[i])
  if x then
    n = n + 1
    local delta = x - mean
    mean = mean + delta / n
    m2 = m2 + delta * (x - mean)
  end
end
if n == 0 then return {} end
return {tostring(mean), tostring(math.sqrt(m2 / n)), n}";

/// One verdict on one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub value: f64,
    pub tutorial: AnomalyStats,
    pub stable: AnomalyStats,
}

fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Int(n) => *n as f64,
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn stats(reply: &Value, value: f64, count: usize) -> AnomalyStats {
    let (mean, std, raw) = match reply {
        Value::Array(items) if items.len() >= 2 => (
            number(&items[0]),
            number(&items[1]),
            format!("{:?} / {:?}", raw_text(&items[0]), raw_text(&items[1])),
        ),
        Value::ServerError(e) => (None, None, crate::session::convert::error_text(e)),
        other => (None, None, format!("{other:?}")),
    };
    // A negative or absurd deviation (NaN came out as i64::MIN) is no
    // deviation at all: the verdict is then "cannot tell".
    let usable_std = std.filter(|s| *s >= 0.0 && *s < 1e15);
    let mean = mean.filter(|m| m.abs() < 1e15);
    // On a perfectly flat series (σ = 0) any real departure is an anomaly;
    // the tiny floor keeps rounding noise from counting as one.
    let flagged = match (mean, usable_std) {
        (Some(m), Some(s)) if count >= WARM_UP => {
            (value - m).abs() > (K * s).max(1e-9 * m.abs().max(1.0))
        }
        _ => false,
    };
    AnomalyStats {
        mean,
        std: usable_std,
        flagged,
        raw,
    }
}

fn raw_text(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Keeps the sample list and runs both scripts.
pub struct Detector {
    key: String,
    count: usize,
}

impl Detector {
    pub async fn new(conn: &mut MultiplexedConnection, run: u64) -> Result<Detector, SimError> {
        let key = format!("sim:anom:{run}:latency");
        conn.req_packed_command(redis::cmd("DEL").arg(&key)).await?;
        Ok(Detector { key, count: 0 })
    }

    /// Judges `value` against the samples so far, then adds it.
    pub async fn observe(
        &mut self,
        conn: &mut MultiplexedConnection,
        value: f64,
    ) -> Result<Observation, SimError> {
        let tutorial = conn
            .req_packed_command(
                redis::cmd("EVAL")
                    .arg(TUTORIAL_SCRIPT)
                    .arg(1)
                    .arg(&self.key),
            )
            .await?;
        let stable = conn
            .req_packed_command(
                redis::cmd("EVAL_RO")
                    .arg(STABLE_SCRIPT)
                    .arg(1)
                    .arg(&self.key),
            )
            .await?;
        let observation = Observation {
            value,
            tutorial: stats(&tutorial, value, self.count),
            stable: stats(&stable, value, self.count),
        };
        let mut pipe = redis::pipe();
        pipe.cmd("RPUSH").arg(&self.key).arg(value.to_string());
        pipe.cmd("LTRIM")
            .arg(&self.key)
            .arg(-(WINDOW as i64))
            .arg(-1);
        conn.req_packed_commands(&pipe, 0, 2).await?;
        self.count = (self.count + 1).min(WINDOW);
        Ok(observation)
    }
}

/// A small deterministic noise source (no RNG crate needed for wiggles).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    }
}

/// Runs on the wall clock; `spikes` receives the learner's "inject a
/// spike" clicks.
pub async fn run_live(
    mut conn: MultiplexedConnection,
    sim: AnomalySim,
    run: u64,
    mut spikes: tokio::sync::mpsc::Receiver<()>,
    mut send: impl FnMut(ChartFrame) -> bool,
) -> Result<(), SimError> {
    let duration = sim
        .duration_ms
        .clamp(1_000, protocol::sim_limits::ANOMALY_DURATION_MAX_MS);
    let mut detector = Detector::new(&mut conn, run).await?;
    let mut noise = Noise(run.wrapping_add(17));
    let started = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    while started.elapsed() < Duration::from_millis(duration) {
        tick.tick().await;
        let spike = spikes.try_recv().is_ok();
        let base = if sim.flat {
            0.1
        } else {
            45.0 + 4.0 * noise.next()
        };
        let value = if spike {
            base + if sim.flat { 5.0 } else { 40.0 }
        } else {
            base
        };
        let observation = detector.observe(&mut conn, value).await?;
        let frame = ChartFrame::Anomaly {
            t_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            value,
            tutorial: observation.tutorial,
            stable: observation.stable,
        };
        if !send(frame) {
            return Ok(());
        }
    }
    Ok(())
}
