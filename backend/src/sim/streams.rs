//! Streams, live: a producer adds events, consumers in a group read and
//! acknowledge them a tick later, and the view shows length, lag and every
//! consumer's pending entries. A killed consumer's messages stay pending
//! until XAUTOCLAIM hands them to a live one.

use std::time::{Duration, Instant};

use protocol::{ChartFrame, ConsumerView};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::SimError;

pub const TICK: Duration = Duration::from_millis(250);
pub const CONSUMERS: [&str; 3] = ["worker-1", "worker-2", "worker-3"];
pub const GROUP: &str = "scorers";

/// What the learner can do to a running stream simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamAction {
    Kill(usize),
    Recover,
}

fn ids(value: &Value) -> Vec<String> {
    // XREADGROUP: [[stream, [[id, fields], …]]]
    let mut out = Vec::new();
    if let Value::Array(streams) = value {
        for stream in streams {
            if let Value::Array(parts) = stream {
                if let Some(Value::Array(entries)) = parts.get(1) {
                    for entry in entries {
                        if let Value::Array(pair) = entry {
                            if let Some(Value::BulkString(id)) = pair.first() {
                                out.push(String::from_utf8_lossy(id).into_owned());
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn field_int(fields: &[Value], name: &str) -> Option<i64> {
    fields.chunks(2).find_map(|pair| match pair {
        [Value::BulkString(k), v] if k == name.as_bytes() => match v {
            Value::Int(n) => Some(*n),
            Value::BulkString(b) => String::from_utf8_lossy(b).parse().ok(),
            _ => None,
        },
        _ => None,
    })
}

/// One stream with one consumer group, driven step by step.
pub struct StreamSim {
    key: String,
    /// Messages each consumer read and will acknowledge next step.
    unacked: Vec<Vec<String>>,
    alive: [bool; 3],
    produced: u64,
    pub claimed: u64,
}

impl StreamSim {
    pub async fn new(conn: &mut MultiplexedConnection, run: u64) -> Result<StreamSim, SimError> {
        let key = format!("sim:stream:{run}:events");
        conn.req_packed_command(redis::cmd("DEL").arg(&key)).await?;
        conn.req_packed_command(
            redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&key)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM"),
        )
        .await?;
        Ok(StreamSim {
            key,
            unacked: vec![Vec::new(); CONSUMERS.len()],
            alive: [true; 3],
            produced: 0,
            claimed: 0,
        })
    }

    pub async fn produce(
        &mut self,
        conn: &mut MultiplexedConnection,
        count: u32,
    ) -> Result<(), SimError> {
        for _ in 0..count {
            self.produced += 1;
            conn.req_packed_command(
                redis::cmd("XADD")
                    .arg(&self.key)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(1000)
                    .arg("*")
                    .arg("event")
                    .arg(self.produced),
            )
            .await?;
        }
        Ok(())
    }

    /// Every live consumer acknowledges what it read last step, then reads
    /// up to `count` new messages.
    pub async fn consume(
        &mut self,
        conn: &mut MultiplexedConnection,
        count: u32,
    ) -> Result<(), SimError> {
        for (i, name) in CONSUMERS.iter().enumerate() {
            if !self.alive[i] {
                continue;
            }
            let done = std::mem::take(&mut self.unacked[i]);
            if !done.is_empty() {
                let mut ack = redis::cmd("XACK");
                ack.arg(&self.key).arg(GROUP).arg(done);
                conn.req_packed_command(&ack).await?;
            }
            let read = conn
                .req_packed_command(
                    redis::cmd("XREADGROUP")
                        .arg("GROUP")
                        .arg(GROUP)
                        .arg(name)
                        .arg("COUNT")
                        .arg(count)
                        .arg("STREAMS")
                        .arg(&self.key)
                        .arg(">"),
                )
                .await?;
            self.unacked[i] = ids(&read);
        }
        Ok(())
    }

    pub fn kill(&mut self, consumer: usize) {
        if let Some(alive) = self.alive.get_mut(consumer) {
            *alive = false;
        }
    }

    /// The first live consumer claims messages idle for `min_idle_ms` with
    /// XAUTOCLAIM; it acknowledges them on its next step.
    pub async fn recover(
        &mut self,
        conn: &mut MultiplexedConnection,
        min_idle_ms: u64,
    ) -> Result<u64, SimError> {
        let Some(taker) = self.alive.iter().position(|a| *a) else {
            return Ok(0);
        };
        let mut cursor = "0-0".to_owned();
        let mut claimed = 0;
        loop {
            let reply = conn
                .req_packed_command(
                    redis::cmd("XAUTOCLAIM")
                        .arg(&self.key)
                        .arg(GROUP)
                        .arg(CONSUMERS[taker])
                        .arg(min_idle_ms)
                        .arg(&cursor)
                        .arg("COUNT")
                        .arg(100),
                )
                .await?;
            let Value::Array(parts) = reply else { break };
            let next = match parts.first() {
                Some(Value::BulkString(id)) => String::from_utf8_lossy(id).into_owned(),
                _ => "0-0".to_owned(),
            };
            let taken = ids(&Value::Array(vec![Value::Array(vec![
                Value::Nil,
                parts.get(1).cloned().unwrap_or(Value::Nil),
            ])]));
            claimed += taken.len() as u64;
            self.unacked[taker].extend(taken);
            if next == "0-0" {
                break;
            }
            cursor = next;
        }
        self.claimed += claimed;
        Ok(claimed)
    }

    /// XLEN, the group's lag and pending count, and every consumer's view.
    pub async fn snapshot(
        &self,
        conn: &mut MultiplexedConnection,
        t_ms: u64,
    ) -> Result<ChartFrame, SimError> {
        let length = match conn
            .req_packed_command(redis::cmd("XLEN").arg(&self.key))
            .await?
        {
            Value::Int(n) => n.max(0) as u64,
            _ => 0,
        };
        let groups = conn
            .req_packed_command(redis::cmd("XINFO").arg("GROUPS").arg(&self.key))
            .await?;
        let (mut pending, mut lag) = (0, None);
        if let Value::Array(groups) = groups {
            if let Some(Value::Array(fields)) = groups.first() {
                pending = field_int(fields, "pending").unwrap_or(0).max(0) as u64;
                lag = field_int(fields, "lag").map(|l| l.max(0) as u64);
            }
        }
        let consumers_reply = conn
            .req_packed_command(
                redis::cmd("XINFO")
                    .arg("CONSUMERS")
                    .arg(&self.key)
                    .arg(GROUP),
            )
            .await?;
        let mut consumers: Vec<ConsumerView> = CONSUMERS
            .iter()
            .enumerate()
            .map(|(i, name)| ConsumerView {
                name: (*name).to_owned(),
                pending: 0,
                idle_ms: 0,
                alive: self.alive[i],
            })
            .collect();
        if let Value::Array(list) = consumers_reply {
            for item in list {
                let Value::Array(fields) = item else { continue };
                let name = fields.chunks(2).find_map(|pair| match pair {
                    [Value::BulkString(k), Value::BulkString(v)] if k == b"name" => {
                        Some(String::from_utf8_lossy(v).into_owned())
                    }
                    _ => None,
                });
                if let Some(view) = consumers
                    .iter_mut()
                    .find(|c| Some(&c.name) == name.as_ref())
                {
                    view.pending = field_int(&fields, "pending").unwrap_or(0).max(0) as u64;
                    view.idle_ms = field_int(&fields, "idle").unwrap_or(0).max(0) as u64;
                }
            }
        }
        Ok(ChartFrame::Stream {
            t_ms,
            length,
            pending,
            lag,
            claimed: self.claimed,
            consumers,
        })
    }
}

/// Runs on the wall clock: 8 events per tick, 3 reads of up to 4 each.
pub async fn run_live(
    mut conn: MultiplexedConnection,
    run: u64,
    duration_ms: u64,
    mut actions: tokio::sync::mpsc::Receiver<StreamAction>,
    mut send: impl FnMut(ChartFrame) -> bool,
) -> Result<(), SimError> {
    let mut sim = StreamSim::new(&mut conn, run).await?;
    let started = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    while started.elapsed()
        < Duration::from_millis(
            duration_ms.clamp(1_000, protocol::sim_limits::STREAMS_DURATION_MAX_MS),
        )
    {
        tick.tick().await;
        while let Ok(action) = actions.try_recv() {
            match action {
                StreamAction::Kill(i) => sim.kill(i),
                StreamAction::Recover => {
                    sim.recover(&mut conn, 1_000).await?;
                }
            }
        }
        sim.produce(&mut conn, 8).await?;
        sim.consume(&mut conn, 4).await?;
        let t_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if !send(sim.snapshot(&mut conn, t_ms).await?) {
            return Ok(());
        }
    }
    Ok(())
}
