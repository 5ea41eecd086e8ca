//! The HTTP calls a learner's browser makes, with the server's error
//! shape read back into its `ErrorCode`: learners, sessions, progress,
//! the learner's record, grading, and the course itself.

use protocol::{
    ApiError, ErrorCode, GradeReport, LearnerCreated, LessonPage, LessonSummary, Me, RoomCreated,
    SessionCreated,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server answered with its error shape.
    #[error("{status} {code}: {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// No answer: the server is down, or the connection broke.
    #[error("no answer: {0}")]
    Transport(String),
}

impl CallError {
    /// The code to count it under.
    pub fn code(&self) -> String {
        match self {
            CallError::Refused { code, .. } => code.as_str().to_owned(),
            CallError::Transport(_) => "transport".to_owned(),
        }
    }
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str) -> Api {
        Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The socket's base URL: `ws://HOST:PORT`.
    pub fn ws_base(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        bearer: Option<&str>,
    ) -> Result<T, CallError> {
        let request = match bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| CallError::Transport(format!("{e:#}")))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| CallError::Transport(format!("{e:#}")))?;
        if !(200..300).contains(&status) {
            let (code, message) = match serde_json::from_str::<ApiError>(&text) {
                Ok(e) => (e.error.code, e.error.message),
                Err(_) => (ErrorCode::Unknown, text),
            };
            return Err(CallError::Refused {
                status,
                code,
                message,
            });
        }
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text)
            .map_err(|e| CallError::Transport(format!("unexpected answer {text}: {e}")))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn create_learner(&self) -> Result<LearnerCreated, CallError> {
        let request = self.http.post(self.url("/api/learners")).json(&json!({}));
        self.call(request, None).await
    }

    /// The learner's session: their live one, or a new sandbox.
    pub async fn create_session(&self, learner: &str) -> Result<SessionCreated, CallError> {
        let request = self.http.post(self.url("/api/sessions"));
        self.call(request, Some(learner)).await
    }

    pub async fn delete_session(&self, session: &str) -> Result<(), CallError> {
        let request = self.http.delete(self.url("/api/sessions"));
        self.call::<Value>(request, Some(session)).await.map(drop)
    }

    /// `POST /api/me/progress`: Ok once the step is on disk.
    pub async fn progress(&self, learner: &str, lesson: &str, step: &str) -> Result<(), CallError> {
        let body = json!({ "lesson": lesson, "step": step });
        let request = self.http.post(self.url("/api/me/progress")).json(&body);
        self.call::<Value>(request, Some(learner)).await.map(drop)
    }

    pub async fn me(&self, learner: &str) -> Result<Me, CallError> {
        self.call(self.http.get(self.url("/api/me")), Some(learner))
            .await
    }

    /// The learner's stored grading reports.
    pub async fn results(&self, learner: &str) -> Result<Vec<Value>, CallError> {
        self.call(self.http.get(self.url("/api/me/results")), Some(learner))
            .await
    }

    pub async fn grade(&self, session: &str, exercise: &str) -> Result<GradeReport, CallError> {
        let url = self.url(&format!("/api/exercises/{exercise}/grade"));
        self.call(self.http.post(url), Some(session)).await
    }

    /// `POST /api/rooms` as the instructor: the class's room (`--hostile`).
    pub async fn create_room(&self, instructor: &str) -> Result<RoomCreated, CallError> {
        let body = json!({ "name": "redis-tutor-load class", "lessons": [] });
        let request = self.http.post(self.url("/api/rooms")).json(&body);
        self.call(request, Some(instructor)).await
    }

    /// `POST /api/rooms/join`: the learner joins the class by its code.
    pub async fn join_room(&self, learner: &str, code: &str, name: &str) -> Result<(), CallError> {
        let body = json!({ "code": code, "name": name });
        let request = self.http.post(self.url("/api/rooms/join")).json(&body);
        self.call::<Value>(request, Some(learner)).await.map(drop)
    }

    /// Every lesson the running engine can serve, with its blocks.
    pub async fn course(&self) -> Result<Vec<LessonPage>, CallError> {
        let outline: Vec<LessonSummary> = self
            .call(self.http.get(self.url("/api/lessons")), None)
            .await?;
        let mut pages = Vec::new();
        for lesson in outline.iter().filter(|l| l.missing.is_empty()) {
            let url = self.url(&format!("/api/lessons/{}", lesson.slug));
            let page: LessonPage = self.call(self.http.get(url), None).await?;
            if !page.blocks.is_empty() {
                pages.push(page);
            }
        }
        Ok(pages)
    }
}
