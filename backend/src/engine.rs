//! Finding the Redis engine learners get: the project's provisioned Redis 8.2
//! with its modules, or any `redis-server` on PATH as a fallback.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use protocol::EngineInfo;

/// A module the engine may load, keyed by the file name setup provisions.
struct KnownModule {
    file: &'static str,
    capability: Capability,
    /// The name `MODULE LIST` reports once loaded.
    list_name: &'static str,
    /// Load-time arguments. Search gets a query timeout and result caps so
    /// one learner's query cannot hog the engine.
    args: &'static [&'static str],
}

const KNOWN_MODULES: [KnownModule; 3] = [
    KnownModule {
        file: "rejson.so",
        capability: Capability::Json,
        list_name: "ReJSON",
        args: &[],
    },
    KnownModule {
        file: "redisearch.so",
        capability: Capability::Search,
        list_name: "search",
        args: &[
            "TIMEOUT",
            "500",
            "ON_TIMEOUT",
            "FAIL",
            "MAXSEARCHRESULTS",
            "10000",
            "MAXAGGREGATERESULTS",
            "10000",
        ],
    },
    KnownModule {
        file: "redisbloom.so",
        capability: Capability::Bloom,
        list_name: "bf",
        args: &[],
    },
];

/// What a lesson can require of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    Json,
    Search,
    Bloom,
    /// Vector Sets (VADD/VSIM), built into Redis 8.
    VectorSet,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Capability::Json,
        Capability::Search,
        Capability::Bloom,
        Capability::VectorSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Json => "json",
            Capability::Search => "search",
            Capability::Bloom => "bloom",
            Capability::VectorSet => "vectorset",
        }
    }

    pub fn parse(name: &str) -> Option<Capability> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "no Redis engine: {dir}/bin/redis-server does not exist and no redis-server is on PATH; run `make run` (it provisions .engine/) or install redis-server"
    )]
    NotFound { dir: PathBuf },
    #[error("could not run {path} --version: {source}")]
    Probe {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} --version printed no version (`{output}`)")]
    NoVersion { path: PathBuf, output: String },
}

/// A module file the engine will load into every sandbox.
#[derive(Debug, Clone)]
pub struct Module {
    pub capability: Capability,
    pub path: PathBuf,
    /// The name `MODULE LIST` reports for it.
    pub list_name: &'static str,
    /// Load-time arguments (see `KNOWN_MODULES`).
    pub args: &'static [&'static str],
}

/// The engine found at start-up.
#[derive(Debug, Clone)]
pub struct Engine {
    pub server: PathBuf,
    pub modules: Vec<Module>,
    pub info: EngineInfo,
}

impl Engine {
    /// Looks in `engine_dir` first, then on PATH.
    pub fn discover(engine_dir: &Path) -> Result<Engine, EngineError> {
        let bundled = engine_dir.join("bin").join("redis-server");
        let (server, source, modules) = if bundled.is_file() {
            let lib = engine_dir.join("lib");
            let modules = KNOWN_MODULES
                .iter()
                .filter(|m| lib.join(m.file).is_file())
                .map(|m| Module {
                    capability: m.capability,
                    path: absolute(&lib.join(m.file)),
                    list_name: m.list_name,
                    args: m.args,
                })
                .collect();
            (absolute(&bundled), "bundled", modules)
        } else if let Some(found) = find_on_path("redis-server") {
            (found, "path", Vec::new())
        } else {
            return Err(EngineError::NotFound {
                dir: engine_dir.to_path_buf(),
            });
        };
        let version = probe_version(&server)?;
        let mut engine = Engine::from_parts(server, &version, modules);
        source.clone_into(&mut engine.info.source);
        Ok(engine)
    }

    /// An engine from known parts, for callers that already probed it.
    pub fn from_parts(server: PathBuf, version: &str, modules: Vec<Module>) -> Engine {
        let mut capabilities: Vec<String> = modules
            .iter()
            .map(|m| m.capability.as_str().to_owned())
            .collect();
        if major_version(version) >= 8 {
            capabilities.push(Capability::VectorSet.as_str().to_owned());
        }
        Engine {
            server,
            modules,
            info: EngineInfo {
                version: version.to_owned(),
                source: "path".to_owned(),
                capabilities,
            },
        }
    }

    pub fn major_version(&self) -> u32 {
        major_version(&self.info.version)
    }

    pub fn has(&self, capability: Capability) -> bool {
        self.info
            .capabilities
            .iter()
            .any(|c| c == capability.as_str())
    }

    /// `--loadmodule <path> [args…]` for every module, ready for a command line.
    pub fn loadmodule_args(&self) -> Vec<OsString> {
        let mut out = Vec::new();
        for module in &self.modules {
            out.push(OsString::from("--loadmodule"));
            out.push(module.path.clone().into_os_string());
            out.extend(module.args.iter().map(OsString::from));
        }
        out
    }
}

/// Sandboxes run in their own directories, so module paths must not be relative.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `Redis server v=8.2.3 sha=… malloc=jemalloc…` → `8.2.3`.
fn probe_version(server: &Path) -> Result<String, EngineError> {
    let output = Command::new(server)
        .arg("--version")
        .output()
        .map_err(|source| EngineError::Probe {
            path: server.to_path_buf(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    parse_version(&text).ok_or(EngineError::NoVersion {
        path: server.to_path_buf(),
        output: text.trim().to_owned(),
    })
}

fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .map(str::to_owned)
}

fn major_version(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_server_version_line() {
        let line = "Redis server v=8.2.3 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1\n";
        assert_eq!(parse_version(line).as_deref(), Some("8.2.3"));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn major_version_reads_the_first_component() {
        assert_eq!(major_version("8.2.3"), 8);
        assert_eq!(major_version("7.0.15"), 7);
        assert_eq!(major_version(""), 0);
    }

    #[test]
    fn capabilities_round_trip_through_their_names() {
        for capability in Capability::ALL {
            assert_eq!(Capability::parse(capability.as_str()), Some(capability));
        }
        assert_eq!(Capability::parse("redisai"), None);
    }
}
