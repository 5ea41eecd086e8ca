//! One simulated learner's life: arrive on the ramp, create a learner and
//! a session, open the console socket, and follow the script until the
//! run ends. A socket that drops is reopened by itself with backoff, as
//! the browser does: the learner's token gets its live session back, or a
//! new one from a restarted server, and the script goes on where it was.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use protocol::LessonPage;

use crate::api::{Api, CallError};
use crate::faults::{Faults, Restart};
use crate::link::{Link, LinkError};
use crate::rng::Rng;
use crate::tally::{is_stated_limit, Class, Kind, Tally};

/// First and longest pause between two attempts to reconnect.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How the run is paced, the same for every learner.
pub struct Plan {
    pub learners: usize,
    /// Arrivals are spread evenly over this, from `start`.
    pub ramp: Duration,
    /// Mean pause between two actions (each pause is 0.5× to 1.5× it).
    pub think: Duration,
    pub start: Instant,
    /// How long the run lasts once every learner is online.
    pub seconds: Duration,
    /// When every learner was online (set once by the run): the measured
    /// window starts there.
    pub window: OnceLock<Instant>,
    /// How long past `end` a learner still tries to come back after a
    /// server kill, before it is counted as never back.
    pub grace: Duration,
    /// One learner in this many grades an exercise once (0: nobody).
    pub grade_every: usize,
    pub seed: u64,
}

impl Plan {
    /// The run ends here: learners finish what they are doing and leave.
    /// Until every learner is online, that is a day away.
    pub fn end(&self) -> Instant {
        match self.window.get() {
            Some(from) => *from + self.seconds,
            None => Instant::now() + Duration::from_secs(86_400),
        }
    }
}

/// What every learner shares.
pub struct Ctx {
    pub api: Api,
    pub ws_base: String,
    /// With `--nodes`: every node's API and WebSocket base; learner `i`
    /// comes in through node `i % N`, as a load balancer would spread them.
    pub entries: Vec<(Api, String)>,
    pub tally: Arc<Tally>,
    pub faults: Arc<Faults>,
    /// The server's pid now (0: unknown, or between a kill and a restart).
    pub server_pid: Arc<AtomicU32>,
    /// The lessons the engine can serve that have blocks, in course order.
    pub course: Vec<LessonPage>,
    /// With `--hostile`: the class's room code; each learner joins it
    /// before its first session.
    pub room_code: Option<String>,
    pub plan: Plan,
}

impl Ctx {
    /// Where learner `index` comes in: its node with `--nodes`, else the
    /// one server.
    pub fn entry(&self, index: usize) -> (&Api, &str) {
        match self.entries.get(index % self.entries.len().max(1)) {
            Some((api, ws)) => (api, ws),
            None => (&self.api, &self.ws_base),
        }
    }
}

/// What a learner leaves behind for the checks after the run.
#[derive(Debug, Default)]
pub struct LearnerLog {
    pub index: usize,
    pub token: Option<String>,
    /// Progress steps the server acknowledged: (lesson, step, when).
    pub acked: Vec<(String, String, Instant)>,
    /// Grading reports the server answered (and so stored).
    pub grades_acked: usize,
    /// The server generation its last socket was opened under.
    pub generation: u32,
}

/// A learner between requests: where it is in the course, and what it
/// still has to do.
pub struct Learner<'a> {
    pub(crate) ctx: &'a Ctx,
    pub(crate) rng: Rng,
    pub(crate) token: String,
    pub(crate) session: String,
    /// The server generation the current socket belongs to.
    pub(crate) generation: u32,
    pub(crate) lesson: usize,
    pub(crate) block: usize,
    pub(crate) opened: bool,
    /// A restart noticed, and the round trip that brought it, until a
    /// command works again.
    pub(crate) pending_restart: Option<(Instant, Duration)>,
    pub(crate) sim_at: Option<Instant>,
    pub(crate) grade_at: Option<Instant>,
    pub(crate) typed: u64,
    pub(crate) log: LearnerLog,
}

