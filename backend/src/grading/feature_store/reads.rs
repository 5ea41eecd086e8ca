//! The read checks of the feature store: a batch read runs as a read
//! (`FCALL_RO`) and creates nothing, and answers one row per user and one
//! value per field, in the order asked; and the latency figure by batch
//! size.

use std::time::{Duration, Instant};

use protocol::Figure;
use redis::Value;

use super::{said, users, FeatureStore, Rows, Stop};
use crate::grading::harness::{self, fcall};
use crate::grading::Harness;

/// Users in a batch read, some of them never written.
const BATCH: usize = 50;
/// Where in the batch the users that were never written sit.
const UNKNOWN_AT: [usize; 2] = [7, 31];

/// Batch sizes the figure measures, and calls measured per size.
const FIGURE_SIZES: [usize; 4] = [1, 10, 50, 200];
const FIGURE_CALLS: usize = 101;
const FIGURE_WARM_UP: usize = 5;

/// The users of a batch in the order they are asked for: `Some(i)` is the
/// i-th written user, `None` one that was never written.
fn batch_order() -> Vec<Option<usize>> {
    let mut next = 0;
    (0..BATCH)
        .map(|at| {
            if UNKNOWN_AT.contains(&at) {
                None
            } else {
                next += 1;
                Some(next - 1)
            }
        })
        .collect()
}

/// Fresh users, written, and the batch's keys in asked order.
async fn written_batch(
    harness: &Harness,
    store: &mut FeatureStore,
    features: impl Fn(usize) -> Vec<(String, String)>,
) -> Result<(Vec<Option<usize>>, Vec<String>), Stop> {
    let order = batch_order();
    let known = users(harness, BATCH - UNKNOWN_AT.len());
    for (i, user) in known.iter().enumerate() {
        store.write(user, &features(i)).await?;
    }
    let keys = order
        .iter()
        .map(|slot| slot.map_or_else(|| harness.key("user"), |i| known[i].clone()))
        .collect();
    Ok((order, keys))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub(super) async fn writes_nothing(harness: &Harness) -> Result<String, Stop> {
    let mut store = FeatureStore::open(harness).await?;
    let (order, keys) = written_batch(harness, &mut store, |i| {
        super::pairs(&[
            ("age", &(20 + i).to_string()),
            ("engagement_score", &format!("0.{:02}", i + 1)),
        ])
    })
    .await?;
    let unknown: Vec<String> = order
        .iter()
        .zip(&keys)
        .filter(|(slot, _)| slot.is_none())
        .map(|(_, k)| k.clone())
        .collect();
    let fields = strings(&["engagement_score", "age"]);

    // DBSIZE, the read, DBSIZE and EXISTS in one transaction: no other
    // client's write can fall in between.
    let queued = [
        redis::cmd("DBSIZE"),
        fcall(false, "fs_read", &keys, &fields),
        redis::cmd("DBSIZE"),
        redis::cmd("EXISTS").arg(&unknown).clone(),
    ];
    store.redis(&redis::cmd("MULTI")).await?;
    for cmd in &queued {
        store.redis(cmd).await?;
    }
    let Value::Array(replies) = store.redis(&redis::cmd("EXEC")).await? else {
        return Err(Stop::Error(
            "EXEC answered something other than an array".into(),
        ));
    };
    let int = |i: usize| match replies.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        other => Err(Stop::Error(format!(
            "the grader expected a number and Redis answered {other:?}"
        ))),
    };
    let (before, after, created_unknown) = (int(0)?, int(2)?, int(3)?);
    if let Some(Value::ServerError(e)) = replies.get(1) {
        return Err(Stop::Fail(format!(
            "FCALL fs_read for {BATCH} users answered an error: {}",
            said(e)
        )));
    }

    let mut wrote = Vec::new();
    if after != before {
        wrote.push(format!("took DBSIZE from {before} to {after}"));
    }
    if created_unknown > 0 {
        wrote.push(format!(
            "created {created_unknown} of the {} users that were never written",
            unknown.len()
        ));
    }
    let refused = match store.read_reply(true, &keys, &fields).await? {
        Value::ServerError(e) => Some(said(&e)),
        _ => None,
    };
    match (refused, wrote.is_empty()) {
        (None, true) => Ok(format!(
            "FCALL_RO ran fs_read for {BATCH} users ({} never written); DBSIZE stayed at {before} and no key was created",
            unknown.len()
        )),
        (refused, _) => {
            let mut seen = match &refused {
                Some(e) => format!(
                    "FCALL_RO refused fs_read: \"{}\". Without the no-writes flag Redis must assume a function writes, so it will not run it as a read: not through FCALL_RO, not on a replica.",
                    e.trim_end_matches('.')
                ),
                None => String::new(),
            };
            if !wrote.is_empty() {
                seen.push_str(&format!(
                    "{}alled with FCALL, one read of {BATCH} users ({} never written) {}: a read that writes turns every model request into a write, and keys it creates are never cleaned up by a write's TTL.",
                    if refused.is_some() { " And it does write: c" } else { "C" },
                    unknown.len(),
                    wrote.join(" and ")
                ));
            }
            Err(Stop::Fail(seen.trim_start().to_owned()))
        }
    }
}

