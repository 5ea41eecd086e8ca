//! The policy's data: settings and INFO sections a learner may read, and
//! the commands refused by name with the reason a learner should read.

use protocol::ErrorCode;

use super::{refuse, Refusal};

/// Settings a learner may read with CONFIG GET. Paths (dir, unixsocket,
/// logfile, dbfilename) and secrets stay hidden.
#[rustfmt::skip]
pub const READABLE_CONFIG: &[&str] = &[
    "maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-clients",
    "maxmemory-eviction-tenacity", "maxclients", "timeout", "hz", "dynamic-hz", "save",
    "appendonly", "appendfsync", "busy-reply-threshold", "lua-time-limit",
    "proto-max-bulk-len", "client-query-buffer-limit", "client-output-buffer-limit",
    "databases", "notify-keyspace-events", "slowlog-log-slower-than", "slowlog-max-len",
    "latency-monitor-threshold", "latency-tracking", "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush",
    "activedefrag", "active-expire-effort", "hash-max-listpack-entries",
    "hash-max-listpack-value", "hash-max-ziplist-entries", "hash-max-ziplist-value",
    "list-max-listpack-size", "list-max-ziplist-size", "list-compress-depth",
    "set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value",
    "zset-max-listpack-entries", "zset-max-listpack-value", "zset-max-ziplist-entries",
    "zset-max-ziplist-value", "stream-node-max-bytes", "stream-node-max-entries",
    "hll-sparse-max-bytes", "port", "protected-mode", "tcp-keepalive", "io-threads",
];

/// INFO sections that show nothing private (the `server` section holds the
/// executable and config file paths).
#[rustfmt::skip]
pub const READABLE_INFO: &[&str] = &[
    "memory", "stats", "keyspace", "clients", "persistence", "cpu", "commandstats",
    "errorstats", "latencystats", "replication", "modules", "keysizes",
];

/// Commands refused by name, with the reason a learner should read.
pub(super) fn named_refusal(name: &str) -> Option<Refusal> {
    let message = match name {
        "shutdown" => "SHUTDOWN is disabled: it would stop your sandbox. Use the console's Reset button to start over with a fresh one.",
        "debug" => "DEBUG is disabled in the sandbox: it can crash or freeze the server. OBJECT ENCODING and MEMORY USAGE show what DEBUG OBJECT would.",
        "module" => "MODULE is disabled: the sandbox's modules (JSON, Search, Bloom) are loaded at start and cannot be changed.",
        "monitor" => "MONITOR is not available: it streams every command forever and never returns a single reply. Use SLOWLOG GET, or the latency chart, to see what ran.",
        "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe" | "sunsubscribe" => {
            "SUBSCRIBE turns the connection into a listener that never returns a single reply, so the console refuses it. PUBLISH works (it answers how many subscribers got the message); for messages that wait for a reader, use a stream: XADD, then XREAD BLOCK up to 5000 ms."
        }
        "replicaof" | "slaveof" | "sync" | "psync" | "failover" | "cluster" | "readonly" | "readwrite" | "asking" => {
            "Replication and clustering are outside the sandbox: it is one standalone server. The Architecture lesson shows how Sentinel and Cluster fit in."
        }
        "migrate" => "MIGRATE moves keys to another server, and a sandbox cannot reach the network.",
        "save" | "bgsave" | "bgrewriteaof" => "Persistence is off in the sandbox and nothing is written to disk. The Common pitfalls lesson explains RDB and AOF.",
        "acl" => "ACL is disabled: your sandbox has one user, already logged in.",
        "auth" => "AUTH is not needed: the console is already logged in to your own sandbox, and your password is never asked for.",
        "hello" => "HELLO is disabled: the console speaks RESP2, like redis-cli by default, so replies look exactly as they do in redis-cli.",
        "reset" => "RESET is disabled. Use DISCARD, UNWATCH or SELECT 0 for the parts you need, or the Reset button for a fresh sandbox.",
        "wait" | "waitaof" => "WAIT needs replicas (or an AOF), and a sandbox has neither.",
        "restore" | "restore-asking" => "RESTORE is disabled: it loads raw serialized payloads. Create keys with ordinary commands.",
        "dump" => "DUMP is disabled: its binary payload is only useful to RESTORE, which the sandbox does not allow.",
        "object" | "memory" | "config" | "client" | "script" | "command" | "xgroup" | "xinfo" | "pubsub" | "slowlog" | "latency" => return None,
        _ => return None,
    };
    Some(refuse(ErrorCode::CommandRefused, message))
}
