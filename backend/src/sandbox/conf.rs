//! The hardened `redis.conf` each sandbox starts from. Pure text
//! generation: what goes in, and why, is all here.

use std::fmt::Write;
use std::path::Path;

use crate::engine::Engine;
use crate::limits::SandboxLimits;

/// Commands renamed away: gone for every connection, even before ACLs.
/// HELLO and RESET ignore ACLs, so renaming is the only way to stop them.
pub const RENAMED_AWAY: &[&str] = &[
    "HELLO",
    "RESET",
    "DEBUG",
    "MODULE",
    "MONITOR",
    "SHUTDOWN",
    "SYNC",
    "PSYNC",
    "REPLICAOF",
    "SLAVEOF",
    "MIGRATE",
    "FAILOVER",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "RESTORE",
    "ACL",
];

/// Everything a sandbox's config file needs to know.
pub struct ConfInput<'a> {
    pub dir: &'a Path,
    pub socket: &'a Path,
    pub password_sha256: &'a str,
    pub acl_rules: &'a str,
    pub limits: &'a SandboxLimits,
    pub engine: &'a Engine,
}

pub fn render(input: &ConfInput<'_>) -> String {
    let l = input.limits;
    let mut conf = String::with_capacity(8 * 1024);
    let mut line = |text: String| {
        conf.push_str(&text);
        conf.push('\n');
    };
    // Network: unix socket only, in a 0700 directory.
    line("port 0".into());
    line("protected-mode yes".into());
    line(format!("unixsocket {}", quote(input.socket)));
    line("unixsocketperm 700".into());
    line(format!("dir {}", quote(input.dir)));
    line("daemonize no".into());
    // Logs go to a pipe the backend drains and caps (Lua's redis.log is
    // not rate-limited by Redis).
    line("logfile \"\"".into());
    line("loglevel warning".into());
    // No persistence: nothing a learner does touches the disk.
    line("save \"\"".into());
    line("appendonly no".into());
    // Only the backend connects (the password never leaves it), so idle
    // connections are not timed out: the session keeps one for its life,
    // and one more is kept for the server's SCRIPT KILL. The rest serve
    // the learner's open sockets (each may hold a chart and a probe).
    line(format!("maxclients {}", l.sandbox_clients));
    line("timeout 0".into());
    // Memory: a full sandbox says OOM clearly rather than dropping keys.
    line(format!("maxmemory {}mb", l.maxmemory_mb));
    line("maxmemory-policy noeviction".into());
    line("maxmemory-clients 8mb".into());
    line("proto-max-bulk-len 1mb".into());
    line("client-query-buffer-limit 1mb".into());
    line(format!(
        "client-output-buffer-limit normal {}mb {}mb 5",
        l.output_limit_mb,
        l.output_limit_mb.div_ceil(2)
    ));
    line("client-output-buffer-limit pubsub 1mb 256kb 10".into());
    // Scripts: other connections get BUSY after 1 s, so SCRIPT KILL works.
    line("busy-reply-threshold 1000".into());
    line("latency-tracking no".into());
    // hz 1 keeps an idle sandbox near 0 % CPU; blocking timeouts are still
    // honoured by the event loop.
    line("hz 1".into());
    line("enable-debug-command no".into());
    line("enable-module-command no".into());
    line("enable-protected-configs no".into());
    if input.engine.major_version() >= 8 {
        line("hide-user-data-from-log yes".into());
    }
    for name in RENAMED_AWAY {
        line(format!("rename-command {name} \"\""));
    }
    for module in &input.engine.modules {
        let mut load = format!("loadmodule {}", quote(&module.path));
        for arg in module.args {
            let _ = write!(load, " {arg}");
        }
        line(load);
    }
    // One user, an allowlist of commands, all keys and channels, and
    // RESTORE-style payloads sanitised.
    line(format!(
        "user default on #{} sanitize-payload resetkeys ~* resetchannels &* {}",
        input.password_sha256, input.acl_rules
    ));
    conf
}

/// Paths come from our own temp dirs, but quote them anyway.
fn quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn engine() -> Engine {
        Engine::from_parts(PathBuf::from("/x/redis-server"), "8.2.3", Vec::new())
    }

    #[test]
    fn config_is_hardened() {
        let limits = SandboxLimits::default();
        let engine = engine();
        let conf = render(&ConfInput {
            dir: Path::new("/run/sb"),
            socket: Path::new("/run/sb/redis.sock"),
            password_sha256: "ab12",
            acl_rules: "-@all +get",
            limits: &limits,
            engine: &engine,
        });
        for expected in [
            "port 0\n",
            "unixsocketperm 700\n",
            "save \"\"\n",
            "maxmemory 16mb\n",
            "maxclients 20\n",
            "maxmemory-policy noeviction\n",
            "enable-debug-command no\n",
            "enable-module-command no\n",
            "rename-command SHUTDOWN \"\"\n",
            "rename-command HELLO \"\"\n",
            "hide-user-data-from-log yes\n",
            "user default on #ab12 sanitize-payload resetkeys ~* resetchannels &* -@all +get\n",
        ] {
            assert!(conf.contains(expected), "missing {expected:?} in\n{conf}");
        }
    }
}
