//! Classroom rooms over HTTP. The instructor (instructor bearer) creates a
//! room, reads its board, exports it as CSV, locks it, removes a learner
//! and ends it, and lists raised hands; a learner (learner bearer) joins
//! with the room's code and raises a hand.
//! Join attempts are paced per client address, so guessing a code among
//! 31^6 ≈ 887 million is hopeless: with a thousand live rooms, one
//! address at 10 guesses a minute needs about 62 days per hit.

mod board;
mod export;
mod hands;
mod live;

pub use board::board;
pub use export::export_json;
pub use hands::{hand, hands};
pub use live::{mine, qr_svg, socket};

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{ErrorCode, JoinRoom, NewRoom, RoomCreated, RoomInfo, RoomJoined, RoomLock};

use super::auth::{BearerInstructor, BearerLearner};
use super::body::{bad_request, json_body as body, refuse};
use super::HttpError;
use crate::control::learners::check_name;
use crate::control::rooms::{canonical_code, JoinOutcome, MemberFacts, Room};
use crate::state::AppState;

/// Longest room name, in characters.
pub const ROOM_NAME_MAX_CHARS: usize = 80;

/// A room name: 1 to `ROOM_NAME_MAX_CHARS` characters, no control ones.
fn check_room_name(name: &str) -> Result<String, HttpError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(bad_request("A room needs a name (1 to 80 characters)."));
    }
    if name.chars().any(char::is_control) {
        return Err(bad_request(
            "A room name cannot hold control characters (such as a tab or a new line).",
        ));
    }
    let chars = name.chars().count();
    if chars > ROOM_NAME_MAX_CHARS {
        return Err(bad_request(format!(
            "That room name is {chars} characters long; it may have at most {ROOM_NAME_MAX_CHARS}."
        )));
    }
    Ok(name.to_owned())
}

/// `scheme://host` of the request: the Host header when it is a plain
/// host name or address (anything else could smuggle text into the
/// link), else the address the server listens on.
pub(super) fn origin(headers: &HeaderMap, listen: SocketAddr) -> String {
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => format!("{scheme}://{host}"),
        None => format!("{scheme}://{listen}"),
    }
}

fn no_room(id: &str) -> HttpError {
    HttpError::NotFound(format!(
        "There is no room `{id}` (it may have ended by itself after a long idle time)."
    ))
}

/// The room `id`, or 404.
pub(super) async fn find(state: &AppState, id: &str) -> Result<Room, HttpError> {
    // Ids are 32 hex digits: anything else is not a room, and never
    // becomes part of a key name.
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(no_room(id));
    }
    state.control.room(id).await?.ok_or_else(|| no_room(id))
}

/// `POST /api/rooms` `{"name", "lessons"}` → 201.
pub async fn create(
    State(state): State<AppState>,
    _: BearerInstructor,
    headers: HeaderMap,
    request: Result<Json<NewRoom>, JsonRejection>,
) -> Result<(StatusCode, Json<RoomCreated>), HttpError> {
    let request = body(
        request,
        r#"{"name":"Redis for AI, Tuesday","lessons":["hashes"]}"#,
    )?;
    let name = check_room_name(&request.name)?;
    if let Some(unknown) = request
        .lessons
        .iter()
        .find(|slug| state.course.find(slug).is_none())
    {
        return Err(bad_request(format!(
            "There is no lesson `{unknown}`; GET /api/lessons lists the slugs."
        )));
    }
    let room = state
        .control
        .create_room(
            &name,
            &request.lessons,
            state.rooms.capacity,
            state.rooms.idle,
        )
        .await?;
    tracing::info!(room = %&room.id[..8], "room created");
    Ok((
        StatusCode::CREATED,
        Json(RoomCreated {
            join_url: format!("{}/join#{}", origin(&headers, state.listen), room.code),
            room: room.id,
            code: room.code,
        }),
    ))
}

