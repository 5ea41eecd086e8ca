//! `format_cli_for` against the real thing: every reply here is rendered by
//! Debian's `redis-cli --no-raw` and by the gateway's path (redis-rs value →
//! `Reply` → `format_cli_for`), and the two must match byte for byte.
//!
//! Replies that change from one call to the next (INFO, CLIENT LIST, …)
//! are fetched once and replayed to redis-cli by a one-reply fake server,
//! so both sides format the very same bytes.

use std::os::unix::ffi::OsStrExt;

use backend::engine::Engine;
use backend::session::convert::{convert, Budget};
use redis::aio::ConnectionLike;

use crate::support::{default_config, TestRedis};

/// The replay server's one reply and the request it waits for.
struct Replay {
    request: Vec<u8>,
    reply: Vec<u8>,
}

const SETUP: &[&str] = &[
    "SET s hello",
    r#"SET bin "\x00\xff\n\"q\\ \t\a\b end""#,
    "SET uni \"h\u{e9}llo \u{2713} \u{1f600}\"",
    "RPUSH l a b c d e f g h i j k l",
    "HSET h f1 v1 f2 \"two words\"",
    "ZADD z 1.5 a 2 b 3.25 c",
    "SADD st only",
    "XADD x 1-0 f v g w",
    "XADD x 2-0 a b",
    "XGROUP CREATE x g 0",
    "XREADGROUP GROUP g c COUNT 1 STREAMS x >",
    r#"JSON.SET j $ '{"a":[1,2,{"b":null}],"s":"x","f":1.5}'"#,
    "FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TEXT n NUMERIC SORTABLE tag TAG",
    "HSET doc:1 t hello n 5 tag red",
    "HSET doc:2 t world n 7 tag blue",
    "VADD vs VALUES 3 1 0 0 item:a",
    "VADD vs VALUES 3 0 1 0 item:b",
];

/// Read-only commands, so running them twice gives the same reply.
const CASES: &[&str] = &[
    "PING",
    "ECHO \"tab\\there\"",
    "GET s",
    "GET bin",
    "GET uni",
    "GET missing",
    "STRLEN uni",
    "LRANGE l 0 -1",
    "LRANGE l 0 2",
    "LRANGE nothing 0 -1",
    "HGETALL h",
    "HGETALL missing",
    "HMGET h f1 nope f2",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZSCORE z c",
    "ZRANK z b WITHSCORE",
    "SMEMBERS st",
    "SMEMBERS nothing",
    "TYPE l",
    "OBJECT ENCODING l",
    "LPUSH s x",
    "NOSUCHCOMMAND a b",
    "GET",
    "XRANGE x - +",
    "XRANGE x - + COUNT 1",
    "XREVRANGE x + -",
    "XINFO STREAM x",
    "XINFO GROUPS x",
    "XPENDING x g",
    "XREADGROUP GROUP g c STREAMS x 0",
    "JSON.GET j",
    "JSON.GET j $..b",
    // (multi-path JSON.GET is left out: RedisJSON orders its keys at random)
    "JSON.GET j $.f",
    "JSON.TYPE j $.a",
    "JSON.GET nope",
    "FT.SEARCH idx hello",
    "FT.SEARCH idx \"@n:[0 10]\" SORTBY n DESC",
    "FT.SEARCH idx \"@tag:{red}\" RETURN 1 t",
    "FT.SEARCH idx nomatch",
    "FT.AGGREGATE idx * GROUPBY 1 @tag REDUCE COUNT 0 AS n SORTBY 2 @tag ASC",
    "VSIM vs VALUES 3 1 0.1 0 WITHSCORES",
    "VCARD vs",
    "COMMAND INFO get",
    "COMMAND DOCS get",
    "CONFIG GET maxmemory",
    "EVAL \"return {1,{2,{3,{}}},'x',{err='bad thing'},{ok='fine'}}\" 0",
    "EVAL \"return 3.7\" 0",
    "EVAL \"local t = {} for i = 1, 105 do t[i] = {i, {i, 'v'}} end return t\" 0",
    "EVAL \"return redis.error_reply('custom failure')\" 0",
    "EVAL \"return {}\" 0",
    "EVAL \"return nil\" 0",
    "EVAL \"return 'line\\nbreak'\" 0",
];

