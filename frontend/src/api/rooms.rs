//! Classroom rooms over HTTP: the instructor's routes (the instructor key
//! as the bearer), the learner's (their learner token), and `/api/exec`
//! on the room's demo sandbox (its session id as the bearer). Refusals
//! come back as the server's own sentence.

use gloo::net::http::{Request, RequestBuilder, Response};
use protocol::{
    Board, ExecRequest, ExecResponse, HandChange, Hands, JoinRoom, MyRoom, NewRoom, RoomCreated,
    RoomInfo, RoomJoined, RoomLock,
};
use serde::Serialize;

use super::{failure, read_body, ApiFailure};

/// The two downloads of a room's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Csv,
    Json,
}

impl Export {
    pub fn extension(self) -> &'static str {
        match self {
            Export::Csv => "csv",
            Export::Json => "json",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Export::Csv => "text/csv",
            Export::Json => "application/json",
        }
    }
}

fn bearer(request: RequestBuilder, secret: &str) -> RequestBuilder {
    request.header("Authorization", &format!("Bearer {secret}"))
}

fn learner_bearer(request: RequestBuilder) -> Result<RequestBuilder, ApiFailure> {
    let token = crate::credentials::token().ok_or_else(|| {
        ApiFailure("This browser has no learner yet; reload the page and try again.".to_owned())
    })?;
    Ok(bearer(request, &token))
}

/// Sends `request` (with `body` as JSON); the response when it is a 2xx.
async fn send(
    request: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<Response, ApiFailure> {
    let unreachable =
        |e: gloo::net::Error| ApiFailure(format!("The server could not be reached ({e})."));
    let sent = match body {
        Some(body) => request.json(body).map_err(unreachable)?.send().await,
        None => request.send().await,
    };
    let response = sent.map_err(unreachable)?;
    if response.ok() {
        Ok(response)
    } else {
        Err(failure(response).await)
    }
}

/// No body: the type `send` needs for its `None`.
const NO_BODY: Option<&()> = None;

/// `/api/rooms/{id}`, the id encoded.
fn room_root(room: &str) -> String {
    let room: String = js_sys::encode_uri_component(room).into();
    format!("/api/rooms/{room}")
}

fn room_path(room: &str, rest: &str) -> String {
    format!("{}/{rest}", room_root(room))
}

/// `POST /api/rooms` → 201.
pub async fn create(key: &str, room: &NewRoom) -> Result<RoomCreated, ApiFailure> {
    read_body(send(bearer(Request::post("/api/rooms"), key), Some(room)).await?).await
}

/// `POST /api/rooms/join`, as this browser's learner.
pub async fn join(join: &JoinRoom) -> Result<RoomJoined, ApiFailure> {
    read_body(
        send(
            learner_bearer(Request::post("/api/rooms/join"))?,
            Some(join),
        )
        .await?,
    )
    .await
}

/// `GET /api/rooms/mine`: the room this learner is in, if any (a browser
/// without a learner yet is in none).
pub async fn mine() -> Result<Option<MyRoom>, ApiFailure> {
    let Ok(request) = learner_bearer(Request::get("/api/rooms/mine")) else {
        return Ok(None);
    };
    let response = request
        .send()
        .await
        .map_err(|e| ApiFailure(format!("The server could not be reached ({e}).")))?;
    match response.status() {
        // No room, or a learner the server no longer knows: in no room.
        404 | 401 => Ok(None),
        _ if response.ok() => read_body(response).await.map(Some),
        _ => Err(failure(response).await),
    }
}

/// `POST /api/rooms/{id}/hand`, as the learner.
pub async fn set_hand(room: &str, raised: bool) -> Result<(), ApiFailure> {
    let request = learner_bearer(Request::post(&room_path(room, "hand")))?;
    send(request, Some(&HandChange { raised })).await.map(drop)
}

/// `GET /api/rooms/{id}`: the room as it stands (its code, join link and
/// lock), for any screen holding the instructor key.
pub async fn info(key: &str, room: &str) -> Result<RoomInfo, ApiFailure> {
    let request = bearer(Request::get(&room_root(room)), key);
    read_body(send(request, NO_BODY).await?).await
}

/// `GET /api/rooms/{id}/board`.
pub async fn board(key: &str, room: &str) -> Result<Board, ApiFailure> {
    read_body(
        send(
            bearer(Request::get(&room_path(room, "board")), key),
            NO_BODY,
        )
        .await?,
    )
    .await
}

/// `GET /api/rooms/{id}/hands`: raised hands, oldest first.
pub async fn hands(key: &str, room: &str) -> Result<Hands, ApiFailure> {
    read_body(
        send(
            bearer(Request::get(&room_path(room, "hands")), key),
            NO_BODY,
        )
        .await?,
    )
    .await
}

/// `POST /api/rooms/{id}/lock`.
pub async fn lock(key: &str, room: &str, locked: bool) -> Result<(), ApiFailure> {
    let request = bearer(Request::post(&room_path(room, "lock")), key);
    send(request, Some(&RoomLock { locked })).await.map(drop)
}

/// `POST /api/rooms/{id}/end`.
pub async fn end(key: &str, room: &str) -> Result<(), ApiFailure> {
    send(bearer(Request::post(&room_path(room, "end")), key), NO_BODY)
        .await
        .map(drop)
}

/// `GET /api/rooms/{id}/export.{csv,json}`: the file's bytes.
pub async fn export(key: &str, room: &str, format: Export) -> Result<Vec<u8>, ApiFailure> {
    let path = room_path(room, &format!("export.{}", format.extension()));
    send(bearer(Request::get(&path), key), NO_BODY)
        .await?
        .binary()
        .await
        .map_err(|e| ApiFailure(format!("The download was cut short ({e}).")))
}

/// The join link's QR code, an SVG anyone may load.
pub fn qr_url(room: &str) -> String {
    room_path(room, "qr.svg")
}

/// Why a line sent to the demo sandbox did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecFailure {
    /// The session is gone (the sandbox was reaped, the server restarted):
    /// the room hands out the new one.
    SessionGone,
    Failed(ApiFailure),
}

/// `POST /api/exec` on the room's demo sandbox.
pub async fn exec(session: &str, line: &str) -> Result<ExecResponse, ExecFailure> {
    let body = ExecRequest {
        line: line.to_owned(),
    };
    let request = bearer(Request::post("/api/exec"), session)
        .json(&body)
        .map_err(|e| {
            ExecFailure::Failed(ApiFailure(format!("The line could not be sent ({e}).")))
        })?;
    let response = request.send().await.map_err(|e| {
        ExecFailure::Failed(ApiFailure(format!(
            "The server could not be reached ({e})."
        )))
    })?;
    match response.status() {
        401 => Err(ExecFailure::SessionGone),
        _ if response.ok() => read_body(response).await.map_err(ExecFailure::Failed),
        _ => Err(ExecFailure::Failed(failure(response).await)),
    }
}