/// `GET /api/rooms/{id}` → 200: the room as it stands (the instructor's
/// screen and the projector read the code and the lock from here).
pub async fn info(
    State(state): State<AppState>,
    _: BearerInstructor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RoomInfo>, HttpError> {
    let room = find(&state, &id).await?;
    let learners = state.control.roster(&room.id).await?.len();
    Ok(Json(RoomInfo {
        join_url: format!("{}/join#{}", origin(&headers, state.listen), room.code),
        learners: u32::try_from(learners).unwrap_or(u32::MAX),
        room: room.id,
        name: room.name,
        code: room.code,
        lessons: room.lessons,
        locked: room.locked,
        ended: room.ended,
        capacity: room.capacity,
    }))
}

/// `POST /api/rooms/join` `{"code", "name"}` → 200 `{"room"}`.
pub async fn join(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    BearerLearner(who): BearerLearner,
    request: Result<Json<JoinRoom>, JsonRejection>,
) -> Result<Json<RoomJoined>, HttpError> {
    let rules = &state.rooms;
    // Only wrong codes spend the address's budget: it is there against
    // guessing, and a class behind one address joins at any pace.
    if rules.join_budget.is_spent(peer.ip(), rules.joins_per_min) {
        return Err(refuse(
            ErrorCode::RateLimited,
            format!(
                "Too many wrong codes from your address (at most {} a minute); wait a minute and check the code with your instructor.",
                rules.joins_per_min
            ),
        ));
    }
    let request = body(request, r#"{"code":"K7M2QX","name":"Ada"}"#)?;
    let name = check_name(Some(&request.name))
        .map_err(bad_request)?
        .ok_or_else(|| bad_request("Say who you are: a name is needed to join a class."))?;
    let unknown = || {
        rules.join_budget.take(peer.ip(), rules.joins_per_min);
        HttpError::NotFound(
            "No open room has that code: check it with your instructor (codes have 6 characters, without 0, O, 1, I or L).".to_owned(),
        )
    };
    let code = canonical_code(&request.code).ok_or_else(unknown)?;
    let id = state
        .control
        .room_for_code(&code)
        .await?
        .ok_or_else(unknown)?;
    match state
        .control
        .join_room(&id, &code, &who, &name, rules.idle)
        .await?
    {
        JoinOutcome::Joined => Ok(Json(RoomJoined { room: id })),
        JoinOutcome::Gone => Err(unknown()),
        JoinOutcome::Locked => Err(refuse(
            ErrorCode::RoomLocked,
            "This class's roster is locked: ask your instructor to unlock it.",
        )),
        JoinOutcome::Full => Err(refuse(
            ErrorCode::RoomFull,
            "This class is full: ask your instructor for room.",
        )),
    }
}

/// The store's facts about a room's roster.
pub(super) async fn facts(state: &AppState, room: &Room) -> Result<Vec<MemberFacts>, HttpError> {
    let roster = state.control.roster(&room.id).await?;
    Ok(state.control.member_facts(roster).await?)
}

/// `GET /api/rooms/{id}/export.csv`.
pub async fn export_csv(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let room = find(&state, &id).await?;
    let csv = export::csv(&facts(&state, &room).await?);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"class.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// `POST /api/rooms/{id}/lock` `{"locked": bool}` → 204.
pub async fn lock(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
    request: Result<Json<RoomLock>, JsonRejection>,
) -> Result<StatusCode, HttpError> {
    let change = body(request, r#"{"locked":true}"#)?;
    let room = find(&state, &id).await?;
    state
        .control
        .lock_room(&room, change.locked, state.rooms.idle)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/rooms/{id}/learners/{learner}` → 204.
pub async fn remove(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path((id, learner)): Path<(String, String)>,
) -> Result<StatusCode, HttpError> {
    let room = find(&state, &id).await?;
    if state
        .control
        .remove_from_room(&room, &learner, state.rooms.idle)
        .await?
    {
        state.classrooms.remove(&state, &room.id, &learner);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::NotFound(format!(
            "Learner `{learner}` is not in this room."
        )))
    }
}

/// `POST /api/rooms/{id}/end` → 204: the code stops working at once.
pub async fn end(
    State(state): State<AppState>,
    _: BearerInstructor,
    Path(id): Path<String>,
) -> Result<StatusCode, HttpError> {
    let room = find(&state, &id).await?;
    state.control.end_room(&room, state.rooms.idle).await?;
    state.classrooms.end(&state, &room.id).await;
    Ok(StatusCode::NO_CONTENT)
}
