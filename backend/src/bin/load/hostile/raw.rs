//! The hostile kinds that break the protocol itself: a frame over the
//! console socket's size cap, a request whose headers arrive a byte at a
//! time (slowloris), and JSON nested far deeper than anything real.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::limits as l;
use futures_util::{SinkExt, StreamExt};
use protocol::{ApiError, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use super::{connect_from, end_session, http_from, new_session, open_ws, Answers, Row, Target};

/// The oversized frame: well past the 80 KiB cap.
const OVERSIZED_BYTES: usize = 1024 * 1024;
/// JSON nesting sent by the deep-JSON client.
pub const DEEP: usize = 10_000;
/// A slowloris connection sends one header byte this often.
const DRIBBLE_EVERY: Duration = Duration::from_millis(200);
/// How long an answer to a broken request may take to arrive.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// `n` sockets, one after another, each sending one text frame of 1 MiB
/// and reading what the server does about it.
pub async fn oversized(t: Arc<Target>, ip: IpAddr, n: usize) -> Row {
    let answers = Answers::default();
    let http = http_from(ip);
    let session = new_session(&http, &t.base).await;
    let mut took = Vec::new();
    if let Ok(session) = &session {
        for _ in 0..n {
            let ws = match open_ws(&t, ip, session).await {
                Ok(ws) => ws,
                Err(answer) => {
                    answers.add(format!("socket refused: {answer}"));
                    continue;
                }
            };
            let (mut sink, mut stream) = ws.split();
            let started = Instant::now();
            // Sent from its own task: the server answers after the frame's
            // header, long before the payload has gone out.
            let sender = tokio::spawn(async move {
                let _ = sink.send(Message::text("x".repeat(OVERSIZED_BYTES))).await;
            });
            let answer = loop {
                match tokio::time::timeout(ANSWER_WITHIN, stream.next()).await {
                    Err(_) => break "no answer".to_owned(),
                    Ok(Some(Ok(Message::Close(Some(frame))))) => {
                        break format!("close {}", u16::from(frame.code))
                    }
                    Ok(Some(Ok(Message::Close(None)))) => break "close (no code)".to_owned(),
                    Ok(Some(Ok(_))) => continue,
                    Ok(Some(Err(e))) => break format!("error: {e}"),
                    Ok(None) => break "closed without a close frame".to_owned(),
                }
            };
            took.push(started.elapsed().as_secs_f64() * 1000.0);
            answers.add(answer);
            sender.abort();
        }
        end_session(&http, &t.base, session).await;
    }
    let max_ms = took.iter().copied().fold(0.0, f64::max);
    answers.row(
        "oversized WebSocket frame (1 MiB)",
        "the console socket's 80 KiB cap on a frame and a message (`MAX_MESSAGE`, http/ws.rs), checked on the frame's header: close 1009 (message too big) before the payload is read".into(),
        match session {
            Ok(_) => format!("answered within {max_ms:.0} ms at most"),
            Err(e) => format!("no session: {e}"),
        },
    )
}

/// `n` connections, each sending a request line and then one header byte
/// every `DRIBBLE_EVERY`, reconnecting when the server closes it, until
/// `until`.
pub async fn slowloris(t: Arc<Target>, first_ip: IpAddr, n: usize, until: Instant) -> Row {
    let answers = Answers::default();
    let closed_after: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (t, answers, closed_after) = (t.clone(), answers.clone(), closed_after.clone());
            // Spread over 20 addresses from `first_ip` on.
            let ip = match first_ip {
                IpAddr::V4(v4) => {
                    let [a, b, c, d] = v4.octets();
                    IpAddr::from([a, b, c, d.saturating_add(u8::try_from(i % 20).unwrap_or(0))])
                }
                other => other,
            };
            tokio::spawn(async move {
                while Instant::now() < until {
                    let started = Instant::now();
                    let answer = slow_request(&t, ip, until).await;
                    if answer != "phase over" {
                        if let Ok(mut c) = closed_after.lock() {
                            c.push(started.elapsed().as_secs_f64());
                        }
                    }
                    answers.add(answer);
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let mut closed = closed_after.lock().map(|c| c.clone()).unwrap_or_default();
    closed.sort_by(f64::total_cmp);
    let p50 = closed.get(closed.len() / 2).copied().unwrap_or(0.0);
    let max = closed.last().copied().unwrap_or(0.0);
    answers.row(
        "slowloris (headers a byte at a time)",
        format!(
            "`header_timeout_ms` {}: the server closes a connection whose headers are not complete by then",
            l::DEFAULT_HEADER_TIMEOUT_MS
        ),
        format!(
            "{n} connections at once, each reconnecting when closed; closed after p50 {p50:.1} s, max {max:.1} s"
        ),
    )
}

/// One slowloris request: what the server did, as counted.
async fn slow_request(t: &Target, ip: IpAddr, until: Instant) -> String {
    let mut stream = match connect_from(ip, t.server).await {
        Ok(stream) => stream,
        Err(e) => return format!("connect: {}", e.kind()),
    };
    let host = t.server.to_string();
    let head = format!("GET /api/lessons HTTP/1.1\r\nHost: {host}\r\nX-Slow: ");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return "closed at once".into();
    }
    let mut buf = [0u8; 512];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => {
                return match read {
                    Ok(0) => "closed, no answer".into(),
                    Ok(len) => {
                        let text = String::from_utf8_lossy(&buf[..len]);
                        let status = text.lines().next().unwrap_or_default().to_owned();
                        format!("answered `{status}`, closed")
                    }
                    Err(e) => format!("reset ({})", e.kind()),
                };
            }
            () = tokio::time::sleep(DRIBBLE_EVERY) => {
                if Instant::now() >= until {
                    return "phase over".into();
                }
                if stream.write_all(b"a").await.is_err() {
                    return "closed while writing".into();
                }
            }
        }
    }
}

/// `n` requests whose JSON nests `DEEP` levels: over HTTP (`POST /api/exec`)
/// and as a console socket message.
pub async fn deep(t: Arc<Target>, ip: IpAddr, n: usize) -> Row {
    let answers = Answers::default();
    let http = http_from(ip);
    let nested = format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP));
    let session = new_session(&http, &t.base).await;
    if let Ok(session) = &session {
        for _ in 0..n {
            // The whole body is the nesting: where a value is expected.
            let body = nested.clone();
            let answer = match http
                .post(format!("{}/api/exec", t.base))
                .bearer_auth(session)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.unwrap_or_default();
                    match serde_json::from_slice::<ApiError>(&body) {
                        Ok(e) => format!("HTTP {status} {}", e.error.code.as_str()),
                        Err(_) => format!("HTTP {status}"),
                    }
                }
                Err(e) => format!("HTTP: no answer ({e})"),
            };
            answers.add(answer);
            answers.add(deep_message(&t, ip, session, &nested).await);
        }
        end_session(&http, &t.base, session).await;
    }
    answers.row(
        &format!("JSON nested {DEEP} deep (`POST /api/exec` body and socket message)"),
        format!(
            "`JSON_MAX_DEPTH` {} (serde_json's recursion limit): the socket message (buffered as values first) stops there, closed as a protocol violation; the HTTP body is refused with 400 at the second level, where a string was expected, before any deeper parsing",
            l::JSON_MAX_DEPTH
        ),
        match session {
            Ok(_) => format!("{n} bodies of {} KiB, {n} socket messages", (2 * DEEP + 30) / 1024),
            Err(e) => format!("no session: {e}"),
        },
    )
}

/// The same nesting as a console message: the server's answer, counted.
async fn deep_message(t: &Target, ip: IpAddr, session: &str, nested: &str) -> String {
    let mut ws = match open_ws(t, ip, session).await {
        Ok(ws) => ws,
        Err(answer) => return format!("socket refused: {answer}"),
    };
    let text = format!(r#"{{"type":"exec","seq":1,"line":"PING","x":{nested}}}"#);
    if ws.send(Message::text(text)).await.is_err() {
        return "socket: closed while sending".into();
    }
    let mut answer = String::from("socket:");
    loop {
        match tokio::time::timeout(ANSWER_WITHIN, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                if let Ok(ServerMessage::Error { error, .. }) = serde_json::from_str(&text) {
                    answer.push_str(&format!(" {}", error.code.as_str()));
                }
            }
            Ok(Some(Ok(Message::Close(_))) | None | Some(Err(_))) => {
                answer.push_str(", closed");
                return answer;
            }
            Ok(Some(Ok(_))) => {}
            Err(_) => {
                answer.push_str(" (still open)");
                return answer;
            }
        }
    }
}
