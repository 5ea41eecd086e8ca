//! The rate-limit simulator panel: controls, live counters, and a chart of
//! allowed requests per second for each limiter on the same traffic, so
//! the fixed window's burst at the window boundary is plain to see.

use leptos::prelude::*;
use protocol::{Algorithm, ChartFrame, RateLimitSim};

use crate::console::ConsoleState;

fn number_input(
    label: &'static str,
    value: RwSignal<f64>,
    min: f64,
    max: f64,
    id: &'static str,
) -> impl IntoView {
    view! {
        <label class="chart-field">
            <span>{label}</span>
            <input
                type="number"
                data-testid=id
                min=min
                max=max
                prop:value=move || value.get()
                on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        value.set(v.clamp(min, max));
                    }
                }
            />
        </label>
    }
}

#[component]
pub fn RateLimitChart() -> impl IntoView {
    let state = expect_context::<ConsoleState>();
    let rate = RwSignal::new(80.0_f64);
    let users = RwSignal::new(2.0_f64);
    let limit = RwSignal::new(5.0_f64);
    let window = RwSignal::new(2.0_f64);
    let seconds = RwSignal::new(20.0_f64);
    let chosen = RwSignal::new(Algorithm::ALL.to_vec());
    let bursty = RwSignal::new(true);
    let canvas: NodeRef<leptos::html::Canvas> = NodeRef::new();

    Effect::new(move |_| {
        let frames = state.frames.get();
        let per_sec: f64 = limit.get() * users.get() / window.get().max(0.1_f64);
        if let Some(canvas) = canvas.get() {
            if let Err(e) = crate::charts::draw_rate_limit(canvas, &frames, per_sec) {
                leptos::logging::warn!("chart: {e}");
            }
        }
    });

    let totals = Memo::new(move |_| {
        let mut totals: Vec<(Algorithm, u32, u32)> = Vec::new();
        state.frames.with(|frames| {
            for frame in frames {
                let ChartFrame::RateLimit { counts, .. } = frame else {
                    continue;
                };
                for count in counts {
                    match totals.iter_mut().find(|(a, _, _)| *a == count.algorithm) {
                        Some(t) => {
                            t.1 += count.allowed;
                            t.2 += count.blocked;
                        }
                        None => totals.push((count.algorithm, count.allowed, count.blocked)),
                    }
                }
            }
        });
        totals
    });

    let start = move |_| {
        state.start_rate_limit(RateLimitSim {
            rate: rate.get_untracked(),
            users: users.get_untracked() as u32,
            limit: limit.get_untracked() as u32,
            window_ms: (window.get_untracked() * 1000.0) as u64,
            algorithms: chosen.get_untracked(),
            duration_ms: (seconds.get_untracked() * 1000.0) as u64,
            bursty: bursty.get_untracked(),
        });
    };

    view! {
        <section class="chart-panel" aria-label="Rate-limit simulator">
            <h2 class="chart-title">"Rate limiting, live"</h2>
            <p class="chart-lede">
                "Simulated users send requests to your sandbox; each limiter script decides every request atomically in Redis. Watch the fixed window let a double burst through at each window boundary."
            </p>
            <div class="chart-controls">
                {number_input("requests / s", rate, 1.0, 2000.0, "sim-rate")}
                {number_input("users", users, 1.0, 50.0, "sim-users")}
                {number_input("limit per user", limit, 1.0, 1000.0, "sim-limit")}
                {number_input("window (s)", window, 0.1, 60.0, "sim-window")}
                {number_input("duration (s)", seconds, 1.0, 120.0, "sim-duration")}
                {Algorithm::ALL
                    .into_iter()
                    .map(|algorithm| {
                        view! {
                            <label class="chart-check">
                                <input
                                    type="checkbox"
                                    prop:checked=move || chosen.get().contains(&algorithm)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|a| *a != algorithm);
                                            if on {
                                                c.push(algorithm);
                                            }
                                        });
                                    }
                                />
                                {format!(" {}", algorithm.label())}
                            </label>
                        }
                    })
                    .collect_view()}
                <label class="chart-check" title="Traffic only in half a window around every second window boundary: where a fixed window lets twice its limit through.">
                    <input
                        type="checkbox"
                        prop:checked=move || bursty.get()
                        on:change=move |ev| bursty.set(event_target_checked(&ev))
                    />
                    " bursts at window edges"
                </label>
            </div>
            <div class="chart-actions">
                <button type="button" data-testid="sim-start" on:click=start disabled=move || state.sim_running.get()>
                    "Start"
                </button>
                <button type="button" data-testid="sim-stop" on:click=move |_| state.stop_simulation() disabled=move || !state.sim_running.get()>
                    "Stop"
                </button>
                <span class="chart-status" role="status">{move || state.sim_status.get()}</span>
            </div>
            <canvas class="chart-canvas" node_ref=canvas width="760" height="320" data-testid="rate-chart"
                aria-label="Allowed requests per second for each rate limiter"></canvas>
            <ul class="chart-counters">
                {move || {
                    totals
                        .get()
                        .into_iter()
                        .map(|(algorithm, allowed, blocked)| {
                            let id = format!("rate-counter-{algorithm:?}");
                            view! {
                                <li data-testid=id>
                                    <strong>{algorithm.label()}</strong>
                                    {format!(": {allowed} allowed · {blocked} blocked")}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
