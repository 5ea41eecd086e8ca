//! The parts of a lesson body that do something: ```redis blocks (with
//! their options and expected output) and ```task blocks (Try-it tasks).
//! Extracted once at load time, with the file line of each for errors.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Parser, Tag, TagEnd};

use super::task::TaskSpec;

/// A runnable ```redis block.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnableBlock {
    /// 1-based line of the opening fence in the file.
    pub line: usize,
    pub source: String,
    /// Run exactly as redis-cli would, without the console's conveniences.
    pub strict: bool,
    /// The block is meant to fail with an error containing this text.
    pub expect_error: Option<String>,
    /// What the console must print for it, when declared.
    pub output: Option<String>,
    /// The anchor of the `##` step it sits under, if any.
    pub step: Option<String>,
}

/// A Try-it task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub line: usize,
    pub spec: TaskSpec,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blocks {
    pub runnable: Vec<RunnableBlock>,
    pub tasks: Vec<Task>,
    /// The anchors of the `##` steps, in order (as the page's ids).
    pub steps: Vec<String>,
}

/// Splits a fence's info string into words, keeping `key="quoted value"`
/// together.
fn info_words(info: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in info.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(format!("unclosed quote in the fence options `{info}`"));
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

fn redis_block(info: &str, line: usize, source: String) -> Result<RunnableBlock, String> {
    let mut block = RunnableBlock {
        line,
        source,
        strict: false,
        expect_error: None,
        output: None,
        step: None,
    };
    for word in info_words(info)?.into_iter().skip(1) {
        match word.split_once('=') {
            None if word == "strict" => block.strict = true,
            Some(("expect-error", text)) if !text.is_empty() => {
                block.expect_error = Some(text.to_owned())
            }
            _ => {
                return Err(format!(
                "unknown option `{word}` on a redis block; allowed: strict, expect-error=\"text\""
            ))
            }
        }
    }
    Ok(block)
}

/// Finds every runnable block and task in `body`, whose first line is line
/// `first_line` of the file. Errors carry the file line.
pub fn extract(body: &str, first_line: usize) -> Result<Blocks, (usize, String)> {
    let line_of = |offset: usize| first_line + body[..offset.min(body.len())].matches('\n').count();
    let mut blocks = Blocks::default();
    let mut open: Option<(String, usize, String)> = None;
    // Whether the last finished code block was a redis block without output.
    let mut output_target = false;
    // The title of the `##` heading being read, while inside one.
    let mut heading: Option<String> = None;
    for (event, range) in Parser::new(body).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => {
                heading = Some(String::new());
                output_target = false;
            }
            Event::Text(text) | Event::Code(text) if heading.is_some() => {
                if let Some(title) = heading.as_mut() {
                    title.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => {
                if let Some(title) = heading.take() {
                    blocks.steps.push(super::render::step_id(&title));
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                open = Some((info.to_string(), line_of(range.start), String::new()));
            }
            Event::Text(text) => {
                if let Some((_, _, content)) = open.as_mut() {
                    content.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((info, line, content)) = open.take() else {
                    output_target = false;
                    continue;
                };
                let lang = info.split_whitespace().next().unwrap_or("");
                match lang {
                    "redis" => {
                        let mut block = redis_block(&info, line, content).map_err(|e| (line, e))?;
                        block.step = blocks.steps.last().cloned();
                        blocks.runnable.push(block);
                        output_target = true;
                        continue;
                    }
                    "output" => {
                        let target = blocks.runnable.last_mut().filter(|_| output_target);
                        let Some(target) = target else {
                            return Err((
                                line,
                                "an ```output block must directly follow a ```redis block"
                                    .to_owned(),
                            ));
                        };
                        if target.expect_error.is_some() {
                            return Err((
                                line,
                                "a block with expect-error cannot also declare its output"
                                    .to_owned(),
                            ));
                        }
                        target.output = Some(content.trim_end().to_owned());
                    }
                    "task" => {
                        let spec = TaskSpec::parse(&content).map_err(|e| (line, e))?;
                        blocks.tasks.push(Task { line, spec });
                    }
                    _ => {}
                }
                output_target = false;
            }
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::List(_) | Tag::Table(_)) => {
                output_target = false;
            }
            _ => {}
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_with_options_output_and_lines() {
        let body = "Intro.\n\n```redis\nPING\n```\n\n```output\nPONG\n```\n\n```redis strict expect-error=\"unknown command '#'\"\n# comment\n```\n\n```python\nprint(1)\n```\n";
        let blocks = extract(body, 10).unwrap();
        assert_eq!(blocks.runnable.len(), 2);
        assert_eq!(blocks.runnable[0].line, 12);
        assert_eq!(blocks.runnable[0].source, "PING\n");
        assert_eq!(blocks.runnable[0].output.as_deref(), Some("PONG"));
        assert!(blocks.runnable[1].strict);
        assert_eq!(
            blocks.runnable[1].expect_error.as_deref(),
            Some("unknown command '#'")
        );
    }

    #[test]
    fn an_unknown_fence_option_names_its_line() {
        let (line, message) = extract("\n```redis run-twice\nPING\n```\n", 5).unwrap_err();
        assert_eq!(line, 6);
        assert!(message.contains("run-twice"), "{message}");
    }

    #[test]
    fn a_stray_output_block_is_an_error() {
        let (line, message) = extract("Text.\n\n```output\nPONG\n```\n", 1).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("must directly follow"), "{message}");
        assert!(extract("```redis\nPING\n```\n\nWords.\n\n```output\nPONG\n```\n", 1).is_err());
    }
}
