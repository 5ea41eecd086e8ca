//! One long-lived thread that starts sandbox processes.
//!
//! Why off the runtime: the blocking half of a spawn (the run dir and the
//! cgroup, the config file, fork/exec, which waits for the child's
//! `pre_exec` to join its cgroup) takes a few milliseconds of system calls.
//! On one of the runtime's two workers it stalled every console whose task
//! sat on that worker, so a class's p99 moved with every sandbox a visitor
//! started (docs/benchmarks.md, the class pace).
//!
//! Why not tokio's blocking pool: sandboxes are started with
//! `PR_SET_PDEATHSIG`, which the kernel fires when the *thread* that forked
//! them exits, and blocking-pool threads exit after ten idle seconds; every
//! sandbox they started would be killed with them (it was: a class lost
//! its sandboxes 10 s after arriving). This thread lives as long as its
//! pool, so a sandbox dies with the server, never before.

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

pub struct Spawner {
    jobs: mpsc::Sender<Job>,
}

impl Spawner {
    /// The thread, inside `runtime`'s context (a child's pipes and its exit
    /// are registered with that runtime). It ends when the `Spawner` drops.
    pub fn start(runtime: tokio::runtime::Handle) -> std::io::Result<Spawner> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                let _context = runtime.enter();
                for job in queue {
                    job();
                }
            })?;
        Ok(Spawner { jobs })
    }

    /// Runs `work` on the spawner thread, in the order asked; `None` if the
    /// thread is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_one_thread_that_outlives_each_job() {
        let spawner = Spawner::start(tokio::runtime::Handle::current()).unwrap();
        let first = spawner.run(|| std::thread::current().id()).await.unwrap();
        // Longer than nothing: the thread waits for the next job, it does
        // not exit between them as a blocking-pool thread may.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let second = spawner.run(|| std::thread::current().id()).await.unwrap();
        assert_eq!(first, second);
        assert_ne!(first, std::thread::current().id());
        let name = spawner
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("sandbox-spawner"));
    }
}
