//! The latency and memory explorers against real sandboxes: one round trip
//! beats N, the PING probe, encodings changing at their thresholds, and
//! embedding sizes; over the WebSocket a measurement's frame comes just
//! before its Ack.

use backend::sim::latency::run_probe;
use protocol::{ChartFrame, ClientMessage, MemoryKind, ServerMessage};

use crate::support::TestApp;

#[tokio::test]
async fn reading_features_in_one_round_trip_beats_n_round_trips() {
    let app = TestApp::spawn().await;
    let (id, mut conn) = app.session_with_connection().await;
    let frame = backend::sim::latency::compare_reads(&mut conn, 100)
        .await
        .unwrap();
    let protocol::ChartFrame::Compare {
        n,
        sequential_us,
        pipeline_us,
        hmget_us,
    } = frame
    else {
        panic!("{frame:?}")
    };
    assert_eq!(n, 100);
    // 100 round trips against one: a structural gap, not a timing goal.
    assert!(
        sequential_us > hmget_us && sequential_us > pipeline_us,
        "{sequential_us} {pipeline_us} {hmget_us}"
    );
    // The comparison cleans up after itself.
    assert_eq!(app.exec(&id, "DBSIZE").await.text, "(integer) 0");
}

#[tokio::test]
async fn the_latency_probe_streams_ping_samples() {
    let app = TestApp::spawn().await;
    let (_id, conn) = app.session_with_connection().await;
    let mut frames = Vec::new();
    run_probe(conn, |frame| {
        frames.push(frame);
        frames.len() < 2
    })
    .await
    .unwrap();
    let samples: Vec<u64> = frames
        .iter()
        .flat_map(|f| match f {
            protocol::ChartFrame::Latency { probe, .. } => probe.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert!(samples.len() >= 8, "about 10 pings per second: {samples:?}");
    assert!(samples.iter().all(|us| *us > 0));
}

#[tokio::test]
async fn growing_a_hash_shows_listpack_turning_into_a_hashtable() {
    let app = TestApp::spawn().await;
    let (id, mut conn) = app.session_with_connection().await;
    let threshold: u32 = match app
        .exec(&id, "CONFIG GET hash-max-listpack-entries")
        .await
        .reply
    {
        protocol::Reply::Array { items, .. } => match &items[1] {
            protocol::Reply::Bulk { data, .. } => String::from_utf8_lossy(data).parse().unwrap(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let frame = backend::sim::memory::grow(&mut conn, MemoryKind::Hash, threshold + 20)
        .await
        .unwrap();
    let ChartFrame::Memory { points, .. } = frame else {
        panic!("{frame:?}")
    };
    let at = |n: u32| {
        points
            .iter()
            .find(|p| p.n == n)
            .unwrap_or_else(|| panic!("no point at {n}: {points:?}"))
    };
    // The encoding changes exactly one element past hash-max-listpack-entries.
    let first_hashtable = points
        .iter()
        .find(|p| p.encoding == "hashtable")
        .expect("it converts");
    assert_eq!(first_hashtable.n, threshold + 1);
    assert!(first_hashtable.bytes > at(1).bytes);
    assert!(points.windows(2).all(|w| w[0].n < w[1].n));

    let frame = backend::sim::memory::grow(&mut conn, MemoryKind::Set, 600)
        .await
        .unwrap();
    let ChartFrame::Memory { points, .. } = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(points.first().unwrap().encoding, "intset");
    assert_ne!(points.last().unwrap().encoding, "intset");
    assert_eq!(
        app.exec(&id, "DBSIZE").await.text,
        "(integer) 0",
        "the explorer cleans up"
    );
}

#[tokio::test]
async fn a_packed_embedding_is_smaller_than_json() {
    let app = TestApp::spawn().await;
    let (_id, mut conn) = app.session_with_connection().await;
    let frame = backend::sim::memory::compare_embeddings(&mut conn)
        .await
        .unwrap();
    let ChartFrame::Embeddings {
        dimensions,
        json_bytes,
        blob_bytes,
        vset_bytes,
    } = frame
    else {
        panic!("{frame:?}")
    };
    assert_eq!(dimensions, 768);
    assert!(
        blob_bytes >= 3_072 && blob_bytes < json_bytes,
        "{blob_bytes} vs {json_bytes}"
    );
    assert!(vset_bytes.is_some(), "Redis 8 has vector sets");
}

/// Sends `request` and returns the frame that comes just before its Ack.
async fn measured(ws: &mut crate::support::ws::WsClient, request: ClientMessage) -> ChartFrame {
    let seq = match &request {
        ClientMessage::CompareReads { seq, .. }
        | ClientMessage::GrowMemory { seq, .. }
        | ClientMessage::CompareEmbeddings { seq } => *seq,
        other => panic!("not a measurement: {other:?}"),
    };
    ws.send(&request).await;
    let mut last = None;
    loop {
        match ws.next().await {
            ServerMessage::Frame { frame } => last = Some(frame),
            ServerMessage::Ack { seq: acked } if acked == seq => {
                return last.expect("a frame before the Ack");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn measurements_over_the_websocket_send_their_frame_then_an_ack() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let frame = measured(&mut ws, ClientMessage::CompareReads { seq: 1, n: 50 }).await;
    assert!(
        matches!(frame, ChartFrame::Compare { n: 50, .. }),
        "{frame:?}"
    );
    let grow = ClientMessage::GrowMemory {
        seq: 2,
        kind: MemoryKind::SortedSet,
        max: 200,
    };
    match measured(&mut ws, grow).await {
        ChartFrame::Memory { kind, points } => {
            assert_eq!(kind, MemoryKind::SortedSet);
            assert_eq!(
                points.first().map(|p| p.encoding.as_str()),
                Some("listpack")
            );
            assert_eq!(points.last().map(|p| p.encoding.as_str()), Some("skiplist"));
        }
        other => panic!("{other:?}"),
    }
    let frame = measured(&mut ws, ClientMessage::CompareEmbeddings { seq: 3 }).await;
    assert!(
        matches!(
            frame,
            ChartFrame::Embeddings {
                dimensions: 768,
                ..
            }
        ),
        "{frame:?}"
    );
    assert_eq!(
        app.exec(&session, "DBSIZE").await.text,
        "(integer) 0",
        "measurements clean up after themselves"
    );
}

#[tokio::test]
async fn the_latency_probe_is_switched_on_and_off_over_the_websocket() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let on = ClientMessage::LatencyProbe { seq: 1, on: true };
    assert_eq!(ws.request(on).await, ServerMessage::Ack { seq: 1 });
    let probe = loop {
        if let ServerMessage::Frame {
            frame: ChartFrame::Latency { probe, .. },
        } = ws.next().await
        {
            if !probe.is_empty() {
                break probe;
            }
        }
    };
    assert!(probe.iter().all(|us| *us > 0), "{probe:?}");
    let off = ClientMessage::LatencyProbe { seq: 2, on: false };
    assert_eq!(ws.request(off).await, ServerMessage::Ack { seq: 2 });
}
