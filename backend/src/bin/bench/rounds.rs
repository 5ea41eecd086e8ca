//! The measuring itself: the one-off figures, then `--runs` rounds of the
//! app and webdis in turn (WebSocket with 1 and `--clients` clients, HTTP
//! through wrk) with the gateway's own cost, and the tables they print.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::gateway::Origin;
use backend::session::Session;
use backend::{router, AppState};

use super::report::{self, Comparison, GatewayRun};
use super::webdis::{self, Webdis, WsDialect};
use super::ws_load::{self, Load, Server, Sockets};
use super::{gateway_cost, one_off, step, wrk, Args, Only};
use super::{GOAL_GATEWAY_P50, GOAL_GATEWAY_P99, GOAL_HTTP, GOAL_WS, KEY, VALUE};

pub async fn measure(
    args: &Args,
    state: &AppState,
    binary: webdis::Binary,
    webdis_threads: usize,
    scratch: &Path,
) -> anyhow::Result<()> {
    if args.only.includes(Only::OneOff) {
        let spawn = step("sandbox spawn → first PONG", one_off::spawn(state)).await?;
        let start = step("session start, warm pool", one_off::session_start(state)).await?;
        let limiter = step(
            "rate limiter vs redis-benchmark",
            one_off::limiter_throughput(&state.engine.server),
        )
        .await?;
        one_off::print(state, &spawn, &start, &limiter);
    }
    if args.only == Only::OneOff {
        return Ok(());
    }

    let clients = args.clients.max(1);
    let sessions = step(
        &format!("open {clients} sessions and set {KEY}"),
        open_sessions(state, clients),
    )
    .await?;
    let addr = step("serve the app on a loopback port", serve(state.clone())).await?;
    let mut webdis = start_webdis(webdis::Spec {
        binary,
        server: state.engine.server.clone(),
        threads: webdis_threads,
        pool: clients,
    })
    .await?;
    println!(
        "webdis {} (pid {}), {webdis_threads} thread(s), {clients} Redis connections each",
        webdis.version,
        webdis.pid()
    );
    // With 0.1.22 both sides keep one socket per client, as the console
    // does. 0.1.9 closes its socket after each reply, so beside the app's
    // kept socket the app is also measured with a socket per command, the
    // only way webdis 0.1.9 can be driven.
    let legacy = webdis.ws == WsDialect::Legacy;
    let wrk_script = scratch.join("exec.lua");
    std::fs::write(
        &wrk_script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"line\":\"GET {KEY}\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {}\"\n",
            sessions[0].id
        ),
    )
    .context("write wrk's script")?;

    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let duration = Duration::from_secs(args.seconds.max(1));
    let mut comparisons = Vec::new();
    let ws_counts = if clients == 1 {
        vec![1]
    } else {
        vec![1, clients]
    };
    for &n in &ws_counts {
        let who = if n == 1 {
            "1 client".to_owned()
        } else {
            format!("{n} clients")
        };
        if legacy {
            comparisons.push(
                Comparison::new(
                    format!("WS `GET`, {who}: app on one socket (webdis 0.1.9)"),
                    GOAL_WS,
                )
                .not_judgeable(),
            );
            comparisons.push(
                Comparison::new(
                    format!("WS `GET`, {who}: a socket per command, both (webdis 0.1.9)"),
                    GOAL_WS,
                )
                .not_judgeable(),
            );
        } else {
            comparisons.push(Comparison::new(
                format!("WS `GET`, {who}, a socket each"),
                GOAL_WS,
            ));
        }
    }
    comparisons.push(Comparison::new("HTTP `GET`, wrk -c1", GOAL_HTTP));
    let mut gateway_runs: Vec<GatewayRun> = Vec::new();

    for run in 1..=args.runs.max(1) {
        // Flip the order every run, so drift favours neither side.
        let app_first = run % 2 == 1;
        let mut next = 0;
        if args.only.includes(Only::Ws) {
            for &n in &ws_counts {
                let load = |server, sockets| Load {
                    server,
                    command: ws_load::Command {
                        key: KEY.into(),
                        value: VALUE.into(),
                    },
                    clients: n,
                    sockets,
                    duration,
                    unanswered: AtomicUsize::new(0),
                };
                let app = || Server::App {
                    addr,
                    sessions: ids.clone(),
                };
                let name = format!("run {run}: WebSocket, {n} client(s)");
                let ours = |sockets| {
                    let load = load(app(), sockets);
                    step(&name, async move {
                        ws_load::measure(load).await.map(|(figures, _)| figures)
                    })
                };
                if !legacy {
                    let theirs = |addr| {
                        load(
                            Server::Webdis {
                                addr,
                                ws: WsDialect::Standard,
                            },
                            Sockets::Kept,
                        )
                    };
                    let (app, (them, _)) = if app_first {
                        let app = ours(Sockets::Kept).await?;
                        (app, webdis_ws(&mut webdis, &name, theirs).await?)
                    } else {
                        let them = webdis_ws(&mut webdis, &name, theirs).await?;
                        (ours(Sockets::Kept).await?, them)
                    };
                    comparisons[next].runs.push((app, them));
                    next += 1;
                    continue;
                }
                let theirs = |addr| {
                    load(
                        Server::Webdis {
                            addr,
                            ws: WsDialect::Legacy,
                        },
                        Sockets::PerCommand,
                    )
                };
                let (kept, per_command, (webdis_ws, unanswered)) = if app_first {
                    let kept = ours(Sockets::Kept).await?;
                    let per = ours(Sockets::PerCommand).await?;
                    let theirs = webdis_ws(&mut webdis, &name, theirs).await?;
                    (kept, per, theirs)
                } else {
                    let theirs = webdis_ws(&mut webdis, &name, theirs).await?;
                    let per = ours(Sockets::PerCommand).await?;
                    let kept = ours(Sockets::Kept).await?;
                    (kept, per, theirs)
                };
                if unanswered > 0 {
                    eprintln!("bench: webdis left {unanswered} handshake(s) unanswered; retried on new sockets (untimed)");
                }
                comparisons[next].runs.push((kept, webdis_ws));
                comparisons[next + 1].runs.push((per_command, webdis_ws));
                next += 2;
            }
        }
        if args.only.includes(Only::Http) {
            let ours_url = format!("http://{addr}/api/exec");
            let theirs_url = format!("http://{}/GET/{KEY}", webdis.addr);
            let script = wrk_script.clone();
            let (ours, theirs) = step(&format!("run {run}: HTTP, wrk -c1"), async move {
                tokio::task::spawn_blocking(move || {
                    let ours = || wrk::run(&ours_url, Some(&script), duration);
                    let theirs = || wrk::run(&theirs_url, None, duration);
                    if app_first {
                        let ours = ours()?;
                        Ok((ours, theirs()?))
                    } else {
                        let theirs = theirs()?;
                        Ok((ours()?, theirs))
                    }
                })
                .await?
            })
            .await?;
            let http = comparisons.len() - 1;
            comparisons[http].runs.push((ours, theirs));
        }
        if args.only.includes(Only::Gateway) {
            gateway_runs.push(
                step(
                    &format!("run {run}: the gateway's own cost"),
                    gateway_cost::measure(state, &sessions[0], KEY, args.round_trips),
                )
                .await?,
            );
        }
    }

    comparisons.retain(|c| !c.runs.is_empty());
    if !comparisons.is_empty() {
        report::print_comparisons(&comparisons);
    }
    report::print_gateway(&gateway_runs, GOAL_GATEWAY_P50, GOAL_GATEWAY_P99);
    Ok(())
}

