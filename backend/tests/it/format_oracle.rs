//! `format_cli` against the real thing: every reply here is rendered by
//! Debian's `redis-cli --no-raw` and by the gateway's path (redis-rs value →
//! `Reply` → `format_cli`), and the two must match byte for byte.

use std::os::unix::ffi::OsStrExt;

use backend::engine::Engine;
use backend::gateway::convert::{convert, Budget};
use redis::aio::ConnectionLike;

use crate::support::{default_config, TestRedis};

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
        let ours = protocol::format_cli(&convert(value, &mut Budget::new(100_000, 1 << 24)));
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
