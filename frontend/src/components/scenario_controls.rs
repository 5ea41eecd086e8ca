//! Scenarios, for the instructor: start a simulation on the room's demo
//! sandbox (its frames reach every screen in the room), poke it (a spike, a
//! killed consumer, a recovery) or stop it; its charts show below.

use leptos::prelude::*;
use protocol::sim_limits::STREAMS_DEFAULT_MS;
use protocol::{Algorithm, AnomalySim, RateLimitSim, RoomClientMessage, Scenario};

use super::room_charts::RoomCharts;
use crate::instructor_room::InstructorRoom;

/// The lesson page's rate-limit chart defaults, so a learner's chart of the
/// instructor's scenario draws the same reference line: 2 users, 5 per
/// 2 s window each, 80 requests a second in bursts at window edges.
const RATE_USERS: u32 = 2;
const RATE_LIMIT: u32 = 5;
const RATE_WINDOW_MS: u64 = 2_000;

/// The anomaly chart's run length.
const ANOMALY_MS: u64 = 60_000;

pub fn rate_limit_sim() -> RateLimitSim {
    RateLimitSim {
        rate: 80.0,
        users: RATE_USERS,
        limit: RATE_LIMIT,
        window_ms: RATE_WINDOW_MS,
        algorithms: Algorithm::ALL.to_vec(),
        duration_ms: 20_000,
        bursty: true,
        custom_script: None,
    }
}

/// What the class as a whole may send per second under the scenario's
/// limits: the chart's reference line.
pub fn rate_limit_reference() -> f64 {
    f64::from(RATE_LIMIT * RATE_USERS) / (RATE_WINDOW_MS as f64 / 1000.0)
}

/// The scenario buttons: (class, label, what it starts, whether it starts a
/// new run whose chart begins empty).
fn scenarios() -> Vec<(&'static str, &'static str, Scenario, bool)> {
    vec![
        (
            "scenario-rate-limit",
            "Rate-limit burst",
            Scenario::RateLimit {
                sim: rate_limit_sim(),
            },
            true,
        ),
        (
            "scenario-anomaly",
            "Anomaly generator",
            Scenario::Anomaly {
                sim: AnomalySim {
                    flat: false,
                    duration_ms: ANOMALY_MS,
                },
            },
            true,
        ),
        ("scenario-spike", "Inject a spike", Scenario::Spike, false),
        (
            "scenario-streams",
            "Streams and consumers",
            Scenario::Streams {
                duration_ms: STREAMS_DEFAULT_MS,
            },
            true,
        ),
        (
            "scenario-kill-consumer",
            "Kill worker-1",
            Scenario::KillConsumer { consumer: 0 },
            false,
        ),
        (
            "scenario-recover",
            "Recover with XAUTOCLAIM",
            Scenario::Recover,
            false,
        ),
        ("scenario-stop", "Stop", Scenario::Stop, false),
    ]
}

#[component]
pub fn ScenarioControls(room: InstructorRoom) -> impl IntoView {
    let said = RwSignal::new(None::<String>);
    let sims = room.live.sims;
    let launch = move |scenario: Scenario, fresh: bool| {
        if fresh {
            // The room's next frames start the new run's chart.
            sims.frames.set(Vec::new());
            sims.running.set(false);
            sims.status.set("Starting…".to_owned());
        }
        leptos::task::spawn_local(async move {
            match room
                .ask(move |seq| RoomClientMessage::Scenario { seq, scenario })
                .await
            {
                Ok(_) => said.set(None),
                Err(why) => {
                    sims.status.set(String::new());
                    said.set(Some(why));
                }
            }
        });
    };
    view! {
        <section class="instructor-section scenario-controls" aria-label="Scenarios">
            <h2>"Scenarios"</h2>
            <p class="instructor-note">"They run in the demo sandbox; every screen in the room shows the charts."</p>
            <div class="instructor-actions">
                {scenarios()
                    .into_iter()
                    .map(|(class, label, scenario, fresh)| {
                        view! {
                            <button type="button" class=class on:click=move |_| launch(scenario.clone(), fresh)>
                                {label}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {move || said.get().map(|e| view! { <p class="instructor-error" role="alert">{e}</p> })}
            <RoomCharts sims=sims/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_scenario_is_bursty_and_within_the_simulator_bounds() {
        let sim = rate_limit_sim();
        assert!(sim.bursty);
        assert!(sim.rate <= protocol::sim_limits::RATE_MAX);
        assert!(sim.users <= protocol::sim_limits::USERS_MAX);
        assert!(sim.duration_ms <= protocol::sim_limits::RATE_LIMIT_DURATION_MAX_MS);
        assert_eq!(rate_limit_reference(), 5.0);
    }

    #[test]
    fn every_scenario_has_its_own_button_class() {
        let classes: Vec<&str> = scenarios().iter().map(|s| s.0).collect();
        let mut unique = classes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), classes.len());
        assert!(classes.contains(&"scenario-stop"));
    }
}
