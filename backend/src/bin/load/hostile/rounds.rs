//! `--hostile-rounds`: the quiet and hostile phases taken in turn, and the
//! hostile kinds' rows of every round added up. One quiet phase followed by
//! one hostile phase compares two stretches of a shared host that drifts
//! (the quiet phase's own p99 moved 2.1–3.8 ms between runs here); taken
//! in turn, a drift weighs on both sides alike, and each side's p99 rests
//! on more lines.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Plan, Row, Target};

/// Between a hostile phase and the next quiet one: the hostile sessions
/// are ended and their sandboxes stopped, and no line counts on either side.
pub const SETTLE: Duration = Duration::from_secs(5);

/// One round: a quiet phase, then a hostile one right after it.
#[derive(Debug, Clone)]
pub struct Round {
    pub quiet: Range<Instant>,
    pub hostile: Range<Instant>,
}

impl Round {
    /// `rounds` rounds of two `phase`s each from `from`, `SETTLE` apart.
    pub fn schedule(from: Instant, phase: Duration, rounds: usize) -> Vec<Round> {
        let mut at = from;
        (0..rounds)
            .map(|_| {
                let quiet = at..at + phase;
                let hostile = quiet.end..quiet.end + phase;
                at = hostile.end + SETTLE;
                Round { quiet, hostile }
            })
            .collect()
    }
}

/// Runs every round's hostile phase in turn: the kinds' rows added up, and
/// per round when its idle sockets were all open (if they were in time).
pub async fn run_all(
    t: Arc<Target>,
    plan: Plan,
    rounds: &[Round],
) -> (Vec<Row>, Vec<Option<Instant>>) {
    let (mut rows, mut settled) = (Vec::new(), Vec::new());
    for (i, round) in rounds.iter().enumerate() {
        if let Ok(mut s) = t.settled.lock() {
            *s = None;
        }
        let (from, until, more) = (round.hostile.start, round.hostile.end, i + 1 < rounds.len());
        rows.push(super::run(t.clone(), plan, from, until, more).await);
        settled.push(t.settled.lock().ok().and_then(|s| *s));
    }
    (add_up(rows), settled)
}

/// Every round's rows as one row per kind: counts and answers added up,
/// and what happened said per round when there was more than one.
pub fn add_up(rounds: Vec<Vec<Row>>) -> Vec<Row> {
    let many = rounds.len() > 1;
    let mut order: Vec<String> = Vec::new();
    let mut by_kind: BTreeMap<String, (Row, Vec<String>)> = BTreeMap::new();
    for (r, rows) in rounds.into_iter().enumerate() {
        for row in rows {
            let detail = match many {
                true => format!("round {}: {}", r + 1, row.detail),
                false => row.detail.clone(),
            };
            match by_kind.get_mut(&row.kind) {
                Some((sum, details)) => {
                    sum.attempted += row.attempted;
                    sum.refused += row.refused;
                    for (answer, n) in row.answers {
                        *sum.answers.entry(answer).or_default() += n;
                    }
                    details.push(detail);
                }
                None => {
                    order.push(row.kind.clone());
                    by_kind.insert(row.kind.clone(), (row, vec![detail]));
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|kind| by_kind.remove(&kind))
        .map(|(mut row, details)| {
            row.detail = details.join("; ");
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, attempted: u64, answer: &str, detail: &str) -> Row {
        Row {
            kind: kind.into(),
            attempted,
            answers: BTreeMap::from([(answer.to_owned(), attempted)]),
            refused: attempted,
            stopped_by: "a limit".into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn rounds_follow_each_other_with_a_pause_between() {
        let from = Instant::now();
        let phase = Duration::from_secs(10);
        let rounds = Round::schedule(from, phase, 3);
        assert_eq!(rounds.len(), 3);
        assert_eq!(rounds[0].quiet.start, from);
        assert_eq!(rounds[0].hostile.start, rounds[0].quiet.end);
        assert_eq!(rounds[1].quiet.start, rounds[0].hostile.end + SETTLE);
        assert_eq!(rounds[2].hostile.end - from, phase * 6 + SETTLE * 2);
    }

    #[test]
    fn rows_of_every_round_are_added_up_per_kind_in_first_seen_order() {
        let rows = add_up(vec![
            vec![row("flood", 3, "ran", "a"), row("deep", 1, "400", "b")],
            vec![row("flood", 4, "ran", "c"), row("deep", 2, "close", "d")],
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].kind, "flood");
        assert_eq!(rows[0].attempted, 7);
        assert_eq!(rows[0].answers["ran"], 7);
        assert_eq!(rows[0].detail, "round 1: a; round 2: c");
        assert_eq!(rows[1].answers.len(), 2);
        assert_eq!(rows[1].refused, 3);
    }

    #[test]
    fn one_round_keeps_its_row_as_it_was() {
        let rows = add_up(vec![vec![row("flood", 3, "ran", "a")]]);
        assert_eq!(rows[0].detail, "a");
        assert_eq!(rows[0].attempted, 3);
    }
}
