//! The policy, line by line: what passes, what is refused and why.

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
            commands: &protocol::CommandCatalog::default(),
            settings: &HashSet::new(),
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
        ("FUNCTION RESTORE x", "FUNCTION LOAD"),
        ("BGSAVE", "disk"),
        ("AUTH pw", "already"),
    ] {
        let r = refused(line);
        assert!(r.message.contains(word), "{line}: {}", r.message);
    }
}

#[test]
fn function_libraries_load_within_the_cap_and_without_allow_oom() {
    let library = "#!lua name=lib\nredis.register_function('f', function() return 1 end)";
    assert!(run(&format!("FUNCTION LOAD \"{library}\"")).is_ok());
    assert!(run(&format!("FUNCTION LOAD REPLACE \"{library}\"")).is_ok());
    assert!(run("FCALL f 0").is_ok());
    assert!(run("FCALL_RO f 0").is_ok());
    let big = format!(
        "FUNCTION LOAD \"#!lua name=big\n--{}\"",
        "x".repeat(17 * 1024)
    );
    assert!(refused(&big).message.contains("16 KiB"));
    let oom = "FUNCTION LOAD \"#!lua name=o\nredis.register_function{function_name='f', callback=function() return 1 end, flags={'allow-oom'}}\"";
    assert!(refused(oom).message.contains("allow-oom"));
    assert_eq!(
        refused("FUNCTION RESTORE payload").code,
        "subcommand_refused"
    );
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

/// Redis answers an exact name as it was typed, and each setting once, in
/// the spelling asked first.
#[test]
fn config_get_sends_names_as_typed_and_each_setting_once() {
    let Verdict::Forward { args, .. } = run("CONFIG GET HZ maxmemory hz").unwrap() else {
        panic!("expected forward")
    };
    assert_eq!(args[2..], [b"HZ".to_vec(), b"maxmemory".to_vec()]);
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
    assert_eq!(refused("BLPOP q nan").code, "blocking_timeout");
    assert_eq!(refused("BLPOP q 0x10").code, "blocking_timeout");
    assert_eq!(refused("BLPOP q -0").code, "blocking_forever");
    // Redis refuses these itself, at once, in its own words.
    for line in [
        "BLPOP q -1",
        "BLPOP q abc",
        "XREAD BLOCK -1 STREAMS s $",
        "XREAD BLOCK abc STREAMS s $",
    ] {
        let Verdict::Forward { blocks_for, .. } = run(line).unwrap() else {
            panic!("{line} goes to Redis")
        };
        assert_eq!(blocks_for, Duration::ZERO, "{line}");
    }
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
    // Redis obeys the last BLOCK: every one must be bounded.
    assert_eq!(
        refused("XREAD BLOCK 1 BLOCK 0 STREAMS s $").code,
        "blocking_forever"
    );
    assert_eq!(
        refused("XREADGROUP GROUP g c BLOCK 100 COUNT 1 BLOCK 0 STREAMS s >").code,
        "blocking_forever"
    );
    assert_eq!(
        refused("XREAD BLOCK 0 BLOCK 1 STREAMS s $").code,
        "blocking_forever"
    );
    assert!(run("XREAD STREAMS block 0").is_ok());
    assert!(run("XREADGROUP GROUP block block STREAMS s >").is_ok());
}

#[test]
fn the_timeout_0_refusal_names_a_range_that_excludes_0() {
    let message = refused("BLPOP q 0").message;
    assert!(message.contains("greater than 0"), "{message}");
    assert!(!message.contains("between 0"), "{message}");
}

#[test]
fn scripts_may_not_lift_the_memory_check() {
    for line in [
        r##"EVAL "#!lua flags=allow-oom\nreturn 1" 0"##,
        r##"EVAL_RO "#!lua flags=no-writes,allow-oom\nreturn 1" 0"##,
        r##"SCRIPT LOAD "#!lua flags=allow-oom\nreturn 1""##,
    ] {
        let r = refused(line);
        assert_eq!(r.code, "command_refused", "{line}");
        assert!(r.message.contains("allow-oom"), "{line}: {}", r.message);
    }
    assert!(run(r##"EVAL "#!lua flags=no-writes\nreturn 1" 0"##).is_ok());
    assert!(run(r##"SCRIPT LOAD "return 1""##).is_ok());
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

/// A setting the engine does not have is left out, as Redis leaves it out;
/// one it has and the sandbox hides is refused.
#[test]
fn config_get_of_a_setting_nobody_has_is_an_empty_answer() {
    let args = |line: &str| protocol::split_args(line.as_bytes()).unwrap();
    let settings: HashSet<String> = ["maxmemory", "dir"].map(String::from).into();
    let limits = SandboxLimits::default();
    let known = known();
    let ctx = PolicyContext {
        known: &known,
        commands: &protocol::CommandCatalog::default(),
        settings: &settings,
        limits: &limits,
        queued: None,
    };
    assert_eq!(
        check(&args("CONFIG GET nope"), &ctx).unwrap(),
        Verdict::Local(Reply::array(vec![]))
    );
    assert_eq!(
        check(&args("CONFIG GET dir"), &ctx).unwrap_err().code,
        ErrorCode::ConfigRefused
    );
    let Verdict::Forward { args: sent, .. } =
        check(&args("CONFIG GET nope maxmemory"), &ctx).unwrap()
    else {
        panic!("expected forward")
    };
    assert_eq!(sent[2..], [b"maxmemory".to_vec()]);
}
