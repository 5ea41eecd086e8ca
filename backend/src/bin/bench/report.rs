//! The side-by-side tables: every run's figures for the app and webdis, the
//! ratio app ÷ webdis of each run, and the median of those ratios (never of
//! the absolute figures: this 2-core machine drifts between runs, and a
//! ratio taken within one run cancels most of that).

use backend::metrics::percentile;

/// Latency of one measurement, in microseconds, and its throughput.
#[derive(Clone, Copy)]
pub struct Figures {
    pub p50: f64,
    pub p99: f64,
    /// Commands (or requests) per second over the measured window.
    pub rate: f64,
    /// Commands in flight on average (busy time ÷ window, Little's law):
    /// how much concurrency the server really saw.
    pub in_flight: f64,
}

impl Figures {
    pub fn from_samples(mut micros: Vec<u64>, seconds: f64) -> Figures {
        micros.sort_unstable();
        let seconds = seconds.max(f64::EPSILON);
        let busy: u64 = micros.iter().sum();
        Figures {
            p50: percentile(&micros, 50.0) as f64,
            p99: percentile(&micros, 99.0) as f64,
            rate: micros.len() as f64 / seconds,
            in_flight: busy as f64 / 1e6 / seconds,
        }
    }
}

/// The app against webdis on the same work, once per run.
pub struct Comparison {
    pub name: String,
    /// The most app ÷ webdis may be, at p50 and at p99.
    pub goal: f64,
    /// Whether webdis's figures can judge the goal (not with webdis 0.1.9's
    /// WebSocket, which could not be loaded as asked).
    pub judgeable: bool,
    pub runs: Vec<(Figures, Figures)>,
}

impl Comparison {
    pub fn new(name: impl Into<String>, goal: f64) -> Comparison {
        Comparison {
            name: name.into(),
            goal,
            judgeable: true,
            runs: Vec::new(),
        }
    }

    /// The same, marked as not able to judge its goal.
    pub fn not_judgeable(mut self) -> Comparison {
        self.judgeable = false;
        self
    }

    fn ratios(&self, pick: fn(&Figures) -> f64) -> Vec<f64> {
        self.runs
            .iter()
            .map(|(app, webdis)| pick(app) / pick(webdis).max(f64::EPSILON))
            .collect()
    }
}

/// The gateway's own cost in one run: a direct redis-rs round trip and the
/// same command through the gateway, interleaved.
pub struct GatewayRun {
    pub direct: Figures,
    pub gateway: Figures,
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn us(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.1} ms", value / 1_000.0)
    } else {
        format!("{value:.0} µs")
    }
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✔"
    } else {
        "✗"
    }
}

/// Every run of every comparison, then the medians of the ratios.
pub fn print_comparisons(comparisons: &[Comparison]) {
    println!();
    println!("| run | measurement | app p50 | app p99 | webdis p50 | webdis p99 | ratio p50 | ratio p99 | app rate (in flight) | webdis rate (in flight) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for comparison in comparisons {
        for (run, (app, webdis)) in comparison.runs.iter().enumerate() {
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.2}× | {:.2}× | {:.0}/s ({:.1}) | {:.0}/s ({:.1}) |",
                run + 1,
                comparison.name,
                us(app.p50),
                us(app.p99),
                us(webdis.p50),
                us(webdis.p99),
                app.p50 / webdis.p50.max(f64::EPSILON),
                app.p99 / webdis.p99.max(f64::EPSILON),
                app.rate,
                app.in_flight,
                webdis.rate,
                webdis.in_flight,
            );
        }
    }
    println!();
    println!("| measurement | runs | median ratio p50 | median ratio p99 | goal | met |");
    println!("|---|---|---|---|---|---|");
    for comparison in comparisons {
        let p50 = median(comparison.ratios(|f| f.p50));
        let p99 = median(comparison.ratios(|f| f.p99));
        let met = if comparison.judgeable {
            mark(p50 <= comparison.goal && p99 <= comparison.goal)
        } else {
            "not judgeable"
        };
        println!(
            "| {} | {} | **{p50:.2}×** | **{p99:.2}×** | ≤ {:.2}× | {met} |",
            comparison.name,
            comparison.runs.len(),
            comparison.goal,
        );
    }
}

/// The gateway's added latency per run and its median.
pub fn print_gateway(runs: &[GatewayRun], goal_p50: f64, goal_p99: f64) {
    if runs.is_empty() {
        return;
    }
    println!();
    println!(
        "| run | direct p50 | direct p99 | gateway p50 | gateway p99 | added p50 | added p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (run, r) in runs.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            run + 1,
            us(r.direct.p50),
            us(r.direct.p99),
            us(r.gateway.p50),
            us(r.gateway.p99),
            us(r.gateway.p50 - r.direct.p50),
            us(r.gateway.p99 - r.direct.p99),
        );
    }
    let p50 = median(runs.iter().map(|r| r.gateway.p50 - r.direct.p50).collect());
    let p99 = median(runs.iter().map(|r| r.gateway.p99 - r.direct.p99).collect());
    println!("| **median** | | | | | **{}** | **{}** |", us(p50), us(p99));
    println!(
        "\ngateway added latency, median of {} runs: p50 {} (goal ≤ {}) {}, p99 {} (goal ≤ {}) {}",
        runs.len(),
        us(p50),
        us(goal_p50),
        mark(p50 <= goal_p50),
        us(p99),
        us(goal_p99),
        mark(p99 <= goal_p99)
    );
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_takes_the_middle_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
