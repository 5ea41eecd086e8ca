//! The room's live charts, with no controls: the demo sandbox's scenario
//! as its frames arrive, drawn by the same chart code as a learner's own
//! charts. A chart shows once its kind of frame has come.

use leptos::prelude::*;
use protocol::ChartFrame;

use super::chart_panel::{ChartCanvas, ChartPanel};
use super::scenario_controls::rate_limit_reference;
use crate::charts::{anomaly, rate_limit, streams};
use crate::sim_state::SimState;

/// Which kinds of run the frames hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Kinds {
    rate_limit: bool,
    anomaly: bool,
    streams: bool,
}

fn kinds(frames: &[ChartFrame]) -> Kinds {
    frames.iter().fold(Kinds::default(), |k, frame| Kinds {
        rate_limit: k.rate_limit || matches!(frame, ChartFrame::RateLimit { .. }),
        anomaly: k.anomaly || matches!(frame, ChartFrame::Anomaly { .. }),
        streams: k.streams || matches!(frame, ChartFrame::Stream { .. }),
    })
}

/// One chart's drawing from the room's frames.
type Draw = fn(web_sys::HtmlCanvasElement, &[ChartFrame]) -> Result<(), String>;

fn draw_rate_limit(
    canvas: web_sys::HtmlCanvasElement,
    frames: &[ChartFrame],
) -> Result<(), String> {
    rate_limit::draw(canvas, frames, rate_limit_reference())
}

#[component]
pub fn RoomCharts(sims: SimState) -> impl IntoView {
    let shown = Memo::new(move |_| sims.frames.with(|f| kinds(f)));
    view! {
        <div class="room-charts">
            <p class="room-charts-status" role="status">
                {move || {
                    let status = sims.status.get();
                    if status.is_empty() { "No scenario is running.".to_owned() } else { status }
                }}
            </p>
            <RoomChart sims=sims shown=Signal::derive(move || shown.get().rate_limit)
                title="Rate limiting, live"
                lede="Every limiter decides the same bursty traffic; the fixed window lets a double burst through at its boundary."
                testid="room-rate-chart" label="Allowed requests per second for each rate limiter"
                draw=draw_rate_limit/>
            <RoomChart sims=sims shown=Signal::derive(move || shown.get().anomaly)
                title="Anomaly detection, live"
                lede="A metric with the stable script's band and flags, and the tutorial script's truncated numbers."
                testid="room-anomaly-chart" label="Metric, mean ± 3σ band and flagged samples"
                draw=anomaly::draw/>
            <RoomChart sims=sims shown=Signal::derive(move || shown.get().streams)
                title="Streams and consumer groups, live"
                lede="A producer and three workers; a killed worker's messages stay pending until XAUTOCLAIM recovers them."
                testid="room-streams-chart" label="Pending entries per consumer over time"
                draw=streams::draw/>
        </div>
    }
}

#[component]
fn RoomChart(
    sims: SimState,
    shown: Signal<bool>,
    title: &'static str,
    lede: &'static str,
    testid: &'static str,
    label: &'static str,
    draw: Draw,
) -> impl IntoView {
    view! {
        <Show when=move || shown.get()>
            <ChartPanel title=title lede=lede>
                <ChartCanvas testid=testid label=label
                    draw=move |canvas| sims.frames.with(|frames| draw(canvas, frames))/>
            </ChartPanel>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_shows_once_its_kind_of_frame_came() {
        assert_eq!(kinds(&[]), Kinds::default());
        let frames = [
            ChartFrame::Done {
                reason: "stopped".into(),
            },
            ChartFrame::RateLimit {
                t_ms: 0,
                bucket_ms: 250,
                counts: vec![],
            },
        ];
        assert_eq!(
            kinds(&frames),
            Kinds {
                rate_limit: true,
                ..Kinds::default()
            }
        );
    }
}
