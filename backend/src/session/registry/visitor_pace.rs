//! While a class is on this node, visitors (sessions admitted by their
//! address, not by a room) start sandboxes at a steady pace.
//!
//! Why: starting a sandbox loads the engine and its modules, tens of ms of
//! CPU. The per-address caps bound one address, not many: a client spread
//! over 50 addresses may start 150 sandboxes at once within them, and on
//! two cores that burst is what a class's typed lines wait behind (p99 61×
//! the quiet run in docs/benchmarks.md). Spacing visitors' sandboxes in
//! arrival order keeps the cores for the class; one visitor still gets in
//! at once, and a long line is told to come back.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Turns handed out `interval` apart, first come, first served.
#[derive(Default)]
pub struct VisitorPace {
    /// When the next turn may start; `None` before the first.
    next: Mutex<Option<Instant>>,
}

impl VisitorPace {
    /// Waits for this caller's turn. Turns are `interval` apart in the
    /// order asked; a turn further away than `max_wait` is refused at once
    /// (nothing reserved), so the line never holds more than `max_wait`
    /// of visitors.
    pub async fn wait_turn(&self, interval: Duration, max_wait: Duration) -> Result<(), ()> {
        let now = Instant::now();
        let turn = {
            let Ok(mut next) = self.next.lock() else {
                return Err(());
            };
            let turn = next.map_or(now, |at| at.max(now));
            if turn.duration_since(now) > max_wait {
                return Err(());
            }
            *next = Some(turn + interval);
            turn
        };
        tokio::time::sleep_until(turn).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn turns_are_spaced_in_arrival_order_and_a_long_line_is_refused() {
        let pace = std::sync::Arc::new(VisitorPace::default());
        let (interval, max_wait) = (Duration::from_millis(500), Duration::from_secs(1));
        let start = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..4 {
            let pace = pace.clone();
            waits.push(tokio::spawn(async move {
                pace.wait_turn(interval, max_wait)
                    .await
                    .map(|()| start.elapsed())
            }));
            // Each asks a moment after the one before.
            tokio::task::yield_now().await;
        }
        let mut got = Vec::new();
        for wait in waits {
            got.push(wait.await.unwrap());
        }
        assert_eq!(
            got,
            vec![
                Ok(Duration::ZERO),
                Ok(Duration::from_millis(500)),
                Ok(Duration::from_millis(1000)),
                Err(()),
            ]
        );
        // Once the line has gone, the next visitor is let in at once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = Instant::now();
        assert_eq!(pace.wait_turn(interval, max_wait).await, Ok(()));
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
