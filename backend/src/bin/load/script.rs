//! What a simulated learner does, with think time between each action:
//! the blocks of a lesson in order (then the next lesson), a progress
//! step acknowledged at the end of each lesson step, typed commands of its
//! own, an occasional mistake, one simulator run, and, for one learner in
//! `grade_every`, a graded exercise. Every answer is timed and read: lines
//! run, notices, Redis errors, and refusals counted by code and by what
//! explains them.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use protocol::{
    Algorithm, BlockLine, ClientMessage as C, ErrorCode, NoticeKind, RateLimitSim, Reply,
    ServerMessage as S,
};

use crate::learner::Learner;
use crate::link::{Link, LinkError, Push};
use crate::tally::{is_stated_limit, Class, Kind, Tally};

/// Share of blocks followed by a typed line, and by a mistake.
const TYPED_SHARE: f64 = 0.3;
const MISTAKE_SHARE: f64 = 0.05;
/// The exercise graded, and a library that passes it.
const EXERCISE: &str = "rate-limiter";
const LIBRARY: &str = include_str!("../../../tests/fixtures/grading/rate-limiter/reference.lua");

/// Refusals a deliberate mistake may get.
const MISTAKE_CODES: &[ErrorCode] = &[
    ErrorCode::InvalidArguments,
    ErrorCode::CommandRefused,
    ErrorCode::SubcommandRefused,
    ErrorCode::ConfigRefused,
];

/// A line the learner types, under keys of its own.
fn typed_line(i: usize, n: u64) -> String {
    let k = format!("load:{i}");
    match n % 10 {
        0 => format!("SET {k}:name learner-{i}"),
        1 => format!("GET {k}:name"),
        2 => format!("INCR {k}:visits"),
        3 => format!("HSET {k}:user plan pro seen {n}"),
        4 => format!("HGETALL {k}:user"),
        5 => format!("LPUSH {k}:events e{n}"),
        6 => format!("LRANGE {k}:events 0 9"),
        7 => format!("ZADD {k}:scores {n} m{n}"),
        8 => format!("ZRANGE {k}:scores 0 4 WITHSCORES"),
        _ => format!("EXPIRE {k}:name 3600"),
    }
}

/// A line typed wrong: each is refused by the console or answered with a
/// Redis error.
fn mistake(i: usize, n: u64) -> String {
    match n % 4 {
        0 => format!("HGET load:{i}:user"),
        1 => "CONFIG SET maxmemory 1gb".to_owned(),
        2 => format!("SET load:{i}:quote \"unterminated"),
        _ => "SHUTDOWN".to_owned(),
    }
}

/// Whether the answer says the sandbox met a dead process: the request
/// itself, or a line of a block that met it, is refused with
/// `sandbox_restarted` (the next one runs in the fresh sandbox).
fn refused_for_restart(reply: &S) -> bool {
    let restarted = |e: &protocol::ErrorBody| e.code == ErrorCode::SandboxRestarted;
    match reply {
        S::Error { error, .. } => restarted(error),
        S::BlockRan { lines, .. } => lines
            .iter()
            .any(|l| l.error.as_ref().is_some_and(restarted)),
        _ => false,
    }
}

