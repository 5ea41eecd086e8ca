//! The internal hop: a request for a session that lives on another node
//! is sent there as it came (method, path, headers, body), with the hop
//! secret and the learner's address added. A WebSocket upgrade is
//! forwarded the same way and, once the owner answers 101, the two
//! upgraded connections are spliced byte for byte: frames are never
//! decoded or re-encoded on the way, so the hop costs one copy.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::{CLIENT_HEADER, HOP_HEADER};

/// A node that does not accept a connection this fast is treated as
/// unreachable (on one network a live node answers in well under 1 ms).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest answer of an internal route (a few counts).
const INTERNAL_ANSWER_BYTES: usize = 64 * 1024;
/// Idle connections kept per node for the next forwarded request.
const IDLE_PER_NODE: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The node did not take the connection: it is gone, whatever its
    /// lease still says.
    #[error("the node at {0} does not accept connections")]
    Unreachable(String),
    #[error("the node at {node} did not answer: {reason}")]
    Failed { node: String, reason: String },
}

pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Body>,
}

impl Client {
    pub fn new() -> Client {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        Client {
            inner: hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(IDLE_PER_NODE)
                .build(connector),
        }
    }

    /// Sends the request `parts` + `body` to the node at `base`. `parts`
    /// stays the caller's: if the node is unreachable, the request can
    /// still be served here. On a 101, `parts`' pending upgrade is taken
    /// and spliced to the node's.
    pub async fn send(
        &self,
        parts: &mut Parts,
        body: Bytes,
        base: &str,
        hop: &str,
        client: IpAddr,
    ) -> Result<Response<Body>, ForwardError> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri: Uri = format!("{base}{path}")
            .parse()
            .map_err(|e| ForwardError::Failed {
                node: base.to_owned(),
                reason: format!("bad address: {e}"),
            })?;
        let mut request = Request::builder()
            .method(parts.method.clone())
            .uri(uri)
            .version(parts.version)
            .body(Body::from(body))
            .map_err(|e| ForwardError::Failed {
                node: base.to_owned(),
                reason: e.to_string(),
            })?;
        let headers = request.headers_mut();
        *headers = parts.headers.clone();
        if let Ok(secret) = HeaderValue::from_str(hop) {
            headers.insert(HeaderName::from_static(HOP_HEADER), secret);
        }
        if let Ok(ip) = HeaderValue::from_str(&client.to_string()) {
            headers.insert(HeaderName::from_static(CLIENT_HEADER), ip);
        }
        let mut response = match self.inner.request(request).await {
            Ok(response) => response,
            Err(e) => return Err(failure(base, e).await),
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let learner_side = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
            let node_side = hyper::upgrade::on(&mut response);
            if let Some(learner_side) = learner_side {
                tokio::spawn(splice(learner_side, node_side));
            }
        }
        Ok(response.map(Body::new))
    }
}

/// Why a request to `base` failed. A kept-alive connection to a node
/// killed a moment ago fails as "sending the request" rather than
/// "connecting", until the pool notices it closed; so a failure that is
/// not a refused connection is checked with a new one, and a node that
/// refuses it is gone (its sandboxes with it, so nothing runs twice).
async fn failure(base: &str, e: hyper_util::client::legacy::Error) -> ForwardError {
    if e.is_connect() || !accepts(base).await {
        return ForwardError::Unreachable(base.to_owned());
    }
    ForwardError::Failed {
        node: base.to_owned(),
        reason: e.to_string(),
    }
}

/// Whether the node at `base` (`http://host:port`) takes a TCP connection.
async fn accepts(base: &str) -> bool {
    let Some(authority) = base
        .parse::<Uri>()
        .ok()
        .and_then(|u| u.authority().cloned())
    else {
        return false;
    };
    let connect = tokio::net::TcpStream::connect(authority.as_str());
    matches!(
        tokio::time::timeout(CONNECT_TIMEOUT, connect).await,
        Ok(Ok(_))
    )
}

impl Client {
    /// A JSON `POST` to another node's internal route, with the hop
    /// secret: its 200 answer, decoded.
    pub async fn call<T: serde::de::DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
        hop: &str,
        body: Vec<u8>,
    ) -> Result<T, ForwardError> {
        let failed = |reason: String| ForwardError::Failed {
            node: base.to_owned(),
            reason,
        };
        let request = Request::post(format!("{base}{path}"))
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .header(HOP_HEADER, hop)
            .body(Body::from(body))
            .map_err(|e| failed(e.to_string()))?;
        let response = match self.inner.request(request).await {
            Ok(response) => response,
            Err(e) => return Err(failure(base, e).await),
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), INTERNAL_ANSWER_BYTES)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if status != StatusCode::OK {
            return Err(failed(format!(
                "{status}: {}",
                String::from_utf8_lossy(&bytes)
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))
    }
}

/// Copies bytes both ways between the learner's upgraded connection and
/// the owner's until either side closes.
async fn splice(learner: hyper::upgrade::OnUpgrade, node: hyper::upgrade::OnUpgrade) {
    let (learner, node) = match tokio::try_join!(learner, node) {
        Ok(both) => both,
        Err(e) => {
            tracing::debug!("forwarded WebSocket never opened: {e}");
            return;
        }
    };
    let mut learner = TokioIo::new(learner);
    let mut node = TokioIo::new(node);
    if let Err(e) = tokio::io::copy_bidirectional(&mut learner, &mut node).await {
        tracing::debug!("forwarded WebSocket closed: {e}");
    }
}
