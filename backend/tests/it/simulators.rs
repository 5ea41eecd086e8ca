//! The chart simulators against real sandboxes, with known set-ups.

use backend::sim::rate_limit::{Limiter, Request};
use protocol::Algorithm;

use crate::support::TestApp;

/// A session on `app` and a second connection to its sandbox, as the
/// simulators get one.
async fn sandbox(app: &TestApp) -> (String, redis::aio::MultiplexedConnection) {
    let id = app.new_session().await;
    let session = app.state.sessions.get(&id).unwrap();
    let conn = session.sandbox_connection().await.unwrap();
    (id, conn)
}

async fn app_with_sandbox() -> (TestApp, String, redis::aio::MultiplexedConnection) {
    let app = TestApp::spawn().await;
    let (id, conn) = sandbox(&app).await;
    (app, id, conn)
}

/// Five requests just before a 2 s window boundary and five just after.
fn boundary_burst() -> Vec<Request> {
    (0..5)
        .map(|i| Request {
            user: 0,
            at_ms: 1_900 + i * 10,
        })
        .chain((0..5).map(|i| Request {
            user: 0,
            at_ms: 2_000 + i * 10,
        }))
        .collect()
}

async fn allowed(
    app: &TestApp,
    session: &str,
    algorithm: Algorithm,
    requests: &[Request],
) -> usize {
    let session = app.state.sessions.get(session).unwrap();
    let mut conn = session.sandbox_connection().await.unwrap();
    let mut limiter = Limiter::load(&mut conn, algorithm, 5, 2_000, 1)
        .await
        .unwrap();
    let decisions = limiter.decide(&mut conn, requests).await.unwrap();
    assert_eq!(decisions.len(), requests.len());
    decisions.iter().filter(|ok| **ok).count()
}

#[tokio::test]
async fn a_fixed_window_lets_the_boundary_burst_through_and_the_others_do_not() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let burst = boundary_burst();
    // 10 requests in 140 ms against "5 per 2 s": the fixed window resets
    // at 2 000 ms and lets all of them through...
    assert_eq!(
        allowed(&app, &session, Algorithm::FixedWindow, &burst).await,
        10
    );
    // ...while the token bucket (capacity 5, 2.5 tokens/s) and the sliding
    // window hold the line at 5.
    assert_eq!(
        allowed(&app, &session, Algorithm::TokenBucket, &burst).await,
        5
    );
    assert_eq!(
        allowed(&app, &session, Algorithm::SlidingWindow, &burst).await,
        5
    );
}

#[tokio::test]
async fn steady_traffic_under_the_limit_is_never_blocked() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    // One request every 500 ms is 4 per 2 s, under the limit of 5.
    let steady: Vec<Request> = (0..20)
        .map(|i| Request {
            user: 0,
            at_ms: i * 500,
        })
        .collect();
    for algorithm in Algorithm::ALL {
        assert_eq!(
            allowed(&app, &session, algorithm, &steady).await,
            20,
            "{algorithm:?}"
        );
    }
}

#[tokio::test]
async fn users_are_limited_separately() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    // Users 0 and 1 each send 6 requests at once: 5 each get through.
    let requests: Vec<Request> = (0..12)
        .map(|i| Request {
            user: i % 2,
            at_ms: 100,
        })
        .collect();
    for algorithm in Algorithm::ALL {
        assert_eq!(
            allowed(&app, &session, algorithm, &requests).await,
            10,
            "{algorithm:?}"
        );
    }
}

