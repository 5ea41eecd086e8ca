//! The warm pool: a few ready sandboxes so a new session starts at once,
//! plus the host-wide caps (total sandboxes, spawns per second) counted in
//! live processes, the per-address reset budget, and the memory cgroups
//! every sandbox it starts runs in.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::cgroup::MemoryCgroups;
use super::per_minute::PerMinute;
use super::process::RunFiles;
use super::{SandboxError, SandboxProcess, SandboxSpec};

/// A sandbox process plus its slot under the host-wide cap. The slot is
/// freed only once the process is confirmed dead: dropping a `Sandbox`
/// SIGKILLs and reaps its process in the background first, so the caps
/// count processes, not handles.
pub struct Sandbox {
    process: Option<SandboxProcess>,
    slot: Option<OwnedSemaphorePermit>,
}

impl Sandbox {
    fn new(process: SandboxProcess, slot: OwnedSemaphorePermit) -> Sandbox {
        Sandbox {
            process: Some(process),
            slot: Some(slot),
        }
    }

    /// SIGKILL, reap, then free the slot.
    pub async fn kill(mut self) {
        if let Some(process) = self.process.take() {
            process.kill().await;
        }
        drop(self.slot.take());
    }

    fn process(&self) -> &SandboxProcess {
        self.process
            .as_ref()
            .expect("a sandbox holds its process until it drops")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let (Some(process), slot) = (self.process.take(), self.slot.take()) else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    process.kill().await;
                    drop(slot);
                });
            }
            // No runtime left (the server is exiting): the process's own
            // drop sends SIGKILL.
            Err(_) => drop(process),
        }
    }
}

impl Deref for Sandbox {
    type Target = SandboxProcess;
    fn deref(&self) -> &SandboxProcess {
        self.process()
    }
}

impl DerefMut for Sandbox {
    fn deref_mut(&mut self) -> &mut SandboxProcess {
        self.process
            .as_mut()
            .expect("a sandbox holds its process until it drops")
    }
}

pub struct SandboxPool {
    spec: Arc<SandboxSpec>,
    warm: Mutex<VecDeque<Sandbox>>,
    slots: Arc<Semaphore>,
    /// Turns to start a process (`spawns_at_once` of them).
    starting: Semaphore,
    at_once: usize,
    /// The most processes ever starting at the same time.
    most_starting: AtomicUsize,
    recent_spawns: Mutex<VecDeque<Instant>>,
    refill: Arc<Notify>,
    closed: AtomicBool,
    spawned: AtomicU64,
    /// Spawns in progress, so shutdown can wait for them.
    spawning: AtomicUsize,
    /// The kernel memory bound; `None` where cgroups are not writable.
    cgroups: Option<Arc<MemoryCgroups>>,
    /// Fresh sandboxes for live sessions (resets), per client address.
    respawns: PerMinute,
    /// Learners waiting in line for a slot now.
    waiting: AtomicUsize,
}

