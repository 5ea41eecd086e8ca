//! Where a request is served, decided before its handler runs, so every
//! handler stays single-node: a session's requests go to the node holding
//! its sandbox (`to_owner`), a new session to the least loaded node or to
//! the learner's live session (`place_new`). A request forwarded by a node
//! (proven by the hop secret) is served where it lands, as if from the
//! learner's own address, and never forwarded again.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::{Notice, NoticeKind};

use super::HttpError;
use crate::cluster::{Cluster, ForwardError, NodeInfo, SessionHome, CLIENT_HEADER, HOP_HEADER};
use crate::state::AppState;

/// Largest body a node buffers to forward (a console line, a task check).
const FORWARD_BODY_BYTES: usize = 1 << 20;

const REHOMED: &str = "The server holding your sandbox stopped, so you are on a fresh sandbox on another server: its data is gone, but your progress and results are kept. Run the lesson's setup again to reload its data.";

/// The learner's address a trusted node forwarded, if this request came
/// through the internal hop.
fn forwarded_for(cluster: &Cluster, request: &Request) -> Option<IpAddr> {
    let hop = request.headers().get(HOP_HEADER)?.to_str().ok()?;
    if !cluster.is_hop(hop) {
        return None;
    }
    request
        .headers()
        .get(CLIENT_HEADER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The session (or learner) a request names: its bearer token, or
/// `?session=` (the console's WebSocket, which cannot send headers from a
/// browser).
fn bearer_or_query(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(token.trim().to_owned());
    }
    uri.query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "session").then(|| value.to_owned())
    })
}

fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// Serves a forwarded request here, as from the learner's address;
/// `None` when the request is not a forwarded one.
fn trusted_hop(cluster: &Cluster, request: &mut Request) -> Option<()> {
    let client = forwarded_for(cluster, request)?;
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(client, 0)));
    Some(())
}

/// Splits a request so it can be forwarded and, if the node is gone,
/// still served here.
async fn buffered(request: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, FORWARD_BODY_BYTES).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(_) => Err(HttpError::BadRequest {
            code: protocol::ErrorCode::InvalidRequest,
            message: format!(
                "The body is too large or was cut off (at most {FORWARD_BODY_BYTES} bytes)."
            ),
        }
        .into_response()),
    }
}

/// `route_layer` for every route that acts on an existing session.
pub async fn to_owner(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return next.run(request).await;
    };
    if trusted_hop(&cluster, &mut request).is_some() {
        return next.run(request).await;
    }
    // The common case, a session held here, costs one map lookup.
    let Some(id) =
        bearer_or_query(request.headers(), request.uri()).filter(|id| !state.sessions.holds(id))
    else {
        return next.run(request).await;
    };
    // Where it lives is asked before the body is read: a request for a
    // session that exists nowhere costs no buffering.
    let home = match cluster.home_of(&id).await {
        Ok(Some(home)) => home,
        // Unknown anywhere (or the store cannot say): the handler answers.
        Ok(None) => return next.run(request).await,
        Err(e) => {
            tracing::warn!("session home unknown: {e}");
            return next.run(request).await;
        }
    };
    // A record naming this node is a session it no longer holds (ended,
    // or held before a restart): the handler says it is unknown.
    if home.0.node == cluster.id {
        return next.run(request).await;
    }
    let (mut parts, body) = match buffered(request).await {
        Ok(split) => split,
        Err(refusal) => return refusal,
    };
    let (record, raw) = home;
    if let Some(node) = cluster.node(&record.node) {
        match forward(&cluster, &mut parts, body.clone(), &node).await {
            Ok(response) => return response,
            Err(ForwardError::Unreachable(at)) => {
                tracing::warn!(node = %record.node, %at, "owner unreachable; re-homing");
            }
            Err(e) => {
                return HttpError::BadRequest {
                    code: protocol::ErrorCode::SandboxUnavailable,
                    message: format!(
                    "The server holding your sandbox did not answer ({e}); try again in a moment."
                ),
                }
                .into_response()
            }
        }
    }
    if let Err(refusal) = rehome(&state, &cluster, &id, &record, &raw).await {
        return refusal;
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

async fn forward(
    cluster: &Cluster,
    parts: &mut Parts,
    body: Bytes,
    node: &NodeInfo,
) -> Result<Response, ForwardError> {
    let client = peer(parts);
    cluster.forward(parts, body, node, client).await
}

/// Brings session `id` back here with a fresh sandbox, unless another node
/// claimed it first (then this request goes on and the next is forwarded
/// to the new owner).
async fn rehome(
    state: &AppState,
    cluster: &Cluster,
    id: &str,
    record: &SessionHome,
    raw: &str,
) -> Result<(), Response> {
    let ttl = state.sessions.pool().spec().limits.max_age_secs;
    match cluster.take_over(id, record, raw, ttl).await {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(e) => return Err(HttpError::Store(e).into_response()),
    }
    let notice = Notice {
        kind: NoticeKind::Restarted,
        message: REHOMED.to_owned(),
    };
    match state
        .sessions
        .adopt(
            id.to_owned(),
            record.ip,
            record.learner_ref(),
            record.room.clone(),
            notice,
        )
        .await
    {
        Ok(session) => {
            cluster
                .stats
                .rehomed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(session = %&id[..id.len().min(8)], from = %record.node, "session re-homed here");
            if let Err(e) = cluster.record(&session).await {
                tracing::warn!("re-homed session not recorded: {e}");
            }
            Ok(())
        }
        Err(e) => Err(HttpError::from(e).into_response()),
    }
}

/// `route_layer` for `POST /api/sessions`: a learner with a live session
/// on another node is sent there (a second tab takes it over); anyone else
/// goes to the node with the most free sandboxes.
pub async fn place_new(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return next.run(request).await;
    };
    if trusted_hop(&cluster, &mut request).is_some() {
        return next.run(request).await;
    }
    let (mut parts, body) = match buffered(request).await {
        Ok(split) => split,
        Err(refusal) => return refusal,
    };
    if let Some(node) = destination(&state, &cluster, &parts).await {
        match forward(&cluster, &mut parts, body.clone(), &node).await {
            Ok(response) => return response,
            Err(e) => tracing::warn!(node = %node.id, "new session kept here: {e}"),
        }
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

async fn destination(state: &AppState, cluster: &Arc<Cluster>, parts: &Parts) -> Option<NodeInfo> {
    if let Some(token) = bearer_or_query(&parts.headers, &parts.uri) {
        if let Ok(Some(learner)) = state.control.learner_for_token(&token).await {
            if state.sessions.for_learner(&learner.id).is_some() {
                return None;
            }
            if let Ok(Some(seat)) = cluster.seat_of(&learner.id).await {
                if let Ok(Some((home, _))) = cluster.home_of(&seat).await {
                    return cluster.node(&home.node).filter(|n| n.id != cluster.id);
                }
            }
        }
    }
    cluster.least_loaded(state.sessions.len())
}
