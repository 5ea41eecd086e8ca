//! The gateway's own cost, measured as docs/benchmarks.md always has: the
//! same `GET` through `Gateway::run_line` (split, policy, run, convert,
//! format) and directly with redis-rs on a second connection to the same
//! sandbox, interleaved one for one.

use std::time::Instant;

use backend::gateway::Origin;
use backend::metrics::micros;
use backend::session::Session;
use backend::AppState;
use redis::aio::ConnectionLike;

use crate::report::{Figures, GatewayRun};

pub async fn measure(
    state: &AppState,
    session: &Session,
    key: &str,
    round_trips: usize,
) -> anyhow::Result<GatewayRun> {
    let line = format!("GET {key}");
    let mut direct = session.sandbox_connection().await?;
    let get = redis::cmd("GET").arg(key).clone();
    for _ in 0..round_trips / 10 {
        state
            .gateway
            .run_line(session, &line, Origin::Backend)
            .await?;
        direct.req_packed_command(&get).await?;
    }
    let (mut via_gateway, mut via_direct) = (Vec::new(), Vec::new());
    let started_all = Instant::now();
    for _ in 0..round_trips {
        let started = Instant::now();
        state
            .gateway
            .run_line(session, &line, Origin::Backend)
            .await?;
        via_gateway.push(micros(started.elapsed()));
        let started = Instant::now();
        direct.req_packed_command(&get).await?;
        via_direct.push(micros(started.elapsed()));
    }
    let seconds = started_all.elapsed().as_secs_f64() / 2.0;
    Ok(GatewayRun {
        direct: Figures::from_samples(via_direct, seconds),
        gateway: Figures::from_samples(via_gateway, seconds),
    })
}
