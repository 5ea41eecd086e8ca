//! Exercise grading on behaviour. A learner's solution is a Lua function
//! library; the grader calls its functions by name, with key names it
//! chooses at random, under concurrent clients, as time passes and as
//! consumers crash, and reports each named behaviour as pass or fail with
//! numbers, a hint and the lesson step that teaches it.
//!
//! One library serves the server (`sandboxed`: the learner's libraries
//! copied into a fresh grading sandbox) and the CLI (`redis-tutor grade`,
//! any Redis 7.2+). Each exercise lives in its own module and only talks to
//! a `Harness`.

mod feature_store;
pub mod harness;
mod rate_limiter;
mod recommendations;
pub mod sandboxed;
pub mod throttle;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use protocol::{
    CheckInfo, CheckReport, ExerciseInfo, Figure, FunctionSpec, GradeReport, GradeStatus,
};

pub use harness::Harness;

/// A whole grading run may take at most this long.
pub const RUN_DEADLINE: Duration = Duration::from_secs(30);

/// One function of an exercise's contract.
pub struct FunctionDef {
    pub name: &'static str,
    pub called_as: &'static str,
    pub returns: &'static str,
}

/// One named behaviour the grader checks.
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    /// The anchor of the lesson step that teaches it.
    pub step: &'static str,
    /// Said when it fails: a nudge, never the code.
    pub hint: &'static str,
}

/// How one check ended, with what was observed (numbers, and why that
/// matters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(String),
    Fail(String),
    /// The grader could not run it (not the learner's doing).
    Error(String),
}

/// What an exercise's checks found.
#[derive(Debug, Default)]
pub struct Graded {
    pub outcomes: Vec<(&'static str, Outcome)>,
    pub figures: Vec<Figure>,
}

impl Graded {
    pub fn check(&mut self, id: &'static str, outcome: Outcome) {
        self.outcomes.push((id, outcome));
    }
}

pub type GradeFuture = Pin<Box<dyn Future<Output = Graded> + Send>>;

pub struct Exercise {
    pub id: &'static str,
    pub title: &'static str,
    /// The slug of the lesson that teaches it.
    pub lesson: &'static str,
    pub functions: &'static [FunctionDef],
    pub checks: &'static [CheckDef],
    /// Runs every check against the functions loaded where `Harness`
    /// connects.
    pub grade: fn(Arc<Harness>) -> GradeFuture,
}

/// Every exercise, in course order.
pub fn exercises() -> [&'static Exercise; 3] {
    [
        &feature_store::EXERCISE,
        &rate_limiter::EXERCISE,
        &recommendations::EXERCISE,
    ]
}

pub fn find(id: &str) -> Option<&'static Exercise> {
    exercises().into_iter().find(|e| e.id == id)
}

impl Exercise {
    pub fn info(&self) -> ExerciseInfo {
        ExerciseInfo {
            id: self.id.into(),
            title: self.title.into(),
            lesson: self.lesson.into(),
            functions: self
                .functions
                .iter()
                .map(|f| FunctionSpec {
                    name: f.name.into(),
                    called_as: f.called_as.into(),
                    returns: f.returns.into(),
                })
                .collect(),
            checks: self
                .checks
                .iter()
                .map(|c| CheckInfo {
                    id: c.id.into(),
                    title: c.title.into(),
                })
                .collect(),
        }
    }

    fn step_link(&self, check: &CheckDef) -> String {
        format!("/lesson/{}#{}", self.lesson, check.step)
    }

    /// A report in which every check ended the same way (nothing loaded,
    /// no grading sandbox).
    pub fn report_all(
        &self,
        status: GradeStatus,
        message: &str,
        submission: String,
    ) -> GradeReport {
        let started = Instant::now();
        let outcome = match status {
            GradeStatus::Pass => Outcome::Pass(message.into()),
            GradeStatus::Fail => Outcome::Fail(message.into()),
            GradeStatus::Error => Outcome::Error(message.into()),
        };
        let graded = Graded {
            outcomes: self
                .checks
                .iter()
                .map(|c| (c.id, outcome.clone()))
                .collect(),
            figures: Vec::new(),
        };
        self.report(graded, submission, started)
    }

    /// Runs every check within `RUN_DEADLINE` and writes the report.
    pub async fn run(&self, harness: Arc<Harness>, submission: String) -> GradeReport {
        let started = Instant::now();
        let graded = tokio::time::timeout(RUN_DEADLINE, (self.grade)(harness))
            .await
            .unwrap_or_default();
        self.report(graded, submission, started)
    }

    fn report(&self, graded: Graded, submission: String, started: Instant) -> GradeReport {
        let checks: Vec<CheckReport> = self
            .checks
            .iter()
            .map(|check| {
                let outcome = graded
                    .outcomes
                    .iter()
                    .find(|(id, _)| *id == check.id)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_else(|| {
                        Outcome::Error(format!(
                            "did not finish within the {} s a grading run may take",
                            RUN_DEADLINE.as_secs()
                        ))
                    });
                let (status, message, hint) = match outcome {
                    Outcome::Pass(m) => (GradeStatus::Pass, m, String::new()),
                    Outcome::Fail(m) => (GradeStatus::Fail, m, check.hint.to_owned()),
                    Outcome::Error(m) => (GradeStatus::Error, m, String::new()),
                };
                CheckReport {
                    id: check.id.into(),
                    title: check.title.into(),
                    status,
                    message,
                    hint,
                    step: self.step_link(check),
                }
            })
            .collect();
        let score = checks
            .iter()
            .filter(|c| c.status == GradeStatus::Pass)
            .count() as u32;
        let status = if checks.iter().any(|c| c.status == GradeStatus::Fail) {
            GradeStatus::Fail
        } else if checks.iter().any(|c| c.status == GradeStatus::Error) {
            GradeStatus::Error
        } else {
            GradeStatus::Pass
        };
        GradeReport {
            exercise: self.id.into(),
            status,
            score,
            max_score: checks.len() as u32,
            checks,
            figures: graded.figures,
            submission,
            graded_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }
}