fn redis_cli(socket: &std::path::Path, args: &[Vec<u8>]) -> Vec<u8> {
    let output = std::process::Command::new("redis-cli")
        .arg("-s")
        .arg(socket)
        .arg("--no-raw")
        .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("redis-cli runs (setup installs redis-tools)");
    let mut out = output.stdout;
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

#[tokio::test]
async fn format_cli_matches_redis_cli_byte_for_byte() {
    let engine = Engine::discover(&default_config().engine_dir).unwrap();
    let redis = TestRedis::start(&engine).await;
    let mut con = redis.connect().await.unwrap();
    let run = |line: &str| protocol::split_args(line.as_bytes()).expect(line);
    for line in SETUP {
        let mut cmd = redis::Cmd::new();
        for arg in run(line) {
            cmd.arg(arg);
        }
        let value = con.req_packed_command(&cmd).await.unwrap();
        assert!(
            !matches!(value, redis::Value::ServerError(_)),
            "{line}: {value:?}"
        );
    }
    let mut mismatches = Vec::new();
    for line in CASES {
        let args = run(line);
        let mut cmd = redis::Cmd::new();
        for arg in &args {
            cmd.arg(arg.as_slice());
        }
        let value = con.req_packed_command(&cmd).await.unwrap();
        let ours =
            protocol::format_cli_for(&args, &convert(value, &mut Budget::new(100_000, 1 << 24)));
        let theirs = redis_cli(&redis.socket, &args);
        if ours.as_bytes() != theirs.as_slice() {
            mismatches.push(format!(
                "{line}\n--- redis-cli:\n{}\n--- format_cli:\n{ours}\n",
                String::from_utf8_lossy(&theirs)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        CASES.len(),
        mismatches.join("\n")
    );
}

/// Commands whose replies change between calls, most of them printed raw
/// by redis-cli (its `cliSendCommand` rule), plus a few it prints as usual
/// and errors of raw commands, which are raw too.
const REPLAYED: &[&str] = &[
    "INFO",
    "INFO memory",
    "info keyspace",
    "INFO server clients",
    "CLIENT INFO",
    "CLIENT LIST",
    "client list TYPE normal",
    "MEMORY DOCTOR",
    "MEMORY MALLOC-STATS",
    "LATENCY DOCTOR",
    "LATENCY GRAPH command",
    "LOLWUT",
    "CLUSTER INFO",
    "CLUSTER NODES",
    "DEBUG HTSTATS 0",
    "CLIENT INFO extra",
    // Printed the usual way:
    "MEMORY STATS",
    "MEMORY USAGE s",
    "LATENCY LATEST",
    "CLIENT ID",
    "CLUSTER NODES extra",
];

/// A command as redis-cli sends it: a RESP array of bulk strings.
fn resp_request(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends `request` on `stream` and reads one whole reply, as raw bytes.
async fn raw_reply(stream: &mut tokio::net::UnixStream, request: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while redis::parse_redis_value(&reply).is_err() {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the engine closed mid-reply");
        reply.extend_from_slice(&chunk[..n]);
    }
    reply
}

/// redis-cli's output for `replay.reply`, from a fake server on `socket`
/// that answers the one request with it.
async fn redis_cli_replayed(dir: &std::path::Path, args: &[Vec<u8>], replay: Replay) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = dir.join("replay.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        while !seen.ends_with(&replay.request) {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "redis-cli hung up before its command");
            seen.extend_from_slice(&chunk[..n]);
        }
        stream.write_all(&replay.reply).await.unwrap();
        // Until redis-cli hangs up.
        while stream.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
    });
    let output = tokio::process::Command::new("redis-cli")
        .arg("-s")
        .arg(&socket)
        .arg("--no-raw")
        .args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("redis-cli runs (setup installs redis-tools)");
    server.await.unwrap();
    output.stdout
}

/// What a terminal shows of redis-cli's bytes: `\r\n` ends a line, and
/// the final newline is the prompt's, not the reply's.
fn as_shown(bytes: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

#[tokio::test]
async fn raw_commands_print_like_redis_cli_on_the_same_reply() {
    let engine = Engine::discover(&default_config().engine_dir).unwrap();
    let redis = TestRedis::start(&engine).await;
    let mut stream = tokio::net::UnixStream::connect(&redis.socket)
        .await
        .unwrap();
    let setup = resp_request(&protocol::split_args(b"SET s hello").unwrap());
    raw_reply(&mut stream, &setup).await;
    let replay_dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for line in REPLAYED {
        let args = protocol::split_args(line.as_bytes()).expect(line);
        let request = resp_request(&args);
        let reply = raw_reply(&mut stream, &request).await;
        let value = redis::parse_redis_value(&reply).unwrap();
        let ours =
            protocol::format_cli_for(&args, &convert(value, &mut Budget::new(100_000, 1 << 24)));
        let theirs = as_shown(
            &redis_cli_replayed(replay_dir.path(), &args, Replay { request, reply }).await,
        );
        if ours != theirs {
            mismatches.push(format!(
                "{line}\n--- redis-cli:\n{theirs}\n--- format_cli_for:\n{ours}\n"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        REPLAYED.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn info_memory_shows_its_section_as_name_value_lines() {
    let engine = Engine::discover(&default_config().engine_dir).unwrap();
    let redis = TestRedis::start(&engine).await;
    let mut con = redis.connect().await.unwrap();
    let args = [b"INFO".to_vec(), b"memory".to_vec()];
    let value = con
        .req_packed_command(redis::cmd("INFO").arg("memory"))
        .await
        .unwrap();
    let text = protocol::format_cli_for(&args, &convert(value, &mut Budget::new(1_000, 1 << 20)));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("# Memory"), "{text}");
    assert!(
        lines.all(|l| l.split_once(':').is_some_and(|(name, _)| !name.is_empty())),
        "every line is name:value: {text}"
    );
    assert!(!text.contains('\r') && !text.contains('"'), "{text}");
}