#[tokio::test]
async fn a_live_simulation_streams_frames_over_the_websocket() {
    use futures_util::{SinkExt, StreamExt};
    use protocol::{ChartFrame, ClientMessage, RateLimitSim, ServerMessage};
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let url = format!(
        "{}/ws?session={session}",
        app.base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let start = ClientMessage::StartRateLimit {
        seq: 1,
        sim: RateLimitSim {
            rate: 40.0,
            users: 2,
            limit: 5,
            window_ms: 1_000,
            algorithms: vec![Algorithm::FixedWindow, Algorithm::TokenBucket],
            duration_ms: 1_000,
            bursty: false,
            custom_script: None,
        },
    };
    socket
        .send(Message::Text(serde_json::to_string(&start).unwrap().into()))
        .await
        .unwrap();
    let mut frames = Vec::new();
    let mut done = None;
    while done.is_none() {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("frames in time")
            .unwrap()
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        match serde_json::from_str::<ServerMessage>(&text).unwrap() {
            ServerMessage::Frame {
                frame: ChartFrame::Done { reason },
            } => done = Some(reason),
            ServerMessage::Frame { frame } => frames.push(frame),
            ServerMessage::Started { seq } => assert_eq!(seq, 1),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(done.as_deref(), Some("finished"));
    assert_eq!(frames.len(), 4, "1 s in 250 ms buckets");
    let total: u32 = frames
        .iter()
        .map(|f| match f {
            ChartFrame::RateLimit { counts, .. } => counts[0].allowed + counts[0].blocked,
            _ => 0,
        })
        .sum();
    assert_eq!(total, 40, "40 requests/s for 1 s");
}

#[tokio::test]
async fn bursty_traffic_shows_the_fixed_window_letting_twice_the_limit_through() {
    use backend::sim::rate_limit::run_live;
    use protocol::{ChartFrame, RateLimitSim};
    let (_app, _id, conn) = app_with_sandbox().await;
    let mut frames = Vec::new();
    let sim = RateLimitSim {
        rate: 200.0,
        users: 1,
        limit: 5,
        window_ms: 1_000,
        algorithms: vec![Algorithm::FixedWindow, Algorithm::SlidingWindow],
        duration_ms: 3_000,
        bursty: true,
        custom_script: None,
    };
    run_live(conn, sim, 7, |frame| {
        frames.push(frame);
        true
    })
    .await
    .unwrap();
    // Buckets 7 and 8 (1.75 s to 2.25 s) straddle the 2 s boundary.
    let allowed = |bucket: usize, algorithm: usize| match &frames[bucket] {
        ChartFrame::RateLimit { counts, .. } => counts[algorithm].allowed,
        other => panic!("{other:?}"),
    };
    let fixed_across = allowed(7, 0) + allowed(8, 0);
    let sliding_across = allowed(7, 1) + allowed(8, 1);
    assert_eq!(
        fixed_across, 10,
        "5 before the boundary and 5 after, within 500 ms"
    );
    assert!(
        sliding_across <= 5,
        "the sliding window holds {sliding_across} to the limit"
    );
}

#[tokio::test]
async fn reading_features_in_one_round_trip_beats_n_round_trips() {
    let (app, id, mut conn) = app_with_sandbox().await;
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
    use backend::sim::latency::run_probe;
    let (_app, _id, conn) = app_with_sandbox().await;
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

async fn observe_all(app: &TestApp, values: &[f64]) -> Vec<backend::sim::anomaly::Observation> {
    use backend::sim::anomaly::Detector;
    let (_, mut conn) = sandbox(app).await;
    let mut detector = Detector::new(&mut conn, 1).await.unwrap();
    let mut out = Vec::new();
    for value in values {
        out.push(detector.observe(&mut conn, *value).await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_stable_detector_flags_spikes_and_nothing_on_a_flat_series() {
    let app = TestApp::spawn().await;
    // A flat series, then one spike, then flat again.
    let mut values = vec![0.1; 30];
    values.push(5.1);
    values.extend([0.1; 5]);
    let observations = observe_all(&app, &values).await;
    let flagged: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.stable.flagged)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged, [30], "only the spike");
    // On the flat part the stable script reports std 0 and mean 0.1 exactly.
    let before_spike = &observations[29].stable;
    assert_eq!(before_spike.std, Some(0.0));
    assert!((before_spike.mean.unwrap() - 0.1).abs() < 1e-12);
    // The tutorial's script, on the same flat data, gives no usable answer:
    // its mean is truncated to 0 and its deviation is NaN (i64::MIN).
    let tutorial = &observations[29].tutorial;
    assert_eq!(tutorial.mean, Some(0.0), "{tutorial:?}");
    assert_eq!(tutorial.std, None, "{tutorial:?}");
    assert!(
        tutorial.raw.contains("-9223372036854775808"),
        "{tutorial:?}"
    );
}

#[tokio::test]
async fn noisy_traffic_with_injected_spikes_is_flagged_exactly_at_the_spikes() {
    let app = TestApp::spawn().await;
    // 45 ± 2 with two spikes of +40, at samples 20 and 35.
    let values: Vec<f64> = (0..40)
        .map(|i| {
            let wiggle = [0.0, 1.5, -1.0, 2.0, -2.0, 0.5, -0.5][i % 7];
            45.0 + wiggle + if i == 20 || i == 35 { 40.0 } else { 0.0 }
        })
        .collect();
    let observations = observe_all(&app, &values).await;
    let flagged: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.stable.flagged)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged, [20, 35]);
    // The tutorial's mean comes back as an integer: 45.x is truncated.
    let mean = observations[15].tutorial.mean.unwrap();
    assert_eq!(mean.fract(), 0.0, "{mean}");
}

#[tokio::test]
async fn xautoclaim_recovers_a_dead_consumers_messages_and_pending_returns_to_zero() {
    use backend::sim::streams::StreamSim;
    use protocol::ChartFrame;
    let (_app, _id, mut conn) = app_with_sandbox().await;
    let mut sim = StreamSim::new(&mut conn, 1).await.unwrap();
    let pending = |frame: ChartFrame| match frame {
        ChartFrame::Stream {
            pending, consumers, ..
        } => (pending, consumers),
        other => panic!("{other:?}"),
    };

    sim.produce(&mut conn, 12).await.unwrap();
    sim.consume(&mut conn, 4).await.unwrap();
    // Every consumer holds 4 unacknowledged messages.
    let (total, consumers) = pending(sim.snapshot(&mut conn, 0).await.unwrap());
    assert_eq!(total, 12);
    assert!(consumers.iter().all(|c| c.pending == 4), "{consumers:?}");

    // worker-1 dies holding its 4; the others acknowledge theirs.
    sim.kill(0);
    sim.consume(&mut conn, 4).await.unwrap();
    sim.consume(&mut conn, 4).await.unwrap();
    let (total, consumers) = pending(sim.snapshot(&mut conn, 0).await.unwrap());
    assert_eq!(total, 4, "only the dead consumer's messages are pending");
    assert_eq!(consumers[0].pending, 4);
    assert!(!consumers[0].alive);

    // XAUTOCLAIM hands them to worker-2, which acknowledges them.
    assert_eq!(sim.recover(&mut conn, 0).await.unwrap(), 4);
    sim.consume(&mut conn, 4).await.unwrap();
    let (total, consumers) = pending(sim.snapshot(&mut conn, 0).await.unwrap());
    assert_eq!(total, 0, "{consumers:?}");
    assert_eq!(sim.claimed, 4);
}

#[tokio::test]
async fn growing_a_hash_shows_listpack_turning_into_a_hashtable() {
    use protocol::{ChartFrame, MemoryKind};
    let (app, id, mut conn) = app_with_sandbox().await;
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
    use protocol::ChartFrame;
    let (_app, _id, mut conn) = app_with_sandbox().await;
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

#[tokio::test]
async fn a_learners_own_limiter_runs_beside_the_built_in_ones() {
    use backend::sim::rate_limit::Limiter;
    let (_app, _id, mut conn) = app_with_sandbox().await;
    // "Allow every second request" (by request id).
    let source = "if tonumber(ARGV[4]) % 2 == 0 then return 1 end return 0";
    let mut limiter = Limiter::load_with(&mut conn, Algorithm::Custom, Some(source), 5, 1_000, 3)
        .await
        .unwrap();
    let requests: Vec<Request> = (0..10).map(|i| Request { user: 0, at_ms: i }).collect();
    let decisions = limiter.decide(&mut conn, &requests).await.unwrap();
    assert_eq!(decisions.iter().filter(|d| **d).count(), 5);

    // A script that returns something else is stopped with a clear reason.
    let mut bad = Limiter::load_with(
        &mut conn,
        Algorithm::Custom,
        Some("return 'yes'"),
        5,
        1_000,
        4,
    )
    .await
    .unwrap();
    let err = bad
        .decide(&mut conn, &requests)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("must return 1 (allowed) or 0 (blocked)"),
        "{err}"
    );
    assert!(err.contains("\"yes\""), "{err}");
    // One that does not compile is refused before it runs.
    let err = Limiter::load_with(&mut conn, Algorithm::Custom, Some("return ("), 5, 1_000, 5)
        .await
        .err()
        .expect("a syntax error")
        .to_string();
    assert!(err.contains("does not compile"), "{err}");
}

#[tokio::test]
async fn a_live_run_includes_the_learners_script() {
    use backend::sim::rate_limit::run_live;
    use protocol::{ChartFrame, RateLimitSim};
    let (_app, _id, conn) = app_with_sandbox().await;
    let mut frames = Vec::new();
    let sim = RateLimitSim {
        rate: 40.0,
        users: 2,
        limit: 5,
        window_ms: 1_000,
        algorithms: vec![Algorithm::FixedWindow, Algorithm::Custom],
        duration_ms: 1_000,
        bursty: false,
        custom_script: Some("-- allow all\nreturn 1".into()),
    };
    run_live(conn, sim, 9, |frame| {
        frames.push(frame);
        true
    })
    .await
    .unwrap();
    let ChartFrame::RateLimit { counts, .. } = &frames[0] else {
        panic!("{frames:?}")
    };
    let algorithms: Vec<Algorithm> = counts.iter().map(|c| c.algorithm).collect();
    assert_eq!(algorithms, [Algorithm::FixedWindow, Algorithm::Custom]);
}
