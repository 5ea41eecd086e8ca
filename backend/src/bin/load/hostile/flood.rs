//! The flood: one client sending console messages on its socket as fast
//! as it can, while another task reads what comes back.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::limits as l;
use futures_util::{SinkExt, StreamExt};
use protocol::ServerMessage;
use tokio_tungstenite::tungstenite::Message;

use super::{
    end_session, http_from, new_session, open_ws, Answers, Row, Target, FLOOD_AIM_PER_SEC,
};

/// One client sending `exec PING` on its socket as fast as it can, while
/// another task reads what comes back.
pub async fn flood(t: Arc<Target>, ip: IpAddr, until: Instant) -> Row {
    let answers = Answers::default();
    let stopped_by = format!(
        "`ws_messages_per_sec` {} (burst {}): the server reads the socket no faster, so the rest waits in TCP; of what it reads, commands past `rate_per_sec` {} (burst {}) are answered `rate_limited`",
        l::DEFAULT_WS_MESSAGES_PER_SEC,
        l::DEFAULT_WS_MESSAGE_BURST,
        l::DEFAULT_RATE_PER_SEC,
        l::DEFAULT_RATE_BURST
    );
    let http = http_from(ip);
    let ws = match new_session(&http, &t.base).await {
        Ok(session) => open_ws(&t, ip, &session).await.map(|ws| (session, ws)),
        Err(e) => Err(format!("session refused: {e}")),
    };
    let (session, ws) = match ws {
        Ok(opened) => opened,
        Err(e) => return answers.row("message flood", stopped_by, format!("never opened: {e}")),
    };
    let (mut sink, mut stream) = ws.split();
    let reader_answers = answers.clone();
    let reader = tokio::spawn(async move {
        let mut read = 0u64;
        let end = until + Duration::from_secs(2);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(end.into(), stream.next()).await {
            let Message::Text(text) = message else {
                if let Message::Close(frame) = message {
                    reader_answers.add(format!(
                        "close {}",
                        frame.map_or(1005, |f| u16::from(f.code))
                    ));
                }
                continue;
            };
            read += 1;
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Result { .. }) => reader_answers.add("ran"),
                Ok(ServerMessage::Error { error, .. }) => reader_answers.add(error.code.as_str()),
                _ => {}
            }
        }
        read
    });
    let started = Instant::now();
    let mut sent = 0u64;
    while Instant::now() < until {
        let text = format!(r#"{{"type":"exec","seq":{},"line":"PING"}}"#, sent + 1);
        match tokio::time::timeout_at(until.into(), sink.feed(Message::text(text))).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
        if sent.is_multiple_of(64)
            && tokio::time::timeout_at(until.into(), sink.flush())
                .await
                .is_err()
        {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    let answered = reader.await.unwrap_or(0);
    end_session(&http, &t.base, &session).await;
    let mut row = answers.row(
        "message flood (one socket)",
        stopped_by,
        format!(
            "sent {sent} messages in {secs:.1} s ({:.0}/s of the {FLOOD_AIM_PER_SEC}/s aimed at); answered {answered} ({:.0}/s); the socket stayed open",
            sent as f64 / secs,
            answered as f64 / secs
        ),
    );
    row.attempted = sent;
    row.refused = sent.saturating_sub(row.answers.get("ran").copied().unwrap_or(0));
    row
}
