//! Hostile input: every line an anonymous stranger might try. Each case
//! must get a clear answer, leave the backend up, leave a neighbour's
//! sandbox responsive, and write nothing outside the sandbox.

use std::time::{Duration, Instant};

use protocol::{NoticeKind, Reply};

use crate::support::TestApp;

/// What a hostile line must lead to.
enum Expect {
    /// Refused by the gateway with this code (HTTP 4xx/5xx, JSON error).
    Refused(&'static str),
    /// Run by Redis, whose error reply contains one of these.
    RedisError(&'static [&'static str]),
    /// Run, and the text contains this.
    Text(&'static str),
    /// A runaway: either Redis's error reply or a sandbox restart, but
    /// always a clear message.
    ErrorOrRestart,
    /// The sandbox is restarted, with a notice saying so.
    Restart,
}

use Expect::*;

fn cases() -> Vec<(String, Expect)> {
    let long_line = format!("SET k {}", "x".repeat(70 * 1024));
    let many_args = format!("MSET {}", "k v ".repeat(600));
    let mut cases: Vec<(String, Expect)> = vec![
        // The file-write trick and its variants.
        ("CONFIG SET dir /tmp".into(), Refused("subcommand_refused")),
        ("CONFIG SET dbfilename pwned.rdb".into(), Refused("subcommand_refused")),
        ("config set appendonly yes".into(), Refused("subcommand_refused")),
        ("CONFIG REWRITE".into(), Refused("subcommand_refused")),
        ("CONFIG RESETSTAT".into(), Refused("subcommand_refused")),
        ("CONFIG GET dir".into(), Refused("config_refused")),
        ("CONFIG GET unixsocket".into(), Refused("config_refused")),
        ("CONFIG GET logfile".into(), Refused("config_refused")),
        ("SAVE".into(), Refused("command_refused")),
        ("BGSAVE".into(), Refused("command_refused")),
        ("BGREWRITEAOF".into(), Refused("command_refused")),
        (r#"EVAL "return redis.call('CONFIG','SET','dir','/tmp')" 0"#.into(), RedisError(&["not allowed", "permission", "NOPERM"])),
        (r#"EVAL "return redis.call('SAVE')" 0"#.into(), RedisError(&["Unknown Redis command", "unknown command"])),
        (r#"EVAL "return redis.pcall('BGSAVE')" 0"#.into(), RedisError(&["Unknown Redis command", "unknown command"])),
        // Server control.
        ("MODULE LOAD /tmp/evil.so".into(), Refused("command_refused")),
        ("MODULE LIST".into(), Refused("command_refused")),
        ("DEBUG SEGFAULT".into(), Refused("command_refused")),
        ("DEBUG SLEEP 10".into(), Refused("command_refused")),
        ("SHUTDOWN".into(), Refused("command_refused")),
        ("shutdown nosave force".into(), Refused("command_refused")),
        ("REPLICAOF 127.0.0.1 6379".into(), Refused("command_refused")),
        ("SLAVEOF NO ONE".into(), Refused("command_refused")),
        ("MIGRATE 127.0.0.1 6379 k 0 1000".into(), Refused("command_refused")),
        ("MONITOR".into(), Refused("command_refused")),
        ("CLIENT KILL TYPE normal".into(), Refused("subcommand_refused")),
        ("CLIENT PAUSE 100000".into(), Refused("subcommand_refused")),
        ("CLIENT LIST".into(), Refused("subcommand_refused")),
        ("CLIENT NO-EVICT on".into(), Refused("subcommand_refused")),
        ("ACL SETUSER evil on >pw +@all ~*".into(), Refused("command_refused")),
        ("ACL LIST".into(), Refused("command_refused")),
        ("HELLO 3".into(), Refused("command_refused")),
        ("RESET".into(), Refused("command_refused")),
        ("AUTH default guess".into(), Refused("command_refused")),
        ("QUIT".into(), Text("OK")),
        // Functions are allowed from source (the graded exercises), never
        // from a raw payload, and never with allow-oom.
        (r##"FUNCTION LOAD "#!lua name=x\nredis.register_function('f', function() return 1 end)""##.into(), Text("\"x\"")),
        ("FCALL f 0".into(), Text("(integer) 1")),
        ("FUNCTION RESTORE payload".into(), Refused("subcommand_refused")),
        (r##"FUNCTION LOAD "#!lua name=y\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'allow-oom'}}""##.into(), Refused("command_refused")),
        ("SCRIPT DEBUG YES".into(), Refused("subcommand_refused")),
        ("WAIT 1 0".into(), Refused("command_refused")),
        ("RESTORE k 0 payload".into(), Refused("command_refused")),
        ("FT.CONFIG SET TIMEOUT 0".into(), Refused("command_refused")),
        ("PFSELFTEST".into(), Refused("command_refused")),
        ("MEMORY PURGE".into(), Refused("subcommand_refused")),
        ("INFO".into(), Refused("info_refused")),
        ("INFO server".into(), Refused("info_refused")),
        ("INFO everything".into(), Refused("info_refused")),
        (r#"EVAL "return redis.call('ACL','WHOAMI')" 0"#.into(), RedisError(&["Unknown Redis command", "unknown command"])),
        (r#"EVAL "return redis.call('MODULE','LIST')" 0"#.into(), RedisError(&["Unknown Redis command", "unknown command"])),
        // Lua escapes.
        (r#"EVAL "return os.execute('touch /tmp/redis-tutor-pwned')" 0"#.into(), RedisError(&["nil value", "nonexistent global", "execute"])),
        (r#"EVAL "return io.open('/etc/passwd')" 0"#.into(), RedisError(&["nonexistent global variable 'io'"])),
        (r#"EVAL "return require('os')" 0"#.into(), RedisError(&["nonexistent global variable 'require'"])),
        (r#"EVAL "return dofile('/etc/passwd')" 0"#.into(), RedisError(&["nonexistent global variable 'dofile'"])),
        (r#"EVAL "return loadfile('/etc/passwd')" 0"#.into(), RedisError(&["nonexistent global variable 'loadfile'"])),
        // Lua runaways and bombs.
        (r#"EVAL "while true do end" 0"#.into(), ErrorOrRestart),
        (r#"EVAL "redis.call('SET','k','v') while true do end" 0"#.into(), Restart),
        (r#"EVAL "local t = {} for i = 1, 1e9 do t[i] = i end" 0"#.into(), ErrorOrRestart),
        // Shebang flags that lift the memory check.
        (r##"EVAL "#!lua flags=allow-oom\nreturn redis.call('SET','k','v')" 0"##.into(), Refused("command_refused")),
        (r##"EVAL_RO "#!lua flags=no-writes,allow-oom\nreturn 1" 0"##.into(), Refused("command_refused")),
        (r##"SCRIPT LOAD "#!lua flags=allow-oom\nreturn 1""##.into(), Refused("command_refused")),
        (r##"EVAL "#!lua flags=no-writes\nreturn 1" 0"##.into(), Text("(integer) 1")),
        (r#"EVAL "return string.rep('x', 2^30)" 0"#.into(), ErrorOrRestart),
        (r#"EVAL "for i = 1, 20000 do redis.log(redis.LOG_WARNING, string.rep('x', 1000)) end return 1" 0"#.into(), Text("(integer) 1")),
        // Huge values, replies, lines.
        ("SETRANGE k 536870911 x".into(), RedisError(&["maximum allowed size"])),
        ("SETBIT k 4294967295 1".into(), RedisError(&["out of range"])),
        (long_line, Refused("line_too_long")),
        (many_args, Refused("too_many_arguments")),
        (r#"EVAL "for i = 1, 5 do redis.call('SET', 'big' .. i, string.rep('x', 1000000)) end return 5" 0"#.into(), Text("(integer) 5")),
        ("MGET big1 big2 big3 big4 big5".into(), Refused("reply_too_large")),
        (r#"EVAL "for i = 1, 3000 do redis.call('RPUSH', 'long', i) end return 1" 0"#.into(), Text("(integer) 1")),
        ("LRANGE long 0 -1".into(), Text("more elements not shown")),
        // Blocking forever, or nearly.
        ("BLPOP q 0".into(), Refused("blocking_forever")),
        ("BRPOP q 100".into(), Refused("blocking_timeout")),
        ("BLMOVE a b LEFT RIGHT 0".into(), Refused("blocking_forever")),
        ("BZPOPMIN z 0".into(), Refused("blocking_forever")),
        ("BLMPOP 0 1 q LEFT".into(), Refused("blocking_forever")),
        ("XREAD BLOCK 0 STREAMS s $".into(), Refused("blocking_forever")),
        ("XREADGROUP GROUP g c BLOCK 0 STREAMS s >".into(), Refused("blocking_forever")),
        ("XREAD BLOCK 999999 STREAMS s $".into(), Refused("blocking_timeout")),
        // Redis obeys the last BLOCK: a harmless one first must not hide `BLOCK 0`.
        ("XREAD BLOCK 1 BLOCK 0 STREAMS s $".into(), Refused("blocking_forever")),
        ("XREADGROUP GROUP g c BLOCK 1 BLOCK 0 STREAMS s >".into(), Refused("blocking_forever")),
        ("XREAD BLOCK 1 COUNT 1 BLOCK 999999 STREAMS s $".into(), Refused("blocking_timeout")),
        ("SUBSCRIBE news".into(), Refused("command_refused")),
        ("PSUBSCRIBE *".into(), Refused("command_refused")),
        // Odd input.
        ("".into(), Refused("empty_line")),
        ("   \t ".into(), Refused("empty_line")),
        (r#"SET k "unbalanced"#.into(), Refused("invalid_arguments")),
        ("SET k 'a'b".into(), Refused("invalid_arguments")),
        ("0 PING".into(), Refused("invalid_repeat")),
        ("1000 PING".into(), Refused("invalid_repeat")),
        ("PING\u{0}SHUTDOWN".into(), Text("PONG")),
        ("SET k \u{fffd}\u{1f600}".into(), Text("OK")),
        ("SELECT 100".into(), RedisError(&["out of range"])),
        (r#""\xff\xfe" arg"#.into(), Refused("unreadable_reply")),
        (r#"EVAL "return {ok='\\255'}" 0"#.into(), Refused("unreadable_reply")),
        (r#"EVAL "return redis.error_reply('\\255')" 0"#.into(), Refused("unreadable_reply")),
        (r#"SET "\xff" "\x00\xff""#.into(), Text("OK")),
        (r#"GET "\xff""#.into(), Text(r#""\x00\xff""#)),
        ("SCRIPT KILL".into(), RedisError(&["NOTBUSY"])),
        ("FLUSHALL".into(), Text("OK")),
    ];
    // MULTI overflow: the 101st queued command is refused.
    cases.push(("MULTI".into(), Text("OK")));
    for _ in 0..100 {
        cases.push(("INCR queued".into(), Text("QUEUED")));
    }
    // Past the console's cap the queue stays as it was (a command the
    // sandbox refuses would abort it, as in Redis: gateway.rs's tests).
    cases.push(("INCR queued".into(), Refused("transaction_full")));
    cases.push(("EXEC".into(), Text("100) (integer) 100")));
    cases
}

#[tokio::test]
async fn hostile_lines_get_clear_answers_and_contain_nothing() {
    let app = TestApp::with_limits(|l| {
        l.command_deadline_ms = 1_500;
        l.rate_per_sec = 10_000;
        l.rate_burst = 10_000;
    })
    .await;
    let attacker = app.new_session().await;
    let neighbour = app.new_session().await;
    app.exec(&neighbour, "SET mine safe").await;
    let mut failures = Vec::new();

    for (line, expect) in cases() {
        let shown: String = line.chars().take(60).collect();
        let response = app.exec_raw(&attacker, &line).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        let problem = match (&expect, status) {
            (Refused(code), 400..=599) => {
                let err: protocol::ApiError = serde_json::from_str(&body).unwrap();
                if err.error.code != *code {
                    Some(format!("code {} instead of {code}", err.error.code))
                } else if err.error.message.len() < 20 || !err.error.message.ends_with('.') {
                    Some(format!("unclear message `{}`", err.error.message))
                } else {
                    None
                }
            }
            (Restart | ErrorOrRestart, 503) => {
                let err: protocol::ApiError = serde_json::from_str(&body).unwrap();
                (err.error.code != "sandbox_restarted").then(|| format!("{status} {body}"))
            }
            (Restart, 200) => {
                let r: protocol::ExecResponse = serde_json::from_str(&body).unwrap();
                (!r.notices.iter().any(|n| n.kind == NoticeKind::Restarted))
                    .then(|| format!("no restart notice: {body}"))
            }
            (ErrorOrRestart, 200) => {
                let r: protocol::ExecResponse = serde_json::from_str(&body).unwrap();
                (!r.reply.is_error()).then(|| format!("expected an error reply: {}", r.text))
            }
            (RedisError(words), 200) => {
                let r: protocol::ExecResponse = serde_json::from_str(&body).unwrap();
                let ok = r.reply.is_error() && words.iter().any(|w| r.text.contains(w));
                (!ok).then(|| format!("expected an error with one of {words:?}: {}", r.text))
            }
            (Text(want), 200) => {
                let r: protocol::ExecResponse = serde_json::from_str(&body).unwrap();
                (!r.text.contains(want)).then(|| format!("expected `{want}` in: {}", r.text))
            }
            _ => Some(format!("unexpected status {status}: {body}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("`{shown}`: {problem}"));
        }
        // The backend is up and the neighbour's sandbox answers promptly (well
        // under the 5 s a runaway script could hold it), even on a loaded CI box.
        assert_eq!(
            app.get("/healthz").await.status(),
            200,
            "backend down after `{shown}`"
        );
        let started = Instant::now();
        let pong = app.exec(&neighbour, "PING").await;
        assert_eq!(pong.reply, Reply::status("PONG"));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "neighbour blocked for {:?} after `{shown}`",
            started.elapsed()
        );
    }
    assert!(
        failures.is_empty(),
        "{} hostile cases misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing escaped: no file written outside, the neighbour's data intact,
    // and the attacker's run dir holds only its config and socket.
    assert!(!std::path::Path::new("/tmp/redis-tutor-pwned").exists());
    assert!(!std::path::Path::new("/tmp/pwned.rdb").exists());
    assert_eq!(
        app.exec(&neighbour, "GET mine").await.reply,
        Reply::bulk("safe")
    );
    let dir = app
        .state
        .sessions
        .get(&attacker)
        .unwrap()
        .sandbox_dir()
        .await;
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["redis.conf", "redis.sock"]);
}

#[tokio::test]
async fn bad_request_bodies_get_a_json_error() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    for body in [
        r#"{"line": "\udc80"}"#.to_owned(),
        "not json".to_owned(),
        r#"{"lines": "PING"}"#.to_owned(),
        r#"{"line": 42}"#.to_owned(),
    ] {
        let response = app
            .http
            .post(format!("{}/api/exec", app.base))
            .bearer_auth(&session)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let err: protocol::ApiError = response.json().await.unwrap();
        assert_eq!(err.error.code, "invalid_request", "{body}");
    }
}

#[tokio::test]
async fn a_flood_of_commands_is_rate_limited_with_a_clear_message() {
    let app = TestApp::with_limits(|l| {
        l.rate_per_sec = 5;
        l.rate_burst = 5;
    })
    .await;
    let session = app.new_session().await;
    for _ in 0..5 {
        app.exec(&session, "PING").await;
    }
    let (status, code, message) = app.exec_refused(&session, "PING").await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(message.contains("Slow down"), "{message}");
}

#[tokio::test]
async fn sessions_per_address_are_capped() {
    let app = TestApp::with_limits(|l| l.sandboxes_per_ip = 2).await;
    app.new_session().await;
    app.new_session().await;
    let response = app
        .http
        .post(format!("{}/api/sessions", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let err: protocol::ApiError = response.json().await.unwrap();
    assert_eq!(err.error.code, "too_many_sandboxes");
}
