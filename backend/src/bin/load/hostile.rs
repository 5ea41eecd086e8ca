//! `--hostile`: clients that do not play by the rules, beside the class.
//! Once the quiet phase is over they start together and run to the end of
//! the hostile phase: idle WebSockets spread over many source addresses
//! (127.0.0.2 …, since the caps are per address), one client flooding its
//! socket as fast as it can, frames over the size cap, slowloris requests
//! (headers dribbled a byte at a time) and JSON nested 10,000 deep. Each
//! kind counts what the server answered, so the report can say which
//! limit stopped it and how. The class itself is a room (docs/instructor.md),
//! so it is admitted as a class behind one address is, while everybody
//! else meets the default per-address caps.

mod flood;
mod raw;
mod report;
mod rounds;

pub use report::{compare, markdown, Report};
pub use rounds::{run_all, Round};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::limits as l;
use futures_util::StreamExt;
use protocol::{ApiError, SessionCreated};
use serde::Serialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// First source address of the idle sockets (127.0.0.2); the other kinds
/// use addresses of their own past the idle ones.
const FIRST_IDLE: u8 = 2;
/// The flood's target rate: it sends as fast as it can, this is what it
/// would reach if nothing held it back.
pub const FLOOD_AIM_PER_SEC: u64 = 10_000;

/// How many of each kind, from the flags.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub idle: usize,
    pub addrs: u8,
    pub oversized: usize,
    pub slowloris: usize,
    pub deep: usize,
}

impl Plan {
    /// The address of hostile client `n` past the idle ones.
    fn extra(&self, n: u8) -> IpAddr {
        source(FIRST_IDLE.saturating_add(self.addrs).saturating_add(n))
    }

    /// Sandboxes the hostile clients can hold at most (for `--max-sandboxes`).
    pub fn sandboxes(&self) -> usize {
        (usize::from(self.addrs) + 3) * l::DEFAULT_SANDBOXES_PER_IP
    }
}

/// Where the server is.
pub struct Target {
    pub base: String,
    pub ws_base: String,
    pub server: SocketAddr,
    /// When the last idle socket had been opened (or refused): from then
    /// on no hostile client starts a sandbox, and the class's latency
    /// shows what holding them costs, without what starting them did.
    pub settled: Mutex<Option<Instant>>,
}

/// One hostile kind: what it tried and what the server answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub kind: String,
    pub attempted: u64,
    /// Answers by what they were (`open`, `429 too_many_sockets`,
    /// `close 1009`, …) and how many.
    pub answers: BTreeMap<String, u64>,
    /// Of `attempted`, refused (anything but `open` or `ran`).
    pub refused: u64,
    /// The limit that stopped it, in words with its value.
    pub stopped_by: String,
    pub detail: String,
}

/// Answers counted as they arrive, from many tasks.
#[derive(Clone, Default)]
pub struct Answers(Arc<Mutex<BTreeMap<String, u64>>>);

impl Answers {
    pub fn add(&self, answer: impl Into<String>) {
        if let Ok(mut all) = self.0.lock() {
            *all.entry(answer.into()).or_default() += 1;
        }
    }

    fn row(&self, kind: &str, stopped_by: String, detail: String) -> Row {
        let answers = self.0.lock().map(|a| a.clone()).unwrap_or_default();
        let attempted = answers
            .iter()
            .filter(|(k, _)| !k.starts_with("session"))
            .map(|(_, n)| n)
            .sum();
        let refused = answers
            .iter()
            .filter(|(k, _)| {
                !k.starts_with("session") && !matches!(k.as_str(), "open" | "ran" | "phase over")
            })
            .map(|(_, n)| n)
            .sum();
        Row {
            kind: kind.to_owned(),
            attempted,
            answers,
            refused,
            stopped_by,
            detail,
        }
    }
}

pub fn source(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A TCP connection to the server from source address `ip`.
pub async fn connect_from(ip: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(server).await
}

/// `429 too_many_sockets` from a status and the server's error body.
fn refusal(status: u16, body: Option<&[u8]>) -> String {
    match body.and_then(|b| serde_json::from_slice::<ApiError>(b).ok()) {
        Some(e) => format!("{status} {}", e.error.code.as_str()),
        None => status.to_string(),
    }
}

/// An HTTP client whose connections leave from `ip`.
pub fn http_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default()
}

/// A new anonymous session from `http`'s address, or the answer refusing it.
pub async fn new_session(http: &reqwest::Client, base: &str) -> Result<String, String> {
    let response = http
        .post(format!("{base}/api/sessions"))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    if status == 201 {
        serde_json::from_slice::<SessionCreated>(&body)
            .map(|c| c.session)
            .map_err(|e| format!("unreadable: {e}"))
    } else {
        Err(refusal(status, Some(&body)))
    }
}

pub async fn end_session(http: &reqwest::Client, base: &str, session: &str) {
    let _ = http
        .delete(format!("{base}/api/sessions"))
        .bearer_auth(session)
        .send()
        .await;
}