/// The library as one redis-cli argument (the exercise panel's quoting).
fn load_line(code: &str) -> String {
    let mut quoted = String::from("FUNCTION LOAD REPLACE \"");
    for c in code.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

impl Learner<'_> {
    /// The script, until the run ends; an error is the socket's.
    pub(crate) async fn follow_script(&mut self, link: &mut Link) -> Result<(), LinkError> {
        while Instant::now() < self.ctx.plan.end() {
            self.step(link).await?;
        }
        Ok(())
    }

    async fn step(&mut self, link: &mut Link) -> Result<(), LinkError> {
        let ctx = self.ctx;
        let Some(page) = ctx.course.get(self.lesson) else {
            return self.think(link).await;
        };
        if !self.opened {
            let lesson = page.summary.slug.clone();
            self.ask(link, Kind::OpenLesson, &[], |seq| C::OpenLesson {
                seq,
                lesson: lesson.clone(),
            })
            .await?;
            self.opened = true;
        }
        if self.block >= page.blocks.len() {
            self.lesson = (self.lesson + 1) % ctx.course.len();
            (self.block, self.opened) = (0, false);
            return Ok(());
        }
        self.think(link).await?;
        let (lesson, block) = (page.summary.slug.clone(), self.block);
        let expects_error = page.blocks[block].expect_error.clone();
        let reply = self
            .ask(link, Kind::Block, &[], |seq| C::RunBlock {
                seq,
                lesson: lesson.clone(),
                block,
            })
            .await?;
        if let S::BlockRan { lines, .. } = &reply {
            self.read_lines(lines, expects_error.as_deref());
        }
        self.block += 1;
        let step = page.blocks[block].step.clone();
        let next_step = page.blocks.get(self.block).and_then(|b| b.step.clone());
        if let Some(step) = step.filter(|s| Some(s) != next_step.as_ref()) {
            self.progress(&page.summary.slug, &step).await;
        }
        if self.rng.chance(TYPED_SHARE) {
            self.think(link).await?;
            self.typed += 1;
            let line = typed_line(self.log.index, self.typed);
            self.ask(link, Kind::Exec, &[], |seq| C::Exec {
                seq,
                line: line.clone(),
            })
            .await?;
        }
        if self.rng.chance(MISTAKE_SHARE) {
            self.think(link).await?;
            self.typed += 1;
            let line = mistake(self.log.index, self.typed);
            self.ask(link, Kind::Exec, MISTAKE_CODES, |seq| C::Exec {
                seq,
                line: line.clone(),
            })
            .await?;
        }
        if self.sim_at.is_some_and(|at| Instant::now() >= at) {
            self.sim_at = None;
            self.simulate(link).await?;
        }
        if self.grade_at.is_some_and(|at| Instant::now() >= at) {
            self.grade_at = None;
            self.grade(link).await?;
        }
        Ok(())
    }

    /// Sends a request, times its answer and reads it; refusals with a
    /// code in `expected` were meant. A request answered
    /// `sandbox_restarted` is sent once more at once, as a learner told
    /// "your sandbox was restarted" runs it again: that answer shows
    /// whether the fresh sandbox works.
    /// Told their sandbox was restarted, a learner types `PING` to see
    /// that the console works (the kill's "working within 1 s" figure).
    pub(crate) async fn try_after_restart(&mut self, link: &mut Link) -> Result<(), LinkError> {
        self.ask(link, Kind::Exec, &[], |seq| C::Exec {
            seq,
            line: "PING".into(),
        })
        .await
        .map(|_| ())
    }

    async fn ask(
        &mut self,
        link: &mut Link,
        kind: Kind,
        expected: &[ErrorCode],
        make: impl Fn(u64) -> protocol::ClientMessage,
    ) -> Result<S, LinkError> {
        let reply = self.ask_once(link, kind, expected, &make).await?;
        if refused_for_restart(&reply) {
            return self.ask_once(link, kind, expected, &make).await;
        }
        Ok(reply)
    }

    async fn ask_once(
        &mut self,
        link: &mut Link,
        kind: Kind,
        expected: &[ErrorCode],
        make: &impl Fn(u64) -> protocol::ClientMessage,
    ) -> Result<S, LinkError> {
        let sent = Instant::now();
        let reply = link.request(make).await?;
        let took = self.ctx.tally.time(kind, self.log.index, sent);
        for (at, push) in link.take_pushes() {
            match push {
                Push::Notice(n) if n.kind == NoticeKind::Restarted => {
                    self.noticed_restart(at, Duration::ZERO)
                }
                Push::Frame => Tally::add(&self.ctx.tally.frames, 1),
                Push::Notice(_) => {}
            }
        }
        match &reply {
            S::Result { result, .. } => {
                if kind == Kind::Exec {
                    self.ctx
                        .tally
                        .record(Kind::InRedis, self.log.index, sent, result.micros);
                }
                self.read_result(&result.reply, &result.notices, took);
                self.worked();
            }
            S::Error { error, .. } => {
                if error.code == ErrorCode::SandboxRestarted {
                    self.noticed_restart(Instant::now(), took);
                }
                self.refusal(error.code, expected, &error.message);
            }
            S::LessonOpened { notice, .. } => {
                if notice
                    .as_ref()
                    .is_some_and(|n| n.kind == NoticeKind::Restarted)
                {
                    self.noticed_restart(Instant::now(), took);
                }
                self.worked();
            }
            S::BlockRan { lines, .. } => {
                let notices = lines
                    .iter()
                    .filter_map(|l| l.result.as_ref())
                    .flat_map(|r| &r.notices);
                let noticed = notices.into_iter().any(|n| n.kind == NoticeKind::Restarted);
                if noticed || refused_for_restart(&reply) {
                    self.noticed_restart(Instant::now(), took);
                }
                // Worked: a line ran after the last one that met a dead
                // process (if any did).
                let ran = lines.iter().rposition(|l| l.result.is_some());
                let met_dead = lines.iter().rposition(|l| {
                    l.error
                        .as_ref()
                        .is_some_and(|e| e.code == ErrorCode::SandboxRestarted)
                });
                if ran.is_some() && ran > met_dead {
                    self.worked();
                }
            }
            _ => {}
        }
        Ok(reply)
    }

    fn read_result(&mut self, reply: &Reply, notices: &[protocol::Notice], took: Duration) {
        Tally::add(&self.ctx.tally.commands, 1);
        if matches!(reply, Reply::Error { .. }) {
            Tally::add(&self.ctx.tally.redis_errors, 1);
        }
        if notices.iter().any(|n| n.kind == NoticeKind::Restarted) {
            self.noticed_restart(Instant::now(), took);
        }
    }

    /// A block's lines: each ran (a command) or was refused; a block
    /// written to fail expects a refusal that says `expects_error`.
    fn read_lines(&mut self, lines: &[BlockLine], expects_error: Option<&str>) {
        let tally = &self.ctx.tally;
        for line in lines {
            if let Some(result) = &line.result {
                Tally::add(&tally.commands, 1);
                if matches!(result.reply, Reply::Error { .. }) {
                    Tally::add(&tally.redis_errors, 1);
                }
            }
            if let Some(error) = &line.error {
                let meant = expects_error.is_some_and(|text| {
                    error.message.to_lowercase().contains(&text.to_lowercase())
                });
                let expected: &[ErrorCode] = if meant { &[error.code] } else { &[] };
                self.refusal(
                    error.code,
                    expected,
                    &format!("{}: {}", line.line, error.message),
                );
            }
        }
    }

    /// Counts a refusal by its code and what explains it.
    fn refusal(&self, code: ErrorCode, expected: &[ErrorCode], message: &str) {
        let killed = self
            .ctx
            .faults
            .sandbox_kill
            .lock()
            .is_ok_and(|k| k.at.is_some());
        let class = if expected.contains(&code) {
            Class::Expected
        } else if is_stated_limit(code) {
            Class::RateLimit
        } else if code == ErrorCode::SandboxRestarted && killed {
            Class::Fault
        } else {
            Class::Real
        };
        self.ctx.tally.error(code.as_str(), class, message);
    }

    /// The end of a lesson step: recorded, and acknowledged once on disk.
    async fn progress(&mut self, lesson: &str, step: &str) {
        let sent = Instant::now();
        match self.ctx.api.progress(&self.token, lesson, step).await {
            Ok(()) => {
                self.ctx.tally.time(Kind::Progress, self.log.index, sent);
                let acked = (lesson.to_owned(), step.to_owned(), Instant::now());
                self.log.acked.push(acked);
            }
            Err(e) => self.call_failed(&e, "POST /api/me/progress"),
        }
    }

    /// A rate-limit simulation: started, watched until its first frames,
    /// stopped.
    async fn simulate(&mut self, link: &mut Link) -> Result<(), LinkError> {
        let sim = RateLimitSim {
            rate: 40.0,
            users: 4,
            limit: 5,
            window_ms: 1_000,
            algorithms: vec![Algorithm::FixedWindow, Algorithm::TokenBucket],
            duration_ms: 3_000,
            bursty: false,
            custom_script: None,
        };
        self.ask(link, Kind::Simulator, &[], |seq| C::StartRateLimit {
            seq,
            sim: sim.clone(),
        })
        .await?;
        link.frame_within(Duration::from_secs(2)).await?;
        self.think(link).await?;
        self.ask(link, Kind::Simulator, &[], |seq| C::StopSimulation { seq })
            .await?;
        Ok(())
    }

    /// The exercise: the library loaded in the console, then graded.
    async fn grade(&mut self, link: &mut Link) -> Result<(), LinkError> {
        let line = load_line(LIBRARY);
        self.ask(link, Kind::Exec, &[], |seq| C::Exec {
            seq,
            line: line.clone(),
        })
        .await?;
        let faults = &self.ctx.faults;
        let run = faults.grading_started(self.ctx.server_pid.load(Ordering::SeqCst));
        let sent = Instant::now();
        let graded = self.ctx.api.grade(&self.session, EXERCISE).await;
        faults.grading_ended(run);
        match graded {
            Ok(report) => {
                self.ctx.tally.time(Kind::Grade, self.log.index, sent);
                Tally::add(&self.ctx.tally.grades, 1);
                if report.status != protocol::GradeStatus::Error {
                    self.log.grades_acked += 1;
                }
            }
            Err(e) => self.call_failed(&e, "POST /api/exercises/…/grade"),
        }
        Ok(())
    }
}
