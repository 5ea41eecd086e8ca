//! The console over `GET /ws?session=<id>`: typed messages, sequence
//! numbers echoed, the same exec semantics as HTTP, and pushed notices.

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, NoticeKind, Reply, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::support::TestApp;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, session: &str) -> Socket {
    let url = format!(
        "{}/ws?session={session}",
        app.base.replace("http://", "ws://")
    );
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    socket
}

async fn send(socket: &mut Socket, message: &ClientMessage) {
    let text = serde_json::to_string(message).unwrap();
    socket.send(Message::Text(text.into())).await.unwrap();
}

async fn receive(socket: &mut Socket) -> ServerMessage {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("a ServerMessage");
        }
    }
}

#[tokio::test]
async fn exec_over_websocket_echoes_seq_and_matches_http() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut socket = connect(&app, &session).await;
    send(
        &mut socket,
        &ClientMessage::Exec {
            seq: 41,
            line: "HSET user:1 a 1".into(),
        },
    )
    .await;
    match receive(&mut socket).await {
        ServerMessage::Result { seq, result } => {
            assert_eq!(seq, 41);
            assert_eq!(result.reply, Reply::Integer { value: 1 });
            assert_eq!(result.text, "(integer) 1");
        }
        other => panic!("expected a result, got {other:?}"),
    }
    send(
        &mut socket,
        &ClientMessage::Exec {
            seq: 42,
            line: "SHUTDOWN".into(),
        },
    )
    .await;
    match receive(&mut socket).await {
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
    send(&mut socket, &ClientMessage::Ping { seq: 43 }).await;
    assert_eq!(receive(&mut socket).await, ServerMessage::Pong { seq: 43 });
}

#[tokio::test]
async fn a_reset_elsewhere_is_pushed_as_a_notice() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut socket = connect(&app, &session).await;
    let reset = app
        .http
        .post(format!("{}/api/sessions/reset", app.base))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    match receive(&mut socket).await {
        ServerMessage::Notice { notice } => assert_eq!(notice.kind, NoticeKind::Reset),
        other => panic!("expected a notice, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_closes_the_socket_with_an_explanation() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut socket = connect(&app, &session).await;
    socket
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    match receive(&mut socket).await {
        ServerMessage::Error { error, .. } => assert_eq!(error.code, "protocol_violation"),
        other => panic!("expected an error, got {other:?}"),
    }
    // Then the server closes.
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(
        matches!(next, Some(Ok(Message::Close(_))) | None | Some(Err(_))),
        "{next:?}"
    );
}

#[tokio::test]
async fn an_unknown_session_cannot_open_a_socket() {
    let app = TestApp::spawn().await;
    let url = format!("{}/ws?session=nope", app.base.replace("http://", "ws://"));
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

#[tokio::test]
async fn deleting_the_session_closes_its_socket() {
    let app = TestApp::spawn().await;
    let session = app.new_session().await;
    let mut socket = connect(&app, &session).await;
    send(&mut socket, &ClientMessage::Ping { seq: 1 }).await;
    assert_eq!(receive(&mut socket).await, ServerMessage::Pong { seq: 1 });
    let deleted = app
        .http
        .delete(format!("{}/api/sessions", app.base))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .expect("the server closes the socket");
    assert!(
        matches!(next, Some(Ok(Message::Close(_))) | None | Some(Err(_))),
        "{next:?}"
    );
}
