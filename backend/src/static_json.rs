//! JSON answers that never change while the server runs: the command
//! catalog, the lesson list and each lesson page. Each is serialized and
//! gzipped once at start, so a request copies bytes (a reference count)
//! instead of building, serializing and sending ~20–145 KB raw every time.

use std::collections::HashMap;
use std::io::Write;

use axum::body::Bytes;
use serde::Serialize;

use crate::engine::Engine;
use crate::lessons::Course;

/// One value as JSON, and the same JSON gzipped at the best level.
#[derive(Debug, Clone, Default)]
pub struct StaticJson {
    pub json: Bytes,
    pub gzip: Bytes,
}

impl StaticJson {
    pub fn encode<T: Serialize>(value: &T) -> std::io::Result<StaticJson> {
        let json = serde_json::to_vec(value)?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&json)?;
        Ok(StaticJson {
            gzip: Bytes::from(encoder.finish()?),
            json: Bytes::from(json),
        })
    }
}

/// The course as `GET /api/lessons` and `GET /api/lessons/<slug>` send it.
#[derive(Debug, Default)]
pub struct CourseJson {
    pub list: StaticJson,
    pages: HashMap<String, StaticJson>,
}

impl CourseJson {
    pub fn encode(course: &Course, engine: &Engine) -> std::io::Result<CourseJson> {
        let mut pages = HashMap::new();
        for summary in course.summaries(engine) {
            if let Some(page) = course.page(&summary.slug, engine) {
                pages.insert(summary.slug, StaticJson::encode(&page)?);
            }
        }
        Ok(CourseJson {
            list: StaticJson::encode(&course.summaries(engine))?,
            pages,
        })
    }

    pub fn page(&self, slug: &str) -> Option<&StaticJson> {
        self.pages.get(slug)
    }
}