struct Backoff(Duration);

impl Backoff {
    async fn wait(&mut self, rng: &mut Rng) {
        let jittered = self.0.mul_f64(0.5 + rng.unit());
        tokio::time::sleep(jittered).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
}

/// Runs learner `index` to the end of the run.
pub async fn run(ctx: Arc<Ctx>, index: usize) -> LearnerLog {
    let plan = &ctx.plan;
    let mut rng = Rng::new(plan.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let arrive = plan.start
        + plan
            .ramp
            .mul_f64(index as f64 / plan.learners.max(1) as f64);
    tokio::time::sleep_until(arrive.into()).await;
    let mut log = LearnerLog {
        index,
        ..LearnerLog::default()
    };
    let mut backoff = Backoff(BACKOFF_FIRST);
    let token = loop {
        if Instant::now() >= plan.end() {
            return log;
        }
        match ctx.entry(index).0.create_learner().await {
            Ok(created) => break created.token,
            Err(e) => {
                refused(&ctx, &e, 0, "POST /api/learners");
                backoff.wait(&mut rng).await;
            }
        }
    };
    if let Some(code) = &ctx.room_code {
        while let Err(e) = ctx
            .entry(index)
            .0
            .join_room(&token, code, &format!("learner {index}"))
            .await
        {
            if Instant::now() >= plan.end() {
                return log;
            }
            refused(&ctx, &e, 0, "POST /api/rooms/join");
            backoff.wait(&mut rng).await;
        }
    }
    log.token = Some(token.clone());
    let window = plan.seconds;
    let sim_at = Instant::now() + window.mul_f64(rng.unit() * 0.8);
    let grader = plan.grade_every > 0 && index % plan.grade_every == plan.grade_every / 2;
    let grade_at = grader.then(|| Instant::now() + window.mul_f64(0.1 + 0.4 * rng.unit()));
    let mut me = Learner {
        lesson: index % ctx.course.len().max(1),
        ctx: &ctx,
        rng,
        token,
        session: String::new(),
        generation: 0,
        block: 0,
        opened: false,
        pending_restart: None,
        sim_at: Some(sim_at),
        grade_at,
        typed: 0,
        log,
    };
    me.live(&mut backoff).await;
    if let Some((noticed, carried_by)) = me.pending_restart.take() {
        ctx.faults.restarted(Restart {
            learner: index,
            noticed,
            carried_by,
            working: None,
        });
    }
    me.log
}

/// Counts a refused or failed HTTP call; `generation` is the server
/// generation the caller last had a socket under.
fn refused(ctx: &Ctx, e: &CallError, generation: u32, what: &str) {
    let class = match e {
        CallError::Refused { code, .. } if is_stated_limit(*code) => Class::RateLimit,
        // While the server is down and coming back, calls fail: the
        // learner retries, as the browser would.
        _ if ctx.faults.generation() != generation || server_down(ctx) => Class::Fault,
        _ => Class::Real,
    };
    ctx.tally.error(&e.code(), class, &format!("{what}: {e}"));
}

/// Between a server kill and its restart.
fn server_down(ctx: &Ctx) -> bool {
    let kill = ctx.faults.server_kill.lock().map(|k| k.clone());
    kill.is_ok_and(|k| k.killed_at.is_some() && k.up_at.is_none())
}

impl Learner<'_> {
    /// Connects, follows the script, and reconnects whenever the socket
    /// drops, until the run ends.
    async fn live(&mut self, backoff: &mut Backoff) {
        let ctx = self.ctx;
        loop {
            let generation = ctx.faults.generation();
            let end = ctx.plan.end();
            let past_end = Instant::now() >= end;
            let caught_up = self.log.generation == generation;
            if past_end && (caught_up || Instant::now() >= end + ctx.plan.grace) {
                return;
            }
            let sent = Instant::now();
            let (api, ws_base) = ctx.entry(self.log.index);
            match api.create_session(&self.token).await {
                Ok(created) => {
                    ctx.tally.time(Kind::SessionStart, self.log.index, sent);
                    Tally::add(&ctx.tally.sessions_started, 1);
                    self.session = created.session;
                }
                Err(e) => {
                    if matches!(&e, CallError::Refused { code, .. } if is_stated_limit(*code)) {
                        Tally::add(&ctx.tally.sessions_refused, 1);
                    }
                    refused(ctx, &e, self.log.generation, "POST /api/sessions");
                    backoff.wait(&mut self.rng).await;
                    continue;
                }
            }
            let mut link = match Link::open(ws_base, &self.session).await {
                Ok(link) => link,
                Err(e) => {
                    self.dropped(&e, "opening the socket");
                    backoff.wait(&mut self.rng).await;
                    continue;
                }
            };
            if generation > 0 && self.log.generation < generation {
                ctx.faults.back(self.log.index);
            }
            self.log.generation = generation;
            self.generation = generation;
            *backoff = Backoff(BACKOFF_FIRST);
            self.opened = false;
            ctx.tally.online.fetch_add(1, Ordering::Relaxed);
            let outcome = self.follow_script(&mut link).await;
            ctx.tally.online.fetch_sub(1, Ordering::Relaxed);
            match outcome {
                Ok(()) => {
                    link.close().await;
                    let _ = api.delete_session(&self.session).await;
                    return;
                }
                Err(e) => {
                    self.dropped(&e, "a request on the socket");
                    Tally::add(&ctx.tally.reconnects, 1);
                    backoff.wait(&mut self.rng).await;
                }
            }
        }
    }

    /// Counts a socket that failed: a drop after a server kill is the
    /// fault's doing; 401 is a session the server no longer knows (it is
    /// made again); 429 is the stated socket limit.
    fn dropped(&self, e: &LinkError, what: &str) {
        let tally = &self.ctx.tally;
        let killed = self.ctx.faults.generation() != self.generation || server_down(self.ctx);
        let (code, class) = match e {
            LinkError::Refused(429) => ("too_many_sockets".to_owned(), Class::RateLimit),
            LinkError::Refused(401) if killed => ("unauthorized".to_owned(), Class::Fault),
            LinkError::Refused(status) => (format!("upgrade_{status}"), Class::Real),
            LinkError::Closed(_) if killed => ("connection_lost".to_owned(), Class::Fault),
            LinkError::Closed(_) => ("connection_lost".to_owned(), Class::Real),
            LinkError::Timeout => ("timeout".to_owned(), Class::Real),
        };
        tally.error(&code, class, &format!("{what}: {e}"));
    }

    /// A pause of about `think`, reading the socket meanwhile; cut short by
    /// a restart notice, after which the learner tries the console.
    pub(crate) async fn think(&mut self, link: &mut Link) -> Result<(), LinkError> {
        let pause = self.ctx.plan.think.mul_f64(0.5 + self.rng.unit());
        let left = self
            .ctx
            .plan
            .end()
            .saturating_duration_since(Instant::now());
        if link.idle_or_restart(pause.min(left)).await? {
            self.try_after_restart(link).await?;
        }
        Ok(())
    }

    /// A `restarted` notice (or a `sandbox_restarted` error) arrived at
    /// `at`, brought by a round trip of `carried_by`.
    pub(crate) fn noticed_restart(&mut self, at: Instant, carried_by: Duration) {
        if self.pending_restart.is_none() {
            self.pending_restart = Some((at, carried_by));
        }
    }

    /// A command worked: a restart noticed before is now recovered.
    pub(crate) fn worked(&mut self) {
        if let Some((noticed, carried_by)) = self.pending_restart.take() {
            self.ctx.faults.restarted(Restart {
                learner: self.log.index,
                noticed,
                carried_by,
                working: Some(Instant::now()),
            });
        }
    }

    /// Counts a refused or failed HTTP call made under this socket.
    pub(crate) fn call_failed(&self, e: &CallError, what: &str) {
        refused(self.ctx, e, self.generation, what);
    }
}
