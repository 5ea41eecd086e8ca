//! Parsing `SUMMARY.md`: the ordered list of lesson files. Pure, no I/O.

/// One `- [Title](file.md)` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub title: String,
    pub file: String,
    /// 1-based line in SUMMARY.md.
    pub line: usize,
}

/// Headings, blank lines and prose are ignored; every list item must be a
/// link to a local `.md` file. Errors carry the 1-based line.
pub fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        let Some(item) = list_item(trimmed) else {
            continue;
        };
        let entry = link(item, line).ok_or_else(|| {
            (
                line,
                format!("expected a list item like `- [Title](file.md)`, found `{trimmed}`"),
            )
        })?;
        if entry.file.contains('/') || entry.file.contains('\\') || !entry.file.ends_with(".md") {
            return Err((
                line,
                format!(
                    "`{}` must be a .md file in the lessons folder itself",
                    entry.file
                ),
            ));
        }
        if let Some(first) = entries.iter().find(|e| e.file == entry.file) {
            return Err((
                line,
                format!("`{}` is already listed on line {}", entry.file, first.line),
            ));
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err((1, "SUMMARY.md lists no lessons".to_owned()));
    }
    Ok(entries)
}

fn list_item(line: &str) -> Option<&str> {
    line.strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))
        .map(str::trim)
}

fn link(item: &str, line: usize) -> Option<Entry> {
    let rest = item.strip_prefix('[')?;
    let (title, rest) = rest.split_once("](")?;
    let file = rest.strip_suffix(')')?;
    (!title.is_empty() && !file.is_empty()).then(|| Entry {
        title: title.to_owned(),
        file: file.to_owned(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_links_in_order_and_skips_prose() {
        let entries =
            parse("# Summary\n\nIntro text.\n\n- [One](01-one.md)\n* [Two](02-two.md)\n").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].title, "One");
        assert_eq!(entries[1].file, "02-two.md");
        assert_eq!(entries[1].line, 6);
    }

    #[test]
    fn a_malformed_item_names_its_line() {
        let (line, message) = parse("# Summary\n- [One](01.md)\n- Two\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("- Two"), "{message}");
    }

    #[test]
    fn refuses_paths_outside_the_folder() {
        let (line, message) = parse("- [Bad](../etc/passwd.md)\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("lessons folder"), "{message}");
    }

    #[test]
    fn refuses_duplicates_and_empty_outlines() {
        assert_eq!(parse("- [A](a.md)\n- [B](a.md)\n").unwrap_err().0, 2);
        assert!(parse("# Summary\n").is_err());
    }
}
