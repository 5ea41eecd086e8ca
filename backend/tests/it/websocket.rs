//! The console over `GET /ws?session=<id>`: typed messages, sequence
//! numbers echoed, the same exec semantics as HTTP, the session's state on
//! opening, and pushed notices.

use protocol::{ClientMessage, NoticeKind, Reply, ServerMessage};

use crate::support::TestApp;

#[tokio::test]
async fn exec_over_websocket_echoes_seq_and_matches_http() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    let reply = ws
        .request(ClientMessage::Exec {
            seq: 41,
            line: "HSET user:1 a 1".into(),
        })
        .await;
    match reply {
        ServerMessage::Result { seq, result } => {
            assert_eq!(seq, 41);
            assert_eq!(result.reply, Reply::Integer { value: 1 });
            assert_eq!(result.text, "(integer) 1");
        }
        other => panic!("expected a result, got {other:?}"),
    }
    let reply = ws
        .request(ClientMessage::Exec {
            seq: 42,
            line: "SHUTDOWN".into(),
        })
        .await;
    match reply {
        ServerMessage::Error { seq, error } => {
            assert_eq!(seq, 42);
            assert_eq!(error.code, "command_refused");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // Same sandbox as HTTP.
    assert_eq!(
        app.exec(&session, "HGET user:1 a").await.reply,
        Reply::bulk("1")
    );
    assert_eq!(
        ws.request(ClientMessage::Ping { seq: 43 }).await,
        ServerMessage::Pong { seq: 43 }
    );
}

#[tokio::test]
async fn a_socket_opens_with_the_sessions_transaction_state() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let ws = app.ws(&session).await;
    assert!(!ws.opened_in_multi);
    app.exec(&session, "MULTI").await;
    // A reloaded page learns that the session is inside MULTI.
    let reopened = app.ws(&session).await;
    assert!(reopened.opened_in_multi);
}

#[tokio::test]
async fn a_reset_over_the_socket_answers_reset_done_with_an_empty_sandbox() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    assert!(matches!(
        ws.exec("SET k v").await,
        ServerMessage::Result { .. }
    ));
    let seq = ws.seq();
    assert_eq!(
        ws.request(ClientMessage::Reset { seq }).await,
        ServerMessage::ResetDone { seq }
    );
    assert_eq!(
        app.exec(&session, "DBSIZE").await.reply,
        Reply::Integer { value: 0 }
    );
}

#[tokio::test]
async fn a_reset_elsewhere_is_pushed_as_a_notice() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    assert_eq!(app.reset(&session).await.status(), 200);
    match ws.next().await {
        ServerMessage::Notice { notice } => assert_eq!(notice.kind, NoticeKind::Reset),
        other => panic!("expected a notice, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_closes_the_socket_with_an_explanation() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    ws.send_text("{not json").await;
    match ws.next().await {
        ServerMessage::Error { error, .. } => assert_eq!(error.code, "protocol_violation"),
        other => panic!("expected an error, got {other:?}"),
    }
    ws.expect_closed().await;
}

#[tokio::test]
async fn an_unknown_session_cannot_open_a_socket() {
    let app = TestApp::spawn().await;
    assert!(tokio_tungstenite::connect_async(app.ws_url("nope"))
        .await
        .is_err());
}

#[tokio::test]
async fn deleting_the_session_closes_its_socket() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut ws = app.ws(&session).await;
    assert_eq!(
        ws.request(ClientMessage::Ping { seq: 1 }).await,
        ServerMessage::Pong { seq: 1 }
    );
    assert_eq!(app.delete(&session).await.status(), 204);
    ws.expect_closed().await;
}

/// A page that vanished without closing (a laptop shut, a network gone)
/// stops answering the server's pings: its socket is closed within two
/// intervals and its place under the session's cap comes back. A page
/// that answers keeps its socket.
#[tokio::test]
async fn a_socket_whose_page_stopped_answering_pings_is_closed() {
    let app = TestApp::with_limits(|limits| limits.ws_ping_every_ms = 100).await;
    let id = app.new_session().await;
    let mut alive = app.ws(&id).await;
    let mut silent = app.ws(&id).await;
    assert_eq!(app.state.sessions.sockets_for(&id), 2);
    // Ten intervals: one socket reads (and so answers every ping), the
    // other reads nothing.
    assert!(
        alive.stays_open(std::time::Duration::from_secs(1)).await,
        "a page that answers pings keeps its socket"
    );
    silent.expect_closed().await;
    assert_eq!(app.state.sessions.sockets_for(&id), 1);
    match alive.exec("PING").await {
        ServerMessage::Result { result, .. } => assert_eq!(result.text, "PONG"),
        other => panic!("the live socket still works: {other:?}"),
    }
}

/// A client that stops reading (a frozen tab, or one that means harm) lets
/// replies pile up until the socket's buffers are full. A reply that waits
/// a whole ping interval for it closes the socket, instead of holding the
/// socket's loop, and with it the session's end and its place under the
/// caps, for as long as the client likes.
#[tokio::test]
async fn a_socket_whose_client_stopped_reading_is_closed() {
    use futures_util::SinkExt;
    let app = TestApp::with_limits(|limits| limits.ws_ping_every_ms = 300).await;
    let id = app.new_session().await;
    app.exec(&id, "SETRANGE big 1048575 x").await;
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(addr).await.unwrap();
    let (mut socket, _) = tokio_tungstenite::client_async(app.ws_url(&id), stream)
        .await
        .expect("the socket opens");
    assert_eq!(app.state.sessions.sockets_for(&id), 1);
    // About 30 MB of replies, none of them read.
    for seq in 1..=30 {
        let exec = ClientMessage::Exec {
            seq,
            line: "GET big".into(),
        };
        let text = serde_json::to_string(&exec).unwrap();
        socket
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.state.sessions.sockets_for(&id) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a socket whose client reads nothing is still open after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The session itself is fine: a new socket works.
    let mut ws = app.ws(&id).await;
    match ws.exec("STRLEN big").await {
        ServerMessage::Result { result, .. } => assert_eq!(result.text, "(integer) 1048576"),
        other => panic!("a new socket works: {other:?}"),
    }
    drop(socket);
}

/// `GET /api/sessions` says a session is alive and how many of its
/// sockets are open against the cap (what a page whose socket was refused
/// asks); an unknown session is a 401.
#[tokio::test]
async fn a_sessions_status_counts_its_open_sockets() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let status = |id: String| {
        let app = &app;
        async move {
            let response = app.get_as(&id, "/api/sessions").await;
            assert_eq!(response.status(), 200);
            response
                .json::<protocol::SessionStatus>()
                .await
                .expect("a SessionStatus")
        }
    };
    let cap = app.state.sessions.pool().spec().limits.sockets_per_session as u32;
    let before = status(id.clone()).await;
    assert_eq!((before.sockets, before.sockets_per_session), (0, cap));
    let _ws = app.ws(&id).await;
    assert_eq!(status(id.clone()).await.sockets, 1);
    let unknown = app.get_as("not-a-session", "/api/sessions").await;
    assert_eq!(unknown.status(), 401);
}
