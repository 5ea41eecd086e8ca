//! Anomaly detection, live: a generated metric with spikes on demand, the
//! stable script's band and flags, and the tutorial script's truncated
//! numbers beside it (and its NaN on a flat series).

use leptos::prelude::*;
use protocol::{AnomalySim, ChartFrame};

use crate::console::ConsoleState;

#[component]
pub fn AnomalyChart() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let canvas: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let flat = RwSignal::new(false);

    Effect::new(move |_| {
        state.frames.with(|frames| {
            if let Some(canvas) = canvas.get() {
                let _ = crate::charts::draw_anomaly(canvas, frames);
            }
        });
    });
    let summary = Memo::new(move |_| {
        state.frames.with(|frames| {
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

    view! {
        <section class="chart-panel" aria-label="Anomaly detection">
            <h2 class="chart-title">"Anomaly detection, live"</h2>
            <p class="chart-lede">
                "A generator pushes a latency metric into your sandbox five times a second. Before each sample, both scripts compute the recent mean and deviation: the stable one, and the tutorial's, whose numbers come back truncated to integers. Inject a spike, or switch to a flat series and watch the tutorial's deviation turn into NaN."
            </p>
            <div class="chart-controls">
                <label class="chart-check">
                    <input type="checkbox" data-testid="anomaly-flat" prop:checked=move || flat.get()
                        on:change=move |ev| flat.set(event_target_checked(&ev)) />
                    " flat series (0.1 every time)"
                </label>
            </div>
            <div class="chart-actions">
                <button type="button" data-testid="anomaly-start" disabled=move || state.sim_running.get()
                    on:click=move |_| state.start_anomaly(AnomalySim { flat: flat.get_untracked(), duration_ms: 60_000 })>
                    "Start"
                </button>
                <button type="button" data-testid="anomaly-spike" disabled=move || !state.sim_running.get()
                    on:click=move |_| state.inject_spike()>
                    "Inject a spike"
                </button>
                <button type="button" disabled=move || !state.sim_running.get() on:click=move |_| state.stop_simulation()>
                    "Stop"
                </button>
                <span class="chart-status" role="status">{move || state.sim_status.get()}</span>
            </div>
            <canvas class="chart-canvas" node_ref=canvas width="760" height="320" data-testid="anomaly-chart"
                aria-label="Metric, mean ± 3σ band and flagged samples"></canvas>
            <p class="chart-counters" data-testid="anomaly-summary">
                {move || {
                    let (samples, stable, tutorial, unusable, raw) = summary.get();
                    format!(
                        "{samples} samples · stable script flagged {stable} · tutorial's flagged {tutorial}, gave no usable deviation {unusable} times · its last reply: {raw}"
                    )
                }}
            </p>
        </section>
    }
}
