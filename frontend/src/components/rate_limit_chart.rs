//! The rate-limit simulator panel: controls, live counters, and a chart of
//! allowed requests per second for each limiter on the same traffic, so
//! the fixed window's burst at the window boundary is plain to see.

use leptos::prelude::*;
use protocol::sim_limits::{RATE_LIMIT_DURATION_MAX_MS, RATE_MAX, USERS_MAX};
use protocol::{Algorithm, ChartFrame, RateLimitSim};

use super::chart_panel::{ChartCanvas, ChartPanel};
use crate::charts::rate_limit;
use crate::sim_state::SimState;

/// Users whose own counts are listed under the chart.
const USERS_LISTED: usize = 10;

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

/// One limiter's counts over the whole run.
#[derive(Debug, Clone, PartialEq)]
struct LimiterTotals {
    algorithm: Algorithm,
    allowed: u32,
    blocked: u32,
    /// `(allowed, blocked)` per simulated user.
    per_user: Vec<(u32, u32)>,
}

#[component]
pub fn RateLimitChart() -> impl IntoView {
    let sims = expect_context::<SimState>();
    let rate = RwSignal::new(80.0_f64);
    let users = RwSignal::new(2.0_f64);
    let limit = RwSignal::new(5.0_f64);
    let window = RwSignal::new(2.0_f64);
    let seconds = RwSignal::new(20.0_f64);
    let chosen = RwSignal::new(Algorithm::ALL.to_vec());
    let bursty = RwSignal::new(true);
    let use_custom = RwSignal::new(false);
    let custom = RwSignal::new(
        "-- Your limiter: KEYS[1] is the user's key; ARGV = now_ms, limit, window_ms, request id.\n-- Return 1 to allow, 0 to block. This one is a fixed window that forgets to expire.\nlocal n = redis.call('INCR', KEYS[1])\nif n <= tonumber(ARGV[2]) then return 1 end\nreturn 0".to_owned(),
    );
    let draw = move |canvas: web_sys::HtmlCanvasElement| {
        let per_sec: f64 = limit.get() * users.get() / window.get().max(0.1_f64);
        sims.frames
            .with(|frames| rate_limit::draw(canvas, frames, per_sec))
    };

    // Per limiter: total allowed and blocked, and (allowed, blocked) per user.
    let totals = Memo::new(move |_| {
        let mut totals: Vec<LimiterTotals> = Vec::new();
        sims.frames.with(|frames| {
            for frame in frames {
                let ChartFrame::RateLimit { counts, .. } = frame else {
                    continue;
                };
                for count in counts {
                    let index = match totals.iter().position(|t| t.algorithm == count.algorithm) {
                        Some(i) => i,
                        None => {
                            totals.push(LimiterTotals {
                                algorithm: count.algorithm,
                                allowed: 0,
                                blocked: 0,
                                per_user: vec![(0, 0); count.per_user.len()],
                            });
                            totals.len() - 1
                        }
                    };
                    let entry = &mut totals[index];
                    entry.allowed += count.allowed;
                    entry.blocked += count.blocked;
                    for (slot, (a, b)) in entry.per_user.iter_mut().zip(&count.per_user) {
                        slot.0 += a;
                        slot.1 += b;
                    }
                }
            }
        });
        totals
    });

    let start = move |_| {
        let mut algorithms = chosen.get_untracked();
        if use_custom.get_untracked() {
            algorithms.push(Algorithm::Custom);
        }
        sims.start_rate_limit(RateLimitSim {
            rate: rate.get_untracked(),
            users: users.get_untracked() as u32,
            limit: limit.get_untracked() as u32,
            window_ms: (window.get_untracked() * 1000.0) as u64,
            algorithms,
            custom_script: use_custom.get_untracked().then(|| custom.get_untracked()),
            duration_ms: (seconds.get_untracked() * 1000.0) as u64,
            bursty: bursty.get_untracked(),
        });
    };

    view! {
        <ChartPanel
            title="Rate limiting, live"
            lede="Simulated users send requests to your sandbox; each limiter script decides every request atomically in Redis. Watch the fixed window let a double burst through at each window boundary."
        >
            <div class="chart-controls">
                {number_input("requests / s", rate, 1.0, RATE_MAX, "sim-rate")}
                {number_input("users", users, 1.0, f64::from(USERS_MAX), "sim-users")}
                {number_input("limit per user", limit, 1.0, 1000.0, "sim-limit")}
                {number_input("window (s)", window, 0.1, 60.0, "sim-window")}
                {number_input("duration (s)", seconds, 1.0, RATE_LIMIT_DURATION_MAX_MS as f64 / 1000.0, "sim-duration")}
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
                <label class="chart-check">
                    <input type="checkbox" data-testid="sim-custom" prop:checked=move || use_custom.get()
                        on:change=move |ev| use_custom.set(event_target_checked(&ev)) />
                    " your script"
                </label>
            </div>
            <Show when=move || use_custom.get()>
                <textarea class="chart-script" rows="6" spellcheck="false" data-testid="sim-custom-script"
                    aria-label="Your limiter script (Lua)"
                    prop:value=move || custom.get()
                    on:input=move |ev| custom.set(event_target_value(&ev))></textarea>
            </Show>
            <div class="chart-actions">
                <button type="button" data-testid="sim-start" on:click=start disabled=move || sims.running.get()>
                    "Start"
                </button>
                <button type="button" data-testid="sim-stop" on:click=move |_| sims.stop() disabled=move || !sims.running.get()>
                    "Stop"
                </button>
                <span class="chart-status" role="status">{move || sims.status.get()}</span>
            </div>
            <ChartCanvas testid="rate-chart" label="Allowed requests per second for each rate limiter" draw=draw/>
            <ul class="chart-counters">
                {move || {
                    totals
                        .get()
                        .into_iter()
                        .map(|LimiterTotals { algorithm, allowed, blocked, per_user }| {
                            let id = format!("rate-counter-{algorithm:?}");
                            let users = per_user
                                .iter()
                                .enumerate()
                                .take(USERS_LISTED)
                                .map(|(i, (a, b))| format!("user {}: {a} / {}", i + 1, a + b))
                                .collect::<Vec<_>>()
                                .join(" · ");
                            view! {
                                <li data-testid=id>
                                    <span>
                                        <strong>{algorithm.label()}</strong>
                                        {format!(": {allowed} allowed · {blocked} blocked")}
                                    </span>
                                    <span class="chart-per-user">
                                        <span class="chart-per-user-label">"allowed / sent per user: "</span>
                                        {users}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </ChartPanel>
    }
}
