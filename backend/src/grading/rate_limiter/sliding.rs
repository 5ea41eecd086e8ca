//! The sliding window's checks that take time: no burst at a window
//! boundary, a same-millisecond burst counted once per request, denied
//! requests not counted, and an idle log that expires. (Exactness under
//! concurrent clients is part of the stress.)

use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use super::calls::{self, allowed, burst, connect, request, secs, ServerClock, Step};
use crate::grading::harness::random_hex;
use crate::grading::{Harness, Outcome};

pub const BOUNDARY: &str = "sliding-window-boundary";
pub const SAME_MS: &str = "sliding-same-ms";
pub const REJECTED: &str = "sliding-rejected-not-counted";
pub const IDLE: &str = "sliding-idle-expires";

/// The short window the timed checks use, and its limit.
const WINDOW_MS: u64 = 1000;
const LIMIT: u64 = 5;
const WINDOW: Duration = Duration::from_millis(WINDOW_MS);

/// Unique request ids for one check.
struct Ids {
    tag: String,
    next: u64,
}

impl Ids {
    fn new() -> Ids {
        Ids {
            tag: random_hex(4),
            next: 0,
        }
    }

    fn requests(&mut self, key: &str, window_ms: u64, limit: u64, n: u64) -> Vec<redis::Cmd> {
        (0..n)
            .map(|_| {
                self.next += 1;
                calls::sliding(
                    key,
                    window_ms,
                    limit,
                    &format!("{}-{}", self.tag, self.next),
                )
            })
            .collect()
    }
}

/// One request opens a window just after a whole second of the server's
/// clock (where fixed windows of a second begin); `LIMIT - 1` requests
/// come just before the next whole second and `LIMIT` just after both it
/// and the end of a window opened by the first request. Both bursts lie
/// within one window, so together they may pass at most `LIMIT`.
pub async fn window_boundary(harness: &Harness) -> Step<Outcome> {
    harness.starting(BOUNDARY);
    let key = harness.key("sliding");
    let mut conn = connect(harness).await?;
    let mut ids = Ids::new();
    let clock = ServerClock::read(&mut conn).await?;
    let second = (clock.ms_at(Instant::now()) / 1000 + 1) * 1000;
    sleep_until(clock.instant_at(second + 30)).await;
    burst(&mut conn, &ids.requests(&key, WINDOW_MS, LIMIT, 1), false).await?;
    let opened = Instant::now();

    sleep_until(clock.instant_at(second + 880)).await;
    let before_started = Instant::now();
    let before = allowed(
        &burst(
            &mut conn,
            &ids.requests(&key, WINDOW_MS, LIMIT, LIMIT - 1),
            false,
        )
        .await?,
    );
    let after_at = clock.instant_at(second + 1000).max(opened + WINDOW) + Duration::from_millis(60);
    sleep_until(after_at).await;
    let after = allowed(
        &burst(
            &mut conn,
            &ids.requests(&key, WINDOW_MS, LIMIT, LIMIT),
            false,
        )
        .await?,
    );
    let span = before_started.elapsed();

    let sent = 2 * LIMIT - 1;
    let total = before + after;
    let what = format!(
        "allowed {total} of {sent} requests within {:.2} s with a limit of {LIMIT} per {} s ({before} just before a window boundary, {after} just after)",
        secs(span),
        WINDOW_MS / 1000
    );
    Ok(if total <= LIMIT {
        Outcome::Pass(what)
    } else {
        Outcome::Fail(format!(
            "{what}: a window that resets at its boundary lets a client send twice the limit in a moment"
        ))
    })
}

/// Thirty requests in one `MULTI`/`EXEC` (the server's clock stands still
/// inside it, so all share one millisecond, even one microsecond), then
/// five more: exactly the limit may pass.
pub async fn same_millisecond(harness: &Harness) -> Step<Outcome> {
    harness.starting(SAME_MS);
    const WINDOW_MS: u64 = 60_000;
    const LIMIT: u64 = 10;
    const IN_ONE_MS: u64 = 30;
    const LATER: u64 = 5;
    let key = harness.key("sliding");
    let mut conn = connect(harness).await?;
    let mut ids = Ids::new();
    let together = allowed(
        &burst(
            &mut conn,
            &ids.requests(&key, WINDOW_MS, LIMIT, IN_ONE_MS),
            true,
        )
        .await?,
    );
    let later = allowed(
        &burst(
            &mut conn,
            &ids.requests(&key, WINDOW_MS, LIMIT, LATER),
            false,
        )
        .await?,
    );
    let total = together + later;
    let what = format!(
        "allowed {together} of {IN_ONE_MS} requests that reached Redis in the same millisecond (one MULTI/EXEC) and {later} of {LATER} sent after them, with a limit of {LIMIT} per {} s",
        WINDOW_MS / 1000
    );
    Ok(if total == LIMIT {
        Outcome::Pass(what)
    } else if total > LIMIT {
        Outcome::Fail(format!(
            "{what}: requests that share a timestamp were counted as one, and busy clients do share them"
        ))
    } else {
        Outcome::Fail(format!(
            "{what}: {} requests within the limit were denied",
            LIMIT - total
        ))
    })
}

