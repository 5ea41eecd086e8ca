//! Every resource limit, as plain data with named defaults. Each one can be
//! overridden by a flag or an environment variable; the README's "Resource
//! limits" section lists them. The numbers come from attacking real
//! redis-server processes (see docs/security.md).

use std::time::Duration;

use clap::Args;

pub mod nofile;

pub const DEFAULT_MAXMEMORY_MB: u64 = 16;
pub const DEFAULT_RLIMIT_AS_MB: u64 = 320;
pub const DEFAULT_RLIMIT_NOFILE: u64 = 64;
/// A new sandbox loads its engine at a lower priority, so that its
/// start-up (7–17 ms of CPU) gives way to the consoles already running.
/// 10 (a tenth of the weight), not 19: on a saturated host a start-up at
/// 19 could take seconds.
pub const DEFAULT_SANDBOX_START_NICE: i32 = 10;
pub const DEFAULT_OUTPUT_LOG_CAP_KB: u64 = 64;
pub const DEFAULT_OUTPUT_LIMIT_MB: u64 = 4;
pub const DEFAULT_COMMAND_DEADLINE_MS: u64 = 5_000;
pub const DEFAULT_MAX_BLOCK_MS: u64 = 5_000;
pub const DEFAULT_MAX_QUEUED: usize = 100;
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;
pub const DEFAULT_LIBRARY_MAX_BYTES: usize = 16 * 1024;
pub const DEFAULT_MAX_ARGS: usize = 1_024;
pub const DEFAULT_MAX_REPEAT: u64 = 100;
pub const DEFAULT_REPLY_MAX_ELEMENTS: usize = 1_000;
pub const DEFAULT_REPLY_MAX_BYTES: usize = 256 * 1024;
pub const DEFAULT_RATE_PER_SEC: u32 = 20;
pub const DEFAULT_RATE_BURST: u32 = 50;
pub const DEFAULT_IDLE_SECS: u64 = 15 * 60;
pub const DEFAULT_ABANDONED_SECS: u64 = 60;
pub const DEFAULT_MAX_AGE_SECS: u64 = 2 * 60 * 60;
pub const DEFAULT_POOL_SIZE: usize = 2;
pub const DEFAULT_MAX_SANDBOXES: usize = 200;
pub const DEFAULT_SANDBOXES_PER_IP: usize = 3;
pub const DEFAULT_SPAWNS_PER_MIN_PER_IP: u32 = 10;
pub const DEFAULT_SPAWNS_PER_SEC: u32 = 20;
/// While a class (a session admitted by a room) is on a node, visitors
/// (sessions admitted by their address) start sandboxes this many a second
/// there, in arrival order: a visitor still gets in at once, but a burst
/// of them spread over many addresses cannot take the class's cores (a
/// spawn costs tens of ms of CPU). 0 turns the pace off.
pub const DEFAULT_CLASS_VISITOR_SPAWNS_PER_SEC: u32 = 2;
/// How long a new learner waits in line for a sandbox when the host is
/// full, in seconds, before being asked to come back (a 429 with
/// `Retry-After`); the browser then retries by itself.
pub const DEFAULT_ADMISSION_WAIT_SECS: u64 = 20;
/// Learners waiting in line at most; past this the answer is at once.
pub const DEFAULT_ADMISSION_QUEUE: usize = 1_000;
pub const DEFAULT_SPAWNS_AT_ONCE: usize = 4;
/// On a full host with learners waiting, a session idle this long (in
/// seconds) gives way: its data is saved, its sandbox goes to the first
/// in line, and its data comes back when its learner returns.
pub const DEFAULT_GIVE_WAY_IDLE_SECS: u64 = 120;
/// The `Retry-After` of a full host, in seconds.
pub const FULL_RETRY_AFTER_SECS: u32 = 5;
pub const DEFAULT_MEMORY_LIMIT_MB: u64 = 64;
pub const DEFAULT_MEMORY_HOST_PERCENT: u8 = 75;
pub const DEFAULT_SANDBOX_CLIENTS: u32 = 20;
pub const DEFAULT_RESETS_PER_MIN_PER_IP: u32 = 20;
pub const DEFAULT_SOCKETS_PER_SESSION: usize = 4;
pub const DEFAULT_SOCKETS_PER_IP: usize = 12;
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Messages the server reads from one console socket a second, and at
/// once. A console sends one request and waits for its reply (commands
/// are held to `rate_per_sec` anyway), so a real browser never comes near;
/// past it the server simply stops reading that socket until the budget
/// refills: a client flooding it as fast as it can costs the server this
/// many messages a second, and its own writes back up in TCP.
pub const DEFAULT_WS_MESSAGES_PER_SEC: u32 = 100;
/// How often the server pings a WebSocket (the console's and the room's),
/// in ms. A peer that sends nothing for a whole interval after a ping (a
/// browser answers pings by itself) is taken for gone and its socket
/// closed, so a vanished client gives its place under the socket caps
/// back within two intervals rather than when TCP gives up.
pub const DEFAULT_WS_PING_EVERY_MS: u64 = 30_000;
pub const DEFAULT_WS_MESSAGE_BURST: u32 = 200;
/// How deep JSON may nest where it is parsed into values: serde_json's own
/// recursion limit, which every request body and socket message is parsed
/// under. Deeper input is refused as it is read, before anything deeper is
/// built: a socket message nested 10,000 deep closes its socket as a
/// protocol violation; a body whose nesting sits where a value is expected
/// gets 400 `invalid_request`. (Nesting inside a field the server does not
/// know is skipped without recursion, in time linear in the body, whose
/// size the body deadline and axum's 2 MB default bound.) Not a flag:
/// serde_json fixes it.
pub const JSON_MAX_DEPTH: usize = 128;

