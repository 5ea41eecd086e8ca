//! Markdown to HTML for lesson bodies. Raw HTML in a lesson is shown as
//! text, never passed through: lesson HTML goes into the page as-is.

use pulldown_cmark::{
    html, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};

use super::task::TaskSpec;

/// `## Sorted sets, ranked` → `sorted-sets-ranked`: the step's deep link.
pub fn step_id(title: &str) -> String {
    let mut id = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

/// Gives every `##` step an id, so `/lesson/<slug>#<step>` links to it.
fn step_ids(mut events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading {
            level: HeadingLevel::H2,
            id: None,
            ..
        }) = &events[i]
        {
            let mut title = String::new();
            for e in &events[i + 1..] {
                match e {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => title.push_str(t),
                    _ => {}
                }
            }
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
                *id = Some(CowStr::Boxed(step_id(&title).into_boxed_str()));
            }
        }
        i += 1;
    }
    events
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A Try-it task as page markup: goal, hint, solution (hidden) and the
/// buttons the page wires up. Everything from the author is escaped.
fn task_html(index: usize, source: &str) -> String {
    let Ok(spec) = TaskSpec::parse(source) else {
        // Loading validated every task before rendering.
        return String::new();
    };
    let goal = to_html(&spec.goal);
    let hint = spec
        .hint
        .map(|h| {
            format!(
                "<details class=\"task-hint\"><summary>Hint</summary>{}</details>",
                to_html(&h)
            )
        })
        .unwrap_or_default();
    format!(
        "<div class=\"task\" data-task=\"{index}\"><p class=\"task-label\">Try it</p><div class=\"task-goal\">{goal}</div>{hint}\
<div class=\"task-actions\"><button type=\"button\" class=\"task-check\">Check</button>\
<button type=\"button\" class=\"task-show-solution\">Show solution</button></div>\
<p class=\"task-result\" role=\"status\" aria-live=\"polite\"></p>\
<div class=\"runnable task-solution\" hidden><pre><code class=\"language-redis\">{}</code></pre>\
<button type=\"button\" class=\"run-button\" aria-label=\"Run the solution in the console\">Run ▸</button></div></div>",
        escape(&spec.solution.join("\n"))
    )
}

/// Wraps ```redis blocks so the page can offer a Run button beside them,
/// labels ```output blocks, and turns ```task blocks into Try-it widgets.
fn special_blocks<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    #[derive(PartialEq)]
    enum Open {
        None,
        Redis,
        Output,
        Task(String),
    }
    let mut open = Open::None;
    let mut tasks = 0;
    let mut runnables = 0;
    events.flat_map(move |event| {
        let lang = |kind: &CodeBlockKind<'_>| match kind {
            CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or("").to_owned(),
            CodeBlockKind::Indented => String::new(),
        };
        let html = |s: String| Event::Html(CowStr::Boxed(s.into_boxed_str()));
        match (&mut open, &event) {
            (Open::None, Event::Start(Tag::CodeBlock(kind))) => match lang(kind).as_str() {
                "redis" => {
                    open = Open::Redis;
                    runnables += 1;
                    vec![html(format!("<div class=\"runnable\" data-block=\"{}\">", runnables - 1)), event]
                }
                "output" => {
                    open = Open::Output;
                    vec![html("<div class=\"expected-output\"><span class=\"expected-label\">Expected output</span>".into()), event]
                }
                "task" => {
                    open = Open::Task(String::new());
                    vec![]
                }
                _ => vec![event],
            },
            (Open::Task(text), Event::Text(chunk)) => {
                text.push_str(chunk);
                vec![]
            }
            (Open::Task(text), Event::End(TagEnd::CodeBlock)) => {
                let markup = task_html(tasks, text);
                tasks += 1;
                open = Open::None;
                vec![html(markup)]
            }
            (Open::Redis, Event::End(TagEnd::CodeBlock)) => {
                open = Open::None;
                vec![
                    event,
                    html("<button type=\"button\" class=\"run-button\" aria-label=\"Run this block in the console\">Run ▸</button></div>".into()),
                ]
            }
            (Open::Output, Event::End(TagEnd::CodeBlock)) => {
                open = Open::None;
                vec![event, html("</div>".into())]
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
    html::push_html(
        &mut out,
        special_blocks(step_ids(events.collect()).into_iter()),
    );
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
    fn tasks_become_widgets_with_escaped_content() {
        let html = to_html("```task\ngoal = \"Set <b>k</b>\"\nsolution = [\"SET k <v>\"]\n[[check]]\ncommand = \"GET k\"\nequals = \"<v>\"\n```\n");
        assert!(html.contains("data-task=\"0\""), "{html}");
        assert!(html.contains("SET k &lt;v&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("[[check]]"), "{html}");
    }

    #[test]
    fn steps_get_deep_link_ids() {
        let html = to_html("## Sorted sets, ranked!\n\nText.\n\n## `ZADD` basics\n");
        assert!(html.contains("<h2 id=\"sorted-sets-ranked\">"), "{html}");
        assert!(html.contains("<h2 id=\"zadd-basics\">"), "{html}");
    }

    #[test]
    fn output_blocks_are_labelled() {
        let html = to_html("```redis\nPING\n```\n\n```output\nPONG\n```\n");
        assert!(html.contains("Expected output"), "{html}");
    }

    #[test]
    fn redis_blocks_get_a_run_button_and_others_do_not() {
        let html = to_html("```redis\nPING\n```\n\n```python\nprint(1)\n```\n");
        assert_eq!(html.matches("run-button").count(), 1, "{html}");
        assert!(html.starts_with("<div class=\"runnable\" data-block=\"0\">\n<pre><code class=\"language-redis\">PING"), "{html}");
    }
}
