//! All HTTP calls to the backend. Components never fetch on their own.

use gloo::net::http::{Request, Response};
use protocol::{
    ApiError, CommandCatalog, EngineInfo, LessonPage, LessonSummary, Notice, TaskResult,
};
use serde::de::DeserializeOwned;

pub mod exercises;
pub mod learner;
pub mod rooms;
pub mod sessions;

/// A failure a page can show as-is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure(pub String);

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiFailure> {
    read_json(Request::get(url)).await
}

/// A POST as the console's session.
async fn post_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiFailure> {
    let session = crate::credentials::session_id().ok_or_else(|| {
        ApiFailure("The console has no sandbox yet; wait until it says Connected.".to_owned())
    })?;
    read_json(Request::post(url).header("Authorization", &format!("Bearer {session}"))).await
}

async fn read_json<T: DeserializeOwned>(
    request: gloo::net::http::RequestBuilder,
) -> Result<T, ApiFailure> {
    answer(request.send().await.map_err(unreachable)?).await
}

fn unreachable(e: impl std::fmt::Display) -> ApiFailure {
    ApiFailure(format!("The server could not be reached ({e})."))
}

/// The body of a success, or the server's words for a failure.
async fn answer<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    if response.ok() {
        return read_body(response).await;
    }
    Err(failure(response).await)
}

async fn read_body<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    response
        .json::<T>()
        .await
        .map_err(|e| ApiFailure(format!("The server sent something unexpected ({e}).")))
}

/// A refusal in the server's own words (its `ApiError` sentence).
async fn failure(response: Response) -> ApiFailure {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(err) => ApiFailure(err.error.message),
        Err(_) => ApiFailure(format!("The server answered {status}.")),
    }
}

pub async fn lessons() -> Result<Vec<LessonSummary>, ApiFailure> {
    get_json("/api/lessons").await
}

pub async fn lesson(slug: &str) -> Result<LessonPage, ApiFailure> {
    match crate::early::take_lesson(slug) {
        // index.html asked already, while the app loaded.
        Some(sent) => answer(sent.response().await.map_err(unreachable)?).await,
        None => get_json(&format!("/api/lessons/{slug}")).await,
    }
}

pub async fn engine() -> Result<EngineInfo, ApiFailure> {
    get_json("/api/engine").await
}

pub async fn commands() -> Result<CommandCatalog, ApiFailure> {
    get_json("/api/commands").await
}

/// "Start fresh": a clean sandbox with the lesson's setup data.
pub async fn start_lesson(slug: &str) -> Result<Notice, ApiFailure> {
    post_json(&format!("/api/lessons/{slug}/start")).await
}

pub async fn check_task(slug: &str, index: usize) -> Result<TaskResult, ApiFailure> {
    post_json(&format!("/api/lessons/{slug}/tasks/{index}/check")).await
}