/// Limits for each sandbox and for the host as a whole.
#[derive(Debug, Clone, Args)]
pub struct SandboxLimits {
    /// Redis `maxmemory` per sandbox, in MiB (policy: noeviction).
    #[arg(long, env = "REDIS_TUTOR_MAXMEMORY_MB", default_value_t = DEFAULT_MAXMEMORY_MB)]
    pub maxmemory_mb: u64,
    /// Address-space rlimit per sandbox process, in MiB. Caps Lua, whose
    /// memory `maxmemory` does not count.
    #[arg(long, env = "REDIS_TUTOR_RLIMIT_AS_MB", default_value_t = DEFAULT_RLIMIT_AS_MB)]
    pub rlimit_as_mb: u64,
    /// Open-files rlimit per sandbox process.
    #[arg(long, env = "REDIS_TUTOR_RLIMIT_NOFILE", default_value_t = DEFAULT_RLIMIT_NOFILE)]
    pub rlimit_nofile: u64,
    /// Nice value a new sandbox starts at, given back to the server's own
    /// at its first PONG; only where the server may raise a priority again
    /// (root, or CAP_SYS_NICE), else sandboxes start as the server. 0: off.
    #[arg(long, env = "REDIS_TUTOR_SANDBOX_START_NICE", default_value_t = DEFAULT_SANDBOX_START_NICE)]
    pub sandbox_start_nice: i32,
    /// How much of a sandbox's stdout/stderr is kept (the rest is drained and dropped), in KiB.
    #[arg(long, env = "REDIS_TUTOR_OUTPUT_LOG_CAP_KB", default_value_t = DEFAULT_OUTPUT_LOG_CAP_KB)]
    pub output_log_cap_kb: u64,
    /// Largest reply buffered for one client (client-output-buffer-limit), in MiB.
    #[arg(long, env = "REDIS_TUTOR_OUTPUT_LIMIT_MB", default_value_t = DEFAULT_OUTPUT_LIMIT_MB)]
    pub output_limit_mb: u64,
    /// Deadline for one command, in ms; then SCRIPT KILL, then SIGKILL and respawn.
    #[arg(long, env = "REDIS_TUTOR_COMMAND_DEADLINE_MS", default_value_t = DEFAULT_COMMAND_DEADLINE_MS)]
    pub command_deadline_ms: u64,
    /// Longest blocking timeout a learner may ask for (BLPOP, XREAD BLOCK, …), in ms.
    #[arg(long, env = "REDIS_TUTOR_MAX_BLOCK_MS", default_value_t = DEFAULT_MAX_BLOCK_MS)]
    pub max_block_ms: u64,
    /// Most commands queued inside one MULTI.
    #[arg(long, env = "REDIS_TUTOR_MAX_QUEUED", default_value_t = DEFAULT_MAX_QUEUED)]
    pub max_queued: usize,
    /// Longest console line, in bytes.
    #[arg(long, env = "REDIS_TUTOR_MAX_LINE_BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Largest function library `FUNCTION LOAD` takes, in bytes.
    #[arg(long, env = "REDIS_TUTOR_LIBRARY_MAX_BYTES", default_value_t = DEFAULT_LIBRARY_MAX_BYTES)]
    pub library_max_bytes: usize,
    /// Most arguments in one command.
    #[arg(long, env = "REDIS_TUTOR_MAX_ARGS", default_value_t = DEFAULT_MAX_ARGS)]
    pub max_args: usize,
    /// Largest redis-cli repeat count (`N COMMAND`).
    #[arg(long, env = "REDIS_TUTOR_MAX_REPEAT", default_value_t = DEFAULT_MAX_REPEAT)]
    pub max_repeat: u64,
    /// Elements of a reply shown before it is cut (and marked truncated).
    #[arg(long, env = "REDIS_TUTOR_REPLY_MAX_ELEMENTS", default_value_t = DEFAULT_REPLY_MAX_ELEMENTS)]
    pub reply_max_elements: usize,
    /// Bytes of a reply shown before it is cut (and marked truncated).
    #[arg(long, env = "REDIS_TUTOR_REPLY_MAX_BYTES", default_value_t = DEFAULT_REPLY_MAX_BYTES)]
    pub reply_max_bytes: usize,
    /// Commands per second per session (token bucket refill).
    #[arg(long, env = "REDIS_TUTOR_RATE_PER_SEC", default_value_t = DEFAULT_RATE_PER_SEC)]
    pub rate_per_sec: u32,
    /// Commands a session may send in a burst.
    #[arg(long, env = "REDIS_TUTOR_RATE_BURST", default_value_t = DEFAULT_RATE_BURST)]
    pub rate_burst: u32,
    /// A session idle this long (seconds) is reaped.
    #[arg(long, env = "REDIS_TUTOR_IDLE_SECS", default_value_t = DEFAULT_IDLE_SECS)]
    pub idle_secs: u64,
    /// A session whose last browser tab closed is ended this long (seconds)
    /// after its last use, so a closed tab gives its sandbox back quickly.
    #[arg(long, env = "REDIS_TUTOR_ABANDONED_SECS", default_value_t = DEFAULT_ABANDONED_SECS)]
    pub abandoned_secs: u64,
    /// A session this old (seconds) is reaped, busy or not.
    #[arg(long, env = "REDIS_TUTOR_MAX_AGE_SECS", default_value_t = DEFAULT_MAX_AGE_SECS)]
    pub max_age_secs: u64,
    /// Ready sandboxes kept warm so a new session starts at once.
    #[arg(long, env = "REDIS_TUTOR_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE)]
    pub pool_size: usize,
    /// Most sandboxes on this host, warm ones included.
    #[arg(long, env = "REDIS_TUTOR_MAX_SANDBOXES", default_value_t = DEFAULT_MAX_SANDBOXES)]
    pub max_sandboxes: usize,
    /// Most live sessions per client IP.
    #[arg(long, env = "REDIS_TUTOR_SANDBOXES_PER_IP", default_value_t = DEFAULT_SANDBOXES_PER_IP)]
    pub sandboxes_per_ip: usize,
    /// New sessions per minute per client IP.
    #[arg(long, env = "REDIS_TUTOR_SPAWNS_PER_MIN_PER_IP", default_value_t = DEFAULT_SPAWNS_PER_MIN_PER_IP)]
    pub spawns_per_min_per_ip: u32,
    /// Sandbox processes started per second on the whole host.
    #[arg(long, env = "REDIS_TUTOR_SPAWNS_PER_SEC", default_value_t = DEFAULT_SPAWNS_PER_SEC)]
    pub spawns_per_sec: u32,
    /// While a class is on this node, visitors' (not room members') new
    /// sandboxes and resets per second, in arrival order; 0 for no pace.
    #[arg(long, env = "REDIS_TUTOR_CLASS_VISITOR_SPAWNS_PER_SEC", default_value_t = DEFAULT_CLASS_VISITOR_SPAWNS_PER_SEC)]
    pub class_visitor_spawns_per_sec: u32,
    /// Kernel memory limit per sandbox process (cgroup `memory.max`), in
    /// MiB: data, clients, Lua and the engine itself. 0 turns it off.
    #[arg(long, env = "REDIS_TUTOR_MEMORY_LIMIT_MB", default_value_t = DEFAULT_MEMORY_LIMIT_MB)]
    pub memory_limit_mb: u64,
    /// Most of the host's memory all sandboxes together may use, in percent
    /// (the parent cgroup's limit).
    #[arg(long, env = "REDIS_TUTOR_MEMORY_HOST_PERCENT", default_value_t = DEFAULT_MEMORY_HOST_PERCENT)]
    pub memory_host_percent: u8,
    /// Redis `maxclients` per sandbox: the backend's own connections plus
    /// two per open console socket, with room to spare for SCRIPT KILL.
    #[arg(long, env = "REDIS_TUTOR_SANDBOX_CLIENTS", default_value_t = DEFAULT_SANDBOX_CLIENTS)]
    pub sandbox_clients: u32,
    /// Sandbox resets (fresh sandboxes for a live session) per minute per client IP.
    #[arg(long, env = "REDIS_TUTOR_RESETS_PER_MIN_PER_IP", default_value_t = DEFAULT_RESETS_PER_MIN_PER_IP)]
    pub resets_per_min_per_ip: u32,
    /// Seconds a new learner waits in line for a sandbox when the host is
    /// full (first come, first served) before a 429 asks them to retry.
    #[arg(long, env = "REDIS_TUTOR_ADMISSION_WAIT_SECS", default_value_t = DEFAULT_ADMISSION_WAIT_SECS)]
    pub admission_wait_secs: u64,
    /// Learners waiting in line at most; more are answered at once.
    #[arg(long, env = "REDIS_TUTOR_ADMISSION_QUEUE", default_value_t = DEFAULT_ADMISSION_QUEUE)]
    pub admission_queue: usize,
    /// Sandboxes starting at the same time at most; the rest wait their
    /// turn. Loading Redis with its modules takes the host's cores: fifty
    /// at once (a mass restart) held every other learner's commands.
    #[arg(long, env = "REDIS_TUTOR_SPAWNS_AT_ONCE", default_value_t = DEFAULT_SPAWNS_AT_ONCE)]
    pub spawns_at_once: usize,
    /// Seconds idle after which a learner's sandbox gives way to someone
    /// waiting on a full host (its data is saved and restored on return).
    #[arg(long, env = "REDIS_TUTOR_GIVE_WAY_IDLE_SECS", default_value_t = DEFAULT_GIVE_WAY_IDLE_SECS)]
    pub give_way_idle_secs: u64,
    /// Open WebSockets per session.
    #[arg(long, env = "REDIS_TUTOR_SOCKETS_PER_SESSION", default_value_t = DEFAULT_SOCKETS_PER_SESSION)]
    pub sockets_per_session: usize,
    /// Open WebSockets per client IP.
    #[arg(long, env = "REDIS_TUTOR_SOCKETS_PER_IP", default_value_t = DEFAULT_SOCKETS_PER_IP)]
    pub sockets_per_ip: usize,
    /// Time a client has to send a request's headers, in ms.
    #[arg(long, env = "REDIS_TUTOR_HEADER_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    /// Time a client has to send a request's body, in ms.
    #[arg(long, env = "REDIS_TUTOR_BODY_TIMEOUT_MS", default_value_t = DEFAULT_BODY_TIMEOUT_MS)]
    pub body_timeout_ms: u64,
    /// Largest total size of a request's headers, in bytes.
    #[arg(long, env = "REDIS_TUTOR_MAX_HEADER_BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES)]
    pub max_header_bytes: usize,
    /// Most headers in one request.
    #[arg(long, env = "REDIS_TUTOR_MAX_HEADERS", default_value_t = DEFAULT_MAX_HEADERS)]
    pub max_headers: usize,
    /// Messages read from one console socket per second; beyond this the
    /// server waits before reading that socket again.
    #[arg(long, env = "REDIS_TUTOR_WS_MESSAGES_PER_SEC", default_value_t = DEFAULT_WS_MESSAGES_PER_SEC)]
    pub ws_messages_per_sec: u32,
    /// Messages one console socket may send at once before that pace applies.
    #[arg(long, env = "REDIS_TUTOR_WS_MESSAGE_BURST", default_value_t = DEFAULT_WS_MESSAGE_BURST)]
    pub ws_message_burst: u32,
    /// How often a WebSocket is pinged, in ms; a peer silent for a whole
    /// interval after a ping loses its socket.
    #[arg(long, env = "REDIS_TUTOR_WS_PING_EVERY_MS", default_value_t = DEFAULT_WS_PING_EVERY_MS)]
    pub ws_ping_every_ms: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            maxmemory_mb: DEFAULT_MAXMEMORY_MB,
            rlimit_as_mb: DEFAULT_RLIMIT_AS_MB,
            rlimit_nofile: DEFAULT_RLIMIT_NOFILE,
            sandbox_start_nice: DEFAULT_SANDBOX_START_NICE,
            output_log_cap_kb: DEFAULT_OUTPUT_LOG_CAP_KB,
            output_limit_mb: DEFAULT_OUTPUT_LIMIT_MB,
            command_deadline_ms: DEFAULT_COMMAND_DEADLINE_MS,
            max_block_ms: DEFAULT_MAX_BLOCK_MS,
            max_queued: DEFAULT_MAX_QUEUED,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            library_max_bytes: DEFAULT_LIBRARY_MAX_BYTES,
            max_args: DEFAULT_MAX_ARGS,
            max_repeat: DEFAULT_MAX_REPEAT,
            reply_max_elements: DEFAULT_REPLY_MAX_ELEMENTS,
            reply_max_bytes: DEFAULT_REPLY_MAX_BYTES,
            rate_per_sec: DEFAULT_RATE_PER_SEC,
            rate_burst: DEFAULT_RATE_BURST,
            idle_secs: DEFAULT_IDLE_SECS,
            abandoned_secs: DEFAULT_ABANDONED_SECS,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            pool_size: DEFAULT_POOL_SIZE,
            max_sandboxes: DEFAULT_MAX_SANDBOXES,
            sandboxes_per_ip: DEFAULT_SANDBOXES_PER_IP,
            spawns_per_min_per_ip: DEFAULT_SPAWNS_PER_MIN_PER_IP,
            spawns_per_sec: DEFAULT_SPAWNS_PER_SEC,
            class_visitor_spawns_per_sec: DEFAULT_CLASS_VISITOR_SPAWNS_PER_SEC,
            memory_limit_mb: DEFAULT_MEMORY_LIMIT_MB,
            memory_host_percent: DEFAULT_MEMORY_HOST_PERCENT,
            sandbox_clients: DEFAULT_SANDBOX_CLIENTS,
            resets_per_min_per_ip: DEFAULT_RESETS_PER_MIN_PER_IP,
            admission_wait_secs: DEFAULT_ADMISSION_WAIT_SECS,
            admission_queue: DEFAULT_ADMISSION_QUEUE,
            spawns_at_once: DEFAULT_SPAWNS_AT_ONCE,
            give_way_idle_secs: DEFAULT_GIVE_WAY_IDLE_SECS,
            sockets_per_session: DEFAULT_SOCKETS_PER_SESSION,
            sockets_per_ip: DEFAULT_SOCKETS_PER_IP,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            ws_messages_per_sec: DEFAULT_WS_MESSAGES_PER_SEC,
            ws_message_burst: DEFAULT_WS_MESSAGE_BURST,
            ws_ping_every_ms: DEFAULT_WS_PING_EVERY_MS,
        }
    }
}

impl SandboxLimits {
    pub fn command_deadline(&self) -> Duration {
        Duration::from_millis(self.command_deadline_ms)
    }
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs)
    }
    pub fn abandoned(&self) -> Duration {
        Duration::from_secs(self.abandoned_secs)
    }
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age_secs)
    }
}
