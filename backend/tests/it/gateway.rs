//! The console over HTTP against real sandboxes: the documented shapes,
//! isolation between learners, transactions and limits.

use protocol::Reply;

use crate::support::TestApp;

#[tokio::test]
async fn exec_returns_reply_text_and_latency() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let response = app.exec(&session, "HSET user:1 a 1").await;
    assert_eq!(response.reply, Reply::Integer { value: 1 });
    assert_eq!(response.text, "(integer) 1");
    assert!(response.micros > 0);
    let response = app.exec(&session, "HGETALL user:1").await;
    assert_eq!(response.text, "1) \"a\"\n2) \"1\"");
}

#[tokio::test]
async fn redis_errors_are_still_200_with_their_text() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let response = app.exec(&session, "NOSUCHCOMMAND x").await;
    assert!(response.reply.is_error());
    assert!(
        response
            .text
            .starts_with("(error) ERR unknown command 'NOSUCHCOMMAND'"),
        "{}",
        response.text
    );
}

#[tokio::test]
async fn one_learner_cannot_see_anothers_data() {
    let app = TestApp::spawn().await;
    let alice = app.new_session().await;
    let bob = app.new_session().await;
    app.exec(&alice, "SET secret alice").await;
    assert_eq!(app.exec(&bob, "GET secret").await.reply, Reply::Nil);
    assert_eq!(
        app.exec(&bob, "DBSIZE").await.reply,
        Reply::Integer { value: 0 }
    );
    assert_eq!(
        app.exec(&alice, "GET secret").await.reply,
        Reply::bulk("alice")
    );
}

#[tokio::test]
async fn sandboxes_live_in_private_dirs_with_private_sockets() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let session = app.state.sessions.get(&id).unwrap();
    let pid = session.sandbox_pid().await;
    let dir = session.sandbox_dir().await;
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "run dir {}", dir.display());
    let conf_mode = std::fs::metadata(dir.join("redis.conf"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(conf_mode, 0o600);
    let socket_mode = std::fs::metadata(dir.join("redis.sock"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(socket_mode, 0o700);
    // No TCP listener: the process has only a unix socket.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let inode_of_pid: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            l.to_string_lossy()
                .strip_prefix("socket:[")
                .map(|s| s.trim_end_matches(']').to_owned())
        })
        .collect();
    for line in tcp.lines().skip(1) {
        let inode = line.split_whitespace().nth(9).unwrap_or("");
        assert!(
            !inode_of_pid.iter().any(|i| i == inode),
            "sandbox has a TCP socket: {line}"
        );
    }
}

#[tokio::test]
async fn transactions_queue_and_report_tx_state() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let multi = app.exec(&session, "MULTI").await;
    assert_eq!(multi.text, "OK");
    assert!(multi.in_multi);
    let queued = app.exec(&session, "INCR counter").await;
    assert_eq!(queued.text, "QUEUED");
    assert!(queued.in_multi);
    let exec = app.exec(&session, "EXEC").await;
    assert_eq!(exec.text, "1) (integer) 1");
    assert!(!exec.in_multi);
}

#[tokio::test]
async fn repeat_count_runs_the_command_n_times() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let response = app.exec(&session, "3 INCR n").await;
    assert_eq!(response.repeat, 3);
    assert_eq!(response.text, "(integer) 1\n(integer) 2\n(integer) 3");
    assert_eq!(response.reply, Reply::Integer { value: 3 });
}

