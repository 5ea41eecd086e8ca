//! A lesson's TOML front matter between `+++` lines: what the lesson is,
//! what it needs from the engine, and the data it starts from.

use serde::Deserialize;

use crate::engine::Capability;

/// Everything a lesson declares about itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// URL id, lowercase letters, digits and `-`; unique in the course.
    pub slug: String,
    /// Shown as the page heading and in the outline.
    pub title: String,
    /// One sentence for the outline.
    pub summary: String,
    /// Engine capabilities the lesson needs: `json`, `search`, `bloom`, `vectorset`.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Every key the lesson creates starts with `<key_prefix>:`, so lessons
    /// never collide in one sandbox (checked by the every-block test).
    pub key_prefix: String,
    /// Command lines that load the lesson's starting data into a fresh sandbox.
    #[serde(default)]
    pub setup: Vec<String>,
}

const FENCE: &str = "+++";

/// Splits a lesson file into its validated front matter and markdown body.
/// Errors carry the 1-based line in the file.
pub fn split(source: &str) -> Result<(FrontMatter, &str), (usize, String)> {
    let mut lines = source.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some(FENCE) {
        return Err((
            1,
            "a lesson starts with TOML front matter: a `+++` line, then slug, title, summary, requires and setup, then `+++`".to_owned(),
        ));
    }
    let toml_start = FENCE.len() + source[FENCE.len()..].find('\n').map_or(0, |n| n + 1);
    let mut offset = toml_start;
    for line in lines {
        if line.trim_end() == FENCE {
            let toml_text = &source[toml_start..offset];
            let body = &source[offset + line.len()..];
            let meta = parse_toml(toml_text)?;
            validate(&meta, toml_text)?;
            return Ok((meta, body));
        }
        offset += line.len();
    }
    Err((
        1,
        "front matter is not closed: add a `+++` line after it".to_owned(),
    ))
}

/// Front-matter text starts on line 2 of the file.
fn file_line(toml_text: &str, byte: usize) -> usize {
    2 + toml_text[..byte.min(toml_text.len())].matches('\n').count()
}

fn parse_toml(toml_text: &str) -> Result<FrontMatter, (usize, String)> {
    toml::from_str(toml_text).map_err(|e| {
        let line = e.span().map_or(2, |span| file_line(toml_text, span.start));
        (line, format!("front matter: {}", e.message()))
    })
}

fn key_line(toml_text: &str, key: &str) -> usize {
    let byte = toml_text
        .lines()
        .scan(0, |pos, line| {
            let start = *pos;
            *pos += line.len() + 1;
            Some((start, line))
        })
        .find(|(_, line)| line.trim_start().starts_with(key))
        .map_or(0, |(start, _)| start);
    file_line(toml_text, byte)
}

fn validate(meta: &FrontMatter, toml_text: &str) -> Result<(), (usize, String)> {
    let slug_ok = !meta.slug.is_empty()
        && meta
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !slug_ok {
        return Err((
            key_line(toml_text, "slug"),
            format!(
                "slug `{}` may hold only lowercase letters, digits and `-`",
                meta.slug
            ),
        ));
    }
    let prefix_ok = !meta.key_prefix.is_empty()
        && meta
            .key_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !prefix_ok {
        return Err((
            key_line(toml_text, "key_prefix"),
            format!(
                "key_prefix `{}` may hold only lowercase letters, digits and `-`",
                meta.key_prefix
            ),
        ));
    }
    for (key, value) in [("title", &meta.title), ("summary", &meta.summary)] {
        if value.trim().is_empty() {
            return Err((key_line(toml_text, key), format!("{key} must not be empty")));
        }
    }
    if let Some(unknown) = meta
        .requires
        .iter()
        .find(|r| Capability::parse(r).is_none())
    {
        let known: Vec<_> = Capability::ALL.iter().map(|c| c.as_str()).collect();
        return Err((
            key_line(toml_text, "requires"),
            format!(
                "unknown requirement `{unknown}`; known: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nslug = \"hashes\"\ntitle = \"Hashes\"\nsummary = \"Feature serving.\"\nrequires = [\"json\"]\nsetup = [\"HSET k f v\"]\nkey_prefix = \"hash\"\n+++\n# Body\n";

    #[test]
    fn splits_front_matter_from_body() {
        let (meta, body) = split(GOOD).unwrap();
        assert_eq!(meta.slug, "hashes");
        assert_eq!(meta.requires, ["json"]);
        assert_eq!(meta.setup, ["HSET k f v"]);
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn unknown_field_names_its_line() {
        let source = GOOD.replace("setup", "setpu");
        let (line, message) = split(&source).unwrap_err();
        assert_eq!(line, 6);
        assert!(message.contains("setpu"), "{message}");
    }

    #[test]
    fn missing_opening_fence_is_line_one() {
        let (line, _) = split("# No front matter\n").unwrap_err();
        assert_eq!(line, 1);
    }

    #[test]
    fn unclosed_front_matter_is_reported() {
        let (_, message) = split("+++\nslug = \"x\"\n").unwrap_err();
        assert!(message.contains("not closed"), "{message}");
    }

    #[test]
    fn bad_slug_and_unknown_requirement_name_their_lines() {
        let (line, _) = split(&GOOD.replace("\"hashes\"", "\"Has Spaces\"")).unwrap_err();
        assert_eq!(line, 2);
        let (line, message) = split(&GOOD.replace("\"json\"", "\"redisai\"")).unwrap_err();
        assert_eq!(line, 5);
        assert!(message.contains("redisai"), "{message}");
    }
}
