//! Streams, live: length, lag and every consumer's pending entries while a
//! simulated producer and consumers run; kill a consumer and recover its
//! messages with XAUTOCLAIM.

use leptos::prelude::*;
use protocol::ChartFrame;

use super::chart_panel::{ChartCanvas, ChartPanel};
use crate::charts::streams;
use crate::sim_state::SimState;

#[component]
pub fn StreamsChart() -> impl IntoView {
    let sims = expect_context::<SimState>();
    let latest = Memo::new(move |_| {
        sims.frames.with(|frames| {
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
    let idle = move || !sims.running.get();
    view! {
        <ChartPanel
            title="Streams and consumer groups, live"
            lede="A producer adds 32 events a second; three workers in the group read them and acknowledge a moment later. Kill a worker: its messages stay pending (its line turns dashed). Recover them with XAUTOCLAIM and watch pending return to normal."
        >
            <div class="chart-actions">
                <button type="button" data-testid="streams-start" disabled=move || sims.running.get()
                    on:click=move |_| sims.start_streams()>"Start"</button>
                <button type="button" data-testid="streams-kill" disabled=idle
                    on:click=move |_| sims.kill_consumer(0)>"Kill worker-1"</button>
                <button type="button" data-testid="streams-recover" disabled=idle
                    on:click=move |_| sims.recover()>"Recover with XAUTOCLAIM"</button>
                <button type="button" disabled=idle on:click=move |_| sims.stop()>"Stop"</button>
                <span class="chart-status" role="status">{move || sims.status.get()}</span>
            </div>
            <ChartCanvas testid="streams-chart" label="Pending entries per consumer over time"
                draw=move |canvas| sims.frames.with(|frames| streams::draw(canvas, frames))/>
            <p class="chart-counters" data-testid="streams-summary">
                {move || match latest.get() {
                    Some((length, pending, lag, claimed)) => format!(
                        "XLEN {length} · pending {pending} · lag {} · recovered by XAUTOCLAIM {claimed}",
                        lag.map_or("unknown".to_owned(), |l| l.to_string())
                    ),
                    None => "Not running.".to_owned(),
                }}
            </p>
        </ChartPanel>
    }
}
