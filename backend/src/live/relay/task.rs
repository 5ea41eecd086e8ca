//! The relay's one task per node: it owns the Pub/Sub connection (and
//! makes it again when the control store restarts), subscribes to the
//! rooms this node has pages of, shows what arrives to them, and runs the
//! relay's store calls in the order they were asked for.

mod presence;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use protocol::RoomServerMessage;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::mpsc;
use tokio::time::{interval, sleep_until, timeout, Instant, MissedTickBehavior};

use super::snapshot::Snapshot;
use super::CHANNEL_PREFIX;
use super::{channel, console_key, decode, state_key, Event, Job, Keep};
use crate::control::ControlStore;
use crate::live::facts;
use crate::live::{Classrooms, LiveRoom, RECENT_LINES};
use crate::session::SessionRegistry;
use crate::state::AppState;

/// Jobs taken at once: their store calls go in one pipeline.
const BATCH: usize = 256;
/// A subscribed connection is otherwise silent: a PING this often finds
/// one that died without closing.
const PING_EVERY: Duration = Duration::from_secs(15);
/// How long one Pub/Sub command may take.
const PUBSUB_WAIT: Duration = Duration::from_secs(3);
/// Presence changes on other nodes are read at most this often (a class
/// arriving at once is one read, not two hundred).
const RECOUNT_EVERY: Duration = Duration::from_millis(250);
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A room this node has pages of.
struct Subscribed {
    room: Weak<LiveRoom>,
    /// Messages its last snapshot held: shown once, not again when their
    /// PUBLISH arrives.
    seen: HashSet<(String, u64)>,
}

pub(super) struct Task {
    node: String,
    control: Arc<ControlStore>,
    sessions: Arc<SessionRegistry>,
    classrooms: Weak<Classrooms>,
    /// The live state's TTL: the room's own.
    ttl_ms: u64,
    rooms: HashMap<String, Subscribed>,
    conn: Option<(PubSubSink, PubSubStream)>,
    retry_at: Instant,
    retry: Duration,
    /// Rooms whose learners on other nodes changed.
    dirty: HashSet<String>,
    /// Whether the last store call failed (said once, not per message).
    failing: bool,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The next message, or `None` when the connection is gone; never when
/// there is none.
async fn next(conn: &mut Option<(PubSubSink, PubSubStream)>) -> Option<redis::Msg> {
    match conn {
        Some((_, stream)) => stream.next().await,
        None => std::future::pending().await,
    }
}

impl Task {
    pub(super) fn new(node: String, classrooms: Weak<Classrooms>, state: &AppState) -> Task {
        Task {
            node,
            control: state.control.clone(),
            sessions: state.sessions.clone(),
            classrooms,
            ttl_ms: ms(state.rooms.idle),
            rooms: HashMap::new(),
            conn: None,
            retry_at: Instant::now(),
            retry: RETRY_FIRST,
            dirty: HashSet::new(),
            failing: false,
        }
    }

    pub(super) async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        let mut ping = interval(PING_EVERY);
        let mut refresh = interval(facts::REFRESH);
        let mut recount = interval(RECOUNT_EVERY);
        for tick in [&mut ping, &mut refresh, &mut recount] {
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            if self.conn.is_none() && Instant::now() >= self.retry_at {
                self.connect().await;
            }
            tokio::select! {
                taken = queue.recv_many(&mut batch, BATCH) => {
                    if taken == 0 {
                        return;
                    }
                    self.jobs(std::mem::take(&mut batch)).await;
                }
                message = next(&mut self.conn) => match message {
                    Some(message) => self.incoming(&message),
                    None => self.lost(),
                },
                () = sleep_until(self.retry_at), if self.conn.is_none() => {}
                _ = ping.tick() => self.ping().await,
                _ = refresh.tick() => self.refresh().await,
                _ = recount.tick(), if !self.dirty.is_empty() => self.recount().await,
            }
        }
    }

    async fn connect(&mut self) {
        let pubsub = match self.control.pubsub().await {
            Ok(pubsub) => pubsub,
            Err(e) => {
                tracing::debug!("the room relay cannot reach the control store: {e}");
                self.retry_at = Instant::now() + self.retry;
                self.retry = (self.retry * 2).min(RETRY_MAX);
                return;
            }
        };
        let (mut sink, stream) = pubsub.split();
        let channels: Vec<String> = self.rooms.keys().map(|room| channel(room)).collect();
        if !channels.is_empty()
            && !matches!(
                timeout(PUBSUB_WAIT, sink.subscribe(channels)).await,
                Ok(Ok(()))
            )
        {
            self.lost();
            return;
        }
        self.conn = Some((sink, stream));
        self.retry = RETRY_FIRST;
        // Whatever was published while the connection was down is in the
        // store: read it again.
        let rooms: Vec<String> = self.rooms.keys().cloned().collect();
        for room in rooms {
            self.snapshot(&room).await;
        }
    }

    /// The connection is gone: make it again soon.
    fn lost(&mut self) {
        self.conn = None;
        self.retry_at = Instant::now() + self.retry;
    }

    async fn ping(&mut self) {
        if let Some((sink, _)) = self.conn.as_mut() {
            let answer = timeout(PUBSUB_WAIT, sink.ping::<redis::Value>()).await;
            if !matches!(answer, Ok(Ok(_))) {
                self.lost();
            }
        }
    }

