//! The course: `lessons/SUMMARY.md` fixes the order, one markdown file per
//! lesson. Loaded in two phases, mdBook-style: parse the index (pure), then
//! load and validate every file. Any broken lesson stops start-up with an
//! error naming the file and line.

pub mod blocks;
mod front_matter;
pub mod lint;
#[cfg(test)]
mod properties;
mod render;
pub mod runner;
mod summary;
pub mod task;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use protocol::{LessonBlock, LessonPage, LessonSummary, LessonTask};

pub use blocks::{Blocks, RunnableBlock, Task};
pub use front_matter::FrontMatter;

use crate::engine::{Capability, Engine};

#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A problem at a known place in a file.
    #[error("{}:{line}: {message}", path.display())]
    At {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: lesson file is not listed in SUMMARY.md; add a `- [Title]({file})` line for it", dir.display())]
    Unlisted { dir: PathBuf, file: String },
}

/// One loaded, validated lesson.
#[derive(Debug, Clone)]
pub struct Lesson {
    pub meta: FrontMatter,
    /// 1-based position in the outline.
    pub number: usize,
    /// The file it came from, for error messages.
    pub path: PathBuf,
    pub html: String,
    /// Runnable blocks and Try-it tasks, in order.
    pub blocks: Blocks,
}

/// The whole course, in order.
#[derive(Debug, Clone, Default)]
pub struct Course {
    pub lessons: Vec<Lesson>,
}

impl Course {
    pub fn load(dir: &Path) -> Result<Course, LessonError> {
        let summary_path = dir.join("SUMMARY.md");
        let index = read(&summary_path)?;
        let entries = summary::parse(&index).map_err(|(line, message)| LessonError::At {
            path: summary_path.clone(),
            line,
            message,
        })?;

        let mut lessons = Vec::with_capacity(entries.len());
        let mut slugs = HashSet::new();
        for (i, entry) in entries.iter().enumerate() {
            let lesson = Lesson::load(&dir.join(&entry.file), i + 1)?;
            if !slugs.insert(lesson.meta.slug.clone()) {
                return Err(LessonError::At {
                    path: lesson.path,
                    line: 2,
                    message: format!(
                        "slug `{}` is already used by another lesson",
                        lesson.meta.slug
                    ),
                });
            }
            lessons.push(lesson);
        }

        let listed: HashSet<&str> = entries.iter().map(|e| e.file.as_str()).collect();
        for file in markdown_files(dir)? {
            if file != "SUMMARY.md" && !listed.contains(file.as_str()) {
                return Err(LessonError::Unlisted {
                    dir: dir.to_path_buf(),
                    file,
                });
            }
        }
        Ok(Course { lessons })
    }

    pub fn find(&self, slug: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.meta.slug == slug)
    }

    pub fn summaries(&self, engine: &Engine) -> Vec<LessonSummary> {
        self.lessons.iter().map(|l| l.summary(engine)).collect()
    }

    pub fn page(&self, slug: &str, engine: &Engine) -> Option<LessonPage> {
        let index = self.lessons.iter().position(|l| l.meta.slug == slug)?;
        let lesson = &self.lessons[index];
        let slug_at = |i: usize| self.lessons.get(i).map(|l| l.meta.slug.clone());
        Some(LessonPage {
            summary: lesson.summary(engine),
            html: lesson.html.clone(),
            prev: index.checked_sub(1).and_then(slug_at),
            next: slug_at(index + 1),
            setup: lesson.meta.setup.clone(),
            steps: lesson.blocks.steps.clone(),
            blocks: lesson
                .blocks
                .runnable
                .iter()
                .map(|b| LessonBlock {
                    source: b.source.clone(),
                    strict: b.strict,
                    expect_error: b.expect_error.clone(),
                    output: b.output.clone(),
                    step: b.step.clone(),
                })
                .collect(),
            tasks: lesson
                .blocks
                .tasks
                .iter()
                .map(|t| LessonTask {
                    goal: t.spec.goal.clone(),
                    hint: t.spec.hint.clone(),
                    solution: t.spec.solution.clone(),
                })
                .collect(),
        })
    }
}

impl Lesson {
    /// Loads and validates one lesson file; `number` is its place in the outline.
    pub fn load(path: &Path, number: usize) -> Result<Lesson, LessonError> {
        let source = read(path)?;
        let at = |(line, message): (usize, String)| LessonError::At {
            path: path.to_path_buf(),
            line,
            message,
        };
        let (meta, body) = front_matter::split(&source).map_err(at)?;
        let first_body_line = 1 + source[..source.len() - body.len()].matches('\n').count();
        let blocks = blocks::extract(body, first_body_line).map_err(at)?;
        Ok(Lesson {
            html: render::to_html(body),
            meta,
            number,
            path: path.to_path_buf(),
            blocks,
        })
    }

    pub fn requires(&self) -> impl Iterator<Item = Capability> + '_ {
        self.meta
            .requires
            .iter()
            .filter_map(|r| Capability::parse(r))
    }

    fn summary(&self, engine: &Engine) -> LessonSummary {
        LessonSummary {
            slug: self.meta.slug.clone(),
            number: self.number,
            title: self.meta.title.clone(),
            summary: self.meta.summary.clone(),
            requires: self.meta.requires.clone(),
            missing: self
                .requires()
                .filter(|c| !engine.has(*c))
                .map(|c| c.as_str().to_owned())
                .collect(),
        }
    }
}

fn read(path: &Path) -> Result<String, LessonError> {
    std::fs::read_to_string(path).map_err(|source| LessonError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn markdown_files(dir: &Path) -> Result<Vec<String>, LessonError> {
    let io = |source| LessonError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".md") {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const LESSON: &str = "+++\nslug = \"one\"\ntitle = \"One\"\nsummary = \"s\"\nrequires = []\nkey_prefix = \"one\"\nsetup = []\n+++\n\n## Step\n\nText.\n";

    #[test]
    fn loads_lessons_in_summary_order() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "SUMMARY.md",
            "# Summary\n\n- [One](a.md)\n- [Two](b.md)\n",
        );
        write(dir.path(), "a.md", LESSON);
        write(dir.path(), "b.md", &LESSON.replace("\"one\"", "\"two\""));
        let course = Course::load(dir.path()).unwrap();
        let slugs: Vec<_> = course
            .lessons
            .iter()
            .map(|l| l.meta.slug.as_str())
            .collect();
        assert_eq!(slugs, ["one", "two"]);
        assert_eq!(course.lessons[1].number, 2);
    }

    #[test]
    fn a_file_missing_from_summary_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "SUMMARY.md", "- [One](a.md)\n");
        write(dir.path(), "a.md", LESSON);
        write(dir.path(), "stray.md", LESSON);
        let err = Course::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("stray.md") && err.contains("SUMMARY.md"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_lesson_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "SUMMARY.md", "- [One](gone.md)\n");
        let err = Course::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("gone.md"), "{err}");
    }

    #[test]
    fn duplicate_slugs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "SUMMARY.md", "- [One](a.md)\n- [Two](b.md)\n");
        write(dir.path(), "a.md", LESSON);
        write(dir.path(), "b.md", LESSON);
        let err = Course::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("b.md:2") && err.contains("already used"),
            "{err}"
        );
    }
}
