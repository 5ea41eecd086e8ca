//! The streams simulation against real sandboxes: a dead consumer's
//! messages stay pending until XAUTOCLAIM hands them on, and the live run
//! answers its controls over the WebSocket.

use backend::sim::streams::StreamSim;
use protocol::{ChartFrame, ClientMessage, ServerMessage};

use crate::support::TestApp;

#[tokio::test]
async fn xautoclaim_recovers_a_dead_consumers_messages_and_pending_returns_to_zero() {
    let app = TestApp::spawn().await;
    let (_id, mut conn) = app.session_with_connection().await;
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
async fn the_live_streams_run_takes_a_kill_and_a_recovery() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let start = ClientMessage::StartStreams {
        seq: 1,
        duration_ms: 30_000,
    };
    assert_eq!(ws.request(start).await, ServerMessage::Ack { seq: 1 });
    let consumers = loop {
        if let ServerMessage::Frame {
            frame: ChartFrame::Stream { consumers, .. },
        } = ws.next().await
        {
            break consumers;
        }
    };
    assert_eq!(consumers.len(), 3, "{consumers:?}");
    assert!(consumers.iter().all(|c| c.alive), "{consumers:?}");
    let kill = ClientMessage::KillConsumer {
        seq: 2,
        consumer: 0,
    };
    assert_eq!(ws.request(kill).await, ServerMessage::Ack { seq: 2 });
    let dead = loop {
        if let ServerMessage::Frame {
            frame: ChartFrame::Stream { consumers, .. },
        } = ws.next().await
        {
            if !consumers[0].alive {
                break consumers;
            }
        }
    };
    assert!(dead[1].alive && dead[2].alive, "{dead:?}");
    assert_eq!(
        ws.request(ClientMessage::Recover { seq: 3 }).await,
        ServerMessage::Ack { seq: 3 }
    );
    assert_eq!(
        ws.request(ClientMessage::StopSimulation { seq: 4 }).await,
        ServerMessage::Ack { seq: 4 }
    );
}
