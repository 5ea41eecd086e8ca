//! The `recommendations` exercise: its function contract and its checks.
//! The grader runs the consumer (its own `XREADGROUP` worker and
//! `XAUTOCLAIM` janitor, in `worker` and `feed`) and calls the learner's
//! `rec_apply` for every entry, then reads what the recs set and the
//! group's pending list say.

mod delivery;
mod events;
mod feed;
mod scores;
mod worker;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{CheckDef, Exercise, FunctionDef, GradeFuture, Graded, Harness, Outcome};
use delivery::{answers, entries_acknowledged, reclaimed_counted_once};
use feed::{Checked, Stop};
use scores::{top_n, weights_accumulate};

pub static EXERCISE: Exercise = Exercise {
    id: "recommendations",
    title: "Exercise 3: recommendations from a stream",
    lesson: "exercise-recommendations",
    functions: &[FunctionDef {
        name: "rec_apply",
        called_as:
            "FCALL rec_apply 2 <stream> <recs key> <group> <entry id> <item> <weight> <top n>",
        returns: "1 applied, 0 already applied",
    }],
    checks: CHECKS,
    grade,
};

const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "weights-accumulate",
        title: "Weights add up per item (view 1, click 3, purchase 10)",
        step: "weights-add-up",
        hint: "Each event must add its weight to the item's score. ZADD replaces a score; use the sorted-set command that adds to one.",
    },
    CheckDef {
        id: "entries-acknowledged",
        title: "Every entry ends acknowledged",
        step: "acknowledge-every-entry",
        hint: "rec_apply itself acknowledges the entry it is given (the stream is KEYS[1], the group and the entry id are its first two arguments), in the same call as the update.",
    },
    CheckDef {
        id: "answers",
        title: "Answers 1 when it applies, 0 for a repeat",
        step: "answer-1-then-0",
        hint: "Return an integer on every path: 1 when this call changed the score, 0 when the entry had been applied already. A function that ends without return answers nil.",
    },
    CheckDef {
        id: "reclaimed-counted-once",
        title: "A reclaimed entry is counted once",
        step: "a-reclaimed-entry-counts-once",
        hint: "After XAUTOCLAIM two consumers can both call rec_apply for one entry. XACK answers 1 only to the first of them: let its answer decide whether the score changes, and change nothing before you know it.",
    },
    CheckDef {
        id: "top-n",
        title: "Keeps only the top n, the highest",
        step: "keep-only-the-top-n",
        hint: "After the update, when the set holds more than n members, remove the surplus at the low end: rank 0 is the lowest score.",
    },
];

/// One check may take at most this long (five fit in the ~15 s an
/// exercise may take).
const CHECK_DEADLINE: Duration = Duration::from_secs(3);
/// `top n` for checks that should never trim.
const NO_CAP: usize = 1_000;

fn grade(harness: Arc<Harness>) -> GradeFuture {
    Box::pin(async move {
        let h = &*harness;
        let mut graded = Graded::default();
        h.starting("weights-accumulate");
        match within(weights_accumulate(h)).await {
            Ok((outcome, latency)) => {
                graded.check("weights-accumulate", outcome);
                graded.figures.push(latency);
            }
            Err(stop) => graded.check("weights-accumulate", stop.into()),
        }
        run(
            h,
            &mut graded,
            "entries-acknowledged",
            entries_acknowledged(h),
        )
        .await;
        run(h, &mut graded, "answers", answers(h)).await;
        run(
            h,
            &mut graded,
            "reclaimed-counted-once",
            reclaimed_counted_once(h),
        )
        .await;
        run(h, &mut graded, "top-n", top_n(h)).await;
        graded
    })
}

/// Runs one check (checks are futures: nothing happens before this).
async fn run(
    h: &Harness,
    graded: &mut Graded,
    id: &'static str,
    check: impl Future<Output = Checked<Outcome>>,
) {
    h.starting(id);
    graded.check(id, within(check).await.unwrap_or_else(Outcome::from));
}

async fn within<T>(check: impl Future<Output = Checked<T>>) -> Checked<T> {
    let Ok(checked) = tokio::time::timeout(CHECK_DEADLINE, check).await else {
        return Err(Stop::Fail(format!(
            "the check did not finish within {} s: rec_apply is too slow to keep up with a stream",
            CHECK_DEADLINE.as_secs()
        )));
    };
    checked
}

/// The first few of `wrong`, for a message that stays readable.
fn examples(wrong: &[String]) -> String {
    let mut shown = wrong.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if wrong.len() > 3 {
        shown.push_str("; …");
    }
    shown
}
