//! The memory and encoding explorer: MEMORY USAGE as a hash, set or sorted
//! set grows past its compact encoding, and one embedding stored three ways.

use leptos::prelude::*;
use protocol::{ChartFrame, MemoryKind};

use crate::console::ConsoleState;

#[component]
pub fn MemoryChart() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let canvas: NodeRef<leptos::html::Canvas> = NodeRef::new();
    Effect::new(move |_| {
        state.memory.with(|curves| {
            if let Some(canvas) = canvas.get() {
                let _ = crate::charts::draw_memory(canvas, curves);
            }
        });
    });
    let grow = move |kind: MemoryKind| move |_| state.grow_memory(kind, 700);
    view! {
        <section class="chart-panel" aria-label="Memory explorer">
            <h2 class="chart-title">"Memory and encodings"</h2>
            <p class="chart-lede">
                "Grow a collection one element at a time in your sandbox. Small ones use a compact encoding (listpack, intset); past the threshold Redis converts them and every element costs more."
            </p>
            <div class="chart-actions">
                <button type="button" data-testid="memory-hash" on:click=grow(MemoryKind::Hash)>"Grow a hash"</button>
                <button type="button" data-testid="memory-set" on:click=grow(MemoryKind::Set)>"Grow a set"</button>
                <button type="button" data-testid="memory-zset" on:click=grow(MemoryKind::SortedSet)>"Grow a sorted set"</button>
                <button type="button" data-testid="memory-embeddings" on:click=move |_| state.compare_embeddings()>
                    "Compare embedding storage"
                </button>
            </div>
            <canvas class="chart-canvas" node_ref=canvas width="760" height="320" data-testid="memory-chart"
                aria-label="Memory usage against element count, with encoding changes"></canvas>
            <table class="chart-table" data-testid="embedding-sizes">
                <caption>"One 768-dimension embedding, MEMORY USAGE in bytes"</caption>
                <tbody>
                    {move || match state.embeddings.get() {
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
        </section>
    }
}
