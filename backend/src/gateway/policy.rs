//! The command policy: the gateway's second line of defence, mirroring the
//! sandbox ACL (both come from `allowlist`). An allowlist; every refusal is
//! a sentence saying why and what to do instead.

use std::collections::HashSet;
use std::time::Duration;

use protocol::{ErrorCode, Reply};

use super::glob;
use crate::allowlist::{self, Access};
use crate::limits::SandboxLimits;

mod blocking;
mod scripts;
mod tables;

use blocking::{blocking_seconds, xread_block};
pub use scripts::{library_flags_refusal, refused_flag, script_flags_refusal};
use tables::named_refusal;
pub use tables::{READABLE_CONFIG, READABLE_INFO};

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
    pub code: ErrorCode,
    pub message: String,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// What the policy needs to know about the session and engine.
pub struct PolicyContext<'a> {
    /// Lowercase names of every command the engine has.
    pub known: &'a HashSet<String>,
    /// The docs of what a learner may run (`help`).
    pub commands: &'a protocol::CommandCatalog,
    /// Lowercase names of every setting the engine has.
    pub settings: &'a HashSet<String>,
    pub limits: &'a SandboxLimits,
    /// Commands queued so far, when inside MULTI.
    pub queued: Option<usize>,
}

fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Decides what happens to one command.
pub fn check(args: &[Vec<u8>], ctx: &PolicyContext<'_>) -> Result<Verdict, Refusal> {
    let Some(first) = args.first() else {
        return Err(refuse(
            ErrorCode::EmptyLine,
            "The line is empty: type a command, such as PING.",
        ));
    };
    if args.len() > ctx.limits.max_args {
        return Err(refuse(
            ErrorCode::TooManyArguments,
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
    if name == "help" || name == "?" {
        // redis-cli answers these itself, from the command docs.
        let words: Vec<String> = args[1..]
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let topic: Vec<&str> = words.iter().map(String::as_str).collect();
        return Ok(Verdict::Local(Reply::status(ctx.commands.help(&topic))));
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
                ErrorCode::CommandRefused,
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
                    "function" => " FUNCTION RESTORE loads a raw serialized payload; load a library from its source with FUNCTION LOAD instead.".to_owned(),
                    _ => String::new(),
                };
                return Err(refuse(
                    ErrorCode::SubcommandRefused,
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
                ErrorCode::TransactionFull,
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
        "config" => config_get(args, ctx.settings),
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
        // The script body: EVAL script …, SCRIPT LOAD script.
        "eval" | "eval_ro" if args.len() >= 2 => {
            refuse_script_flags(&args[1]).map(|()| forward(args.to_vec()))
        }
        "script" if args.len() >= 3 && lower(&args[1]) == "load" => {
            refuse_script_flags(&args[2]).map(|()| forward(args.to_vec()))
        }
        // FUNCTION LOAD [REPLACE] code: the library is the last argument.
        "function" if args.len() >= 3 && lower(&args[1]) == "load" => {
            let code = &args[args.len() - 1];
            if code.len() > ctx.limits.library_max_bytes {
                return Err(refuse(
                    ErrorCode::CommandRefused,
                    format!(
                        "That library is {} bytes; a library in the sandbox may have at most {} ({} KiB). Keep one library per exercise and move long comments out.",
                        code.len(),
                        ctx.limits.library_max_bytes,
                        ctx.limits.library_max_bytes / 1024
                    ),
                ));
            }
            library_flags_refusal(code).map_or(Ok(forward(args.to_vec())), Err)
        }
        _ => Ok(forward(args.to_vec())),
    }
}

fn refuse_script_flags(body: &[u8]) -> Result<(), Refusal> {
    script_flags_refusal(body).map_or(Ok(()), Err)
}

fn config_get(args: &[Vec<u8>], settings: &HashSet<String>) -> Result<Verdict, Refusal> {
    // args: CONFIG GET p1 [p2 …]; a missing parameter is Redis's arity error.
    if args.len() < 3 {
        return Ok(Verdict::Forward {
            args: args.to_vec(),
            blocks_for: Duration::ZERO,
        });
    }
    // Globs become the readable names they match; a name is sent as typed,
    // since Redis answers with it as typed (CONFIG GET HZ says "HZ"). In
    // order, each setting once, as Redis keeps the first spelling.
    let mut params: Vec<Vec<u8>> = Vec::new();
    let mut add = |name: &[u8]| {
        if !params.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            params.push(name.to_vec());
        }
    };
    for pattern in &args[2..] {
        let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        if is_glob {
            READABLE_CONFIG
                .iter()
                .filter(|p| glob::matches(pattern, p.as_bytes(), true))
                .for_each(|p| add(p.as_bytes()));
        } else {
            let exact = lower(pattern);
            // A setting the engine does not have: Redis leaves it out of
            // its answer (all of them: an empty array). Unknown settings
            // (no list) are refused as hidden, to be safe.
            if !settings.is_empty() && !settings.contains(&exact) {
                continue;
            }
            if !READABLE_CONFIG.contains(&exact.as_str()) {
                return Err(refuse(
                    ErrorCode::ConfigRefused,
                    format!(
                        "CONFIG GET {exact} is hidden in the sandbox (paths and secrets stay private). You can read: memory limits (CONFIG GET maxmemory*), encodings (CONFIG GET *-max-*), persistence (save, appendonly), and timeouts; CONFIG GET * lists them all."
                    ),
                ));
            }
            add(pattern);
        }
    }
    if params.is_empty() {
        return Ok(Verdict::Local(Reply::array(Vec::new())));
    }
    let mut rewritten = vec![b"CONFIG".to_vec(), b"GET".to_vec()];
    rewritten.extend(params);
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
            ErrorCode::InfoRefused,
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

#[cfg(test)]
mod tests;