impl SandboxPool {
    pub fn new(spec: SandboxSpec) -> Arc<SandboxPool> {
        let max = spec.limits.max_sandboxes;
        let cgroups = match MemoryCgroups::setup(&spec.limits) {
            Ok(cgroups) => {
                tracing::info!(
                    parent = %cgroups.parent().display(),
                    version = ?cgroups.version(),
                    limit_mb = spec.limits.memory_limit_mb,
                    "each sandbox runs in its own memory cgroup"
                );
                Some(Arc::new(cgroups))
            }
            Err(why) => {
                tracing::warn!(
                    "no kernel memory limit for sandboxes ({why}): a script that writes in a loop can grow a sandbox past maxmemory until RLIMIT_AS ({} MiB of address space) stops it, so sandboxes are not bounded by --memory-limit-mb on this host",
                    spec.limits.rlimit_as_mb
                );
                None
            }
        };
        let at_once = spec.limits.spawns_at_once.max(1);
        Arc::new(SandboxPool {
            spec: Arc::new(spec),
            warm: Mutex::new(VecDeque::new()),
            slots: Arc::new(Semaphore::new(max)),
            starting: Semaphore::new(at_once),
            at_once,
            most_starting: AtomicUsize::new(0),
            recent_spawns: Mutex::new(VecDeque::new()),
            refill: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
            spawned: AtomicU64::new(0),
            spawning: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            cgroups,
            respawns: PerMinute::default(),
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
                    // The warm pool never waits in line: a learner
                    // waiting for a slot gets it first.
                    match pool.spawn_new(None).await {
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

    /// The most sandbox processes ever starting at the same time.
    pub fn most_starting_at_once(&self) -> usize {
        self.most_starting.load(Ordering::SeqCst)
    }

    /// Learners waiting in line for a sandbox now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A ready sandbox: a warm one if any, else a new one. When the host
    /// is full it waits in line (`admission_wait_secs`; tokio's semaphore
    /// is fair, so first come, first served) for a slot to free up.
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
        let wait = Duration::from_secs(self.spec.limits.admission_wait_secs);
        self.spawn_new(Some(wait)).await
    }

    /// A slot now, or (with `wait`) the first one freed within `wait`, in
    /// the order asked.
    async fn slot(&self, wait: Option<Duration>) -> Result<OwnedSemaphorePermit, SandboxError> {
        let full = || SandboxError::Capacity(self.spec.limits.max_sandboxes);
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Ok(slot);
        }
        let Some(wait) = wait else {
            return Err(full());
        };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.spec.limits.admission_queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(full());
        }
        let slot = tokio::time::timeout(wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match slot {
            Ok(Ok(slot)) => Ok(slot),
            _ => Err(full()),
        }
    }

    async fn spawn_new(&self, wait: Option<Duration>) -> Result<Sandbox, SandboxError> {
        let slot = self.slot(wait).await?;
        self.check_spawn_rate()?;
        self.spawning.fetch_add(1, Ordering::SeqCst);
        let process = match self.spawn_process().await {
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
        let sandbox = process.map(|process| Sandbox::new(process, slot));
        self.spawning.fetch_sub(1, Ordering::SeqCst);
        let sandbox = sandbox?;
        self.spawned.fetch_add(1, Ordering::Relaxed);
        Ok(sandbox)
    }

    /// A process, when its turn comes (`spawns_at_once`): loading Redis
    /// and its modules takes the host's cores, and fifty at once (a mass
    /// restart) held every other learner's commands for ~0.3 s.
    async fn spawn_process(&self) -> Result<SandboxProcess, SandboxError> {
        // Never closed, so a turn always comes.
        let _turn = self.starting.acquire().await;
        let now = self.at_once - self.starting.available_permits();
        self.most_starting.fetch_max(now, Ordering::SeqCst);
        self.start_process().await
    }

    /// A process in its own memory cgroup where the host allows one.
    /// Its cgroup and run dir are made on tokio's blocking pool: a few
    /// milliseconds of file-system calls that, on one of the runtime's two
    /// workers, stalled every console whose task sat there.
    async fn start_process(&self) -> Result<SandboxProcess, SandboxError> {
        let (spec, cgroups) = (self.spec.clone(), self.cgroups.clone());
        let (cgroup, files) = tokio::task::spawn_blocking(move || {
            let cgroup = match &cgroups {
                Some(cgroups) => Some(cgroups.create().map_err(SandboxError::Spawn)?),
                None => None,
            };
            Ok::<_, SandboxError>((cgroup, RunFiles::write(&spec)?))
        })
        .await
        .map_err(|e| SandboxError::Spawn(format!("preparing its run dir failed: {e}")))??;
        SandboxProcess::start(&self.spec, cgroup, files).await
    }

    /// The kernel memory bound in force, if any.
    pub fn memory_cgroups(&self) -> Option<&MemoryCgroups> {
        self.cgroups.as_deref()
    }

    /// Takes one fresh sandbox from `owner`'s per-minute budget for resets
    /// (`resets_per_min_per_ip`), so a few sessions resetting in a loop
    /// cannot use up the host-wide spawn rate for everybody.
    pub fn take_respawn(&self, owner: IpAddr) -> Result<(), SandboxError> {
        let limit = self.spec.limits.resets_per_min_per_ip;
        if self.respawns.take(owner, limit) {
            Ok(())
        } else {
            Err(SandboxError::ResetRate(limit))
        }
    }

    /// `acquire`, charged to `owner`'s reset budget first.
    pub async fn acquire_for(&self, owner: IpAddr) -> Result<Sandbox, SandboxError> {
        self.take_respawn(owner)?;
        self.acquire().await
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
        // Sandboxes dropped just before are reaped in the background; give
        // them a moment so their cgroups can go with the parent.
        for _ in 0..100 {
            if self.live_count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(cgroups) = &self.cgroups {
            cgroups.remove();
        }
    }
}
