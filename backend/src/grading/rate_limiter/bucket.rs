//! The token bucket's checks that take time: a fractional refill rate
//! measured over real time, no more than its capacity after idling, the
//! server's clock rather than the caller's, and an idle bucket that
//! expires. (A burst of exactly the capacity is part of the stress.)

use std::time::Duration;

use tokio::time::{interval, sleep, Instant, MissedTickBehavior};

use super::calls::{self, allowed, burst, connect, request, secs, ServerClock, Step, Stop};
use crate::grading::harness::{as_int, call};
use crate::grading::{Harness, Outcome};

pub const FRACTIONAL: &str = "bucket-fractional-refill";
pub const CAPACITY: &str = "bucket-capacity-after-idle";
pub const CLOCK: &str = "bucket-server-clock";
pub const IDLE: &str = "bucket-idle-expires";

/// A client sending 10 requests a second for 4 s to a bucket of capacity
/// 2 refilled at 2.5 tokens a second: once the two tokens it starts with
/// are spent, it gets a request through every 0.4 s on average, 2.5 a
/// second, not 2 (whole tokens) or 3. (With a capacity of 1, a token that
/// completes just before a request would be capped at 1 and the rest of
/// it lost; with 2 no fraction is lost, so the rate shows exactly.)
pub async fn fractional_refill(harness: &Harness) -> Step<Outcome> {
    harness.starting(FRACTIONAL);
    const CAP: u64 = 2;
    const RATE: f64 = 2.5;
    const TOLERANCE: f64 = 0.25;
    const EVERY: Duration = Duration::from_millis(100);
    const REQUESTS: u32 = 41;
    let key = harness.key("bucket");
    let mut conn = connect(harness).await?;
    let cmd = calls::bucket(&key, CAP, RATE);
    let mut ticks = interval(EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let started = Instant::now();
    let (mut at_first, mut drained, mut refilled) = (0, false, Vec::new());
    for _ in 0..REQUESTS {
        ticks.tick().await;
        let allowed = request(&mut conn, &cmd).await?;
        match (allowed, drained) {
            (true, false) => at_first += 1,
            (false, false) => drained = true,
            (true, true) => refilled.push(Instant::now()),
            (false, true) => {}
        }
    }
    let took = started.elapsed();
    let n = refilled.len();
    let what = format!(
        "a client sending 10 requests a second for {:.1} s to a bucket of capacity {CAP} that refills {RATE} tokens a second got {at_first} through at first and {n} more once the bucket was empty",
        secs(took)
    );
    if !drained {
        return Ok(Outcome::Fail(format!(
            "{what}: the bucket never ran out, so it holds more than its capacity or refills too fast"
        )));
    }
    let (Some(first), Some(last)) = (refilled.first(), refilled.last()) else {
        return Ok(Outcome::Fail(format!(
            "{what}: the bucket does not refill between frequent calls; each call must keep the fraction of a token it earned"
        )));
    };
    if n < 3 {
        return Ok(Outcome::Fail(format!(
            "{what}: the bucket hardly refills; each call must keep the fraction of a token it earned"
        )));
    }
    let rate = (n - 1) as f64 / secs(*last - *first);
    let what = format!("{what}: {rate:.2} a second");
    Ok(if (rate - RATE).abs() <= TOLERANCE {
        Outcome::Pass(what)
    } else {
        Outcome::Fail(format!(
            "{what}, not about {RATE}: a fractional rate must refill fractional tokens, or the client gets a rate you did not set"
        ))
    })
}

/// One request leaves 4 of 5 tokens; half a second idle at 5 tokens a
/// second would bring an uncapped bucket to 6.5; a burst of 10 must get
/// at most 5.
pub async fn capacity_after_idle(harness: &Harness) -> Step<Outcome> {
    harness.starting(CAPACITY);
    const CAP: u64 = 5;
    const RATE: f64 = 5.0;
    const BURST: usize = 10;
    let key = harness.key("bucket");
    let mut conn = connect(harness).await?;
    let cmd = calls::bucket(&key, CAP, RATE);
    request(&mut conn, &cmd).await?;
    let idle_from = Instant::now();
    sleep(Duration::from_millis(500)).await;
    let idle = idle_from.elapsed();
    let got = allowed(&burst(&mut conn, &vec![cmd; BURST], false).await?);
    let what = format!(
        "after one request and {:.1} s idle, allowed {got} of {BURST} requests in a burst, with a capacity of {CAP} and {RATE} tokens a second",
        secs(idle)
    );
    Ok(if got <= CAP {
        Outcome::Pass(what)
    } else {
        Outcome::Fail(format!(
            "{what}: the tokens earned while idle went past the capacity, so a quiet client can save up a bigger burst than you allow"
        ))
    })
}

/// Called as the contract says (no time argument), requests drain a
/// bucket of capacity 2 until one is denied; the next, which carries a
/// clock an hour ahead as an extra argument, must be denied too.
pub async fn server_clock(harness: &Harness) -> Step<Outcome> {
    harness.starting(CLOCK);
    const CAP: u64 = 2;
    const RATE: f64 = 1.0;
    let key = harness.key("bucket");
    let mut conn = connect(harness).await?;
    let cmd = calls::bucket(&key, CAP, RATE);
    // Drained when a request is denied, whatever the bucket's rounding
    // (the burst check judges how many pass).
    let mut drained = false;
    for _ in 0..CAP + 3 {
        match request(&mut conn, &cmd).await {
            Ok(true) => {}
            Ok(false) => {
                drained = true;
                break;
            }
            Err(Stop::Fail(why)) => {
                return Ok(Outcome::Fail(format!(
                    "called as the contract says, with no time argument: {why}. The function must read the time itself, with TIME"
                )))
            }
            Err(stop) => return Err(stop),
        }
    }
    if !drained {
        return Ok(Outcome::Fail(format!(
            "{} requests in a row to a bucket of capacity {CAP} ({RATE} token a second) were all allowed, so the bucket never ran out and a clock sent by the caller could not be tried",
            CAP + 3
        )));
    }
    let clock = ServerClock::read(&mut conn).await?;
    let ahead = clock.ms_at(Instant::now()) + 3_600_000;
    let mut lying = cmd;
    lying.arg(ahead.to_string());
    let drained_at = Instant::now();
    // An error is fine: the function may refuse an argument it does not take.
    let reply = call(&mut conn, &lying).await;
    let allowed = matches!(reply.as_ref().map(as_int), Ok(Ok(1)));
    if let Err(e) = &reply {
        if e.is_io_error() || e.is_connection_dropped() {
            return Err(Stop::Error(format!(
                "the connection to the grading Redis failed: {e}"
            )));
        }
    }
    let what = format!(
        "requests drained a bucket of capacity {CAP} ({RATE} token a second) until one was denied; {:.2} s later a request that added a clock an hour ahead as an extra argument was {}",
        secs(drained_at.elapsed()),
        if allowed { "allowed" } else { "denied" }
    );
    Ok(if allowed {
        Outcome::Fail(format!(
            "{what}: a limiter that takes the caller's clock can be told any time has passed; read TIME inside the function"
        ))
    } else {
        Outcome::Pass(what)
    })
}

/// A burst drains a bucket of capacity 4 refilled at 2 tokens a second
/// (full again after 2 s); 0.75 s later only the 1.5 tokens earned may be
/// spent, so a key that expired before the bucket was full (a missing
/// bucket counts as full) shows as a second full burst. After that last
/// burst the key must have a TTL and be gone within capacity/rate + 2 s.
pub async fn idle_expires(harness: &Harness) -> Step<Outcome> {
    harness.starting(IDLE);
    const CAP: u64 = 4;
    const RATE: f64 = 2.0;
    const PAUSE: Duration = Duration::from_millis(750);
    let full_after = CAP as f64 / RATE;
    let within = Duration::from_secs_f64(full_after + 2.0);
    let key = harness.key("bucket");
    let mut conn = connect(harness).await?;
    let cmd = calls::bucket(&key, CAP, RATE);
    let burst_size = CAP as usize;
    burst(&mut conn, &vec![cmd.clone(); burst_size], false).await?;
    let drained_ttl = calls::pttl(&mut conn, &key).await?;
    let drained_at = Instant::now();
    sleep(PAUSE).await;
    let waited = drained_at.elapsed();
    let again = allowed(&burst(&mut conn, &vec![cmd; burst_size], false).await?);
    let earned = secs(waited) * RATE;
    // One token of slack for the grader's own timing.
    if again as f64 > earned.floor() + 1.0 {
        return Ok(Outcome::Fail(format!(
            "a burst drained a bucket of capacity {CAP} ({RATE} tokens a second) and left its key with a PTTL of {drained_ttl} ms; {:.2} s later {again} of {CAP} requests were allowed, where {earned:.1} tokens had come back: the key expired before the bucket was full again, and a missing bucket counts as full. Keep it at least capacity ÷ rate ({full_after:.1} s here)",
            secs(waited)
        )));
    }
    let sent = Instant::now();
    let setting =
        format!("capacity {CAP}, {RATE} tokens a second: full again after {full_after:.1} s");
    calls::expires(&mut conn, &key, sent, within, "bucket", &setting).await
}