/// Feature `field` of the i-th written user in the order check; `plan`
/// is missing for every fifth user (not the first, so that row 1 can
/// show an order mistake).
fn order_value(i: usize, field: &str) -> Option<String> {
    match field {
        "age" => Some((20 + i).to_string()),
        "region" => Some(format!("region-{i}")),
        "engagement_score" => Some(format!("0.{:02}", i + 1)),
        "session_count" => Some((100 + i).to_string()),
        "plan" if i % 5 != 4 => Some(format!("plan-{i}")),
        _ => None,
    }
}

const ORDER_WRITTEN: [&str; 5] = ["age", "region", "engagement_score", "session_count", "plan"];
/// Asked in another order than written, with a field no user has, and
/// without `region`.
const ORDER_ASKED: [&str; 5] = [
    "session_count",
    "plan",
    "age",
    "churn_risk",
    "engagement_score",
];

fn show(value: Option<&String>) -> String {
    value.map_or_else(|| "nil".to_owned(), |v| format!("{v:?}"))
}

fn describe_row(row: usize, slot: Option<usize>) -> String {
    match slot {
        Some(_) => format!("row {} (a user with features)", row + 1),
        None => format!("row {} (a user never written)", row + 1),
    }
}

/// Where a value that turned up in the wrong cell belongs.
fn belongs(expected: &Rows, row: usize, value: &str) -> String {
    for (r, cells) in expected.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            if cell.as_deref() == Some(value) {
                return if r == row {
                    format!(
                        " (that is this user's {}: fields out of order)",
                        ORDER_ASKED[c]
                    )
                } else {
                    format!(
                        " (that is the {} of the user in row {}: users out of order)",
                        ORDER_ASKED[c],
                        r + 1
                    )
                };
            }
        }
    }
    String::new()
}

