//! A WebSocket's heartbeat: a ping every interval, and a peer that has
//! sent nothing (not even the pong a browser sends by itself) for a whole
//! interval after a ping is taken for gone. Without it, a client that
//! vanished without closing (a laptop shut, a network dropped, a page
//! frozen) kept its socket until TCP gave up, about fifteen minutes, and
//! every such socket counted against the session's cap
//! (`sockets_per_session`): a learner whose network flapped a few times
//! was locked out of their own console.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use tokio::time::{Interval, MissedTickBehavior};

pub struct Heartbeat {
    interval: Interval,
    /// Nothing heard from the peer since the last ping.
    quiet: bool,
}

impl Heartbeat {
    /// The first ping goes one interval from now.
    pub fn start(every: Duration) -> Heartbeat {
        let every = every.max(Duration::from_millis(1));
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        // A busy loop that missed ticks pings once, not in a burst.
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Heartbeat {
            interval,
            quiet: false,
        }
    }

    /// Time for the next ping.
    pub async fn tick(&mut self) {
        self.interval.tick().await;
    }

    /// The peer sent something: a message, a ping or a pong. Also called
    /// by a loop that was not reading (its peer may have answered into a
    /// buffer nobody looked at).
    pub fn heard(&mut self) {
        self.quiet = false;
    }

    /// At a tick: whether the peer sent nothing since the last ping (it is
    /// gone). If it did, the next ping starts a new wait.
    pub fn peer_gone(&mut self) -> bool {
        std::mem::replace(&mut self.quiet, true)
    }

    /// How long one message may wait for the peer to take it: a whole
    /// interval, as for silence.
    pub fn send_within(&self) -> Duration {
        self.interval.period()
    }
}

/// Sends one message, or gives up after `within`: false when the socket is
/// gone or its peer did not take the message in time. A peer that stops
/// reading (a frozen tab, or a client that means harm) fills the socket's
/// buffers, and an unbounded send would hold the socket's loop, and with it
/// the heartbeat and the session's end, for as long as the peer likes.
pub async fn send(socket: &mut WebSocket, message: Message, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, socket.send(message)).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Heartbeat;

    #[tokio::test(start_paused = true)]
    async fn a_peer_is_gone_after_a_whole_interval_of_silence_after_a_ping() {
        let mut beat = Heartbeat::start(Duration::from_secs(30));
        beat.tick().await;
        assert!(!beat.peer_gone(), "the first ping");
        beat.tick().await;
        assert!(beat.peer_gone(), "nothing heard since");
    }

    #[tokio::test(start_paused = true)]
    async fn anything_heard_keeps_the_peer() {
        let mut beat = Heartbeat::start(Duration::from_secs(30));
        for _ in 0..5 {
            beat.tick().await;
            assert!(!beat.peer_gone());
            beat.heard();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_ping_waits_one_interval() {
        let start = tokio::time::Instant::now();
        let mut beat = Heartbeat::start(Duration::from_secs(30));
        beat.tick().await;
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }
}
