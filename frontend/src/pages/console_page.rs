//! The console on its own page, with every live chart under it (and the
//! learner's class above it, in a class).

use leptos::prelude::*;

use crate::components::anomaly_chart::AnomalyChart;
use crate::components::class_panel::ClassPanel;
use crate::components::console_view::ConsoleView;
use crate::components::latency_chart::LatencyChart;
use crate::components::memory_chart::MemoryChart;
use crate::components::rate_limit_chart::RateLimitChart;
use crate::components::streams_chart::StreamsChart;

#[component]
pub fn ConsolePage() -> impl IntoView {
    view! {
        <section class="console-page">
            <h1 class="console-page-title">"Your Redis"</h1>
            <p class="console-page-lede">
                "A real Redis 8.2 of your own, with JSON, Search, Bloom and vector sets. It behaves like redis-cli: try "
                <code>"HSET user:1 name Ada"</code> ", then " <code>"HGETALL user:1"</code>
                ", or " <code>"VADD items VALUES 2 0.1 0.2 a"</code> " for a vector set."
            </p>
            <ClassPanel/>
            <ConsoleView/>
            <LatencyChart/>
            <RateLimitChart/>
            <AnomalyChart/>
            <StreamsChart/>
            <MemoryChart/>
        </section>
    }
}
