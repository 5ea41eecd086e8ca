//! The rate-limit simulator against real sandboxes: the three built-in
//! limiters on known traffic, a learner's own script, and live runs over
//! the WebSocket.

use backend::sim::rate_limit::{run_live, Limiter, Request};
use protocol::{Algorithm, ChartFrame, ClientMessage, RateLimitSim, ServerMessage};

use crate::support::TestApp;

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
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
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
    assert_eq!(ws.request(start).await, ServerMessage::Ack { seq: 1 });
    let mut frames = Vec::new();
    let reason = loop {
        match ws.next().await {
            ServerMessage::Frame {
                frame: ChartFrame::Done { reason },
            } => break reason,
            ServerMessage::Frame { frame } => frames.push(frame),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(reason, "finished");
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
async fn stopping_a_live_simulation_is_acknowledged_and_ends_its_frames() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let start = ClientMessage::StartRateLimit {
        seq: 1,
        sim: RateLimitSim {
            rate: 20.0,
            users: 1,
            limit: 5,
            window_ms: 1_000,
            algorithms: vec![Algorithm::SlidingWindow],
            duration_ms: 60_000,
            bursty: false,
            custom_script: None,
        },
    };
    assert_eq!(ws.request(start).await, ServerMessage::Ack { seq: 1 });
    assert!(matches!(
        ws.next().await,
        ServerMessage::Frame {
            frame: ChartFrame::RateLimit { .. }
        }
    ));
    assert_eq!(
        ws.request(ClientMessage::StopSimulation { seq: 2 }).await,
        ServerMessage::Ack { seq: 2 }
    );
    // The socket still answers, and a minute-long run is over long before
    // its time: at most a last frame or a Done follows the Ack.
    assert_eq!(
        ws.request(ClientMessage::Ping { seq: 3 }).await,
        ServerMessage::Pong { seq: 3 }
    );
}

#[tokio::test]
async fn bursty_traffic_shows_the_fixed_window_letting_twice_the_limit_through() {
    let app = TestApp::spawn().await;
    let (_id, conn) = app.session_with_connection().await;
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
async fn a_learners_own_limiter_runs_beside_the_built_in_ones() {
    let app = TestApp::spawn().await;
    let (_id, mut conn) = app.session_with_connection().await;
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
    let app = TestApp::spawn().await;
    let (_id, conn) = app.session_with_connection().await;
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