fn first_difference(order: &[Option<usize>], expected: &Rows, got: &Rows) -> Option<String> {
    let n = expected.len();
    if got.len() != n {
        let mut seen = format!(
            "Asked for {n} users ({} never written), fs_read returned {} rows",
            UNKNOWN_AT.len(),
            got.len()
        );
        if got.len() == n - UNKNOWN_AT.len() {
            seen.push_str(": it seems to leave out users that do not exist, so every row after the first of them is matched to the wrong user");
        }
        seen.push_str(
            ". The caller matches rows to users by position: one row per key asked, in order.",
        );
        return Some(seen);
    }
    for (r, (want, have)) in expected.iter().zip(got).enumerate() {
        if have.len() != want.len() {
            let list = |cells: &[Option<String>]| {
                cells
                    .iter()
                    .map(|c| show(c.as_ref()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut seen = format!(
                "{} has {} values for the {} fields asked ({}): expected [{}], got [{}]",
                describe_row(r, order[r]),
                have.len(),
                want.len(),
                ORDER_ASKED.join(", "),
                list(want),
                list(have)
            );
            if order[r].is_none() {
                seen.push_str(": a user that does not exist still needs a row of nils");
            } else {
                seen.push_str(": a missing feature needs a nil in its place");
            }
            seen.push_str(". The model reads features by position, so every row needs one value per field asked.");
            return Some(seen);
        }
        for (c, (w, h)) in want.iter().zip(have).enumerate() {
            if w != h {
                let whose = h
                    .as_deref()
                    .map(|v| belongs(expected, r, v))
                    .unwrap_or_default();
                return Some(format!(
                    "{}, field {} ({} of {}): expected {}, got {}{whose}. The model reads features by position, so a value in the wrong place is silently a wrong feature.",
                    describe_row(r, order[r]),
                    ORDER_ASKED[c],
                    c + 1,
                    want.len(),
                    show(w.as_ref()),
                    show(h.as_ref())
                ));
            }
        }
    }
    None
}

pub(super) async fn in_order(harness: &Harness) -> Result<String, Stop> {
    let mut store = FeatureStore::open(harness).await?;
    let (order, keys) = written_batch(harness, &mut store, |i| {
        ORDER_WRITTEN
            .iter()
            .filter_map(|f| order_value(i, f).map(|v| ((*f).to_owned(), v)))
            .collect()
    })
    .await?;
    let fields = strings(&ORDER_ASKED);
    let expected: Rows = order
        .iter()
        .map(|slot| {
            ORDER_ASKED
                .iter()
                .map(|f| slot.and_then(|i| order_value(i, f)))
                .collect()
        })
        .collect();
    let got = store.read(&keys, &fields).await?;
    match first_difference(&order, &expected, &got) {
        Some(seen) => Err(Stop::Fail(seen)),
        None => Ok(format!(
            "{BATCH} rows of {} values in the order asked, with nil for a field no user has, for missing features and for the {} users never written",
            fields.len(),
            UNKNOWN_AT.len()
        )),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The median round trip of `fs_read` by users per call; `None` when the
/// reads fail (the checks say why).
pub(super) async fn latency_figure(harness: &Harness) -> Option<Figure> {
    let mut store = FeatureStore::open(harness).await.ok()?;
    let largest = FIGURE_SIZES[FIGURE_SIZES.len() - 1];
    let users = users(harness, largest);
    for (i, user) in users.iter().enumerate() {
        let features = ORDER_WRITTEN
            .iter()
            .filter_map(|f| order_value(i, f).map(|v| ((*f).to_owned(), v)))
            .collect::<Vec<_>>();
        store.write(user, &features).await.ok()?;
    }
    let fields = strings(&["age", "engagement_score", "session_count", "region"]);
    // Measure the way the contract calls it, or with FCALL when FCALL_RO
    // refuses (a check already says so).
    let read_only = !matches!(
        store.read_reply(true, &users[..1], &fields).await.ok()?,
        Value::ServerError(_)
    );
    let mut points = Vec::new();
    for n in FIGURE_SIZES {
        let cmd = fcall(read_only, "fs_read", &users[..n], &fields);
        let mut samples = Vec::with_capacity(FIGURE_CALLS);
        for call in 0..FIGURE_WARM_UP + FIGURE_CALLS {
            let started = Instant::now();
            let reply = harness::call(&mut store.conn, &cmd).await.ok()?;
            if matches!(reply, Value::ServerError(_)) {
                return None;
            }
            if call >= FIGURE_WARM_UP {
                samples.push(started.elapsed());
            }
        }
        let label = format!("{n} user{}", if n == 1 { "" } else { "s" });
        points.push((label, median(samples).as_secs_f64() * 1e6));
    }
    Some(Figure {
        id: "read-latency".into(),
        title: format!(
            "fs_read round trip by users per call ({} fields each, median of {FIGURE_CALLS} calls)",
            fields.len()
        ),
        unit: "µs".into(),
        points,
    })
}
