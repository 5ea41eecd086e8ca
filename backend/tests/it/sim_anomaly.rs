//! The anomaly detector against real sandboxes: the stable script flags
//! exactly the spikes, the tutorial's script loses its numbers, and the
//! live generator answers its controls over the WebSocket.

use backend::sim::anomaly::{Detector, Observation};
use protocol::{AnomalySim, ChartFrame, ClientMessage, ServerMessage};

use crate::support::TestApp;

async fn observe_all(app: &TestApp, values: &[f64]) -> Vec<Observation> {
    let (_, mut conn) = app.session_with_connection().await;
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
async fn the_live_generator_streams_frames_and_takes_a_spike() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let start = ClientMessage::StartAnomaly {
        seq: 1,
        sim: AnomalySim {
            flat: false,
            duration_ms: 30_000,
        },
    };
    assert_eq!(ws.request(start).await, ServerMessage::Ack { seq: 1 });
    assert_eq!(
        ws.request(ClientMessage::InjectSpike { seq: 2 }).await,
        ServerMessage::Ack { seq: 2 }
    );
    let mut values = Vec::new();
    while values.len() < 3 {
        match ws.next().await {
            ServerMessage::Frame {
                frame: ChartFrame::Anomaly { value, stable, .. },
            } => {
                assert!(value.is_finite());
                values.push((value, stable.flagged));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        ws.request(ClientMessage::StopSimulation { seq: 3 }).await,
        ServerMessage::Ack { seq: 3 }
    );
}
