//! The kernel's memory bound for sandboxes: one memory cgroup per sandbox,
//! all under one parent cgroup for this server whose own limit protects the
//! host. Redis's `maxmemory` is checked when a script starts, not while it
//! runs, so only the kernel can make the per-sandbox bound real.
//!
//! cgroup v2 (`memory.max`, `memory.swap.max`) is used where the unified
//! hierarchy has the memory controller; otherwise the cgroup v1 memory
//! controller (`memory.limit_in_bytes`), under the server's own memory
//! cgroup so the host's accounting still sees everything. Where neither is
//! writable the server says so once and relies on RLIMIT_AS alone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::limits::SandboxLimits;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// How often, and how far apart, a busy sandbox cgroup's removal is tried.
const RMDIR_TRIES: u32 = 200;
const RMDIR_RETRY: Duration = Duration::from_millis(5);
/// Name prefix of every server's parent cgroup: `redis-tutor-<pid>-<n>`.
const PARENT_PREFIX: &str = "redis-tutor-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// The parent cgroup of this server's sandboxes.
#[derive(Debug)]
pub struct MemoryCgroups {
    parent: PathBuf,
    version: CgroupVersion,
    sandbox_bytes: u64,
    next: AtomicU64,
}

/// One sandbox's cgroup. Removed when dropped (once its process is gone).
#[derive(Debug)]
pub struct SandboxCgroup {
    dir: PathBuf,
    version: CgroupVersion,
    /// `<dir>/cgroup.procs`, where a process is moved in.
    procs: PathBuf,
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A `key value` line of a flat-keyed cgroup file (memory.events, memory.oom_control).
fn read_key(path: &Path, key: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
}

/// Where the v1 memory controller is mounted, and this process's cgroup in it.
fn v1_memory_cgroup() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut fields = right.split_whitespace();
        let fstype = fields.next()?;
        let options = fields.nth(1)?;
        (fstype == "cgroup" && options.split(',').any(|o| o == "memory"))
            .then(|| left.split_whitespace().nth(4).map(PathBuf::from))
            .flatten()
    })?;
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then(|| path.to_owned())
    })?;
    Some(mount.join(path.trim_start_matches('/')))
}

/// The cgroup2 mount with the memory controller available, if any.
fn v2_root() -> Option<PathBuf> {
    for root in [CGROUP_ROOT, "/sys/fs/cgroup/unified"] {
        let root = PathBuf::from(root);
        let controllers =
            std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "memory") {
            return Some(root);
        }
    }
    None
}

/// Host memory in bytes (MemTotal).
fn host_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The parent's limit: every sandbox at its cap, but never more than the
/// share of host memory the limits allow.
fn parent_bytes(limits: &SandboxLimits) -> u64 {
    let all = limits.memory_limit_mb * 1024 * 1024 * limits.max_sandboxes as u64;
    let host_share = host_memory_bytes()
        .map(|total| total / 100 * u64::from(limits.memory_host_percent))
        .unwrap_or(u64::MAX);
    all.min(host_share)
}

impl MemoryCgroups {
    /// Creates this server's parent cgroup. `Err` says what protection is
    /// missing, for the one start-up warning.
    pub fn setup(limits: &SandboxLimits) -> Result<MemoryCgroups, String> {
        static PARENTS: AtomicU64 = AtomicU64::new(0);
        if limits.memory_limit_mb == 0 {
            return Err("the kernel memory limit is turned off (--memory-limit-mb 0)".into());
        }
        let name = format!(
            "{PARENT_PREFIX}{}-{}",
            std::process::id(),
            PARENTS.fetch_add(1, Ordering::Relaxed)
        );
        let sandbox_bytes = limits.memory_limit_mb * 1024 * 1024;
        let total = parent_bytes(limits);
        let mut reasons = Vec::new();
        if let Some(root) = v2_root() {
            match Self::setup_v2(&root, &name, total) {
                Ok(parent) => {
                    return Ok(Self::new(parent, CgroupVersion::V2, sandbox_bytes));
                }
                Err(e) => reasons.push(format!("cgroup v2: {e}")),
            }
        }
        match v1_memory_cgroup() {
            Some(own) => match Self::setup_v1(&own, &name, total) {
                Ok(parent) => return Ok(Self::new(parent, CgroupVersion::V1, sandbox_bytes)),
                Err(e) => reasons.push(format!("cgroup v1: {e}")),
            },
            None => reasons.push("no cgroup v1 memory controller is mounted".into()),
        }
        Err(reasons.join("; "))
    }

