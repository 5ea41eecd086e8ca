//! The browser app's files from `dist/`: the precompressed copy the
//! browser accepts (`.br`, `.gz`, written once at build time by
//! scripts/precompress.sh) with its Content-Encoding; a year's cache for
//! file names that carry their content's hash, `no-cache` for index.html
//! (it names the current hashes); and index.html for any other path, so
//! deep links like /lesson/hashes reach the client router.
//!
//! Two apps share `dist/`: the learner's at its root, and the
//! instructor's (the instructor's screen and the projector, built
//! separately so a lesson page never downloads them) in
//! `dist/classroom/`, whose index.html answers its two pages.

use std::path::Path;

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// A hashed file never changes under its name.
const HASHED: &str = "public, max-age=31536000, immutable";
/// index.html (and any unhashed file) is checked with the server each time.
const REVALIDATE: &str = "no-cache";

/// Where in `dist/` the instructor's app is built (`make frontend`).
pub const INSTRUCTOR_APP_DIR: &str = "classroom";
/// The pages the instructor's app owns; every other page is the learner's.
pub const INSTRUCTOR_PAGES: [&str; 2] = ["/instructor", "/projector"];

/// The two single-page apps, served from `dist_dir`.
pub fn service(dist_dir: &Path) -> Router {
    // `fallback`, not `not_found_service`, which forces a 404: a deep link
    // loads index.html with status 200.
    let index = index_html(dist_dir);
    let files = ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let instructor_index = index_html(&dist_dir.join(INSTRUCTOR_APP_DIR));
    INSTRUCTOR_PAGES
        .into_iter()
        .fold(Router::new(), |router, page| {
            router.route_service(page, instructor_index.clone())
        })
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_control))
}

fn index_html(app_dir: &Path) -> ServeFile {
    ServeFile::new(app_dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip()
}

async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed_name(request.uri().path());
    let mut response = next.run(request).await;
    // The fallback answers unknown paths (an old hash among them) with
    // index.html, which must never be cached as if it were that file.
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let policy = if hashed && !html { HASHED } else { REVALIDATE };
    if response.status().is_success() || response.status().is_redirection() {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Trunk's output names: `<stem>-<hex hash>.<ext>`, and the wasm
/// `<stem>-<hex hash>_bg.wasm` (the hash is a u64 in hex, without leading
/// zeros).
fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((_, tail)) = name.rsplit_once('-') else {
        return false;
    };
    let Some((hash, _ext)) = tail.split_once(['.', '_']) else {
        return false;
    };
    (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    use super::{is_hashed_name, service};

    /// A dist/ with index.html, a hashed wasm and its gzip copy (whose
    /// bytes need only differ: the server sends a copy as it is), and the
    /// instructor's app beside it.
    fn dist() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write a dist file");
        };
        write("index.html", b"<!doctype html><title>learner</title>");
        write("app-0123abcd4567_bg.wasm", b"\0asm");
        write("app-0123abcd4567_bg.wasm.gz", b"gzipped bytes");
        write(
            "classroom/index.html",
            b"<!doctype html><title>instructor</title>",
        );
        write("classroom/instructor-89abcdef0123_bg.wasm", b"\0asm");
        dir
    }

    async fn body_of(response: axum::response::Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    async fn get(dir: &tempfile::TempDir, path: &str, gzip: bool) -> axum::response::Response {
        let mut request = Request::get(path);
        if gzip {
            request = request.header(header::ACCEPT_ENCODING, "gzip, br");
        }
        service(dir.path())
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    fn header_of(response: &axum::response::Response, name: header::HeaderName) -> String {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_hashed_file_is_sent_precompressed_and_cached_for_a_year() {
        let dir = dist();
        let response = get(&dir, "/app-0123abcd4567_bg.wasm", true).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), "gzip");
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "application/wasm"
        );
        assert_eq!(
            header_of(&response, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
    }

    #[tokio::test]
    async fn a_browser_that_accepts_brotli_gets_the_brotli_copy() {
        let dir = dist();
        std::fs::write(
            dir.path().join("app-0123abcd4567_bg.wasm.br"),
            b"brotli bytes",
        )
        .expect("write the .br copy");
        let response = get(&dir, "/app-0123abcd4567_bg.wasm", true).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), "br");
    }

    #[tokio::test]
    async fn a_browser_without_gzip_gets_the_plain_file() {
        let dir = dist();
        let response = get(&dir, "/app-0123abcd4567_bg.wasm", false).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_ENCODING), "");
    }

    #[tokio::test]
    async fn index_and_deep_links_are_revalidated_every_time() {
        let dir = dist();
        for path in ["/", "/index.html", "/lesson/why-redis"] {
            let response = get(&dir, path, true).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header_of(&response, header::CACHE_CONTROL),
                "no-cache",
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn an_old_hash_gets_index_html_never_cached_as_that_file() {
        let dir = dist();
        let response = get(&dir, "/app-ffff0000ffff0000.js", true).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header_of(&response, header::CONTENT_TYPE).starts_with("text/html"));
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
    }

    #[tokio::test]
    async fn the_instructor_pages_get_the_instructor_app_and_the_rest_the_learner_app() {
        let dir = dist();
        for (path, app) in [
            ("/instructor", "instructor"),
            ("/projector", "instructor"),
            ("/lesson/why-redis", "learner"),
            ("/join", "learner"),
            ("/instructor/extra", "learner"),
        ] {
            let response = get(&dir, path, false).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header_of(&response, header::CACHE_CONTROL),
                "no-cache",
                "{path}"
            );
            let body = body_of(response).await;
            assert!(
                body.contains(&format!("<title>{app}</title>")),
                "{path}: {body}"
            );
        }
        let wasm = get(&dir, "/classroom/instructor-89abcdef0123_bg.wasm", false).await;
        assert_eq!(wasm.status(), StatusCode::OK);
        assert_eq!(
            header_of(&wasm, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn trunk_output_names_count_as_hashed() {
        assert!(is_hashed_name("/frontend-f3df5bad9195009c.js"));
        assert!(is_hashed_name("/frontend-f3df5bad9195009c_bg.wasm"));
        assert!(is_hashed_name("/shell-7688a3cdbe43cb3.css"));
    }

    #[test]
    fn pages_and_plain_names_are_not_hashed() {
        assert!(!is_hashed_name("/"));
        assert!(!is_hashed_name("/index.html"));
        assert!(!is_hashed_name("/lesson/why-redis"));
        assert!(!is_hashed_name("/lesson/rate-limiting"));
        assert!(!is_hashed_name("/favicon.ico"));
        assert!(!is_hashed_name("/lesson/feature-serving"));
    }
}
