//! Markdown to HTML for lesson bodies. Raw HTML in a lesson is shown as
//! text, never passed through: lesson HTML goes into the page as-is.

use pulldown_cmark::{html, CowStr, Event, Options, Parser};

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(pulldown_cmark::Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(pulldown_cmark::Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// `javascript:` and friends become inert.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme_ok = match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    };
    if scheme_ok {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped() {
        let html = to_html("Hi <script>alert(1)</script>\n\n<div onclick=x>y</div>\n");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn javascript_links_are_neutralised() {
        let html = to_html("[x](javascript:alert(1)) [y](https://redis.io) [z](#step)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("https://redis.io"));
        assert!(html.contains("href=\"#step\""));
    }

    #[test]
    fn code_fences_keep_their_language() {
        let html = to_html("```redis\nPING\n```\n");
        assert!(html.contains("language-redis"), "{html}");
    }
}
