//! One learner's session: its link to the sandbox (behind a lock, one
//! command at a time), its rate limit, and its event streams.
//!
//! The event stream (`subscribe`) is the documented feed of what happens
//! in a session, `protocol::SessionEvent`: every command and refusal,
//! every notice, and the session's end, for observers such as an
//! instructor's console mirrored to a class. The session's own consoles
//! take its notices alone (`subscribe_notices`, see `events.rs`).

pub mod convert;
mod errors;
mod events;
mod exit_watch;
mod greeting;
mod link;
mod link_guard;
pub mod park;
mod rate;
pub mod registry;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::{ErrorBody, ExecResponse, Notice, NoticeKind, SessionEvent};
use redis::aio::MultiplexedConnection;
use tokio::sync::{broadcast, watch};

use crate::control::learners::LearnerRef;
use crate::limits::SandboxLimits;
use crate::sandbox::{SandboxError, SandboxPool};

pub use errors::ErrorCounts;
pub use greeting::Greeting;
pub use link::{ExecError, Executed, SandboxLink};
pub use link_guard::LinkGuard;
pub use rate::TokenBucket;
pub use registry::{RegistryError, SessionRegistry};

pub struct Session {
    pub id: String,
    pub client_ip: IpAddr,
    /// The learner it belongs to (none while the control store was down
    /// when it was made).
    learner: Option<LearnerRef>,
    created: Instant,
    last_used: Mutex<Instant>,
    rate: Mutex<TokenBucket>,
    /// Shared with the exit watcher (weakly), which replaces a sandbox
    /// that dies between commands.
    link: Arc<tokio::sync::Mutex<SandboxLink>>,
    /// The sandbox's pid, readable without the lock, so a session can be
    /// ended while a command runs.
    pid: Arc<AtomicU32>,
    events: events::Events,
    /// Recent errors, counted as they pass through `emit`.
    errors: Mutex<errors::ErrorLog>,
    /// A notice for the first console that subscribes (data brought back
    /// after giving way).
    greeting: greeting::Waiting,
    /// Lessons whose starting data was loaded, with the sandbox (pid) it
    /// was loaded into: a reset or restart forgets it.
    prepared: Mutex<Vec<(String, u32)>>,
    /// Whether a browser ever opened a socket on it: then its last tab
    /// closing ends it soon (HTTP-only clients keep the idle time).
    had_socket: AtomicBool,
    /// The room it was admitted by, as a member (a class behind one
    /// address): its sockets are not held to the per-address socket cap
    /// either, and its console's facts go to that room's board.
    room: Mutex<Option<String>>,
    /// Flips to true once when the session ends; sockets close on it.
    ended: watch::Sender<bool>,
    pool: Arc<SandboxPool>,
    /// Stops the exit watcher when the session goes.
    _exit_watch: exit_watch::ExitWatch,
    /// Set while the exit watcher replaces a dead sandbox.
    restarting: Arc<AtomicBool>,
}

impl Session {
    pub async fn start(
        id: String,
        client_ip: IpAddr,
        pool: Arc<SandboxPool>,
        learner: Option<LearnerRef>,
    ) -> Result<Session, SandboxError> {
        let mut sandbox = pool.acquire().await?;
        let pid = sandbox.pid();
        // Armed before anyone can use the link, so it never waits for it.
        let first_exit = exit_watch::Exit::arm(&mut sandbox);
        let link = Arc::new(tokio::sync::Mutex::new(SandboxLink::open(sandbox).await?));
        let pid = Arc::new(AtomicU32::new(pid));
        let limits = &pool.spec().limits;
        let events = events::Events::new();
        let ended = watch::Sender::new(false);
        let restarting = Arc::new(AtomicBool::new(false));
        let watched = exit_watch::Watched {
            restarting: restarting.clone(),
            link: Arc::downgrade(&link),
            pid: pid.clone(),
            events: events.clone(),
            ended: ended.subscribe(),
            pool: pool.clone(),
        };
        Ok(Session {
            id,
            client_ip,
            learner,
            created: Instant::now(),
            last_used: Mutex::new(Instant::now()),
            rate: Mutex::new(TokenBucket::new(limits.rate_per_sec, limits.rate_burst)),
            link,
            pid,
            events,
            errors: Mutex::default(),
            greeting: greeting::Waiting::default(),
            prepared: Mutex::new(Vec::new()),
            had_socket: AtomicBool::new(false),
            room: Mutex::new(None),
            ended,
            pool,
            _exit_watch: exit_watch::start(watched, first_exit),
            restarting,
        })
    }

