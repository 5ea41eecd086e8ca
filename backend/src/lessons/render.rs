//! Markdown to HTML for lesson bodies. Raw HTML in a lesson is shown as
//! text, never passed through: lesson HTML goes into the page as-is.

use pulldown_cmark::{html, CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Wraps ```redis blocks so the page can offer a Run button beside them.
fn runnable_blocks<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    let mut in_redis = false;
    events.flat_map(move |event| {
        let is_redis = |kind: &CodeBlockKind<'_>| matches!(kind, CodeBlockKind::Fenced(lang) if lang.split_whitespace().next() == Some("redis"));
        match &event {
            Event::Start(Tag::CodeBlock(kind)) if is_redis(kind) => {
                in_redis = true;
                vec![Event::Html(CowStr::Borrowed("<div class=\"runnable\">")), event]
            }
            Event::End(TagEnd::CodeBlock) if in_redis => {
                in_redis = false;
                vec![
                    event,
                    Event::Html(CowStr::Borrowed(
                        "<button type=\"button\" class=\"run-button\" aria-label=\"Run this block in the console\">Run ▸</button></div>",
                    )),
                ]
            }
            _ => vec![event],
        }
    })
}

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
    // After escaping the author's raw HTML, so only our wrapper is markup.
    html::push_html(&mut out, runnable_blocks(events));
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

    #[test]
    fn redis_blocks_get_a_run_button_and_others_do_not() {
        let html = to_html("```redis\nPING\n```\n\n```python\nprint(1)\n```\n");
        assert_eq!(html.matches("run-button").count(), 1, "{html}");
        assert!(
            html.starts_with("<div class=\"runnable\">\n<pre><code class=\"language-redis\">PING"),
            "{html}"
        );
    }
}
