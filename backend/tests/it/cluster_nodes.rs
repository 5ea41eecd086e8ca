//! Three real nodes on one shared control store: any node serves any
//! session (forwarded to the node holding its sandbox, WebSockets
//! included), new sessions spread to the least loaded node, a second tab
//! on another node takes over the learner's session, and a node killed
//! with `-9` loses nothing acknowledged: its learners are back on a live
//! node, with the restart notice, within 2 s.

use std::time::{Duration, Instant};

use protocol::{ExecResponse, NoticeKind, ServerMessage};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::nodes::{Nodes, NAMES};
use crate::support::ws::WsClient;

async fn exec_ok(
    server: &crate::support::server::ServerProcess,
    session: &str,
    line: &str,
) -> ExecResponse {
    let response = server.exec(session, line).await;
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(
        status,
        StatusCode::OK,
        "{line} through {}: {text}",
        server.base
    );
    serde_json::from_str(&text).expect("ExecResponse JSON")
}

fn ws_url(server: &crate::support::server::ServerProcess, session: &str) -> String {
    format!(
        "{}/ws?session={session}",
        server.base.replacen("http", "ws", 1)
    )
}

#[tokio::test]
async fn any_node_serves_any_session_and_a_killed_node_loses_nothing() {
    // Every request comes from 127.0.0.1: lift the per-address caps.
    let mut nodes = Nodes::start(
        3,
        &[
            ("--sandboxes-per-ip", "50"),
            ("--spawns-per-min-per-ip", "100"),
        ],
    )
    .await;
    let [a, b, c] = [0, 1, 2];

    // Every node took the same instructor link from the store.
    let links: Vec<String> = nodes
        .servers
        .iter()
        .map(|s| {
            s.log
                .text()
                .lines()
                .find_map(|l| l.split("/instructor#").nth(1).map(str::to_owned))
                .expect("an instructor link")
        })
        .collect();
    assert!(links.iter().all(|l| *l == links[0]), "{links:?}");

    // A learner made through A works through B and C, over HTTP and a
    // WebSocket, on one sandbox.
    let learner = nodes.servers[a].new_learner(json!({"name": "Ada"})).await;
    let session = nodes.servers[a]
        .new_session(Some(&learner.token))
        .await
        .session;
    let home = nodes.owner_of(&session).await;
    exec_ok(&nodes.servers[b], &session, "SET greeting hello").await;
    let got = exec_ok(&nodes.servers[c], &session, "GET greeting").await;
    assert_eq!(got.text, "\"hello\"");
    let mut socket = WsClient::connect(&ws_url(&nodes.servers[b], &session)).await;
    match socket.exec("GET greeting").await {
        ServerMessage::Result { result, .. } => assert_eq!(result.text, "\"hello\""),
        other => panic!("GET over a forwarded WebSocket: {other:?}"),
    }
    drop(socket);

    // A second tab that reaches another node takes over the same session.
    let again = nodes.servers[c].new_session(Some(&learner.token)).await;
    assert_eq!(again.session, session, "the learner's live session");

    // Progress acknowledged through B before anything dies.
    let (slug, step) = nodes.servers[b].first_step().await;
    let saved = nodes.servers[b]
        .progress(&learner.token, &slug, &step)
        .await
        .expect("progress");
    assert_eq!(saved.status(), StatusCode::OK);

    // New sessions spread: a node with two more sessions than another
    // sends the next one there.
    let mut owners = vec![home.clone()];
    for _ in 0..4 {
        let anonymous = nodes.servers[a].new_session(None).await.session;
        owners.push(nodes.owner_of(&anonymous).await);
    }
    owners.sort();
    owners.dedup();
    assert!(owners.len() >= 2, "every new session stayed on {owners:?}");

    // A session that lives on B, found through the directory.
    let mut on_b = None;
    for _ in 0..6 {
        let candidate = nodes.servers[b].new_session(None).await.session;
        if nodes.owner_of(&candidate).await == NAMES[b] {
            on_b = Some(candidate);
            break;
        }
    }
    let on_b = on_b.expect("B keeps a session when it is the least loaded");
    exec_ok(&nodes.servers[a], &on_b, "SET lost soon").await;
    // A stranger cannot pass as a node: a made-up hop secret is ignored,
    // so the request is still forwarded (a trusted one would be served
    // where it lands, where B's session is unknown).
    let forged = nodes.servers[a]
        .http
        .post(nodes.servers[a].url("/api/exec"))
        .bearer_auth(&on_b)
        .header("x-redis-tutor-hop", "a-guess")
        .header("x-redis-tutor-client", "10.9.9.9")
        .json(&protocol::ExecRequest {
            line: "GET lost".into(),
        })
        .send()
        .await
        .expect("forged hop");
    assert_eq!(forged.status(), StatusCode::OK);
    // The learner's own session must survive too: move it to B's fate
    // only if it lives there.
    let learner_on_b = home == NAMES[b];

    nodes.servers[b].kill9();
    let killed = Instant::now();

    // B's learner, through A: a fresh sandbox with the restart notice.
    let back = exec_ok(&nodes.servers[a], &on_b, "GET lost").await;
    let within = killed.elapsed();
    assert!(
        back.notices.iter().any(|n| n.kind == NoticeKind::Restarted),
        "the re-homed reply tells the learner: {back:?}"
    );
    assert_eq!(back.text, "(nil)", "the old sandbox's data went with B");
    assert!(within < Duration::from_secs(2), "re-homed after {within:?}");
    assert_eq!(nodes.owner_of(&on_b).await, NAMES[a]);
    // Through C, it is forwarded to its new home on A.
    let via_c = exec_ok(&nodes.servers[c], &on_b, "PING").await;
    assert_eq!(via_c.text, "PONG");
    assert!(via_c.notices.is_empty(), "told once: {via_c:?}");

    // The learner's session still answers wherever it lived, and their
    // acknowledged progress is intact through C.
    let ping = exec_ok(&nodes.servers[c], &session, "PING").await;
    assert_eq!(ping.text, "PONG");
    if !learner_on_b {
        let kept = exec_ok(&nodes.servers[a], &session, "GET greeting").await;
        assert_eq!(kept.text, "\"hello\"", "a live node's sandbox is untouched");
    }
    let me = nodes.servers[c].me(&learner.token).await;
    assert_eq!(me.progress.get(&slug), Some(&vec![step.clone()]));

    // /metrics counts what each node did for the others.
    let metric = |server: &crate::support::server::ServerProcess, name: &'static str| {
        let url = server.url("/metrics");
        let http = server.http.clone();
        async move {
            let text = http
                .get(url)
                .send()
                .await
                .expect("/metrics")
                .text()
                .await
                .expect("text");
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
        }
    };
    assert_eq!(
        metric(&nodes.servers[a], "redis_tutor_rehomed_total").await,
        1
    );
    assert!(metric(&nodes.servers[c], "redis_tutor_forwarded_total").await >= 2);

    // B's lease lapses by itself.
    let deadline = Instant::now() + Duration::from_secs(5);
    while nodes.live_nodes().await.contains(&NAMES[b].to_owned()) {
        assert!(Instant::now() < deadline, "B's lease never lapsed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("re-homed {within:?} after kill -9");
}