#[tokio::test]
async fn requests_without_a_session_are_unauthorized() {
    let app = TestApp::spawn().await;
    let (status, code, _) = app.exec_refused("not-a-session", "PING").await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    let response = app
        .http
        .post(format!("{}/api/exec", app.base))
        .json(&protocol::ExecRequest {
            line: "PING".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn reset_gives_an_empty_sandbox_and_delete_ends_the_session() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    app.exec(&session, "SET k v").await;
    assert_eq!(app.reset(&session).await.status(), 200);
    assert_eq!(
        app.exec(&session, "DBSIZE").await.reply,
        Reply::Integer { value: 0 }
    );
    assert_eq!(app.delete(&session).await.status(), 204);
    assert_eq!(app.exec_refused(&session, "PING").await.0, 401);
}

#[tokio::test]
async fn metrics_report_sessions_and_latency() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    app.exec(&session, "PING").await;
    app.exec_refused(&session, "SHUTDOWN").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("redis_tutor_sessions 1"), "{text}");
    assert!(
        text.contains("redis_tutor_command_latency_seconds_count 1"),
        "{text}"
    );
    assert!(
        text.contains("redis_tutor_refusals_total{code=\"command_refused\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_sandbox_socket_refuses_anyone_without_its_password() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    app.exec(&id, "SET secret 1").await;
    let dir = app.state.sessions.get(&id).unwrap().sandbox_dir().await;
    // Even a process that could open the socket gets nothing without the
    // random per-sandbox password.
    let mut stream = tokio::net::UnixStream::connect(dir.join("redis.sock"))
        .await
        .unwrap();
    stream.write_all(b"GET secret\r\n").await.unwrap();
    let mut reply = vec![0u8; 256];
    let n = stream.read(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("-NOAUTH"), "{reply}");
}

/// The nice value of every thread of `pid` (field 19 of each task's stat).
fn thread_nices(pid: u32) -> Vec<i64> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|stat| {
            let (_, rest) = stat.rsplit_once(") ")?;
            // rest starts at field 3 (state); nice is field 19.
            rest.split_whitespace().nth(16)?.parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn a_learners_sandbox_runs_at_the_servers_priority_whichever_way_it_started() {
    // New sandboxes load their engine at `--sandbox-start-nice`; by the time
    // a learner has one, every thread of it must have the server's priority
    // back, whether it came from the warm pool or was spawned by a reset.
    let app = TestApp::spawn().await;
    let ours = thread_nices(std::process::id())[0];
    let id = app.new_session().await;
    assert_eq!(app.exec(&id, "PING").await.reply, Reply::status("PONG"));
    let session = app.state.sessions.get(&id).unwrap();
    let pooled = session.sandbox_pid().await;
    let nices = thread_nices(pooled);
    assert!(nices.len() > 1, "Redis runs several threads: {nices:?}");
    assert!(
        nices.iter().all(|&n| n == ours),
        "pooled sandbox {pooled}: {nices:?}, server {ours}"
    );
    assert!(app.reset(&id).await.status().is_success());
    let fresh = session.sandbox_pid().await;
    assert_ne!(fresh, pooled);
    assert_eq!(app.exec(&id, "PING").await.reply, Reply::status("PONG"));
    let nices = thread_nices(fresh);
    assert!(
        nices.iter().all(|&n| n == ours),
        "reset sandbox {fresh}: {nices:?}, server {ours}"
    );
}

/// The console's own look at Lua's memory after a script goes on the
/// sandbox's control connection: inside MULTI it was queued on the
/// learner's, and EXEC showed an INFO reply nobody asked for.
#[tokio::test]
async fn a_script_inside_multi_adds_nothing_to_exec() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    assert_eq!(app.exec(&id, "MULTI").await.text, "OK");
    assert_eq!(app.exec(&id, "EVAL \"return 1\" 0").await.text, "QUEUED");
    assert_eq!(app.exec(&id, "INCR n").await.text, "QUEUED");
    assert_eq!(
        app.exec(&id, "EXEC").await.text,
        "1) (integer) 1\n2) (integer) 1"
    );
}

/// An error that only mentions memory (OBJECT FREQ under the default
/// eviction policy, a wrong MEMORY USAGE) is no reason to empty the
/// script cache: a loaded script still runs, as in redis-cli.
#[tokio::test]
async fn an_error_that_mentions_memory_keeps_the_script_cache() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let sha = app.exec(&id, "SCRIPT LOAD \"return 42\"").await.text;
    let sha = sha.trim_matches('"').to_owned();
    app.exec(&id, "SET k v").await;
    let freq = app.exec(&id, "OBJECT FREQ k").await.text;
    assert!(freq.contains("maxmemory"), "{freq}");
    assert!(app
        .exec(&id, "MEMORY USAGE")
        .await
        .text
        .starts_with("(error)"));
    assert_eq!(
        app.exec(&id, &format!("EVALSHA {sha} 0")).await.text,
        "(integer) 42"
    );
}

/// A library's flags are registered by its code, so text can hide one
/// (`'allow' .. '-oom'`): what Redis registered is checked after the load,
/// and a library with a refused flag is gone before any function runs, in
/// a transaction too, with a notice saying why.
#[tokio::test]
async fn a_library_that_builds_a_refused_flag_at_run_time_is_removed() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let library = r##"FUNCTION LOAD "#!lua name=oomlib\nlocal fl = 'allow' .. '-oom'\nredis.register_function{function_name='grow', callback=function(k, a) return 1 end, flags={fl}}""##;
    let loaded = app.exec(&id, library).await;
    assert_eq!(loaded.text, "\"oomlib\"");
    assert!(
        loaded
            .notices
            .iter()
            .any(|n| n.message.contains("oomlib") && n.message.contains("allow-oom")),
        "{:?}",
        loaded.notices
    );
    assert_eq!(app.exec(&id, "FUNCTION LIST").await.text, "(empty array)");
    assert!(app
        .exec(&id, "FCALL grow 0")
        .await
        .text
        .starts_with("(error)"));
    // Queued in a transaction, it is checked when EXEC runs it.
    app.exec(&id, "MULTI").await;
    app.exec(&id, library).await;
    let exec = app.exec(&id, "EXEC").await;
    assert!(
        exec.notices.iter().any(|n| n.message.contains("allow-oom")),
        "{exec:?}"
    );
    assert_eq!(app.exec(&id, "FUNCTION LIST").await.text, "(empty array)");
    // A library without it stays.
    let fine = r##"FUNCTION LOAD "#!lua name=fine\nredis.register_function{function_name='one', callback=function(k, a) return 1 end, flags={'no-writes'}}""##;
    let loaded = app.exec(&id, fine).await;
    assert!(loaded.notices.is_empty(), "{loaded:?}");
    assert_eq!(app.exec(&id, "FCALL one 0").await.text, "(integer) 1");
}