    async fn jobs(&mut self, batch: Vec<Job>) {
        let mut pipe = redis::pipe();
        for job in batch {
            match job {
                Job::Publish {
                    room,
                    payload,
                    keep,
                } => self.stage(&mut pipe, &room, &payload, keep),
                Job::Fact {
                    room,
                    learner,
                    following,
                } => self.stage_fact(&mut pipe, &room, &learner, following),
                Job::Sync(room) => {
                    self.flush(&mut pipe).await;
                    self.sync(room).await;
                }
                Job::Leave(room) => {
                    self.flush(&mut pipe).await;
                    self.leave(&room).await;
                }
            }
        }
        self.flush(&mut pipe).await;
    }

    /// Queues the PUBLISH of `payload`, and keeps it if a late page must
    /// be shown it.
    fn stage(&self, pipe: &mut redis::Pipeline, room: &str, payload: &[u8], keep: Keep) {
        let field = match keep {
            Keep::Nothing => None,
            Keep::Goto => Some("goto"),
            Keep::Pace => Some("pace"),
            Keep::Ended => Some("ended"),
            Keep::Console => {
                let key = console_key(room);
                let first = -i64::try_from(RECENT_LINES).unwrap_or(i64::MAX);
                pipe.cmd("RPUSH").arg(&key).arg(payload);
                pipe.cmd("LTRIM").arg(&key).arg(first).arg(-1);
                pipe.cmd("PEXPIRE").arg(&key).arg(self.ttl_ms);
                None
            }
        };
        if let Some(field) = field {
            let key = state_key(room);
            pipe.cmd("HSET").arg(&key).arg(field).arg(payload);
            pipe.cmd("PEXPIRE").arg(&key).arg(self.ttl_ms);
        }
        pipe.cmd("PUBLISH").arg(channel(room)).arg(payload);
    }

    pub(super) async fn flush(&mut self, pipe: &mut redis::Pipeline) {
        if pipe.is_empty() {
            return;
        }
        let sent = std::mem::replace(pipe, redis::pipe());
        match self.control.read(&sent).await {
            Ok(_) => self.failing = false,
            Err(e) => {
                if !self.failing {
                    tracing::warn!("the room relay could not reach the other nodes: {e}");
                }
                self.failing = true;
            }
        }
    }

    async fn sync(&mut self, room: Weak<LiveRoom>) {
        let Some(live) = room.upgrade() else { return };
        let id = live.id.clone();
        if !self.rooms.contains_key(&id) {
            self.rooms.insert(
                id.clone(),
                Subscribed {
                    room,
                    seen: HashSet::new(),
                },
            );
            if let Some((sink, _)) = self.conn.as_mut() {
                if !matches!(
                    timeout(PUBSUB_WAIT, sink.subscribe(channel(&id))).await,
                    Ok(Ok(()))
                ) {
                    // Subscribed again with every room on reconnecting.
                    self.lost();
                }
            }
            // Subscribed first, then read: a message published between
            // the two is in the snapshot and arrives too (`seen`).
            self.snapshot(&id).await;
        }
        self.dirty.insert(id);
        live.synced.send_replace(true);
    }

    /// Reads room `id`'s state from the store into this node's copy.
    async fn snapshot(&mut self, id: &str) {
        let Ok(snapshot) = Snapshot::read(&self.control, id).await else {
            return;
        };
        let Some(entry) = self.rooms.get_mut(id) else {
            return;
        };
        let Some(room) = entry.room.upgrade() else {
            return;
        };
        if snapshot.ended {
            self.end(id);
            return;
        }
        entry.seen = snapshot.ids();
        room.restore(snapshot);
    }

    async fn leave(&mut self, id: &str) {
        let unused = self
            .rooms
            .get(id)
            .is_some_and(|s| s.room.upgrade().is_none_or(|room| room.live().pages == 0));
        if !unused {
            return;
        }
        self.rooms.remove(id);
        if let Some((sink, _)) = self.conn.as_mut() {
            if !matches!(
                timeout(PUBSUB_WAIT, sink.unsubscribe(channel(id))).await,
                Ok(Ok(()))
            ) {
                self.lost();
            }
        }
    }

    /// Another node ended room `id`: end it here too (pages told, autoplay
    /// stopped, a demo sandbox here removed).
    fn end(&mut self, id: &str) {
        self.rooms.remove(id);
        let (classrooms, sessions, id) = (
            self.classrooms.clone(),
            self.sessions.clone(),
            id.to_owned(),
        );
        tokio::spawn(async move {
            if let Some(classrooms) = classrooms.upgrade() {
                classrooms.end_here(&id, &sessions).await;
            }
        });
    }

    fn incoming(&mut self, message: &redis::Msg) {
        let Some(id) = message.get_channel_name().strip_prefix(CHANNEL_PREFIX) else {
            return;
        };
        let Some((header, tail)) = decode(message.get_payload_bytes()) else {
            return;
        };
        if header.node == self.node {
            return;
        }
        let Some(entry) = self.rooms.get(id) else {
            return;
        };
        let Some(room) = entry.room.upgrade() else {
            return;
        };
        match header.event {
            Event::Message => {
                if entry.seen.contains(&(header.node, header.seq)) {
                    return;
                }
                let Ok(text) = std::str::from_utf8(tail) else {
                    return;
                };
                let Ok(parsed) = serde_json::from_str::<RoomServerMessage>(text) else {
                    return;
                };
                match parsed {
                    RoomServerMessage::Ended => self.end(id),
                    parsed => room.receive(parsed, Utf8Bytes::from(text.to_owned())),
                }
            }
            Event::Removed { learner } => room.remove(&learner),
            Event::Presence => {
                self.dirty.insert(id.to_owned());
            }
        }
    }
}
