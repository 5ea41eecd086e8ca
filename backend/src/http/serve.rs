//! Serving the router over HTTP/1.1 with the limits `axum::serve` cannot
//! set: a deadline for a request's headers (a half-sent request is closed,
//! not held open), and a hard cap on their size. The JSON answers for
//! too-large headers and slow bodies are the router's (`http::guard`).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::limits::SandboxLimits;

/// How far past the JSON-answered header limits hyper itself lets a
/// request grow before it cuts the connection with a bare 431.
const HARD_LIMIT_FACTOR: usize = 8;

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// requests in flight finish (WebSockets are ended by the sessions).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &SandboxLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
        .max_headers(limits.max_headers * HARD_LIMIT_FACTOR)
        .max_buf_size((limits.max_header_bytes * HARD_LIMIT_FACTOR).max(8192));
    // Every connection task holds a receiver; shutdown waits for them.
    let (signal_tx, signal_rx) = tokio::sync::watch::channel(());
    let (done_tx, done_rx) = tokio::sync::watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                request
            });
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut signal = signal_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%remote, "connection ended: {e}");
                    }
                }
                _ = signal.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(done);
        });
    }
    drop(listener);
    let _ = signal_tx.send(());
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
