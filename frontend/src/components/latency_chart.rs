//! Latency panel: every console command's round trip from the server to
//! the sandbox, an optional background probe, a histogram with
//! p50/p95/p99, and the feature-serving comparison (N reads as N commands,
//! one pipeline, one HMGET).

use leptos::prelude::*;
use protocol::sim_limits::COMPARE_READS_MAX;

use super::chart_panel::{ChartCanvas, ChartPanel};
use crate::charts::latency;
use crate::sim_state::SimState;

#[component]
pub fn LatencyChart() -> impl IntoView {
    let sims = expect_context::<SimState>();
    let n = RwSignal::new(50_u32);
    view! {
        <ChartPanel
            title="Latency, live"
            lede="Each command you run is timed on the server, around the call to your Redis: the number is the round trip (network + Redis), not Redis's own time, which INFO commandstats and SLOWLOG report. Turn on the probe to PING your sandbox every 100 ms, like redis-cli --latency."
        >
            <div class="chart-controls">
                <label class="chart-check">
                    <input
                        type="checkbox"
                        data-testid="probe-toggle"
                        prop:checked=move || sims.probe_on.get()
                        on:change=move |ev| sims.set_probe(event_target_checked(&ev))
                    />
                    " background probe"
                </label>
                <label class="chart-field">
                    <span>"features to read (N)"</span>
                    <input
                        type="number"
                        min="1"
                        max=COMPARE_READS_MAX
                        prop:value=move || n.get()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                                n.set(v.clamp(1, COMPARE_READS_MAX));
                            }
                        }
                    />
                </label>
                <button type="button" class="chart-button" data-testid="compare-reads" on:click=move |_| sims.compare_reads(n.get_untracked())>
                    "Compare N × HGET, pipeline, HMGET"
                </button>
            </div>
            <ChartCanvas testid="latency-chart" label="Round trip to your Redis over time"
                draw=move |canvas| sims.latencies.with(|s| latency::draw_series(canvas, s))/>
            <ChartCanvas testid="latency-histogram" label="Round-trip histogram with percentiles" short=true
                draw=move |canvas| sims.latencies.with(|s| latency::draw_histogram(canvas, s))/>
            <Show when=move || sims.comparison.get().is_some()>
                <ChartCanvas testid="compare-chart" label="N reads compared"
                    draw=move |canvas| match sims.comparison.get() {
                        Some(comparison) => latency::draw_comparison(canvas, &comparison),
                        None => Ok(()),
                    }/>
            </Show>
        </ChartPanel>
    }
}
