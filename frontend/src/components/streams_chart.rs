//! Streams, live: length, lag and every consumer's pending entries while a
//! simulated producer and consumers run; kill a consumer and recover its
//! messages with XAUTOCLAIM.

use leptos::prelude::*;
use protocol::ChartFrame;

use crate::console::ConsoleState;

#[component]
pub fn StreamsChart() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let canvas: NodeRef<leptos::html::Canvas> = NodeRef::new();
    Effect::new(move |_| {
        state.frames.with(|frames| {
            if let Some(canvas) = canvas.get() {
                let _ = crate::charts::draw_streams(canvas, frames);
            }
        });
    });
    let latest = Memo::new(move |_| {
        state.frames.with(|frames| {
            frames.iter().rev().find_map(|f| match f {
                ChartFrame::Stream {
                    length,
                    pending,
                    lag,
                    claimed,
                    ..
                } => Some((*length, *pending, *lag, *claimed)),
                _ => None,
            })
        })
    });
    view! {
        <section class="chart-panel" aria-label="Streams">
            <h2 class="chart-title">"Streams and consumer groups, live"</h2>
            <p class="chart-lede">
                "A producer adds 32 events a second; three workers in the group read them and acknowledge a moment later. Kill a worker: its messages stay pending. Recover them with XAUTOCLAIM and watch pending return to normal."
            </p>
            <div class="chart-actions">
                <button type="button" data-testid="streams-start" disabled=move || state.sim_running.get()
                    on:click=move |_| state.start_streams()>"Start"</button>
                <button type="button" data-testid="streams-kill" disabled=move || !state.sim_running.get()
                    on:click=move |_| state.kill_consumer(0)>"Kill worker-1"</button>
                <button type="button" data-testid="streams-recover" disabled=move || !state.sim_running.get()
                    on:click=move |_| state.recover()>"Recover with XAUTOCLAIM"</button>
                <button type="button" disabled=move || !state.sim_running.get()
                    on:click=move |_| state.stop_simulation()>"Stop"</button>
            </div>
            <canvas class="chart-canvas" node_ref=canvas width="760" height="300" data-testid="streams-chart"
                aria-label="Pending entries per consumer over time"></canvas>
            <p class="chart-counters" data-testid="streams-summary">
                {move || match latest.get() {
                    Some((length, pending, lag, claimed)) => format!(
                        "XLEN {length} · pending {pending} · lag {} · recovered by XAUTOCLAIM {claimed}",
                        lag.map_or("unknown".to_owned(), |l| l.to_string())
                    ),
                    None => "Not running.".to_owned(),
                }}
            </p>
        </section>
    }
}
