//! What a client says it accepts, read from its request headers.

use axum::http::header::ACCEPT_ENCODING;
use axum::http::HeaderMap;

/// Whether `Accept-Encoding` lists gzip (or `*`) without `q=0`.
pub fn gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use axum::http::header::ACCEPT_ENCODING;
    use axum::http::{HeaderMap, HeaderValue};

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_lists_count() {
        assert!(super::gzip(&with("gzip, deflate, br, zstd")));
        assert!(super::gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(super::gzip(&with("*")));
    }

    #[test]
    fn absent_or_refused_gzip_does_not() {
        assert!(!super::gzip(&HeaderMap::new()));
        assert!(!super::gzip(&with("br, deflate")));
        assert!(!super::gzip(&with("gzip;q=0, br")));
        assert!(!super::gzip(&with("identity")));
    }
}
