//! The memory and encoding explorer: MEMORY USAGE as a hash, set or sorted
//! set grows past its compact encoding, and one embedding stored three ways.

use leptos::prelude::*;
use protocol::{ChartFrame, MemoryKind};

use super::chart_panel::{ChartCanvas, ChartPanel};
use crate::charts::memory;
use crate::sim_state::SimState;

#[component]
pub fn MemoryChart() -> impl IntoView {
    let sims = expect_context::<SimState>();
    let grow = move |kind: MemoryKind| move |_| sims.grow_memory(kind);
    view! {
        <ChartPanel
            title="Memory and encodings"
            lede="Grow a collection one element at a time in your sandbox. Small ones use a compact encoding (listpack, intset); past the threshold Redis converts them and every element costs more."
        >
            <div class="chart-actions">
                <button type="button" data-testid="memory-hash" on:click=grow(MemoryKind::Hash)>"Grow a hash"</button>
                <button type="button" data-testid="memory-set" on:click=grow(MemoryKind::Set)>"Grow a set"</button>
                <button type="button" data-testid="memory-zset" on:click=grow(MemoryKind::SortedSet)>"Grow a sorted set"</button>
                <button type="button" data-testid="memory-embeddings" on:click=move |_| sims.compare_embeddings()>
                    "Compare embedding storage"
                </button>
                <span class="chart-status" role="status">{move || sims.status.get()}</span>
            </div>
            <ChartCanvas testid="memory-chart" label="Memory usage against element count, with encoding changes"
                draw=move |canvas| sims.memory.with(|curves| memory::draw(canvas, curves))/>
            <table class="chart-table" data-testid="embedding-sizes">
                <caption>"One 768-dimension embedding, MEMORY USAGE in bytes"</caption>
                <tbody>
                    {move || match sims.embeddings.get() {
                        Some(ChartFrame::Embeddings { json_bytes, blob_bytes, vset_bytes, .. }) => {
                            let vset = vset_bytes.map_or("not available".to_owned(), |b| b.to_string());
                            view! {
                                <tr><th>"JSON text in a string"</th><td>{json_bytes}</td></tr>
                                <tr><th>"float32 bytes in a string"</th><td>{blob_bytes}</td></tr>
                                <tr><th>"vector set (VADD, 8-bit quantized)"</th><td>{vset}</td></tr>
                            }
                                .into_any()
                        }
                        _ => view! { <tr><td>"Press “Compare embedding storage”."</td></tr> }.into_any(),
                    }}
                </tbody>
            </table>
        </ChartPanel>
    }
}
