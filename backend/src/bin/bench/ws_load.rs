//! The WebSocket load: `clients` clients, each on a connection of its own,
//! each sending one command and waiting for its reply before sending the
//! next. They run on a thread and a single-threaded runtime of their own
//! (like `wrk -t1`), so the server under test never shares its scheduler
//! with them. The same client code talks to the app and to webdis: only the
//! URL and the message's JSON differ. The time taken is that of one
//! command, from just before its frame is written to its reply's arrival.
//!
//! webdis 0.1.22 is a standard WebSocket server: tokio-tungstenite's own
//! handshake, one socket kept across commands, exactly as for the app. The
//! workarounds below (`WsDialect::Legacy`) are only for Debian 12's 0.1.9,
//! the fallback when 0.1.22 is not installed: a non-standard handshake, a
//! socket per command, and a connection to clear a swallowed descriptor.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::report::Figures;
use crate::webdis::WsDialect;

/// Commands sent before the measured window opens (per client).
const WARM_UP: Duration = Duration::from_millis(300);
/// How long a webdis handshake may go unanswered before it is retried on a
/// new socket, and how often in a row (see `clear_stale_descriptor`).
const HANDSHAKE_WAIT: Duration = Duration::from_millis(20);
const HANDSHAKE_TRIES: usize = 100;

/// Who answers, and what the one command looks like to it.
pub enum Server {
    /// The app's console socket, one session per client.
    App {
        addr: SocketAddr,
        sessions: Vec<String>,
    },
    /// webdis's JSON WebSocket on `/.json`.
    Webdis { addr: SocketAddr, ws: WsDialect },
}

/// Whether a client keeps its socket, or opens one per command (all that
/// webdis 0.1.9 allows: it closes the socket after each reply; 0.1.22 keeps
/// it). Opening is never timed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sockets {
    Kept,
    PerCommand,
}

/// The command both servers run: `GET key`, whose value is `value`.
pub struct Command {
    pub key: String,
    pub value: String,
}

pub struct Load {
    pub server: Server,
    pub command: Command,
    pub clients: usize,
    pub sockets: Sockets,
    pub duration: Duration,
    /// webdis handshakes that went unanswered and were retried.
    pub unanswered: AtomicUsize,
}

type Socket = WebSocketStream<TcpStream>;

/// Runs `load` on its own thread and runtime; its figures once it is done
/// (and, for webdis, how many handshakes had to be retried).
pub async fn measure(load: Load) -> anyhow::Result<(Figures, usize)> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-client".into())
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("start the clients' runtime")
                .and_then(|runtime| runtime.block_on(drive(load)));
            let _ = done.send(outcome);
        })
        .context("start the clients' thread")?;
    result.await.context("the clients' thread died")?
}

async fn drive(load: Load) -> anyhow::Result<(Figures, usize)> {
    let load = Arc::new(load);
    let started = Instant::now();
    let measured_from = started + WARM_UP;
    let until = measured_from + load.duration;
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..load.clients {
        let load = load.clone();
        clients.spawn(async move {
            run_client(&load, client, measured_from, until)
                .await
                .with_context(|| format!("client {} of {}", client + 1, load.clients))
        });
    }
    let mut samples = Vec::new();
    while let Some(joined) = clients.join_next().await {
        samples.extend(joined.context("a client panicked")??);
    }
    Ok((
        Figures::from_samples(samples, load.duration.as_secs_f64()),
        load.unanswered.load(Ordering::Relaxed),
    ))
}

async fn run_client(
    load: &Load,
    client: usize,
    measured_from: Instant,
    until: Instant,
) -> anyhow::Result<Vec<u64>> {
    let mut samples = Vec::with_capacity(16 * 1024);
    let mut seq = 0u64;
    let mut kept = None;
    loop {
        let mut socket = match kept.take() {
            Some(socket) => socket,
            None => open(load, client).await?,
        };
        seq += 1;
        let started = Instant::now();
        if started >= until {
            break;
        }
        let took = round_trip(load, &mut socket, seq).await?;
        if started >= measured_from {
            samples.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        }
        // A socket not kept drops with zero linger: no TIME_WAIT piles up
        // over thousands of sockets.
        match (load.sockets, &load.server) {
            (Sockets::Kept, _) => kept = Some(socket),
            (Sockets::PerCommand, Server::App { .. })
            | (
                Sockets::PerCommand,
                Server::Webdis {
                    ws: WsDialect::Standard,
                    ..
                },
            ) => drop(socket),
            (
                Sockets::PerCommand,
                Server::Webdis {
                    addr,
                    ws: WsDialect::Legacy,
                },
            ) => {
                // webdis closes its end after the reply; wait for that, so
                // the descriptor it frees is the one cleared next.
                let _ = tokio::time::timeout(HANDSHAKE_WAIT, socket.next()).await;
                drop(socket);
                clear_stale_descriptor(*addr).await?;
            }
        }
    }
    Ok(samples)
}