/// Times webdis attempts a WebSocket measurement before the run fails.
const WEBDIS_ATTEMPTS: usize = 3;

async fn start_webdis(spec: webdis::Spec) -> anyhow::Result<Webdis> {
    step(
        "start webdis and its redis-server (same engine binary)",
        async move { tokio::task::spawn_blocking(move || Webdis::start(&spec, KEY, VALUE)).await? },
    )
    .await
}

/// webdis's WebSocket figures. Under many clients opening sockets, webdis
/// 0.1.9 can stop answering handshakes altogether; it is then restarted
/// (a fresh process and port, same engine) and measured again, and said so.
/// (0.1.22 has not needed it; a restart is said on stderr either way.)
async fn webdis_ws(
    webdis: &mut Webdis,
    name: &str,
    load: impl Fn(SocketAddr) -> Load,
) -> anyhow::Result<(report::Figures, usize)> {
    let mut attempt = 1;
    loop {
        match step(name, ws_load::measure(load(webdis.addr))).await {
            Ok(figures) => return Ok(figures),
            Err(e) if attempt < WEBDIS_ATTEMPTS => {
                eprintln!("bench: {e:#}; restarting webdis and measuring it again");
                *webdis = start_webdis(webdis.spec()).await?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One session per client, each with the key set.
async fn open_sessions(state: &AppState, count: usize) -> anyhow::Result<Vec<Arc<Session>>> {
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        let session = state
            .sessions
            .create(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await?;
        state
            .gateway
            .run_line(&session, &format!("SET {KEY} {VALUE}"), Origin::Backend)
            .await?;
        sessions.push(session);
    }
    Ok(sessions)
}

/// The app's router on a fresh loopback port, served on this runtime.
async fn serve(state: AppState) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