/// `LIMIT` requests fill the window; denied requests keep coming for most
/// of it; once a whole window has passed since the last allowed request,
/// a burst must get the full limit again.
pub async fn rejected_not_counted(harness: &Harness) -> Step<Outcome> {
    harness.starting(REJECTED);
    let key = harness.key("sliding");
    let mut conn = connect(harness).await?;
    let mut ids = Ids::new();
    let started = Instant::now();
    burst(
        &mut conn,
        &ids.requests(&key, WINDOW_MS, LIMIT, LIMIT),
        false,
    )
    .await?;
    let mut last_allowed = Instant::now();
    let mut denied = 0;
    let retrying_until = started + WINDOW * 4 / 5;
    let mut next = last_allowed + Duration::from_millis(50);
    while next < retrying_until {
        sleep_until(next).await;
        let cmd = &ids.requests(&key, WINDOW_MS, LIMIT, 1)[0];
        if request(&mut conn, cmd).await? {
            last_allowed = Instant::now();
        } else {
            denied += 1;
        }
        next += Duration::from_millis(50);
    }
    if denied == 0 {
        return Ok(Outcome::Fail(format!(
            "after {LIMIT} requests filled a window of {} s with a limit of {LIMIT}, every one of the requests sent 50 ms apart in the next {:.1} s was allowed too: the log does not hold requests for the whole window (are the window and the clock in the same unit, milliseconds?)",
            WINDOW_MS / 1000,
            secs(retrying_until - started)
        )));
    }
    sleep_until(last_allowed + WINDOW + Duration::from_millis(150)).await;
    let gap = last_allowed.elapsed();
    let again = allowed(
        &burst(
            &mut conn,
            &ids.requests(&key, WINDOW_MS, LIMIT, LIMIT),
            false,
        )
        .await?,
    );
    let what = format!(
        "after {denied} denied requests, allowed {again} of {LIMIT} requests sent {:.2} s after the last allowed one, with a limit of {LIMIT} per {} s",
        secs(gap),
        WINDOW_MS / 1000
    );
    Ok(if again == LIMIT {
        Outcome::Pass(what)
    } else {
        Outcome::Fail(format!(
            "{what}: denied requests were counted, so a client that retries while limited stays locked out"
        ))
    })
}

/// A request every 100 ms for 4 s (four windows): the log must keep no
/// more than the last window holds (at most 11 requests, even a log that
/// wrongly records denied ones; one never trimmed holds every allowed
/// request, about 20). Then, after the last request, it must have a TTL
/// and be gone soon after the window has passed.
pub async fn idle_expires(harness: &Harness) -> Step<Outcome> {
    harness.starting(IDLE);
    const GRACE: Duration = Duration::from_millis(1000);
    const EVERY: Duration = Duration::from_millis(100);
    const STREAM: u32 = 40;
    let key = harness.key("sliding");
    let mut conn = connect(harness).await?;
    let mut ids = Ids::new();
    let started = Instant::now();
    for i in 0..STREAM {
        sleep_until(started + EVERY * i).await;
        let cmd = &ids.requests(&key, WINDOW_MS, LIMIT, 1)[0];
        request(&mut conn, cmd).await?;
    }
    let sent = Instant::now();
    if let Some((kind, held)) = calls::entries(&mut conn, &key).await? {
        let one_window = WINDOW_MS / EVERY.as_millis() as u64 + 1;
        if held > one_window {
            return Ok(Outcome::Fail(format!(
                "after a request every {} ms for {:.1} s with a limit of {LIMIT} per {} s, the log (a {kind}) holds {held} entries: entries older than the window are never removed, so a busy client's log grows without bound. Remove them on every call (ZREMRANGEBYSCORE)",
                EVERY.as_millis(),
                secs(sent - started),
                WINDOW_MS / 1000
            )));
        }
    }
    let setting = format!("window {} s", WINDOW_MS / 1000);
    calls::expires(&mut conn, &key, sent, WINDOW + GRACE, "log", &setting).await
}