/// One command, timed from just before its frame leaves to its reply.
async fn round_trip(load: &Load, socket: &mut Socket, seq: u64) -> anyhow::Result<Duration> {
    let key = &load.command.key;
    let request = match load.server {
        Server::App { .. } => {
            format!(r#"{{"type":"exec","seq":{seq},"line":"GET {key}"}}"#)
        }
        Server::Webdis { .. } => format!(r#"["GET","{key}"]"#),
    };
    let started = Instant::now();
    socket
        .send(Message::Text(request.into()))
        .await
        .context("send the command")?;
    let reply = next_text(socket).await.context("read the reply")?;
    let took = started.elapsed();
    check(load, seq, &reply)?;
    Ok(took)
}

/// The reply must be the value, every time; the first one is read in full.
fn check(load: &Load, seq: u64, reply: &str) -> anyhow::Result<()> {
    let value = &load.command.value;
    let ok = match load.server {
        Server::App { .. } if seq == 1 => matches!(
            serde_json::from_str::<protocol::ServerMessage>(reply),
            Ok(protocol::ServerMessage::Result { result, .. }) if result.text == format!("\"{value}\"")
        ),
        Server::App { .. } => reply.starts_with(r#"{"type":"result""#),
        Server::Webdis { .. } => reply == format!(r#"{{"GET":"{value}"}}"#),
    };
    if !ok {
        bail!("unexpected reply to GET {}: {reply}", load.command.key);
    }
    Ok(())
}

async fn next_text(socket: &mut Socket) -> anyhow::Result<String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => bail!("expected a text frame, got {other:?}"),
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the server closed the socket"),
        }
    }
}

/// Both servers' clients read 4 KiB at a time (tungstenite zero-fills its
/// whole read buffer before each read; its 128 KiB default would make the
/// client, not the server, the bottleneck).
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect to {addr}"))?;
    stream.set_nodelay(true)?;
    stream.set_zero_linger()?;
    Ok(stream)
}

async fn open(load: &Load, client: usize) -> anyhow::Result<Socket> {
    match &load.server {
        Server::App { addr, sessions } => {
            let stream = connect(*addr).await?;
            let session = &sessions[client % sessions.len()];
            let url = format!("ws://{addr}/ws?session={session}");
            let (mut socket, _) =
                tokio_tungstenite::client_async_with_config(url, stream, Some(client_config()))
                    .await
                    .context("the app's WebSocket handshake")?;
            // The socket's first message is the session's state.
            let hello = next_text(&mut socket).await?;
            if !hello.starts_with(r#"{"type":"session_state""#) {
                bail!("the app's socket opened with {hello}");
            }
            Ok(socket)
        }
        Server::Webdis {
            addr,
            ws: WsDialect::Standard,
        } => {
            let stream = connect(*addr).await?;
            let url = format!("ws://{addr}/.json");
            let (socket, _) =
                tokio_tungstenite::client_async_with_config(url, stream, Some(client_config()))
                    .await
                    .context("webdis's WebSocket handshake")?;
            Ok(socket)
        }
        Server::Webdis {
            addr,
            ws: WsDialect::Legacy,
        } => {
            for _ in 0..HANDSHAKE_TRIES {
                let mut stream = connect(*addr).await?;
                stream
                    .write_all(webdis_handshake(*addr).as_bytes())
                    .await
                    .context("send webdis's handshake")?;
                let head = match tokio::time::timeout(HANDSHAKE_WAIT, read_head(&mut stream)).await
                {
                    Ok(head) => head?,
                    Err(_) => {
                        load.unanswered.fetch_add(1, Ordering::Relaxed);
                        drop(stream);
                        clear_stale_descriptor(*addr).await?;
                        continue;
                    }
                };
                if !head.starts_with("HTTP/1.1 101") {
                    bail!("webdis refused the WebSocket: {head}");
                }
                return Ok(WebSocketStream::from_raw_socket(
                    stream,
                    Role::Client,
                    Some(client_config()),
                )
                .await);
            }
            bail!("webdis answered none of {HANDSHAKE_TRIES} handshakes in a row")
        }
    }
}

/// After a socket it served, webdis 0.1.9 leaves a stale read event on the
/// closed descriptor, and the next connection given that number is
/// swallowed (every other new socket with one thread; with more threads,
/// a connection that closes at once no longer clears it reliably). A
/// connection that closes at once takes that number and clears it, untimed.
async fn clear_stale_descriptor(addr: SocketAddr) -> anyhow::Result<()> {
    // A plain close (FIN), which webdis reads as the end of the socket.
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect to {addr}"))?;
    drop(stream);
    Ok(())
}

/// What webdis 0.1.9 answers: an RFC 6455 upgrade plus `Origin` and the 8
/// trailing bytes of a hixie-76 handshake (without them it never replies).
fn webdis_handshake(addr: SocketAddr) -> String {
    format!(
        "GET /.json HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Origin: http://{addr}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n12345678"
    )
}

/// The response's head, up to its blank line (nothing follows it before
/// the first frame is sent).
async fn read_head(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.ends_with(b"\r\n\r\n") {
        let read = stream
            .read(&mut chunk)
            .await
            .context("read the handshake's answer")?;
        if read == 0 {
            bail!(
                "closed during the handshake after {:?}",
                String::from_utf8_lossy(&head)
            );
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
