//! Filling the room: learners created and joined over HTTP as a class
//! would, a lesson with two steps to move them between, and a room socket
//! per learner.

use std::sync::Arc;

use anyhow::{bail, Context};
use protocol::{LearnerCreated, LessonPage, LessonSummary};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use crate::server::ServerChild;
use crate::sockets::{self, Log, Tally};

/// Learners created, joined or connected at once.
const AT_ONCE: usize = 16;

/// POSTs `body` (with `bearer`, if any) and reads the answer as `T`; any
/// other status than `want` is an error that quotes the answer.
pub async fn post<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
    want: u16,
) -> anyhow::Result<T> {
    let mut request = http.post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.as_u16() != want {
        bail!("POST {url}: expected {want}, got {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("POST {url}: unexpected answer {text}"))
}

async fn get<T: DeserializeOwned>(http: &reqwest::Client, url: &str) -> anyhow::Result<T> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("GET {url}: {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("GET {url}: unexpected answer {text}"))
}

/// The first lesson with two steps: (slug, first step, second step).
pub async fn two_steps(
    http: &reqwest::Client,
    server: &ServerChild,
) -> anyhow::Result<(String, String, String)> {
    let lessons: Vec<LessonSummary> = get(http, &server.url("/api/lessons")).await?;
    for lesson in lessons {
        let url = server.url(&format!("/api/lessons/{}", lesson.slug));
        let page: LessonPage = get(http, &url).await?;
        if let [first, second, ..] = page.steps.as_slice() {
            return Ok((lesson.slug, first.clone(), second.clone()));
        }
    }
    bail!("no lesson of the course has two steps")
}

/// `n` new learners who joined the room with `code`: their tokens.
pub async fn enroll(
    http: &reqwest::Client,
    server: &ServerChild,
    code: &str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let permits = Arc::new(Semaphore::new(AT_ONCE));
    let mut joins = JoinSet::new();
    for i in 0..n {
        let (http, permits) = (http.clone(), permits.clone());
        let (learners, join) = (server.url("/api/learners"), server.url("/api/rooms/join"));
        let body = json!({"code": code, "name": format!("Learner {i:03}")});
        joins.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let created: LearnerCreated = post(&http, &learners, None, &json!({}), 201).await?;
            let _: Value = post(&http, &join, Some(&created.token), &body, 200).await?;
            anyhow::Ok(created.token)
        });
    }
    let mut tokens = Vec::with_capacity(n);
    while let Some(joined) = joins.join_next().await {
        tokens.push(joined??);
    }
    Ok(tokens)
}

/// A room socket per token, each read by its own task.
pub async fn open_pages(
    url: &str,
    tokens: Vec<String>,
    tally: &Arc<Tally>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<JoinHandle<Log>>> {
    let permits = Arc::new(Semaphore::new(AT_ONCE));
    let mut opening = JoinSet::new();
    for token in tokens {
        let (url, tally, stop, permits) =
            (url.to_owned(), tally.clone(), stop.clone(), permits.clone());
        opening.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            sockets::learner(&url, &token, tally, stop).await
        });
    }
    let mut pages = Vec::new();
    while let Some(opened) = opening.join_next().await {
        pages.push(opened??);
    }
    Ok(pages)
}
