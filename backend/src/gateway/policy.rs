//! The command policy: the gateway's second line of defence, mirroring the
//! sandbox ACL (both come from `allowlist`). An allowlist; every refusal is
//! a sentence saying why and what to do instead.

use std::collections::HashSet;
use std::time::Duration;

use protocol::Reply;

use super::glob;
use crate::allowlist::{self, Access};
use crate::limits::SandboxLimits;

/// What to do with a command that passed the policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Send these arguments (possibly rewritten) to Redis. `blocks_for` is
    /// how long the command may legitimately block, added to the deadline.
    Forward {
        args: Vec<Vec<u8>>,
        blocks_for: Duration,
    },
    /// Answer without Redis (QUIT, or a CONFIG GET that matches nothing).
    Local(Reply),
}

/// A refused command: a stable code and a sentence for the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// What the policy needs to know about the session and engine.
pub struct PolicyContext<'a> {
    /// Lowercase names of every command the engine has.
    pub known: &'a HashSet<String>,
    pub limits: &'a SandboxLimits,
    /// Commands queued so far, when inside MULTI.
    pub queued: Option<usize>,
}

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
fn named_refusal(name: &str) -> Option<Refusal> {
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
        "function" | "fcall" | "fcall_ro" => "Functions are not available in the sandbox: use EVAL or EVALSHA, which the lessons teach.",
        "wait" | "waitaof" => "WAIT needs replicas (or an AOF), and a sandbox has neither.",
        "restore" | "restore-asking" => "RESTORE is disabled: it loads raw serialized payloads. Create keys with ordinary commands.",
        "dump" => "DUMP is disabled: its binary payload is only useful to RESTORE, which the sandbox does not allow.",
        "object" | "memory" | "config" | "client" | "script" | "command" | "xgroup" | "xinfo" | "pubsub" | "slowlog" | "latency" => return None,
        _ => return None,
    };
    Some(refuse("command_refused", message))
}

fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Decides what happens to one command.
pub fn check(args: &[Vec<u8>], ctx: &PolicyContext<'_>) -> Result<Verdict, Refusal> {
    let Some(first) = args.first() else {
        return Err(refuse(
            "empty_line",
            "The line is empty: type a command, such as PING.",
        ));
    };
    if args.len() > ctx.limits.max_args {
        return Err(refuse(
            "too_many_arguments",
            format!(
                "That command has {} arguments; the console takes at most {}. Split the work into several commands.",
                args.len(),
                ctx.limits.max_args
            ),
        ));
    }
    let name = lower(first);
    if name == "quit" {
        // redis-cli would exit; the console has nothing to exit.
        return Ok(Verdict::Local(Reply::status("OK")));
    }
    if let Some(refusal) = named_refusal(&name) {
        return Err(refusal);
    }
    let forward = |args: Vec<Vec<u8>>| Verdict::Forward {
        args,
        blocks_for: Duration::ZERO,
    };
    let Some(access) = allowlist::lookup(&name) else {
        if ctx.known.contains(&name) {
            return Err(refuse(
                "command_refused",
                format!(
                    "{} is not available in the sandbox. The console runs data, scripting, transaction and inspection commands; the lesson shows what to use.",
                    name.to_uppercase()
                ),
            ));
        }
        // Unknown to the engine too: let Redis answer with its own
        // "unknown command" error, exactly as redis-cli would show it.
        return Ok(forward(args.to_vec()));
    };
    if let Access::Subcommands(allowed) = access {
        let sub = args.get(1).map(|s| lower(s));
        match sub.as_deref() {
            // Missing subcommand: Redis itself explains the arity error.
            None => return Ok(forward(args.to_vec())),
            Some(sub) if !allowed.contains(&sub) => {
                let list: Vec<String> = allowed
                    .iter()
                    .map(|s| format!("{} {}", name.to_uppercase(), s.to_uppercase()))
                    .collect();
                let why = match name.as_str() {
                    "config" => " The sandbox's settings are fixed for safety; the Setting up lesson shows how to read them.".to_owned(),
                    "client" => " Other CLIENT subcommands show or affect the backend's own connections.".to_owned(),
                    "script" => " SCRIPT DEBUG needs an interactive debugger the console does not have.".to_owned(),
                    _ => String::new(),
                };
                return Err(refuse(
                    "subcommand_refused",
                    format!(
                        "{} {} is not available in the sandbox. Allowed: {}.{why}",
                        name.to_uppercase(),
                        sub.to_uppercase(),
                        list.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let verdict = check_command(&name, args, ctx)?;
    if let Some(queued) = ctx.queued {
        let ends_transaction = matches!(name.as_str(), "exec" | "discard" | "multi");
        if queued >= ctx.limits.max_queued && !ends_transaction {
            return Err(refuse(
                "transaction_full",
                format!(
                    "This transaction already holds {queued} queued commands, the most the sandbox allows. Run EXEC or DISCARD."
                ),
            ));
        }
    }
    Ok(verdict)
}

/// Command-specific rules: settings, INFO sections, blocking timeouts.
fn check_command(
    name: &str,
    args: &[Vec<u8>],
    ctx: &PolicyContext<'_>,
) -> Result<Verdict, Refusal> {
    let forward = |args: Vec<Vec<u8>>| Verdict::Forward {
        args,
        blocks_for: Duration::ZERO,
    };
    match name {
        "config" => config_get(args),
        "info" => info(args).map(|()| forward(args.to_vec())),
        // The timeout is last (`BLPOP key … timeout`) or first (`BLMPOP
        // timeout numkeys …`); with too few arguments Redis itself explains
        // the arity error without blocking.
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" | "blmove" | "brpoplpush"
            if args.len() >= 3 =>
        {
            blocking_seconds(args, args.len() - 1, ctx.limits)
        }
        "blmpop" | "bzmpop" if args.len() >= 2 => blocking_seconds(args, 1, ctx.limits),
        "xread" | "xreadgroup" => xread_block(args, ctx.limits),
        _ => Ok(forward(args.to_vec())),
    }
}

fn config_get(args: &[Vec<u8>]) -> Result<Verdict, Refusal> {
    // args: CONFIG GET p1 [p2 …]; a missing parameter is Redis's arity error.
    if args.len() < 3 {
        return Ok(Verdict::Forward {
            args: args.to_vec(),
            blocks_for: Duration::ZERO,
        });
    }
    let mut params: Vec<&str> = Vec::new();
    for pattern in &args[2..] {
        let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        if is_glob {
            params.extend(
                READABLE_CONFIG
                    .iter()
                    .filter(|p| glob::matches(pattern, p.as_bytes(), true)),
            );
        } else {
            let exact = lower(pattern);
            match READABLE_CONFIG.iter().find(|p| **p == exact) {
                Some(p) => params.push(p),
                None => {
                    return Err(refuse(
                        "config_refused",
                        format!(
                            "CONFIG GET {exact} is hidden in the sandbox (paths and secrets stay private). You can read: memory limits (CONFIG GET maxmemory*), encodings (CONFIG GET *-max-*), persistence (save, appendonly), and timeouts; CONFIG GET * lists them all."
                        ),
                    ))
                }
            }
        }
    }
    params.sort_unstable();
    params.dedup();
    if params.is_empty() {
        return Ok(Verdict::Local(Reply::array(Vec::new())));
    }
    let mut rewritten = vec![b"CONFIG".to_vec(), b"GET".to_vec()];
    rewritten.extend(params.iter().map(|p| p.as_bytes().to_vec()));
    Ok(Verdict::Forward {
        args: rewritten,
        blocks_for: Duration::ZERO,
    })
}

fn info(args: &[Vec<u8>]) -> Result<(), Refusal> {
    let sections: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
    let hidden = if sections.is_empty() {
        Some("INFO without a section".to_owned())
    } else {
        sections
            .iter()
            .find(|s| !READABLE_INFO.contains(&s.as_str()))
            .map(|s| format!("INFO {s}"))
    };
    match hidden {
        None => Ok(()),
        Some(what) => Err(refuse(
            "info_refused",
            format!(
                "{what} is not available: the server section shows the sandbox's private paths. Ask for a section instead: {}.",
                READABLE_INFO
                    .iter()
                    .map(|s| format!("INFO {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn max_block_secs(limits: &SandboxLimits) -> f64 {
    limits.max_block_ms as f64 / 1000.0
}

/// B*POP-style timeouts, in seconds at `index`.
fn blocking_seconds(
    args: &[Vec<u8>],
    index: usize,
    limits: &SandboxLimits,
) -> Result<Verdict, Refusal> {
    let name = lower(&args[0]).to_uppercase();
    let max = max_block_secs(limits);
    let text = String::from_utf8_lossy(&args[index]);
    let seconds: Option<f64> = text.parse().ok().filter(|s: &f64| s.is_finite());
    match seconds {
        Some(s) if s > 0.0 && s <= max => Ok(Verdict::Forward {
            args: args.to_vec(),
            blocks_for: Duration::from_secs_f64(s),
        }),
        Some(0.0) => Err(refuse(
            "blocking_forever",
            format!(
                "{name} with timeout 0 waits forever, and the console would hang. Give a timeout in seconds between 0 and {max}, for example 1 or 0.5."
            ),
        )),
        _ => Err(refuse(
            "blocking_timeout",
            format!(
                "{name} timeout `{text}` is not allowed: give a number of seconds greater than 0 and at most {max}."
            ),
        )),
    }
}

/// XREAD / XREADGROUP: `BLOCK ms` among the options before STREAMS.
fn xread_block(args: &[Vec<u8>], limits: &SandboxLimits) -> Result<Verdict, Refusal> {
    let name = lower(&args[0]).to_uppercase();
    let mut i = 1;
    while i < args.len() {
        match lower(&args[i]).as_str() {
            "streams" => break,
            "group" => i += 3,
            "count" => i += 2,
            "block" => {
                let Some(raw) = args.get(i + 1) else { break };
                let text = String::from_utf8_lossy(raw);
                return match text.parse::<u64>() {
                    Ok(0) => Err(refuse(
                        "blocking_forever",
                        format!(
                            "{name} BLOCK 0 waits forever, and the console would hang. Use BLOCK with 1 to {} milliseconds.",
                            limits.max_block_ms
                        ),
                    )),
                    Ok(ms) if ms <= limits.max_block_ms => Ok(Verdict::Forward {
                        args: args.to_vec(),
                        blocks_for: Duration::from_millis(ms),
                    }),
                    _ => Err(refuse(
                        "blocking_timeout",
                        format!(
                            "{name} BLOCK `{text}` is not allowed: give 1 to {} milliseconds.",
                            limits.max_block_ms
                        ),
                    )),
                };
            }
            _ => i += 1,
        }
    }
    Ok(Verdict::Forward {
        args: args.to_vec(),
        blocks_for: Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        [
            "get", "set", "config", "info", "blpop", "xread", "keys", "swapdb", "lolwut", "object",
            "sync",
        ]
        .into_iter()
        .map(String::from)
        .chain(std::iter::once("latency".to_owned()))
        .chain(std::iter::once("pfdebug".to_owned()))
        .collect()
    }

    fn run(line: &str) -> Result<Verdict, Refusal> {
        run_queued(line, None)
    }

    fn run_queued(line: &str, queued: Option<usize>) -> Result<Verdict, Refusal> {
        let args = protocol::split_args(line.as_bytes()).unwrap();
        let limits = SandboxLimits::default();
        let known = known();
        check(
            &args,
            &PolicyContext {
                known: &known,
                limits: &limits,
                queued,
            },
        )
    }

    fn refused(line: &str) -> Refusal {
        run(line).expect_err(line)
    }

    #[test]
    fn plain_data_commands_pass_unchanged() {
        assert_eq!(
            run("SET k v").unwrap(),
            Verdict::Forward {
                args: vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()],
                blocks_for: Duration::ZERO
            }
        );
    }

    #[test]
    fn unknown_commands_reach_redis_for_its_own_error() {
        assert!(matches!(
            run("# a comment").unwrap(),
            Verdict::Forward { .. }
        ));
        assert!(matches!(
            run("NOSUCHCMD x").unwrap(),
            Verdict::Forward { .. }
        ));
    }

    #[test]
    fn known_but_unlisted_commands_are_refused_by_name() {
        let r = refused("PFDEBUG GETREG k");
        assert_eq!(r.code, "command_refused");
        assert!(r.message.contains("PFDEBUG"), "{}", r.message);
    }

    #[test]
    fn dangerous_commands_get_a_reason() {
        for (line, word) in [
            ("SHUTDOWN NOSAVE", "Reset"),
            ("debug sleep 10", "DEBUG"),
            ("MODULE LOAD /tmp/x.so", "MODULE"),
            ("MONITOR", "SLOWLOG"),
            ("SUBSCRIBE ch", "PUBLISH"),
            ("SLAVEOF 127.0.0.1 6379", "standalone"),
            ("ACL SETUSER x on", "one user"),
            ("FUNCTION LOAD x", "EVAL"),
            ("BGSAVE", "disk"),
            ("AUTH pw", "already"),
        ] {
            let r = refused(line);
            assert!(r.message.contains(word), "{line}: {}", r.message);
        }
    }

    #[test]
    fn config_set_and_private_config_get_are_refused() {
        assert_eq!(refused("CONFIG SET dir /tmp").code, "subcommand_refused");
        assert_eq!(refused("config rewrite").code, "subcommand_refused");
        assert_eq!(refused("CONFIG GET dir").code, "config_refused");
        assert_eq!(refused("CONFIG GET unixsocket").code, "config_refused");
    }

    #[test]
    fn config_get_globs_expand_over_readable_settings_only() {
        let Verdict::Forward { args, .. } = run("CONFIG GET maxmemory*").unwrap() else {
            panic!("expected forward")
        };
        let names: Vec<String> = args[2..].iter().map(|a| lower(a)).collect();
        assert!(names.contains(&"maxmemory".to_owned()));
        assert!(names.contains(&"maxmemory-policy".to_owned()));
        let Verdict::Forward { args, .. } = run("CONFIG GET *").unwrap() else {
            panic!("expected forward")
        };
        assert!(!args
            .iter()
            .any(|a| a == b"dir" || a == b"unixsocket" || a == b"logfile"));
        assert_eq!(
            run("CONFIG GET nomatch*").unwrap(),
            Verdict::Local(Reply::array(vec![]))
        );
    }

    #[test]
    fn info_needs_a_public_section() {
        assert_eq!(refused("INFO").code, "info_refused");
        assert_eq!(refused("INFO server").code, "info_refused");
        assert_eq!(refused("INFO everything").code, "info_refused");
        assert!(run("INFO memory").is_ok());
        assert!(run("info keyspace stats").is_ok());
    }

    #[test]
    fn blocking_timeouts_are_bounded() {
        assert_eq!(refused("BLPOP q 0").code, "blocking_forever");
        assert_eq!(refused("BLPOP q 6").code, "blocking_timeout");
        assert_eq!(refused("BLPOP q -1").code, "blocking_timeout");
        assert_eq!(refused("BLPOP q nan").code, "blocking_timeout");
        assert_eq!(refused("BLMPOP 0 1 q LEFT").code, "blocking_forever");
        assert_eq!(
            run("BLPOP a b 0.5").unwrap(),
            Verdict::Forward {
                args: protocol::split_args(b"BLPOP a b 0.5").unwrap(),
                blocks_for: Duration::from_millis(500)
            }
        );
        // Too few arguments: Redis's own arity error, no blocking.
        assert!(run("BLPOP").is_ok());
    }

    #[test]
    fn xread_block_is_bounded_but_a_stream_named_block_is_fine() {
        assert_eq!(
            refused("XREAD BLOCK 0 STREAMS s $").code,
            "blocking_forever"
        );
        assert_eq!(
            refused("XREAD COUNT 1 BLOCK 60000 STREAMS s $").code,
            "blocking_timeout"
        );
        assert_eq!(
            refused("XREADGROUP GROUP g c BLOCK 0 STREAMS s >").code,
            "blocking_forever"
        );
        assert!(run("XREAD BLOCK 100 STREAMS s $").is_ok());
        assert!(run("XREAD STREAMS block 0").is_ok());
        assert!(run("XREADGROUP GROUP block block STREAMS s >").is_ok());
    }

    #[test]
    fn transactions_are_capped() {
        assert!(run_queued("SET a 1", Some(99)).is_ok());
        assert_eq!(
            run_queued("SET a 1", Some(100)).unwrap_err().code,
            "transaction_full"
        );
    }

    #[test]
    fn quit_is_answered_locally() {
        assert_eq!(run("QUIT").unwrap(), Verdict::Local(Reply::status("OK")));
    }

    #[test]
    fn argument_count_is_capped() {
        let line = format!("MSET {}", "k v ".repeat(600));
        assert_eq!(refused(&line).code, "too_many_arguments");
    }
}
