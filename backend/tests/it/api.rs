//! The HTTP API and the single-page-app fallback, over a real socket.

use protocol::{ApiError, EngineInfo, LessonPage, LessonSummary};
use reqwest::StatusCode;

use crate::support::{default_config, fixture, TestApp};

async fn app_with_fixture_dist() -> TestApp {
    let mut config = default_config();
    config.dist_dir = fixture("spa-dist");
    TestApp::with_config(config).await
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = app_with_fixture_dist().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn lesson_list_follows_summary_order() {
    let app = app_with_fixture_dist().await;
    let response = app.get("/api/lessons").await;
    assert_eq!(response.status(), StatusCode::OK);
    let lessons: Vec<LessonSummary> = response.json().await.unwrap();
    assert_eq!(lessons.len(), app.state.course.lessons.len());
    assert_eq!(lessons[0].slug, "why-redis");
    assert_eq!(lessons[0].title, "Why Redis for real-time AI");
    assert_eq!(lessons[0].number, 1);
    assert!(lessons.iter().all(|l| l.missing.is_empty()), "{lessons:?}");
}

#[tokio::test]
async fn lesson_page_has_rendered_body_and_neighbours() {
    let app = app_with_fixture_dist().await;
    let response = app.get("/api/lessons/why-redis").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: LessonPage = response.json().await.unwrap();
    assert_eq!(page.summary.slug, "why-redis");
    assert!(
        page.html.contains("<h2 id="),
        "body is rendered HTML with step anchors"
    );
    assert!(page.html.contains("language-redis"), "runnable blocks kept");
    assert_eq!(page.prev, None);
}

#[tokio::test]
async fn unknown_lesson_is_a_json_404_naming_it() {
    let app = app_with_fixture_dist().await;
    let response = app.get("/api/lessons/no-such-lesson").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let err: ApiError = response.json().await.unwrap();
    assert_eq!(err.error.code, "not_found");
    assert!(err.error.message.contains("no-such-lesson"));
}

#[tokio::test]
async fn unknown_api_path_is_json_not_the_app() {
    let app = app_with_fixture_dist().await;
    let response = app.get("/api/definitely/not/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let err: ApiError = response.json().await.unwrap();
    assert_eq!(err.error.code, "not_found");
}

#[tokio::test]
async fn engine_endpoint_reports_the_real_engine() {
    let app = app_with_fixture_dist().await;
    let info: EngineInfo = app.get("/api/engine").await.json().await.unwrap();
    assert_eq!(info, app.state.engine.info);
    assert_eq!(info.version, "8.2.3");
}

#[tokio::test]
async fn root_and_deep_links_serve_the_app() {
    let app = app_with_fixture_dist().await;
    for path in ["/", "/lesson/why-redis", "/some/client/route"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("fixture-spa-index"), "{path}: {body}");
    }
}

/// The answers every new page fetches (the catalog, about 145 KB of JSON;
/// the lesson list; the lesson itself, about 20 KB) go gzipped to a client
/// that accepts it, and unpack to the same JSON; an unknown lesson is
/// still a 404 with its sentence.
#[tokio::test]
async fn the_catalog_and_lessons_go_gzipped_to_a_browser() {
    let app = app_with_fixture_dist().await;
    for path in ["/api/commands", "/api/lessons", "/api/lessons/hashes"] {
        let (plain, unpacked, packed) = plain_and_gzipped(&app, path).await;
        assert_eq!(unpacked, plain, "{path}");
        assert!(
            packed * 2 < plain.len(),
            "{path}: {packed} of {}",
            plain.len()
        );
    }
    let missing = app
        .http
        .get(format!("{}/api/lessons/no-such-lesson", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers().get("content-encoding"), None);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

/// `path` fetched without and with `Accept-Encoding: gzip`: the plain
/// body, the gzipped one unpacked, and the gzipped one's size.
async fn plain_and_gzipped(app: &TestApp, path: &str) -> (Vec<u8>, Vec<u8>, usize) {
    use std::io::Read;
    let plain = app.get(path).await;
    assert_eq!(plain.status(), StatusCode::OK, "{path}");
    assert_eq!(plain.headers().get("content-encoding"), None, "{path}");
    let plain = plain.bytes().await.unwrap().to_vec();
    let gzipped = app
        .http
        .get(format!("{}{path}", app.base))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK, "{path}");
    assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{path}");
    assert_eq!(gzipped.headers()["content-type"], "application/json");
    assert_eq!(gzipped.headers()["vary"], "accept-encoding");
    let packed = gzipped.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_end(&mut unpacked)
        .expect("valid gzip");
    (plain, unpacked, packed.len())
}

#[tokio::test]
async fn command_docs_drive_completion_and_hints() {
    let app = app_with_fixture_dist().await;
    let catalog: protocol::CommandCatalog = app.get("/api/commands").await.json().await.unwrap();
    assert!(catalog.find("HGETALL").is_some());
    assert!(
        catalog.find("SHUTDOWN").is_none(),
        "only what a learner may run"
    );
    let config = catalog.find("CONFIG").unwrap();
    let subs: Vec<&str> = config.subcommands.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(subs, ["CONFIG GET"]);
    assert_eq!(catalog.complete("HGETA").unwrap().text, "HGETALL ");
    let hint = catalog.hint("ZADD ").unwrap();
    assert!(
        hint.starts_with("key ") && hint.contains("score member"),
        "{hint}"
    );
    // Inside a repeated pair the hint goes on from the word typed.
    assert_eq!(
        catalog.hint("HSET k f ").as_deref(),
        Some("value [field value ...]")
    );
    assert_eq!(
        catalog.hint("ZADD k 1 ").as_deref(),
        Some("member [score member ...]")
    );
    let after_ex = catalog.hint("SET k v EX ").unwrap();
    assert!(after_ex.starts_with("seconds"), "{after_ex}");
    // Module commands have hints too, from the engine or the fallback.
    let search = catalog.hint("FT.SEARCH idx ").unwrap();
    assert!(search.starts_with("query"), "{search}");
    let vsim = catalog.hint("VSIM vs ").unwrap();
    assert!(vsim.contains("ELE") && vsim.contains("VALUES"), "{vsim}");
    let notice = catalog.deprecation("HMSET k f v").unwrap();
    assert!(notice.contains("HSET"), "{notice}");
    assert!(catalog.find("JSON.SET").is_some() && catalog.find("VADD").is_some());
}

/// A refusal is a sentence for the reader: the names of the server's own
/// types (ExecRequest, u64) stay out of it.
#[tokio::test]
async fn a_body_of_the_wrong_shape_is_refused_without_our_type_names() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    for body in ["[]", "5", r#"{"line": 7}"#] {
        let response = app
            .http
            .post(format!("{}/api/exec", app.base))
            .bearer_auth(&id)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.error.code, "invalid_request");
        assert!(
            !error.error.message.contains("ExecRequest")
                && !error.error.message.contains("deserialize"),
            "{body}: {}",
            error.error.message
        );
    }
}

/// `Authorization: bearer …` is the same scheme (RFC 7235: any case).
#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case() {
    let app = TestApp::spawn().await;
    let id = app.new_session().await;
    let response = app
        .http
        .post(format!("{}/api/exec", app.base))
        .header("authorization", format!("bearer {id}"))
        .json(&serde_json::json!({"line": "PING"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// The nodes' internal route answers a stranger's GET as any unknown path
/// does, without saying it exists (405 said it takes POST).
#[tokio::test]
async fn the_internal_route_is_a_plain_404_to_other_methods() {
    let app = TestApp::spawn().await;
    let response = app.get("/internal/rooms/x/reset").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.error.code, "not_found");
}

/// No page may be framed by another site: the instructor's page carries
/// its token, and a framed page can be clicked through unseen.
#[tokio::test]
async fn pages_and_answers_refuse_to_be_framed() {
    let app = app_with_fixture_dist().await;
    for path in ["/", "/instructor", "/api/lessons", "/api/nope"] {
        let response = app.get(path).await;
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            response.headers()["content-security-policy"],
            "frame-ancestors 'none'",
            "{path}"
        );
    }
}
