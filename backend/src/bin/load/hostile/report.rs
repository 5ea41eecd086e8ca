//! The hostile run's verdict: the class's typed lines in the quiet phases
//! against the hostile ones, pooled over the rounds and round by round,
//! with each hostile kind's row.

use std::time::Instant;

use serde::Serialize;

use super::{Round, Row};
use crate::tally::{Kind, Latency, Tally};

/// The quiet and hostile phases side by side, and every kind's row.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub quiet: Latency,
    pub hostile: Latency,
    pub p99_ratio: f64,
    /// The hostile phase from the moment every idle socket was open (the
    /// hostile sandboxes started), and when that was, into the phase.
    pub settled: Latency,
    pub settled_after_s: f64,
    pub settled_p99_ratio: f64,
    /// Each round's phases on their own (`--hostile-rounds`).
    pub rounds: Vec<RoundFigures>,
    pub rows: Vec<Row>,
}

/// One round's figures, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct RoundFigures {
    pub quiet: Latency,
    pub hostile: Latency,
    pub p99_ratio: f64,
}

/// p99 of `loud` over p99 of `quiet`.
pub fn ratio(loud: &Latency, quiet: &Latency) -> f64 {
    loud.p99_us as f64 / quiet.p99_us.max(1) as f64
}

/// The quiet and hostile phases of every round compared: each side's lines
/// pooled over the rounds, and each round on its own.
pub fn compare(
    tally: &Tally,
    rounds: &[Round],
    settled: &[Option<Instant>],
    measured_to: Instant,
    rows: Vec<Row>,
) -> Report {
    let clip = |r: &std::ops::Range<Instant>| r.start.min(measured_to)..r.end.min(measured_to);
    let quiet: Vec<_> = rounds.iter().map(|r| clip(&r.quiet)).collect();
    let loud: Vec<_> = rounds.iter().map(|r| clip(&r.hostile)).collect();
    // From the moment a round's idle sockets were all open to its end: what
    // holding them costs, without what starting their sandboxes did.
    let calm: Vec<_> = loud
        .iter()
        .zip(settled)
        .filter_map(|(r, s)| s.map(|s| s.clamp(r.start, r.end)..r.end))
        .collect();
    let (quiet_all, loud_all, calm_all) = (
        tally.latency_in(Kind::Exec, &quiet),
        tally.latency_in(Kind::Exec, &loud),
        tally.latency_in(Kind::Exec, &calm),
    );
    let settled_after_s = loud
        .iter()
        .zip(settled)
        .find_map(|(r, s)| s.map(|s| (s.clamp(r.start, r.end) - r.start).as_secs_f64()))
        .unwrap_or(0.0);
    Report {
        p99_ratio: ratio(&loud_all, &quiet_all),
        settled_p99_ratio: ratio(&calm_all, &quiet_all),
        settled_after_s,
        rounds: quiet
            .iter()
            .zip(&loud)
            .map(|(q, h)| {
                let (quiet, hostile) = (
                    tally.latency_in(Kind::Exec, std::slice::from_ref(q)),
                    tally.latency_in(Kind::Exec, std::slice::from_ref(h)),
                );
                RoundFigures {
                    p99_ratio: ratio(&hostile, &quiet),
                    quiet,
                    hostile,
                }
            })
            .collect(),
        quiet: quiet_all,
        hostile: loud_all,
        settled: calm_all,
        rows,
    }
}

/// The report's markdown: the phase comparison and the hostile kinds.
pub fn markdown(report: &Report) -> Vec<String> {
    let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
    let mut out = vec![
        String::new(),
        "| typed line (`exec`) round trip | count | p50 | p99 |".into(),
        "|---|---|---|---|".into(),
        format!(
            "| quiet phase | {} | {} | {} |",
            report.quiet.count,
            ms(report.quiet.p50_us),
            ms(report.quiet.p99_us)
        ),
        format!(
            "| hostile phase | {} | {} | {} |",
            report.hostile.count,
            ms(report.hostile.p50_us),
            ms(report.hostile.p99_us)
        ),
        if report.settled.count == 0 {
            "| hostile phase, once every idle socket was open | never (the phase ended first) | | |"
                .into()
        } else {
            format!(
                "| hostile phase, once every idle socket was open ({:.1} s in) | {} | {} | {} |",
                report.settled_after_s,
                report.settled.count,
                ms(report.settled.p50_us),
                ms(report.settled.p99_us)
            )
        },
        format!(
            "| **p99 hostile ÷ quiet** | | | **{:.2}×** (goal ≤ 2×: {}){} |",
            report.p99_ratio,
            if report.p99_ratio <= 2.0 {
                "met"
            } else {
                "not met"
            },
            if report.settled.count == 0 {
                String::new()
            } else {
                format!("; once open: {:.2}×", report.settled_p99_ratio)
            }
        ),
    ];
    if report.rounds.len() > 1 {
        out.push(String::new());
        out.push("| round | quiet p99 | hostile p99 | hostile ÷ quiet |".into());
        out.push("|---|---|---|---|".into());
        for (i, r) in report.rounds.iter().enumerate() {
            out.push(format!(
                "| {} | {} | {} | {:.2}× |",
                i + 1,
                ms(r.quiet.p99_us),
                ms(r.hostile.p99_us),
                r.p99_ratio
            ));
        }
    }
    out.extend([
        String::new(),
        "| hostile kind | tried | refused | answers | stopped by | what happened |".into(),
        "|---|---|---|---|---|---|".into(),
    ]);
    for row in &report.rows {
        let answers: Vec<String> = row
            .answers
            .iter()
            .map(|(answer, n)| format!("{answer}: {n}"))
            .collect();
        out.push(format!(
            "| {} | {} | {} | {} | {} | {} |",
            row.kind,
            row.attempted,
            row.refused,
            answers.join(", "),
            row.stopped_by,
            row.detail
        ));
    }
    out
}
