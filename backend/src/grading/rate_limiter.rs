//! The `rate-limiter` exercise: its function contract and its checks. The
//! stress (20 clients, both limiters, memory sampled) runs first, on its
//! own, since it takes half the sandbox's connections; then every timed
//! check runs at once, each on its own connection and keys, so the whole
//! exercise takes about as long as the slowest one (the sliding log's four
//! windows, then its expiry).

mod bucket;
mod calls;
mod sliding;
mod stress;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{CheckDef, Exercise, FunctionDef, GradeFuture, Graded, Harness, Outcome};
use calls::Step;

pub static EXERCISE: Exercise = Exercise {
    id: "rate-limiter",
    title: "Exercise 2: a rate limiter",
    lesson: "exercise-rate-limiter",
    functions: &[
        FunctionDef {
            name: "rl_sliding",
            called_as: "FCALL rl_sliding 1 <key> <window ms> <limit> <request id>",
            returns: "1 allowed, 0 denied",
        },
        FunctionDef {
            name: "rl_bucket",
            called_as: "FCALL rl_bucket 1 <key> <capacity> <refill tokens per second>",
            returns: "1 allowed, 0 denied (the rate may be fractional, such as 2.5)",
        },
    ],
    checks: CHECKS,
    grade,
};

const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: stress::SLIDING,
        title: "The sliding window allows exactly the limit under 20 concurrent clients",
        step: "exactly-the-limit-under-concurrency",
        hint: "Count and add inside one function call, and make sure the log can hold as many entries as the limit asks for.",
    },
    CheckDef {
        id: sliding::BOUNDARY,
        title: "The sliding window lets no burst through at a window boundary",
        step: "no-burst-at-a-window-boundary",
        hint: "A counter that resets every window is a fixed window. Remember each allowed request with its time, and count those in the last window ms.",
    },
    CheckDef {
        id: sliding::SAME_MS,
        title: "The sliding window counts a burst within one millisecond",
        step: "a-burst-within-one-millisecond",
        hint: "Requests can share a timestamp. Each request needs a member of its own in the log: the request id is there for that.",
    },
    CheckDef {
        id: sliding::REJECTED,
        title: "The sliding window does not count rejected requests",
        step: "rejected-requests-do-not-count",
        hint: "Decide first, then record: only an allowed request goes into the log.",
    },
    CheckDef {
        id: sliding::IDLE,
        title: "The sliding window's log keeps only the last window, and expires when idle",
        step: "an-idle-log-expires",
        hint: "On every call remove the entries older than the window, and give the key a TTL of one window each time you add to it.",
    },
    CheckDef {
        id: stress::BUCKET,
        title: "The token bucket allows exactly its capacity in a burst",
        step: "a-burst-of-exactly-the-capacity",
        hint: "A bucket nobody has used yet is full.",
    },
    CheckDef {
        id: bucket::FRACTIONAL,
        title: "The token bucket refills at a fractional rate",
        step: "fractional-refill",
        hint: "Store the tokens as a fraction and refill by elapsed time × rate; never round the tokens a call earned away.",
    },
    CheckDef {
        id: bucket::CAPACITY,
        title: "The token bucket never holds more than its capacity after idling",
        step: "never-above-capacity",
        hint: "After refilling, the tokens are at most the capacity.",
    },
    CheckDef {
        id: bucket::CLOCK,
        title: "The token bucket uses the server's clock",
        step: "time-comes-from-the-server",
        hint: "The contract passes no time: read it inside the function with TIME, and ignore anything else a caller sends.",
    },
    CheckDef {
        id: bucket::IDLE,
        title: "A token bucket's key lasts until it is full again, then expires",
        step: "an-idle-bucket-expires",
        hint: "A bucket is full again after capacity ÷ rate seconds: give the key a TTL of about that each time you write it, not less (a missing bucket counts as full).",
    },
];

/// A timed check may take at most this long (each call within it also has
/// the harness's per-call deadline); the slowest (the sliding log's four
/// windows, then its expiry) takes about 6 s.
const CHECK_DEADLINE: Duration = Duration::from_secs(12);

async fn within(check: impl Future<Output = Step<Outcome>>) -> Outcome {
    match tokio::time::timeout(CHECK_DEADLINE, check).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(stop)) => stop.into(),
        Err(_) => Outcome::Fail(format!(
            "did not finish within {} s: the functions answered too slowly",
            CHECK_DEADLINE.as_secs()
        )),
    }
}

fn grade(harness: Arc<Harness>) -> GradeFuture {
    Box::pin(async move {
        let h = &*harness;
        let mut graded = Graded::default();
        let stressed = tokio::time::timeout(CHECK_DEADLINE, stress::run(h)).await;
        match stressed {
            Ok(stressed) => {
                graded.check(stress::SLIDING, stressed.sliding);
                graded.check(stress::BUCKET, stressed.bucket);
                graded.figures.extend(stressed.memory);
            }
            Err(_) => {
                let slow = Outcome::Fail(format!(
                    "400 requests did not finish within {} s: the functions answered too slowly",
                    CHECK_DEADLINE.as_secs()
                ));
                graded.check(stress::SLIDING, slow.clone());
                graded.check(stress::BUCKET, slow);
            }
        }
        let (boundary, same_ms, rejected, sliding_idle, fractional, capacity, clock, bucket_idle) = tokio::join!(
            within(sliding::window_boundary(h)),
            within(sliding::same_millisecond(h)),
            within(sliding::rejected_not_counted(h)),
            within(sliding::idle_expires(h)),
            within(bucket::fractional_refill(h)),
            within(bucket::capacity_after_idle(h)),
            within(bucket::server_clock(h)),
            within(bucket::idle_expires(h)),
        );
        graded.check(sliding::BOUNDARY, boundary);
        graded.check(sliding::SAME_MS, same_ms);
        graded.check(sliding::REJECTED, rejected);
        graded.check(sliding::IDLE, sliding_idle);
        graded.check(bucket::FRACTIONAL, fractional);
        graded.check(bucket::CAPACITY, capacity);
        graded.check(bucket::CLOCK, clock);
        graded.check(bucket::IDLE, bucket_idle);
        graded
    })
}