    pub fn learner(&self) -> Option<&LearnerRef> {
        self.learner.as_ref()
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.pool.spec().limits
    }

    pub fn touch(&self) {
        if let Ok(mut last) = self.last_used.lock() {
            *last = Instant::now();
        }
    }

    pub fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .map(|l| l.elapsed())
            .unwrap_or_default()
    }

    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// A browser opened a socket on this session.
    pub fn mark_socket(&self) {
        self.had_socket.store(true, Ordering::Relaxed);
    }

    /// Admitted by `room`, as a member of it.
    pub fn admit_to_room(&self, room: &str) {
        if let Ok(mut slot) = self.room.lock() {
            *slot = Some(room.to_owned());
        }
    }

    pub fn room_admitted(&self) -> bool {
        self.room().is_some()
    }

    /// The room it was admitted by, if any.
    pub fn room(&self) -> Option<String> {
        self.room.lock().ok().and_then(|r| r.clone())
    }

    pub fn had_socket(&self) -> bool {
        self.had_socket.load(Ordering::Relaxed)
    }

    /// One token from the session's rate limit.
    pub fn take_rate_token(&self) -> bool {
        self.rate.lock().map(|mut r| r.try_take()).unwrap_or(false)
    }

    /// For learners: one command in flight, so a second one is refused.
    pub fn try_lock(&self) -> Option<LinkGuard<'_>> {
        self.link.try_lock().ok().map(|guard| LinkGuard {
            guard,
            session: self,
        })
    }

    /// For learners: `try_lock`, except that while the exit watcher puts in
    /// a fresh sandbox the command waits for it instead of being refused
    /// as busy (nothing of the learner's is running).
    pub async fn lock_for_learner(&self) -> Option<LinkGuard<'_>> {
        if let Some(guard) = self.try_lock() {
            return Some(guard);
        }
        if self.restarting.load(Ordering::Acquire) {
            return Some(self.lock().await);
        }
        None
    }

    /// For the backend's own work (graders, simulators): wait for a turn.
    pub async fn lock(&self) -> LinkGuard<'_> {
        LinkGuard {
            guard: self.link.lock().await,
            session: self,
        }
    }

    /// The session's event stream, for observers (see the module comment).
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe()
    }

    /// The session's notices, for a console. A greeting waiting for the
    /// first console is sent as soon as one subscribes.
    pub fn subscribe_notices(&self) -> broadcast::Receiver<Notice> {
        let receiver = self.events.subscribe_notices();
        if let Some(notice) = self.greeting.take_for_console() {
            self.emit(SessionEvent::Notice { notice });
        }
        receiver
    }

    /// Says `notice` to the first console that opens.
    pub fn greet(&self, notice: Notice) {
        self.greet_by(notice, Greeting::ConsoleOnly);
    }

    /// A greeting for the first console, or (`Greeting::FirstOf`) the
    /// first reply if that comes sooner.
    pub fn greet_by(&self, notice: Notice, how: Greeting) {
        self.greeting.set(notice, how);
    }

    /// The waiting greeting, if a reply may carry it (HTTP clients have no
    /// console: a re-homed session's notice must reach them too).
    pub fn take_greeting_for_reply(&self) -> Option<Notice> {
        self.greeting.take_for_reply()
    }

    /// A notice or the end, to consoles and observers.
    pub fn emit(&self, event: SessionEvent) {
        self.events.send(event);
    }

    /// A line that ran: counted for the class board, and told observers.
    pub fn command_ran(&self, line: &str, response: &ExecResponse) {
        self.count_outcome(response.reply.is_error());
        self.events.command(line, response);
    }

    /// A line that was refused: counted, and told observers.
    pub fn command_refused(&self, line: &str, error: &ErrorBody) {
        self.count_outcome(true);
        self.events.refused(line, error);
    }

    fn count_outcome(&self, is_error: bool) {
        if let Ok(mut log) = self.errors.lock() {
            log.record(is_error, Instant::now());
        }
    }

    /// Errors in the last five minutes and in a row (the class board).
    pub fn error_counts(&self) -> ErrorCounts {
        self.errors
            .lock()
            .map(|mut log| log.counts(Instant::now()))
            .unwrap_or_default()
    }

    /// Resolves once the session has ended (deleted, reaped, shut down).
    pub fn ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    /// Whether a transaction is open right now (waits for a running
    /// command to finish, so the answer is the server's real state).
    pub async fn in_multi(&self) -> bool {
        self.lock().await.in_multi()
    }

    /// Records that `lesson`'s starting data is in the current sandbox.
    pub fn mark_prepared(&self, lesson: &str) {
        let pid = self.pid.load(Ordering::Acquire);
        if let Ok(mut prepared) = self.prepared.lock() {
            prepared.retain(|(_, p)| *p == pid);
            prepared.push((lesson.to_owned(), pid));
        }
    }

    /// Whether `lesson`'s starting data was loaded into the current sandbox.
    pub fn is_prepared(&self, lesson: &str) -> bool {
        let pid = self.pid.load(Ordering::Acquire);
        self.prepared
            .lock()
            .map(|p| p.iter().any(|(l, p)| l == lesson && *p == pid))
            .unwrap_or(false)
    }

    /// A fresh sandbox for this session; the old one and its data are gone.
    pub async fn reset(&self) -> Result<Notice, SandboxError> {
        self.reset_saying(
            NoticeKind::Reset,
            "You asked for a fresh sandbox: it is empty and ready.".into(),
        )
        .await
    }

    /// `reset`, announced with the caller's own words (one notice, not two,
    /// when the reset is part of something bigger such as Start fresh).
    pub async fn reset_saying(
        &self,
        kind: NoticeKind,
        message: String,
    ) -> Result<Notice, SandboxError> {
        let mut link = self.lock().await;
        let notice = link.replace(&self.pool, kind, message).await?;
        drop(link);
        self.emit(SessionEvent::Notice {
            notice: notice.clone(),
        });
        Ok(notice)
    }

    /// The pid of the sandbox process right now (tests and metrics).
    pub async fn sandbox_pid(&self) -> u32 {
        self.lock().await.sandbox().pid()
    }

    /// A second, independent connection to this session's sandbox, for the
    /// backend's own readers (graders, live charts, benchmarks).
    pub async fn sandbox_connection(&self) -> Result<MultiplexedConnection, SandboxError> {
        self.lock().await.sandbox().connect().await
    }

    /// Stops a script the backend's own work left running (a simulator
    /// past its deadline, or one whose viewer left). If Redis cannot stop
    /// it (it wrote, then looped), the sandbox is replaced and observers
    /// are told.
    pub async fn stop_runaway(&self) {
        let sandbox_stopped = {
            let link = self.link.lock().await;
            link::stop_script(link.sandbox()).await
        };
        if !sandbox_stopped {
            let mut link = self.lock().await;
            let reason = "a live chart's script ran past its deadline and Redis could not stop it (it wrote data, then kept running), so the sandbox was killed";
            if let Ok(notice) = link
                .replace(
                    &self.pool,
                    NoticeKind::Restarted,
                    ExecError::Restarted {
                        reason: reason.into(),
                    }
                    .to_string(),
                )
                .await
            {
                drop(link);
                self.emit(SessionEvent::Notice { notice });
            }
        }
    }

    /// The sandbox's private run dir (tests check its permissions).
    pub async fn sandbox_dir(&self) -> std::path::PathBuf {
        self.lock().await.sandbox().dir().to_path_buf()
    }

    /// Ends the sandbox process, and tells observers (open WebSockets
    /// close, so a browser reconnects and finds the session gone). The
    /// process is killed before taking the lock, so a running script
    /// cannot hold the session open.
    pub async fn close(&self) {
        // Before the kill: the exit watcher then stops instead of respawning.
        self.ended.send_replace(true);
        self.emit(SessionEvent::Ended);
        let pid = self.pid.load(Ordering::Acquire);
        // Our own child, not yet reaped (the link still holds it), so the
        // pid cannot have been reused.
        crate::signal::send(pid, libc::SIGKILL);
        let mut link = self.link.lock().await;
        link.sandbox_mut().kill_now();
        let _ = link.sandbox_mut().wait_exit().await;
    }

    pub fn pool(&self) -> &SandboxPool {
        &self.pool
    }
}