/// The console socket of `session`, opened from `ip`, or the answer
/// refusing it.
pub async fn open_ws(t: &Target, ip: IpAddr, session: &str) -> Result<Ws, String> {
    let stream = connect_from(ip, t.server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let url = format!("{}/ws?session={session}", t.ws_base);
    match tokio_tungstenite::client_async(url, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => Err(refusal(
            response.status().as_u16(),
            response.body().as_deref(),
        )),
        Err(e) => Err(format!("error: {e}")),
    }
}

/// Runs every kind from `from` to `until` and returns their rows. With
/// `cut_off`, idle sessions still waiting for admission at `until` are
/// given up.
pub async fn run(
    t: Arc<Target>,
    plan: Plan,
    from: Instant,
    until: Instant,
    cut_off: bool,
) -> Vec<Row> {
    tokio::time::sleep_until(from.into()).await;
    crate::say(&format!(
        "hostile phase: {} idle sockets from {} addresses, a flood, {} oversized frames, {} slowloris connections, {} deep JSON bodies",
        plan.idle, plan.addrs, plan.oversized, plan.slowloris, plan.deep
    ));
    let idle = tokio::spawn(idle(t.clone(), plan, until, cut_off));
    let flood = tokio::spawn(flood::flood(t.clone(), plan.extra(0), until));
    let oversized = tokio::spawn(raw::oversized(t.clone(), plan.extra(1), plan.oversized));
    let slowloris = tokio::spawn(raw::slowloris(
        t.clone(),
        plan.extra(2),
        plan.slowloris,
        until,
    ));
    let deep = tokio::spawn(raw::deep(t.clone(), plan.extra(3), plan.deep));
    let mut rows = Vec::new();
    for task in [idle, flood, oversized, slowloris, deep] {
        match task.await {
            Ok(row) => rows.push(row),
            Err(e) => crate::say(&format!("a hostile client failed: {e}")),
        }
    }
    rows
}

/// Idle sockets: as many as asked, spread over the addresses, each address
/// opening sessions (4 sockets each) until refused; every socket that
/// opens is held, read but never written, to the end of the phase.
async fn idle(t: Arc<Target>, plan: Plan, until: Instant, cut_off: bool) -> Row {
    let answers = Answers::default();
    let addrs = usize::from(plan.addrs.max(1));
    let per_addr: Vec<usize> = (0..addrs)
        .map(|a| plan.idle / addrs + usize::from(a < plan.idle % addrs))
        .collect();
    let mut tasks = Vec::new();
    for (a, &n) in per_addr.iter().enumerate() {
        let ip = source(FIRST_IDLE.saturating_add(u8::try_from(a).unwrap_or(u8::MAX)));
        tasks.push(tokio::spawn(idle_from(
            t.clone(),
            ip,
            n,
            until,
            cut_off.then_some(until),
            answers.clone(),
        )));
    }
    let (mut held, mut open_at_end) = (0, 0);
    for task in tasks {
        if let Ok((h, o)) = task.await {
            held += h;
            open_at_end += o;
        }
    }
    answers.row(
        "idle WebSockets",
        format!(
            "the class pace: visitors' sandboxes start `class_visitor_spawns_per_sec` {} a second while a class is here, a line of `admission_wait_secs` {} s, then 429 `server_full`; per-address caps: `sandboxes_per_ip` {}, `sockets_per_session` {}, `sockets_per_ip` {} (at most {} sockets and {} sandboxes from {} addresses)",
            l::DEFAULT_CLASS_VISITOR_SPAWNS_PER_SEC,
            l::DEFAULT_ADMISSION_WAIT_SECS,
            l::DEFAULT_SANDBOXES_PER_IP,
            l::DEFAULT_SOCKETS_PER_SESSION,
            l::DEFAULT_SOCKETS_PER_IP,
            l::DEFAULT_SOCKETS_PER_IP * addrs,
            l::DEFAULT_SANDBOXES_PER_IP * addrs,
            addrs
        ),
        format!("{held} held open, {open_at_end} still open at the end of the phase"),
    )
}

/// One address's share of the idle sockets: (held, open at the end).
async fn idle_from(
    t: Arc<Target>,
    ip: IpAddr,
    n: usize,
    until: Instant,
    stop: Option<Instant>,
    answers: Answers,
) -> (usize, usize) {
    let http = http_from(ip);
    let mut sessions: Vec<String> = Vec::new();
    let mut sockets = Vec::new();
    for j in 0..n {
        // A session may wait in the admission line past the phase's end.
        // When another round follows, whatever is not open by then is not
        // tried (nor counted), so it cannot spill into the next quiet phase.
        if stop.is_some_and(|at| Instant::now() >= at) {
            break;
        }
        if sessions.len() < j / l::DEFAULT_SOCKETS_PER_SESSION + 1 {
            let asked = new_session(&http, &t.base);
            let answer = match stop {
                Some(at) => tokio::time::timeout_at(at.into(), asked).await,
                None => Ok(asked.await),
            };
            match answer {
                Ok(Ok(session)) => sessions.push(session),
                Ok(Err(answer)) => answers.add(format!("session refused: {answer}")),
                Err(_) => break,
            }
        }
        let Some(session) = sessions.last() else {
            answers.add("no session to open it on");
            continue;
        };
        match open_ws(&t, ip, session).await {
            Ok(ws) => {
                answers.add("open");
                sockets.push(ws);
            }
            Err(answer) => answers.add(answer),
        }
    }
    if let Ok(mut settled) = t.settled.lock() {
        *settled = Some(settled.map_or(Instant::now(), |s| s.max(Instant::now())));
    }
    let held = sockets.len();
    let holders: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(hold(ws, until)))
        .collect();
    let mut open_at_end = 0;
    for holder in holders {
        open_at_end += usize::from(holder.await.unwrap_or(false));
    }
    for session in &sessions {
        end_session(&http, &t.base, session).await;
    }
    (held, open_at_end)
}

/// Reads `ws` (answering pings) until `until`; whether it was still open.
async fn hold(mut ws: Ws, until: Instant) -> bool {
    loop {
        match tokio::time::timeout_at(until.into(), ws.next()).await {
            Err(_) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                return true;
            }
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => return false,
            Ok(Some(Ok(_))) => {}
        }
    }
}
