//! Latency panel: every console command's server-side time, an optional
//! background probe, a histogram with p50/p95/p99, and the feature-serving
//! comparison (N reads as N commands, one pipeline, one HMGET).

use leptos::prelude::*;

use crate::console::ConsoleState;

#[component]
pub fn LatencyChart() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let series: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let histogram: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let compare: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let n = RwSignal::new(50_u32);

    Effect::new(move |_| {
        state.latencies.with(|samples| {
            if let Some(canvas) = series.get() {
                let _ = crate::charts::draw_latency_series(canvas, samples);
            }
            if let Some(canvas) = histogram.get() {
                let _ = crate::charts::draw_latency_histogram(canvas, samples);
            }
        });
    });
    Effect::new(move |_| {
        if let (Some(canvas), Some(comparison)) = (compare.get(), state.comparison.get()) {
            let _ = crate::charts::draw_comparison(canvas, &comparison);
        }
    });

    view! {
        <section class="chart-panel" aria-label="Latency">
            <h2 class="chart-title">"Latency, live"</h2>
            <p class="chart-lede">
                "Each command you run is timed inside the server (µs). Turn on the probe to PING your sandbox every 100 ms, like redis-cli --latency."
            </p>
            <div class="chart-controls">
                <label class="chart-check">
                    <input
                        type="checkbox"
                        data-testid="probe-toggle"
                        prop:checked=move || state.probe_on.get()
                        on:change=move |ev| state.set_probe(event_target_checked(&ev))
                    />
                    " background probe"
                </label>
                <label class="chart-field">
                    <span>"features to read (N)"</span>
                    <input
                        type="number"
                        min="1"
                        max="500"
                        prop:value=move || n.get()
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                                n.set(v.clamp(1, 500));
                            }
                        }
                    />
                </label>
                <button type="button" class="chart-button" data-testid="compare-reads" on:click=move |_| state.compare_reads(n.get_untracked())>
                    "Compare N × HGET, pipeline, HMGET"
                </button>
            </div>
            <canvas class="chart-canvas" node_ref=series width="760" height="280" data-testid="latency-chart"
                aria-label="Latency over time"></canvas>
            <canvas class="chart-canvas" node_ref=histogram width="760" height="260" data-testid="latency-histogram"
                aria-label="Latency histogram with percentiles"></canvas>
            <Show when=move || state.comparison.get().is_some()>
                <canvas class="chart-canvas" node_ref=compare width="760" height="280" data-testid="compare-chart"
                    aria-label="N reads compared"></canvas>
            </Show>
        </section>
    }
}
