//! The live room over HTTP: the room socket's upgrade (`GET /ws/room`),
//! a learner asking which room they are in, and the join link's QR code
//! for the projector.

use std::net::SocketAddr;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::MyRoom;
use serde::Deserialize;

use super::super::auth::BearerLearner;
use super::super::HttpError;
use super::{find, origin};
use crate::state::AppState;

/// Largest message a room page may send (a place or a scenario).
const MAX_MESSAGE: usize = 16 * 1024;
/// The socket's read buffer. The default (128 KiB, zero-filled on first
/// read, so resident) cost about 140 KiB per page, 28 MiB of a 200-page
/// room; a room page's messages are small.
const READ_BUFFER: usize = 8 * 1024;

#[derive(Deserialize)]
pub struct RoomQuery {
    room: String,
}

/// `GET /ws/room?room=<id>`: the room must exist and not have ended; who
/// speaks is decided by the socket's first message (`hello`), so no
/// token sits in the URL.
pub async fn socket(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    Query(query): Query<RoomQuery>,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Response, HttpError> {
    let room = find(&state, &query.room).await?;
    if room.ended {
        return Err(HttpError::NotFound(
            "This class has ended: its board stays readable to the instructor.".into(),
        ));
    }
    // The room is checked first, so a plain GET of a missing room says
    // so rather than asking for an upgrade.
    let ws = ws.map_err(|rejection| HttpError::BadRequest {
        code: protocol::ErrorCode::InvalidRequest,
        message: format!("The room socket is a WebSocket: {rejection}."),
    })?;
    // A whole class behind one address may be connecting at once.
    let cap = state.rooms.capacity as usize;
    let greeting = state
        .classrooms
        .greetings
        .admit(peer.ip(), cap)
        .ok_or_else(|| HttpError::BadRequest {
            code: protocol::ErrorCode::TooManySockets,
            message: format!(
                "{cap} room pages from your address are still connecting (each says hello within 10 s); try again in a moment."
            ),
        })?;
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        // Checked on the frame's header: one frame can never make the
        // server buffer more than a message may hold.
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| {
            crate::live::socket::serve(socket, state, room.id, room.name, peer.ip(), greeting)
        }))
}

/// `GET /api/rooms/mine` (learner bearer) → 200 `{"room", "name"}`, or 404
/// when the learner is in no open room.
pub async fn mine(
    State(state): State<AppState>,
    BearerLearner(who): BearerLearner,
) -> Result<Json<MyRoom>, HttpError> {
    let none = || HttpError::NotFound("You are not in a class: join one with its code.".into());
    let id = state.control.room_of(&who.id).await?.ok_or_else(none)?;
    let room = state.control.room(&id).await?.ok_or_else(none)?;
    Ok(Json(MyRoom {
        room: room.id,
        name: room.name,
    }))
}

/// `GET /api/rooms/{id}/qr.svg`: the join link as a QR code. No bearer
/// (an `<img>` cannot send one); the room id is only known to the
/// instructor and the room's members, who know the code already.
pub async fn qr_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let room = find(&state, &id).await?;
    if room.ended {
        return Err(HttpError::NotFound("This class has ended.".into()));
    }
    let link = format!("{}/join#{}", origin(&headers, state.listen), room.code);
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(|e| HttpError::BadRequest {
        code: protocol::ErrorCode::Unknown,
        message: format!("The QR code could not be drawn: {e}."),
    })?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}