    fn new(parent: PathBuf, version: CgroupVersion, sandbox_bytes: u64) -> MemoryCgroups {
        MemoryCgroups {
            parent,
            version,
            sandbox_bytes,
            next: AtomicU64::new(0),
        }
    }

    fn setup_v2(root: &Path, name: &str, total: u64) -> Result<PathBuf, String> {
        // Children of the root have no "no internal processes" constraint.
        let _ = write(&root.join("cgroup.subtree_control"), "+memory");
        let parent = root.join(name);
        std::fs::create_dir(&parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let configure = || -> Result<(), String> {
            write(&parent.join("memory.max"), &total.to_string())?;
            if parent.join("memory.swap.max").exists() {
                write(&parent.join("memory.swap.max"), "0")?;
            }
            write(&parent.join("cgroup.subtree_control"), "+memory")
        };
        configure().inspect_err(|_| {
            let _ = std::fs::remove_dir(&parent);
        })?;
        Ok(parent)
    }

    fn setup_v1(own: &Path, name: &str, total: u64) -> Result<PathBuf, String> {
        // A child of the server's own cgroup, never of the hierarchy's root:
        // the host's accounting for this service still covers sandboxes.
        let parent = own.join(name);
        std::fs::create_dir(&parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let configure = || -> Result<(), String> {
            write(&parent.join("memory.limit_in_bytes"), &total.to_string())?;
            if parent.join("memory.memsw.limit_in_bytes").exists() {
                write(
                    &parent.join("memory.memsw.limit_in_bytes"),
                    &total.to_string(),
                )?;
            }
            Ok(())
        };
        configure().inspect_err(|_| {
            let _ = std::fs::remove_dir(&parent);
        })?;
        Ok(parent)
    }

    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    pub fn parent(&self) -> &Path {
        &self.parent
    }

    pub fn sandbox_bytes(&self) -> u64 {
        self.sandbox_bytes
    }

    /// A fresh cgroup for one sandbox, limited to `sandbox_bytes`, swap off.
    pub fn create(&self) -> Result<SandboxCgroup, String> {
        let dir = self.parent.join(format!(
            "sandbox-{}",
            self.next.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let bytes = self.sandbox_bytes.to_string();
        let configure = || -> Result<(), String> {
            match self.version {
                CgroupVersion::V2 => {
                    write(&dir.join("memory.max"), &bytes)?;
                    if dir.join("memory.swap.max").exists() {
                        write(&dir.join("memory.swap.max"), "0")?;
                    }
                    // Kill the whole sandbox on OOM, not one thread of it.
                    let _ = write(&dir.join("memory.oom.group"), "1");
                }
                CgroupVersion::V1 => {
                    write(&dir.join("memory.limit_in_bytes"), &bytes)?;
                    if dir.join("memory.memsw.limit_in_bytes").exists() {
                        write(&dir.join("memory.memsw.limit_in_bytes"), &bytes)?;
                    }
                    let _ = write(&dir.join("memory.swappiness"), "0");
                }
            }
            Ok(())
        };
        configure().inspect_err(|_| {
            let _ = std::fs::remove_dir(&dir);
        })?;
        let procs = dir.join("cgroup.procs");
        Ok(SandboxCgroup {
            dir,
            version: self.version,
            procs,
        })
    }

    /// Removes the parent (after every sandbox's cgroup is gone).
    pub fn remove(&self) {
        remove_tree(&self.parent);
    }
}

impl Drop for MemoryCgroups {
    fn drop(&mut self) {
        self.remove();
    }
}

impl SandboxCgroup {
    /// Moves process `pid` (all its threads) into this cgroup. Blocking,
    /// and slow for a system call (milliseconds): call it off the runtime.
    pub fn admit(&self, pid: u32) -> Result<(), String> {
        write(&self.procs, &pid.to_string())
    }

    /// `admit`, from the blocking pool; gives the cgroup back.
    pub async fn admit_off_runtime(self, pid: u32) -> Result<SandboxCgroup, String> {
        let moved = tokio::task::spawn_blocking(move || {
            let admitted = self.admit(pid);
            (self, admitted)
        })
        .await;
        match moved {
            Ok((cgroup, Ok(()))) => Ok(cgroup),
            Ok((_, Err(e))) => Err(e),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Memory charged now, as the kernel counts it, in bytes.
    pub fn current_bytes(&self) -> Option<u64> {
        match self.version {
            CgroupVersion::V2 => read_u64(&self.dir.join("memory.current")),
            CgroupVersion::V1 => read_u64(&self.dir.join("memory.usage_in_bytes")),
        }
    }

    /// The most memory ever charged, in bytes.
    pub fn peak_bytes(&self) -> Option<u64> {
        match self.version {
            CgroupVersion::V2 => read_u64(&self.dir.join("memory.peak")),
            CgroupVersion::V1 => read_u64(&self.dir.join("memory.max_usage_in_bytes")),
        }
    }

    /// The limit the kernel enforces, in bytes.
    pub fn limit_bytes(&self) -> Option<u64> {
        match self.version {
            CgroupVersion::V2 => read_u64(&self.dir.join("memory.max")),
            CgroupVersion::V1 => read_u64(&self.dir.join("memory.limit_in_bytes")),
        }
    }

    /// True once the kernel's OOM killer ended a process in this cgroup.
    pub fn oom_killed(&self) -> bool {
        let kills = match self.version {
            CgroupVersion::V2 => read_key(&self.dir.join("memory.events"), "oom_kill "),
            CgroupVersion::V1 => read_key(&self.dir.join("memory.oom_control"), "oom_kill "),
        };
        kills.is_some_and(|n| n > 0)
    }
}

impl Drop for SandboxCgroup {
    fn drop(&mut self) {
        let dir = std::mem::take(&mut self.dir);
        // On the runtime, the removal goes to the blocking pool: its
        // retries sleep, and a runtime worker sleeping 5 ms for each of
        // fifty sandboxes replaced at once held every console on it for a
        // quarter of a second. Leftovers (a removal the runtime's shutdown
        // cut short) go with the parent, or at the next start's sweep.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || remove_once_left(&dir))),
            Err(_) => remove_once_left(&dir),
        }
    }
}

/// rmdir a sandbox's cgroup. The process is reaped before its cgroup
/// drops, but an exiting process may still be leaving it for a moment
/// (EBUSY: 5 ms here, sometimes over 100 ms).
fn remove_once_left(dir: &Path) {
    for _ in 0..RMDIR_TRIES {
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => std::thread::sleep(RMDIR_RETRY),
            _ => return,
        }
    }
    tracing::warn!(dir = %dir.display(), "a sandbox's cgroup stayed busy; left for the sweep");
}

/// rmdir a cgroup and its (empty) children, deepest first.
fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Removes parent cgroups left by servers that are gone (their sandboxes
/// died with them, through the parent-death signal).
pub fn sweep_stale() {
    let mut places: Vec<PathBuf> = Vec::new();
    if let Some(root) = v2_root() {
        places.push(root);
    }
    if let Some(own) = v1_memory_cgroup() {
        places.push(own);
    }
    for place in places {
        let Ok(entries) = std::fs::read_dir(&place) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(PARENT_PREFIX))
                .and_then(|rest| rest.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                remove_tree(&entry.path());
            }
        }
    }
}
