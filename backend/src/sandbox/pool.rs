//! The warm pool: a few ready sandboxes so a new session starts at once,
//! plus the host-wide caps (total sandboxes, spawns per second).

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::{SandboxError, SandboxProcess, SandboxSpec};

/// A sandbox process plus its slot under the host-wide cap; the slot is
/// freed when the sandbox drops.
pub struct Sandbox {
    process: SandboxProcess,
    _slot: OwnedSemaphorePermit,
}

impl Sandbox {
    pub async fn kill(self) {
        self.process.kill().await;
    }
}

impl Deref for Sandbox {
    type Target = SandboxProcess;
    fn deref(&self) -> &SandboxProcess {
        &self.process
    }
}

impl DerefMut for Sandbox {
    fn deref_mut(&mut self) -> &mut SandboxProcess {
        &mut self.process
    }
}

pub struct SandboxPool {
    spec: SandboxSpec,
    warm: Mutex<VecDeque<Sandbox>>,
    slots: Arc<Semaphore>,
    recent_spawns: Mutex<VecDeque<Instant>>,
    refill: Arc<Notify>,
    closed: AtomicBool,
    spawned: AtomicU64,
    /// Spawns in progress, so shutdown can wait for them.
    spawning: AtomicUsize,
}

impl SandboxPool {
    pub fn new(spec: SandboxSpec) -> Arc<SandboxPool> {
        let max = spec.limits.max_sandboxes;
        Arc::new(SandboxPool {
            spec,
            warm: Mutex::new(VecDeque::new()),
            slots: Arc::new(Semaphore::new(max)),
            recent_spawns: Mutex::new(VecDeque::new()),
            refill: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
            spawned: AtomicU64::new(0),
            spawning: AtomicUsize::new(0),
        })
    }

    pub fn spec(&self) -> &SandboxSpec {
        &self.spec
    }

    /// Keeps `pool_size` sandboxes warm until shutdown.
    pub fn start_refilling(self: &Arc<Self>) {
        let pool = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(pool) = pool.upgrade() else { return };
                if pool.closed.load(Ordering::Relaxed) {
                    return;
                }
                while pool.warm_count() < pool.spec.limits.pool_size {
                    match pool.spawn_new().await {
                        Ok(sandbox) => {
                            // `closed` is checked under the lock that
                            // shutdown drains under, so none slips past.
                            let rejected = match pool.warm.lock() {
                                Ok(mut warm) if !pool.closed.load(Ordering::SeqCst) => {
                                    warm.push_back(sandbox);
                                    None
                                }
                                _ => Some(sandbox),
                            };
                            if let Some(sandbox) = rejected {
                                sandbox.kill().await;
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::debug!("warm pool not refilled: {e}");
                            break;
                        }
                    }
                }
                // Wait without keeping the pool alive, so it can drop.
                let refill = pool.refill.clone();
                drop(pool);
                let _ = tokio::time::timeout(Duration::from_secs(1), refill.notified()).await;
            }
        });
    }

    pub fn warm_count(&self) -> usize {
        self.warm.lock().map(|w| w.len()).unwrap_or(0)
    }

    /// Sandboxes alive now, warm ones included.
    pub fn live_count(&self) -> usize {
        self.spec.limits.max_sandboxes - self.slots.available_permits()
    }

    pub fn spawned_total(&self) -> u64 {
        self.spawned.load(Ordering::Relaxed)
    }

    /// A ready sandbox: a warm one if any, else a new one.
    pub async fn acquire(&self) -> Result<Sandbox, SandboxError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(SandboxError::ShuttingDown);
        }
        let warm = self.warm.lock().ok().and_then(|mut w| w.pop_front());
        self.refill.notify_one();
        if let Some(mut sandbox) = warm {
            if sandbox.exit_reason().is_none() {
                return Ok(sandbox);
            }
        }
        self.spawn_new().await
    }

    async fn spawn_new(&self) -> Result<Sandbox, SandboxError> {
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| SandboxError::Capacity(self.spec.limits.max_sandboxes))?;
        self.check_spawn_rate()?;
        self.spawning.fetch_add(1, Ordering::SeqCst);
        let process = match SandboxProcess::spawn(&self.spec).await {
            // Shut down while it started: end it before shutdown stops
            // waiting for spawns in flight.
            Ok(process) if self.closed.load(Ordering::SeqCst) => {
                process.kill().await;
                Err(SandboxError::ShuttingDown)
            }
            other => other,
        };
        // On failure the slot is released here, before shutdown can see
        // the spawn count reach zero.
        let sandbox = process.map(|process| Sandbox {
            process,
            _slot: slot,
        });
        self.spawning.fetch_sub(1, Ordering::SeqCst);
        let sandbox = sandbox?;
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(sandbox)
    }

    fn check_spawn_rate(&self) -> Result<(), SandboxError> {
        let mut recent = self
            .recent_spawns
            .lock()
            .map_err(|_| SandboxError::SpawnRate)?;
        let now = Instant::now();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            recent.pop_front();
        }
        if recent.len() >= self.spec.limits.spawns_per_sec as usize {
            return Err(SandboxError::SpawnRate);
        }
        recent.push_back(now);
        Ok(())
    }

    /// Stops refilling and kills the warm sandboxes.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.refill.notify_one();
        // A spawn in flight finishes, sees `closed` and kills its sandbox.
        for _ in 0..500 {
            if self.spawning.load(Ordering::SeqCst) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let warm: Vec<Sandbox> = self
            .warm
            .lock()
            .map(|mut w| w.drain(..).collect())
            .unwrap_or_default();
        for sandbox in warm {
            sandbox.kill().await;
        }
    }
}
