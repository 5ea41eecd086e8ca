//! Anomaly detection, live: a generated metric with spikes on demand, the
//! stable script's band and flags, and the tutorial script's truncated
//! numbers beside it (and its NaN on a flat series).

use leptos::prelude::*;
use protocol::{AnomalySim, ChartFrame};

use super::chart_panel::{ChartCanvas, ChartPanel};
use crate::charts::anomaly;
use crate::sim_state::SimState;

/// How long one Start runs the generator.
const RUN_MS: u64 = 60_000;

/// "1 time", "3 times".
fn times(n: usize) -> String {
    if n == 1 {
        "1 time".to_owned()
    } else {
        format!("{n} times")
    }
}

#[component]
pub fn AnomalyChart() -> impl IntoView {
    let sims = expect_context::<SimState>();
    let flat = RwSignal::new(false);
    let summary = Memo::new(move |_| {
        sims.frames.with(|frames| {
            let (mut samples, mut stable, mut tutorial, mut unusable) = (0, 0, 0, 0);
            let mut last_raw = String::new();
            for frame in frames {
                if let ChartFrame::Anomaly {
                    stable: s,
                    tutorial: t,
                    ..
                } = frame
                {
                    samples += 1;
                    stable += usize::from(s.flagged);
                    tutorial += usize::from(t.flagged);
                    unusable += usize::from(t.std.is_none());
                    last_raw.clone_from(&t.raw);
                }
            }
            (samples, stable, tutorial, unusable, last_raw)
        })
    });
    let running = move || sims.running.get();
    view! {
        <ChartPanel
            title="Anomaly detection, live"
            lede="A generator pushes a latency metric into your sandbox five times a second. Before each sample, both scripts compute the recent mean and deviation: the stable one, and the tutorial's, whose numbers come back truncated to integers. Inject a spike, or start a flat series and watch the tutorial's deviation turn into NaN."
        >
            <div class="chart-controls">
                // The series is chosen when the generator starts, so the
                // box is locked while it runs, and says so.
                <label class="chart-check" title="The series is fixed while the generator runs: Stop, then Start again to switch.">
                    <input type="checkbox" data-testid="anomaly-flat" prop:checked=move || flat.get()
                        disabled=running
                        on:change=move |ev| flat.set(event_target_checked(&ev)) />
                    " flat series (0.1 every time)"
                </label>
                <Show when=running>
                    <span class="chart-note" data-testid="anomaly-flat-note">"(Stop to switch series)"</span>
                </Show>
            </div>
            <div class="chart-actions">
                <button type="button" data-testid="anomaly-start" disabled=running
                    on:click=move |_| sims.start_anomaly(AnomalySim { flat: flat.get_untracked(), duration_ms: RUN_MS })>
                    "Start"
                </button>
                <button type="button" data-testid="anomaly-spike" disabled=move || !running()
                    on:click=move |_| sims.inject_spike()>
                    "Inject a spike"
                </button>
                <button type="button" data-testid="anomaly-stop" disabled=move || !running() on:click=move |_| sims.stop()>
                    "Stop"
                </button>
                <span class="chart-status" role="status">{move || sims.status.get()}</span>
            </div>
            <ChartCanvas testid="anomaly-chart" label="Metric, mean ± 3σ band and flagged samples"
                draw=move |canvas| sims.frames.with(|frames| anomaly::draw(canvas, frames))/>
            <p class="chart-counters" data-testid="anomaly-summary">
                {move || {
                    let (samples, stable, tutorial, unusable, raw) = summary.get();
                    format!(
                        "{samples} samples · stable script flagged {} · tutorial's flagged {}, gave no usable deviation {} · its last reply: {raw}",
                        times(stable),
                        times(tutorial),
                        times(unusable),
                    )
                }}
            </p>
        </ChartPanel>
    }
}
