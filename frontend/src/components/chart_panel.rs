//! What every live chart shows around its drawing: the panel with its
//! title and explanation (`ChartPanel`), and a canvas redrawn whenever its
//! data or the window's size changes (`ChartCanvas`).

use leptos::ev;
use leptos::prelude::*;

#[component]
pub fn ChartPanel(
    /// The heading, also the panel's accessible name.
    title: &'static str,
    /// What the chart shows and what to try.
    lede: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="chart-panel" aria-label=title>
            <h2 class="chart-title">{title}</h2>
            <p class="chart-lede">{lede}</p>
            {children()}
        </section>
    }
}

/// A canvas whose `draw` runs in an effect: it redraws when any signal it
/// reads changes, and when the window is resized (the canvas is drawn at
/// the size it is shown).
#[component]
pub fn ChartCanvas(
    testid: &'static str,
    /// The drawing's accessible name.
    #[prop(into)]
    label: String,
    draw: impl Fn(web_sys::HtmlCanvasElement) -> Result<(), String> + 'static,
    /// A shorter canvas (a secondary drawing under the main one).
    #[prop(optional)]
    short: bool,
) -> impl IntoView {
    let canvas: NodeRef<leptos::html::Canvas> = NodeRef::new();
    let resized = RwSignal::new(0u32);
    let handle = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || handle.remove());
    Effect::new(move |_| {
        resized.track();
        if let Some(canvas) = canvas.get() {
            if let Err(e) = draw(canvas) {
                leptos::logging::warn!("chart {testid}: {e}");
            }
        }
    });
    view! {
        <canvas class="chart-canvas" class=("chart-canvas-short", short) node_ref=canvas
            data-testid=testid role="img" aria-label=label></canvas>
    }
}
