//! The memory and encoding explorer: grow a hash, set or sorted set past
//! its compact-encoding threshold and record MEMORY USAGE and OBJECT
//! ENCODING at each size; and measure three ways to store one embedding.

use protocol::{ChartFrame, MemoryKind, MemoryPoint};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::Value;

use super::SimError;

/// Dimensions of the embedding in the storage comparison.
pub const DIMENSIONS: usize = 768;

async fn usage(conn: &mut MultiplexedConnection, key: &str) -> Result<u64, SimError> {
    match conn
        .req_packed_command(
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(key)
                .arg("SAMPLES")
                .arg(0),
        )
        .await?
    {
        Value::Int(n) => Ok(n.max(0) as u64),
        _ => Ok(0),
    }
}

async fn encoding(conn: &mut MultiplexedConnection, key: &str) -> Result<String, SimError> {
    match conn
        .req_packed_command(redis::cmd("OBJECT").arg("ENCODING").arg(key))
        .await?
    {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Value::SimpleString(s) => Ok(s),
        _ => Ok(String::new()),
    }
}

/// Adds elements one by one up to `max`, sampling size and encoding.
pub async fn grow(
    conn: &mut MultiplexedConnection,
    kind: MemoryKind,
    max: u32,
) -> Result<ChartFrame, SimError> {
    let max = max.clamp(1, protocol::sim_limits::MEMORY_ELEMENTS_MAX);
    let key = format!("sim:mem:{kind:?}").to_lowercase();
    conn.req_packed_command(redis::cmd("DEL").arg(&key)).await?;
    let mut points = Vec::new();
    let mut last_encoding = String::new();
    for n in 1..=max {
        let mut add = match kind {
            MemoryKind::Hash => redis::cmd("HSET"),
            MemoryKind::Set => redis::cmd("SADD"),
            MemoryKind::SortedSet => redis::cmd("ZADD"),
        };
        add.arg(&key);
        match kind {
            MemoryKind::Hash => add.arg(format!("feature_{n}")).arg(n),
            // Integers keep a set in its compact intset encoding.
            MemoryKind::Set => add.arg(n),
            MemoryKind::SortedSet => add.arg(n).arg(format!("item:{n}")),
        };
        conn.req_packed_command(&add).await?;
        let current = encoding(conn, &key).await?;
        if n % 8 == 0 || n == 1 || current != last_encoding || n == max {
            points.push(MemoryPoint {
                n,
                bytes: usage(conn, &key).await?,
                encoding: current.clone(),
            });
        }
        last_encoding = current;
    }
    conn.req_packed_command(redis::cmd("DEL").arg(&key)).await?;
    Ok(ChartFrame::Memory { kind, points })
}

/// One 768-dimension embedding as a JSON string, as packed float32 bytes,
/// and in a vector set (which quantizes to 8 bits by default).
pub async fn compare_embeddings(conn: &mut MultiplexedConnection) -> Result<ChartFrame, SimError> {
    let values: Vec<f32> = (0..DIMENSIONS)
        .map(|i| ((i as f32) * 0.37).sin() * 0.5)
        .collect();
    let json = format!(
        "[{}]",
        values
            .iter()
            .map(|v| format!("{v}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let blob: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    conn.req_packed_command(redis::cmd("SET").arg("sim:emb:json").arg(&json))
        .await?;
    conn.req_packed_command(redis::cmd("SET").arg("sim:emb:blob").arg(&blob))
        .await?;
    conn.req_packed_command(redis::cmd("DEL").arg("sim:emb:vset"))
        .await?;
    let added = conn
        .req_packed_command(
            redis::cmd("VADD")
                .arg("sim:emb:vset")
                .arg("FP32")
                .arg(&blob)
                .arg("item:1"),
        )
        .await?;
    let vset_bytes = match added {
        Value::ServerError(_) => None,
        _ => Some(usage(conn, "sim:emb:vset").await?),
    };
    let frame = ChartFrame::Embeddings {
        dimensions: DIMENSIONS as u32,
        json_bytes: usage(conn, "sim:emb:json").await?,
        blob_bytes: usage(conn, "sim:emb:blob").await?,
        vset_bytes,
    };
    conn.req_packed_command(
        redis::cmd("DEL")
            .arg("sim:emb:json")
            .arg("sim:emb:blob")
            .arg("sim:emb:vset"),
    )
    .await?;
    Ok(frame)
}
