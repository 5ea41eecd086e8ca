//! The learner's own routes (`/api/learners`, `/api/me…`), sent with the
//! learner token as the bearer. Failures are sorted by what the caller
//! does next: retry later, start over as a new learner, or show the
//! server's words.

use gloo::net::http::{Request, RequestBuilder, Response};
use protocol::{ApiError, ErrorCode, LearnerCreated, Me, MeChange, NewLearner, ProgressStep};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a learner call did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearnerFailure {
    /// The server or its store could not be reached (network, 503): keep
    /// the write and try again later.
    Offline(String),
    /// The token is missing or unknown (401): this learner was erased, or
    /// never existed here.
    Unknown,
    /// The server refused the request itself (400…): its own words.
    Refused(String),
}

impl std::fmt::Display for LearnerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LearnerFailure::Offline(why) => f.write_str(why),
            LearnerFailure::Unknown => {
                f.write_str("The server does not know this learner any more.")
            }
            LearnerFailure::Refused(why) => f.write_str(why),
        }
    }
}

fn offline(e: impl std::fmt::Display) -> LearnerFailure {
    LearnerFailure::Offline(format!("The server could not be reached ({e})."))
}

fn with_token(request: RequestBuilder) -> Result<RequestBuilder, LearnerFailure> {
    let token = crate::credentials::token().ok_or(LearnerFailure::Unknown)?;
    Ok(request.header("Authorization", &format!("Bearer {token}")))
}

async fn send(request: RequestBuilder, body: Option<String>) -> Result<Response, LearnerFailure> {
    let sent = match body {
        Some(json) => {
            request
                .header("Content-Type", "application/json")
                .body(json)
                .map_err(offline)?
                .send()
                .await
        }
        None => request.send().await,
    };
    let response = sent.map_err(offline)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let error = response.json::<ApiError>().await.ok().map(|e| e.error);
    let message = error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_else(|| format!("The server answered {status}."));
    Err(match (status, error.map(|e| e.code)) {
        (401, _) => LearnerFailure::Unknown,
        (_, Some(ErrorCode::StoreUnavailable)) => LearnerFailure::Offline(message),
        // A pace (too many new learners from one address): it passes.
        (429, _) => LearnerFailure::Offline(message),
        (status, _) if status >= 500 => LearnerFailure::Offline(message),
        _ => LearnerFailure::Refused(message),
    })
}

fn json_body(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, LearnerFailure> {
    response.json::<T>().await.map_err(|e| {
        LearnerFailure::Offline(format!("The server sent something unexpected ({e})."))
    })
}

/// `POST /api/learners`: a new anonymous learner (no sandbox is started).
pub async fn create_learner() -> Result<LearnerCreated, LearnerFailure> {
    let response = send(
        Request::post("/api/learners"),
        json_body(&NewLearner::default()),
    )
    .await?;
    read(response).await
}

/// `GET /api/me`: name, progress and results as the server keeps them.
pub async fn me() -> Result<Me, LearnerFailure> {
    read(send(with_token(Request::get("/api/me"))?, None).await?).await
}

/// `GET /api/me/results`: graded exercises, the best report per exercise
/// first.
pub async fn results() -> Result<Vec<protocol::GradeReport>, LearnerFailure> {
    read(send(with_token(Request::get("/api/me/results"))?, None).await?).await
}

/// `POST /api/me/progress`: answers once the step is stored durably.
pub async fn record_step(step: &ProgressStep) -> Result<(), LearnerFailure> {
    send(
        with_token(Request::post("/api/me/progress"))?,
        json_body(step),
    )
    .await
    .map(drop)
}

/// `PATCH /api/me`: sets (or with `None` clears) the display name.
pub async fn rename(name: Option<String>) -> Result<(), LearnerFailure> {
    send(
        with_token(Request::patch("/api/me"))?,
        json_body(&MeChange { name }),
    )
    .await
    .map(drop)
}

/// `DELETE /api/me`: erases the learner and everything of theirs.
pub async fn forget() -> Result<(), LearnerFailure> {
    send(with_token(Request::delete("/api/me"))?, None)
        .await
        .map(drop)
}
