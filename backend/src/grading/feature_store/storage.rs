//! The storage checks of the feature store: what `fs_write` leaves in
//! Redis (one compact hash per user, values as given), how long it lives
//! (at most an hour), and that every write renews that.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{pairs, some_keys, users, FeatureStore, Stop};
use crate::grading::Harness;

/// What the refresh check cuts a TTL to before the second write.
const CUT_TO_MS: i64 = 5_000;

/// How far below the first write's TTL the refresh check cuts it before
/// the third (a few seconds, not round, so no renewal lands on it).
const SLIGHT_CUT_MS: i64 = 10_007;

/// An hour, the longest TTL the exercise allows.
const HOUR_SECS: i64 = 3_600;

/// The shortest TTL a write may leave: anything shorter drops an active
/// user between two requests (the mark of milliseconds taken for seconds).
const MIN_TTL_SECS: i64 = 60;

fn secs(ms: i64) -> i64 {
    (ms + 500) / 1000
}

fn quoted(value: Option<&String>) -> String {
    value.map_or_else(|| "nil".to_owned(), |v| format!("{v:?}"))
}

pub(super) async fn one_hash_per_user(harness: &Harness) -> Result<String, Stop> {
    let mut store = FeatureStore::open(harness).await?;
    let user = harness.key("user");
    // Values a careless conversion would change: 16 significant digits
    // (tostring keeps 14), a trailing zero and a leading one (any trip
    // through a Lua number drops them), an integer, a timestamp.
    let features = pairs(&[
        ("age", "28"),
        ("region", "us-west"),
        ("engagement_score", "0.87"),
        ("ctr", "0.0123456789012345"),
        ("avg_basket", "19.90"),
        ("zip", "02134"),
        ("session_count", "142"),
        ("last_login", "2026-02-15T10:30:00Z"),
    ]);
    let before = store.all_keys().await?;
    store.write(&user, &features).await?;
    let after = store.all_keys().await?;

    let mut others: BTreeSet<String> = store
        .keys_of(&user)
        .await?
        .into_iter()
        .filter(|k| *k != user)
        .collect();
    // Keys not derived from the user's (a set of every user, a counter):
    // not given in KEYS, and shared by every user.
    let unrelated: Vec<String> = match (&before, &after) {
        (Some(before), Some(after)) => after
            .difference(before)
            .filter(|k| !k.starts_with(user.as_str()))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    others.extend(unrelated.iter().cloned());
    let others: Vec<String> = others.into_iter().collect();
    let kind = store
        .text(redis::cmd("TYPE").arg(&user))
        .await?
        .unwrap_or_default();
    if kind != "hash" {
        let mut seen = format!(
            "After fs_write of {} fields, TYPE of the user's key is {kind}",
            features.len()
        );
        if !others.is_empty() {
            seen.push_str(&format!(
                ", and {} other key(s) appeared ({})",
                others.len(),
                some_keys(&others)
            ));
        }
        return Err(Stop::Fail(format!(
            "{seen}. One hash per user keeps a user's features in one key: one read fetches them, one TTL ages them out, and no per-key overhead is paid for every feature."
        )));
    }
    if !unrelated.is_empty() {
        return Err(Stop::Fail(format!(
            "Besides the user's hash, fs_write created {} key(s) it was not given ({}): a function may write only the keys passed to it in KEYS, and a key that every user's write adds to grows with every user and outlives them all.",
            unrelated.len(),
            some_keys(&unrelated)
        )));
    }
    if !others.is_empty() {
        return Err(Stop::Fail(format!(
            "Besides the user's hash, fs_write created {} other key(s) ({}): every extra key per user costs memory and needs a TTL of its own.",
            others.len(),
            some_keys(&others)
        )));
    }

    let encoding = store
        .text(redis::cmd("OBJECT").arg("ENCODING").arg(&user))
        .await?
        .unwrap_or_default();
    // listpackex is a listpack whose fields have TTLs of their own.
    if encoding != "listpack" && encoding != "listpackex" {
        return Err(Stop::Fail(format!(
            "OBJECT ENCODING of a user with {} short fields is {encoding}, not listpack: a hash this small should keep the compact encoding, several times smaller than a hash table. Something (a very long value, hundreds of fields) pushed it out.",
            features.len()
        )));
    }

    let mut hmget = redis::cmd("HMGET");
    hmget.arg(&user);
    for (field, _) in &features {
        hmget.arg(field);
    }
    let stored = match store.redis(&hmget).await? {
        redis::Value::Array(values) => values
            .iter()
            .map(|v| super::cell(v).unwrap_or(None))
            .collect::<Vec<_>>(),
        other => {
            return Err(Stop::Error(format!(
                "HMGET answered {other:?}, not an array"
            )))
        }
    };
    let changed: Vec<String> = features
        .iter()
        .zip(&stored)
        .filter(|((_, given), kept)| kept.as_ref() != Some(given))
        .map(|((field, given), kept)| {
            format!(
                "{field} was given {given:?} and is stored as {}",
                quoted(kept.as_ref())
            )
        })
        .collect();
    if !changed.is_empty() {
        return Err(Stop::Fail(format!(
            "HMGET on the user's hash shows {} of {} values changed: {}. A model must get back exactly the value it was trained on, so store values as they are given.",
            changed.len(),
            features.len(),
            changed.join("; ")
        )));
    }
    Ok(format!(
        "one {encoding} hash of {} fields, every value stored byte for byte as given",
        features.len()
    ))
}

pub(super) async fn ttl_within_an_hour(harness: &Harness) -> Result<String, Stop> {
    let mut store = FeatureStore::open(harness).await?;
    let users = users(harness, 3);
    // A user with one feature, one with three, one with six.
    let all = [
        ("engagement_score", "0.42"),
        ("age", "35"),
        ("region", "eu-west"),
        ("session_count", "17"),
        ("gender", "male"),
        ("last_login", "2026-02-14T08:05:00Z"),
    ];
    for (user, n) in users.iter().zip([1, 3, 6]) {
        store.write(user, &pairs(&all[..n])).await?;
    }

    let mut ttls = Vec::new();
    for user in &users {
        for key in store.keys_of(user).await? {
            let ttl = store.int(redis::cmd("TTL").arg(&key)).await?;
            ttls.push((key, ttl));
        }
    }
    if ttls.is_empty() {
        return Err(Stop::Fail(format!(
            "After fs_write for {} users, no key starts with their user keys: fs_write must store a user's features under the key it is given.",
            users.len()
        )));
    }
    let without: Vec<String> = ttls
        .iter()
        .filter(|(_, t)| *t == -1)
        .map(|(k, _)| k.clone())
        .collect();
    if let Some(key) = without.first() {
        let why = if store.has_field_ttls(key).await? {
            "its fields have TTLs of their own (HEXPIRE, HSETEX), but the key has none, so the hash lives as long as any field a write renews, and a field no write names again keeps its old TTL or none. Give the key itself a TTL, as the exercise asks"
        } else {
            "a user who stops coming keeps their features in memory for ever, and stale features go on being served"
        };
        return Err(Stop::Fail(format!(
            "{} of the {} keys fs_write created have no TTL (TTL -1), such as {}: {why}.",
            without.len(),
            ttls.len(),
            some_keys(&without)
        )));
    }
    let longest = ttls.iter().map(|(_, t)| *t).max().unwrap_or(0);
    let too_long = ttls.iter().filter(|(_, t)| *t > HOUR_SECS).count();
    if too_long > 0 {
        return Err(Stop::Fail(format!(
            "{too_long} of the {} keys fs_write created live longer than an hour: TTL up to {longest} s ({:.1} h, the limit is {HOUR_SECS} s). Features of a user who went quiet stay in memory and are served, stale, for that long.",
            ttls.len(),
            longest as f64 / 3600.0
        )));
    }
    let shortest = ttls
        .iter()
        .map(|(_, t)| *t)
        .filter(|t| *t >= 0)
        .min()
        .unwrap_or(0);
    if shortest < MIN_TTL_SECS {
        return Err(Stop::Fail(format!(
            "Right after fs_write, the shortest TTL of the {} keys it created is {shortest} s: features that vanish within {MIN_TTL_SECS} s are gone between two requests of an active user. (PEXPIRE and PX count in milliseconds: PEXPIRE key 3600 is 3.6 s.)",
            ttls.len()
        )));
    }
    Ok(format!(
        "all {} keys fs_write created for {} users expire within the hour (TTL {shortest}–{longest} s)",
        ttls.len(),
        users.len()
    ))
}

pub(super) async fn write_refreshes_ttl(harness: &Harness) -> Result<String, Stop> {
    let mut store = FeatureStore::open(harness).await?;
    let user = harness.key("user");
    let first = pairs(&[
        ("age", "28"),
        ("region", "us-west"),
        ("engagement_score", "0.87"),
    ]);
    store.write(&user, &first).await?;

    let keys = store.keys_of(&user).await?;
    if keys.is_empty() {
        return Err(Stop::Fail(
            "After fs_write, no key starts with the user key: fs_write must store a user's features under the key it is given.".into(),
        ));
    }
    let mut set_ms = i64::MAX;
    for key in &keys {
        let pttl = store.int(redis::cmd("PTTL").arg(key)).await?;
        if pttl == -1 {
            return Err(Stop::Fail(format!(
                "The first write left {key} without a TTL on the key (PTTL -1), so there is no TTL a later write could renew: active and quiet users alike stay until something else removes them."
            )));
        }
        set_ms = set_ms.min(pttl);
    }

    // Cut short, a TTL set only where there is none (EXPIRE NX) stays cut;
    // cut only a little, one renewed only when little is left stays too.
    let short = CUT_TO_MS.min(set_ms / 2).max(1);
    let slight = (set_ms - SLIGHT_CUT_MS).max(set_ms * 3 / 4);
    let mut renewed_to = Vec::new();
    for (cut_ms, value) in [(short, "0.91"), (slight, "0.93")] {
        let cut_from = Instant::now();
        for key in &keys {
            store
                .int(redis::cmd("PEXPIRE").arg(key).arg(cut_ms))
                .await?;
        }
        store
            .write(&user, &pairs(&[("engagement_score", value)]))
            .await?;
        let mut worst: Option<(String, i64)> = None;
        for key in store.keys_of(&user).await? {
            let pttl = store.int(redis::cmd("PTTL").arg(&key)).await?;
            if pttl == -1 {
                return Err(Stop::Fail(format!(
                    "After a later write, {key} has no TTL at all (PTTL -1): the write removed the TTL instead of renewing it."
                )));
            }
            let waited_ms = cut_from.elapsed().as_millis() as i64;
            // Left alone, the TTL only ran down from the cut; renewed, it
            // is anywhere else (above it, or below it with jitter).
            let untouched = pttl <= cut_ms && pttl >= cut_ms - waited_ms - 1;
            if untouched && worst.is_none() {
                worst = Some((key, pttl));
            }
        }
        if let Some((key, left_ms)) = worst {
            let why = if cut_ms == short {
                format!(
                    "the write did not renew it, so an active user's features vanish {} s after their first write, however often they are updated",
                    secs(set_ms)
                )
            } else {
                "the write did not renew it. A TTL renewed only when little of it is left is a deadline: a user who writes every few minutes still loses their features when it comes".to_owned()
            };
            return Err(Stop::Fail(format!(
                "The first write set a TTL of {} s. After it was cut to {} s, fs_write of one field left {key} at {} s: {why}.",
                secs(set_ms),
                secs(cut_ms),
                secs(left_ms.max(0))
            )));
        }
        let left = store.int(redis::cmd("PTTL").arg(&user)).await?;
        renewed_to.push((cut_ms, left));
    }

    let fields: Vec<String> = first.iter().map(|(f, _)| f.clone()).collect();
    let rows = store.read(std::slice::from_ref(&user), &fields).await?;
    let want = [Some("28"), Some("us-west"), Some("0.93")];
    let got = rows.first().cloned().unwrap_or_default();
    let lost: Vec<String> = fields
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(i, (_, w))| got.get(*i).cloned().flatten().as_deref() != *w)
        .map(|(i, (f, w))| {
            format!(
                "{f} is {} (expected {})",
                quoted(got.get(i).and_then(Option::as_ref)),
                w.map_or("nil".to_owned(), |w| format!("{w:?}"))
            )
        })
        .collect();
    if !lost.is_empty() {
        return Err(Stop::Fail(format!(
            "After a first write of {} fields and later writes of engagement_score only, fs_read shows: {}. A write must update the fields it names and keep the others.",
            first.len(),
            lost.join("; ")
        )));
    }
    let renewals = renewed_to
        .iter()
        .map(|(cut, left)| format!("cut to {} s, renewed to {} s", secs(*cut), secs(*left)))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(format!(
        "the first write set {} s; a write of one field renewed it every time ({renewals}) and kept the other {} fields",
        secs(set_ms),
        first.len() - 1
    ))
}
