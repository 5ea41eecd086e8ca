//! What the recs set must hold after the grader's worker ran: each
//! item's score is the sum of its events' weights, and only the n
//! highest stay. The first check also measures latency.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use protocol::Figure;

use super::events::{item, random_below, Event, Kind};
use super::feed::{self, Checked, Feed};
use super::worker::{percentile, produce_and_consume};
use super::{examples, NO_CAP};
use crate::grading::{Harness, Outcome};

/// `n` events on `items`, of random kinds.
pub fn random_events(items: &[String], n: usize) -> Vec<Event> {
    (0..n)
        .map(|_| Event {
            kind: Kind::ALL[random_below(Kind::ALL.len())],
            item: items[random_below(items.len())].clone(),
        })
        .collect()
}

fn sums(events: &[Event]) -> BTreeMap<&str, u32> {
    let mut sums = BTreeMap::new();
    for e in events {
        *sums.entry(e.item.as_str()).or_default() += e.kind.weight();
    }
    sums
}

/// "4 views, 1 click"
fn tally(events: &[Event], item: &str) -> String {
    Kind::ALL
        .iter()
        .filter_map(|kind| {
            let n = events
                .iter()
                .filter(|e| e.item == item && e.kind == *kind)
                .count();
            (n > 0).then(|| format!("{n} {}{}", kind.name(), if n == 1 { "" } else { "s" }))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The grader's worker applies 80 paced events on 6 items; every score
/// must be the sum of its events' weights. Also measures latency.
pub async fn weights_accumulate(h: &Harness) -> Checked<(Outcome, Figure)> {
    let feed = Feed::new(h);
    let items: Vec<String> = (0..6).map(|_| item()).collect();
    let events = random_events(&items, 80);
    let latencies =
        produce_and_consume(h, &feed, &events, Duration::from_millis(2), NO_CAP).await?;
    let mut conn = feed::connect(h).await?;
    let scores: BTreeMap<String, f64> = feed.scores(&mut conn).await?.into_iter().collect();
    let expected = sums(&events);
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(item, sum)| scores.get(**item).copied() != Some(f64::from(**sum)))
        .map(|(item, sum)| {
            let got = scores
                .get(*item)
                .map_or("is missing".to_owned(), |s| format!("scores {s}"));
            format!(
                "{item} had {} (adding up to {sum}) but {got}",
                tally(&events, item)
            )
        })
        .collect();
    let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
    let figure = Figure {
        id: "latency".into(),
        title: format!(
            "XADD to recommendation visible ({} events, grader's worker)",
            latencies.len()
        ),
        unit: "µs".into(),
        points: vec![
            ("p50".into(), p50.as_micros() as f64),
            ("p99".into(), p99.as_micros() as f64),
        ],
    };
    let outcome = if wrong.is_empty() {
        Outcome::Pass(format!(
            "{} events on {} items: every score is the sum of its events' weights; from XADD to the new score, p50 {} µs, p99 {} µs",
            events.len(),
            items.len(),
            p50.as_micros(),
            p99.as_micros()
        ))
    } else {
        Outcome::Fail(format!(
            "{} of {} items do not score the sum of their events: {}. A ranking must reflect everything the user did, not only the last event.",
            wrong.len(),
            items.len(),
            examples(&wrong)
        ))
    };
    Ok((outcome, figure))
}

/// 18 items, one event each (5 purchases, 6 clicks, 7 views) in random
/// order, with n = 5: the set must end with exactly the 5 purchases. Then
/// a cut line inside a tie: 3 purchases, 4 clicks and 2 views, in that
/// order, must leave exactly the purchases and 2 of the clicks.
pub async fn top_n(h: &Harness) -> Checked<Outcome> {
    const N: usize = 5;
    let feed = Feed::new(h);
    let mut events = one_each(&[(Kind::Purchase, N), (Kind::Click, 6), (Kind::View, 7)]);
    for i in (1..events.len()).rev() {
        events.swap(i, random_below(i + 1));
    }
    produce_and_consume(h, &feed, &events, Duration::ZERO, N).await?;
    let mut conn = feed::connect(h).await?;
    let kept = feed.scores(&mut conn).await?;
    let highest = items_of(&events, Kind::Purchase);
    let members: BTreeSet<&str> = kept.iter().map(|(m, _)| m.as_str()).collect();
    let seen = format!("{} items, one event each, n = {N}", events.len());
    if kept.len() > N {
        return Ok(Outcome::Fail(format!(
            "{seen}: the set holds {} members. A set never cut to n grows with every item ever seen, and serving it costs more each time.",
            kept.len()
        )));
    }
    if members != highest {
        let dropped = highest.difference(&members).count();
        return Ok(Outcome::Fail(format!(
            "{seen}: the set holds {} members ({}), but the {N} highest are the purchases, scored 10 each, and {dropped} of them are gone. The cut must drop the lowest scores and keep the best recommendations.",
            kept.len(),
            listed(&kept)
        )));
    }

    let tied = Feed::new(h);
    let events = one_each(&[(Kind::Purchase, 3), (Kind::Click, 4), (Kind::View, 2)]);
    produce_and_consume(h, &tied, &events, Duration::ZERO, N).await?;
    let kept = tied.scores(&mut conn).await?;
    let purchases = items_of(&events, Kind::Purchase);
    let clicks = items_of(&events, Kind::Click);
    let members: BTreeSet<&str> = kept.iter().map(|(m, _)| m.as_str()).collect();
    let tie = format!(
        "With 3 purchases, 4 clicks and 2 views applied in that order and n = {N} (the cut falls among the clicks, all scored 3)"
    );
    Ok(if kept.len() < N {
        Outcome::Fail(format!(
            "{tie}: the set holds {} members ({}), fewer than n: the cut removed every member tied at the lowest score. Remove only the surplus, by rank (ZREMRANGEBYRANK key 0 -(n+1)).",
            kept.len(),
            listed(&kept)
        ))
    } else if kept.len() > N {
        Outcome::Fail(format!(
            "{tie}: the set holds {} members: members tied with the n-th were kept, so the set grows with every item that ties at the cut line. Remove the surplus by rank, whatever the scores.",
            kept.len()
        ))
    } else if !purchases.is_subset(&members)
        || members.difference(&purchases).any(|m| !clicks.contains(m))
    {
        Outcome::Fail(format!(
            "{tie}: the set holds {}, where the 3 purchases and 2 of the clicks should stay. The cut must drop the lowest scores.",
            listed(&kept)
        ))
    } else {
        Outcome::Pass(format!(
            "{seen}: ZCARD is {N} and the members are the {N} items scored 10. {tie}: the 3 purchases and 2 clicks stay"
        ))
    })
}

/// One event on a new item for each `(kind, how many)`, in that order.
fn one_each(kinds: &[(Kind, usize)]) -> Vec<Event> {
    kinds
        .iter()
        .flat_map(|&(kind, count)| (0..count).map(move |_| Event { kind, item: item() }))
        .collect()
}

/// The items of `events` of one kind.
fn items_of(events: &[Event], kind: Kind) -> BTreeSet<&str> {
    events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.item.as_str())
        .collect()
}

/// "member score, member score, …"
fn listed(kept: &[(String, f64)]) -> String {
    kept.iter()
        .map(|(m, s)| format!("{m} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}