/// When Redis closes the console's connection (a reply over the output
/// limit) or sends what cannot be read (arrays 100 deep), the console
/// connects again on the database the learner selected, as redis-cli
/// does, and says what the new connection kept and lost.
#[tokio::test]
async fn a_new_connection_keeps_the_selected_database_and_says_so() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    assert_eq!(app.exec(&id, "SELECT 5").await.text, "OK");
    app.exec(&id, "SET where five").await;
    for i in 1..=5 {
        app.exec(&id, &format!("SETRANGE big{i} 1048575 x")).await;
    }
    app.exec(&id, "MULTI").await;
    app.exec(&id, "MGET big1 big2 big3 big4 big5").await;
    let (status, code, message) = app.exec_refused(&id, "EXEC").await;
    assert_eq!(
        (status, code.as_str()),
        (413, "reply_too_large"),
        "{message}"
    );
    assert!(
        message.contains("to database 5") && message.contains("transaction (MULTI) was discarded"),
        "{message}"
    );
    assert_eq!(app.exec(&id, "GET where").await.text, "\"five\"");
    let deep =
        r#"EVAL "local t = {} local c = t for i = 1, 100 do c[1] = {} c = c[1] end return t" 0"#;
    let (status, code, message) = app.exec_refused(&id, deep).await;
    assert_eq!(
        (status, code.as_str()),
        (422, "unreadable_reply"),
        "{message}"
    );
    assert!(message.contains("nested more than 100 deep"), "{message}");
    assert_eq!(app.exec(&id, "GET where").await.text, "\"five\"");
}

/// redis-cli answers `help` itself, from the command docs; so does the
/// console, over the same line path.
#[tokio::test]
async fn help_is_answered_as_redis_cli_answers_it() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let banner = app.exec(&id, "HELP").await.text;
    assert!(
        banner.contains("\"help <command>\" for help on <command>"),
        "{banner}"
    );
    assert_eq!(app.exec(&id, "?").await.text, banner);
    let get = app.exec(&id, "help get").await.text;
    assert_eq!(
        get,
        "\n  GET key\n  summary: Returns the string value of a key.\n  since: 1.0.0\n  group: string\n"
    );
    let group = app.exec(&id, "help @hash").await.text;
    assert!(
        group.contains("  HSET key field value [field value ...]"),
        "{group}"
    );
    assert!(!group.contains("  GET key"), "{group}");
}

/// A command the sandbox refuses inside MULTI aborts the transaction, as
/// Redis does for one its ACL forbids: EXEC answers EXECABORT and nothing
/// queued runs.
#[tokio::test]
async fn a_refused_command_inside_multi_aborts_the_transaction() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    app.exec(&id, "MULTI").await;
    assert_eq!(app.exec(&id, "SET a 1").await.text, "QUEUED");
    let (status, code, _) = app.exec_refused(&id, "CONFIG SET dir /tmp").await;
    assert_eq!((status, code.as_str()), (403, "subcommand_refused"));
    assert_eq!(
        app.exec(&id, "EXEC").await.text,
        "(error) EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(app.exec(&id, "EXISTS a").await.text, "(integer) 0");
}

/// A timeout Redis refuses by itself (negative, not a number) reaches it,
/// and the learner reads Redis's own error, as in redis-cli.
#[tokio::test]
async fn an_invalid_blocking_timeout_gets_redis_own_error() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    assert_eq!(
        app.exec(&id, "BLPOP q -1").await.text,
        "(error) ERR timeout is negative"
    );
    assert_eq!(
        app.exec(&id, "BLPOP q abc").await.text,
        "(error) ERR timeout is not a float or out of range"
    );
    assert_eq!(
        app.exec(&id, "XREAD BLOCK -1 STREAMS s $").await.text,
        "(error) ERR timeout is negative"
    );
}

/// `CONFIG GET` of a setting the engine does not have answers as Redis
/// does (nothing); one it hides stays refused.
#[tokio::test]
async fn config_get_of_no_such_setting_is_an_empty_array() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    assert_eq!(app.exec(&id, "CONFIG GET nope").await.text, "(empty array)");
    let (status, code, _) = app.exec_refused(&id, "CONFIG GET dir").await;
    assert_eq!((status, code.as_str()), (403, "config_refused"));
}
