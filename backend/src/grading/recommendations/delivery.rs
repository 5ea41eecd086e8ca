//! How entries are delivered and acknowledged: every entry ends
//! acknowledged, a repeat answers 0, and an entry that two consumers hold
//! after `XAUTOCLAIM` counts once.

use std::time::Duration;

use redis::Value;

use super::events::{item, random_below, Entry, Event, Kind};
use super::feed::{self, Checked, Feed, Stop};
use super::scores::random_events;
use super::worker::{apply_all, consumer};
use super::{examples, NO_CAP};
use crate::grading::harness::as_int;
use crate::grading::{Harness, Outcome};

/// A consumer reads 10 of 30 entries and crashes; the worker restarts
/// (group already there), its janitor reclaims them, it reads the rest.
/// After rec_apply ran for each, nothing may be pending.
pub async fn entries_acknowledged(h: &Harness) -> Checked<Outcome> {
    let feed = Feed::new(h);
    let mut conn = feed::connect(h).await?;
    feed.create_group(&mut conn).await?;
    let items: Vec<String> = (0..3).map(|_| item()).collect();
    for (seq, event) in random_events(&items, 30).iter().enumerate() {
        feed.add(&mut conn, event, seq).await?;
    }
    let crashed = feed.read(&mut conn, &consumer("crashed"), 10, 10).await?;
    // The restart: creating the group again answers BUSYGROUP.
    feed.create_group(&mut conn).await?;
    let worker = consumer("worker");
    let reclaimed = feed.claim(&mut conn, &worker, 0).await?;
    apply_all(&mut conn, &feed, &reclaimed, NO_CAP).await?;
    let mut applied = reclaimed.len();
    loop {
        let entries = feed.read(&mut conn, &worker, 20, 10).await?;
        if entries.is_empty() {
            break;
        }
        apply_all(&mut conn, &feed, &entries, NO_CAP).await?;
        applied += entries.len();
    }
    let pending = feed.pending(&mut conn).await?;
    let what = format!(
        "rec_apply ran for all {applied} entries ({} of them reclaimed with XAUTOCLAIM from a consumer that crashed)",
        crashed.len()
    );
    Ok(if pending == 0 {
        Outcome::Pass(format!("{what}; XPENDING counts 0 pending"))
    } else {
        Outcome::Fail(format!(
            "{what}, yet XPENDING counts {pending} still pending. An entry never acknowledged stays in the pending list for good: every janitor pass claims it again and the list only grows."
        ))
    })
}

/// What a reply was, in words, for an answer that should be 1 or 0.
fn answer_text(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        Value::Int(n) => n.to_string(),
        Value::Okay => "OK".into(),
        other => as_int(other).map_or_else(|why| why.replace("returned ", ""), |n| n.to_string()),
    }
}

/// One entry, delivered once, applied, then applied again as a retry:
/// the answers must be 1 then 0.
pub async fn answers(h: &Harness) -> Checked<Outcome> {
    let feed = Feed::new(h);
    let mut conn = feed::connect(h).await?;
    feed.create_group(&mut conn).await?;
    let event = Event {
        kind: Kind::Click,
        item: item(),
    };
    feed.add(&mut conn, &event, 0).await?;
    let entries = feed.read(&mut conn, &consumer("worker"), 1, 10).await?;
    let Some(entry) = entries.first() else {
        return Err(Stop::Fail(
            "the grader's XREADGROUP returned no entry".into(),
        ));
    };
    let first = feed.apply(&mut conn, entry, NO_CAP).await?;
    let repeat = feed.apply(&mut conn, entry, NO_CAP).await?;
    let (first_n, repeat_n) = (as_int(&first).ok(), as_int(&repeat).ok());
    Ok(if first_n == Some(1) && repeat_n == Some(0) {
        Outcome::Pass(
            "the first call for a new entry answered 1, the repeat for the same entry answered 0"
                .into(),
        )
    } else {
        Outcome::Fail(format!(
            "the first call for a new entry answered {} and the repeat for the same entry answered {}, where the contract says 1 then 0. A worker counts and logs duplicates by this answer.",
            answer_text(&first),
            answer_text(&repeat)
        ))
    })
}

/// A slow consumer reads 6 entries; a second one reclaims them with
/// `XAUTOCLAIM`; both call rec_apply for every entry (one first, the
/// other first, or both at once). Each must count once.
pub async fn reclaimed_counted_once(h: &Harness) -> Checked<Outcome> {
    let feed = Feed::new(h);
    let mut slow = feed::connect(h).await?;
    let mut janitor = feed::connect(h).await?;
    feed.create_group(&mut janitor).await?;
    let events: Vec<Event> = (0..6)
        .map(|_| Event {
            kind: Kind::ALL[random_below(Kind::ALL.len())],
            item: item(),
        })
        .collect();
    for (seq, event) in events.iter().enumerate() {
        feed.add(&mut janitor, event, seq).await?;
    }
    let held = feed
        .read(&mut slow, &consumer("slow"), events.len(), 10)
        .await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let claimed = feed.claim(&mut janitor, &consumer("janitor"), 10).await?;
    if held.len() != events.len() || claimed.len() != events.len() {
        return Err(Stop::Fail(format!(
            "the grader's slow consumer read {} and its janitor reclaimed {} of {} entries",
            held.len(),
            claimed.len(),
            events.len()
        )));
    }
    for (i, entry) in claimed.iter().enumerate() {
        match i % 3 {
            0 => {
                feed.apply(&mut janitor, entry, NO_CAP).await?;
                feed.apply(&mut slow, entry, NO_CAP).await?;
            }
            1 => {
                feed.apply(&mut slow, entry, NO_CAP).await?;
                feed.apply(&mut janitor, entry, NO_CAP).await?;
            }
            _ => {
                tokio::try_join!(
                    feed.apply(&mut slow, entry, NO_CAP),
                    feed.apply(&mut janitor, entry, NO_CAP)
                )?;
            }
        }
    }
    let mut wrong = Vec::new();
    for Entry { event, .. } in &claimed {
        let score = feed.score(&mut janitor, &event.item).await?.unwrap_or(0.0);
        let weight = f64::from(event.kind.weight());
        if score != weight {
            wrong.push(format!(
                "{} scores {score} for one {} ({weight}), counted {} times",
                event.item,
                event.kind.name(),
                score / weight
            ));
        }
    }
    Ok(if wrong.is_empty() {
        Outcome::Pass(format!(
            "{} entries read by a slow consumer and reclaimed by another with XAUTOCLAIM, rec_apply called by both for each: every item scores its one event's weight",
            claimed.len()
        ))
    } else {
        Outcome::Fail(format!(
            "{} of {} reclaimed entries did not count exactly once: {}. Both consumers called rec_apply, as happens when a slow consumer wakes after a janitor took its entry; only the call whose XACK answered 1 may change the score.",
            wrong.len(),
            claimed.len(),
            examples(&wrong)
        ))
    })
}
