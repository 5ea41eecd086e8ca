//! The control store under crashes: the server SIGKILLed in the middle of
//! a write storm (every acknowledged write must be there after a restart,
//! once, and nothing that was never written), the embedded store
//! SIGKILLed or frozen on its own (consoles carry on, writes answer 503
//! until the server has it back, nothing written before is lost).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::server::{
    alive, control_processes, error_code, eventually, proc_info, signal, ServerDirs, ServerOptions,
    ServerProcess,
};

/// Concurrent learners in the storm, each with its own session.
const CLIENTS: usize = 16;
/// Steps each client cycles through, so most are written more than once.
const STEPS_PER_CLIENT: usize = 3;
/// Every this-many operations a client checks a task instead.
const CHECK_EVERY: usize = 3;
/// Acknowledged writes (all clients together) before the SIGKILL.
const ACKS_BEFORE_KILL: usize = 64;
/// And the storm lasts at least this long before it.
const STORM_AT_LEAST: Duration = Duration::from_millis(1500);

fn storm_options(dirs: &ServerDirs) -> ServerOptions {
    // Sixteen sessions from one address: lift the per-address caps (the
    // caps themselves are tested elsewhere).
    dirs.options()
        .flag("--sandboxes-per-ip", "64")
        .flag("--spawns-per-min-per-ip", "1000")
}

/// What one storm client sent, and which of it the server acknowledged.
#[derive(Default, Debug)]
struct ClientLog {
    /// Progress steps answered 200, in order (repeats included).
    acked_steps: Vec<(String, String)>,
    /// Progress steps ever sent (answered or not).
    sent_steps: BTreeSet<(String, String)>,
    /// Task checks answered 200.
    acked_tasks: BTreeSet<(String, usize)>,
    sent_tasks: BTreeSet<(String, usize)>,
    /// Answers other than 200 that came before the kill.
    unexpected: Vec<String>,
}

struct StormClient {
    learner: String,
    token: String,
    session: String,
    steps: Vec<(String, String)>,
    tasks: Vec<(String, usize)>,
}

/// Writes as fast as the server answers until the server is gone.
async fn storm(
    http: reqwest::Client,
    base: String,
    client: Arc<StormClient>,
    acks: Arc<AtomicUsize>,
    killed: Arc<AtomicBool>,
) -> ClientLog {
    let mut log = ClientLog::default();
    for op in 0usize.. {
        let is_check = op % CHECK_EVERY == CHECK_EVERY - 1;
        let response = if is_check {
            let (slug, task) = &client.tasks[(op / CHECK_EVERY) % client.tasks.len()];
            log.sent_tasks.insert((slug.clone(), *task));
            http.post(format!("{base}/api/lessons/{slug}/tasks/{task}/check"))
                .bearer_auth(&client.session)
                .send()
                .await
        } else {
            let step = &client.steps[op % client.steps.len()];
            log.sent_steps.insert(step.clone());
            http.post(format!("{base}/api/me/progress"))
                .bearer_auth(&client.token)
                .json(&protocol::ProgressStep {
                    lesson: step.0.clone(),
                    step: step.1.clone(),
                })
                .send()
                .await
        };
        let Ok(response) = response else {
            // The server is gone (connection refused or reset).
            break;
        };
        let status = response.status();
        // The status line is the acknowledgement; the body may be cut off
        // by the kill, which does not undo it.
        let body = response.text().await.unwrap_or_default();
        if status == StatusCode::OK {
            if is_check {
                let (slug, task) = &client.tasks[(op / CHECK_EVERY) % client.tasks.len()];
                log.acked_tasks.insert((slug.clone(), *task));
            } else {
                log.acked_steps
                    .push(client.steps[op % client.steps.len()].clone());
            }
            acks.fetch_add(1, Ordering::Relaxed);
        } else if !killed.load(Ordering::Acquire) {
            log.unexpected.push(format!("{status} {body}"));
        }
    }
    log
}

/// Every (lesson, step) and (lesson, task) of the runnable course.
async fn course(server: &ServerProcess) -> (Vec<(String, String)>, Vec<(String, usize)>) {
    let mut steps = Vec::new();
    let mut tasks = Vec::new();
    for page in server.lessons().await {
        if !page.summary.missing.is_empty() {
            continue;
        }
        let slug = &page.summary.slug;
        steps.extend(page.steps.iter().map(|s| (slug.clone(), s.clone())));
        tasks.extend((0..page.tasks.len()).map(|t| (slug.clone(), t)));
    }
    assert!(
        steps.len() >= CLIENTS * STEPS_PER_CLIENT / 2 && !tasks.is_empty(),
        "the course should have steps and tasks to write ({} steps, {} tasks)",
        steps.len(),
        tasks.len()
    );
    (steps, tasks)
}

#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_of_the_server_mid_storm() {
    storm_then_sigkill("always").await;
}

/// With `everysec`, an acknowledgement is only as good as `WAITAOF`: the
/// same storm, where every write waits for the once-a-second fsync.
#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_with_everysec_fsync() {
    storm_then_sigkill("everysec").await;
}

async fn storm_then_sigkill(fsync: &str) {
    let dirs = ServerDirs::new();
    let options = storm_options(&dirs).flag("--control-fsync", fsync);
    let mut server = ServerProcess::start(&options).await;
    let first_control = server.control_pid().await;
    let (steps, tasks) = course(&server).await;

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let created = server.new_session(None).await;
        clients.push(Arc::new(StormClient {
            learner: created.learner.expect("an anonymous session has a learner"),
            token: created
                .learner_token
                .expect("an anonymous session returns its learner's token"),
            session: created.session,
            steps: (0..STEPS_PER_CLIENT)
                .map(|k| steps[(i * STEPS_PER_CLIENT + k) % steps.len()].clone())
                .collect(),
            tasks: (0..2)
                .map(|k| tasks[(i * 2 + k) % tasks.len()].clone())
                .collect(),
        }));
    }

    let acks = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = clients
        .iter()
        .map(|c| {
            tokio::spawn(storm(
                server.http.clone(),
                server.base.clone(),
                c.clone(),
                acks.clone(),
                killed.clone(),
            ))
        })
        .collect();
    // Mid-storm: enough acknowledged, and every client well under way.
    let enough = eventually(Duration::from_secs(60), || {
        acks.load(Ordering::Relaxed) >= ACKS_BEFORE_KILL && started.elapsed() >= STORM_AT_LEAST
    })
    .await;
    killed.store(true, Ordering::Release);
    server.kill9();
    let storm_time = started.elapsed();
    eprintln!(
        "storm ({fsync}): {} writes acknowledged in {storm_time:?} by {CLIENTS} clients",
        acks.load(Ordering::Relaxed)
    );
    let mut logs = Vec::new();
    for handle in handles {
        logs.push(handle.await.expect("storm client"));
    }
    let unexpected: Vec<&String> = logs.iter().flat_map(|l| &l.unexpected).collect();
    assert!(
        unexpected.is_empty(),
        "answers other than 200 before the kill (of {} acks in {storm_time:?}): {unexpected:#?}\n{}",
        acks.load(Ordering::Relaxed),
        server.log.text()
    );
    assert!(
        enough,
        "only {} writes acknowledged in {storm_time:?}",
        acks.load(Ordering::Relaxed)
    );

    // The design: the kernel sends the control store SIGTERM when its
    // server dies, so it is not left orphaned for long.
    let orphan_gone = eventually(Duration::from_secs(10), || {
        control_processes(&dirs.data).is_empty()
    })
    .await;
    assert!(
        orphan_gone,
        "a control store outlived its SIGKILLed server by 10 s: {:?}",
        control_processes(&dirs.data)
    );

    let server = ServerProcess::start(&options).await;
    let second_control = server.control_pid().await;
    assert_ne!(first_control, second_control);
    assert!(!alive(first_control));
    let all: Vec<u32> = control_processes(&dirs.data)
        .iter()
        .map(|p| p.pid)
        .collect();
    assert_eq!(
        all,
        vec![second_control],
        "exactly one control store on the data dir"
    );

    let mut checked = 0;
    for (client, log) in clients.iter().zip(&logs) {
        let me = server.me(&client.token).await;
        assert_eq!(
            me.learner, client.learner,
            "the token still names its learner"
        );
        for (lesson, stored) in &me.progress {
            let unique: BTreeSet<&String> = stored.iter().collect();
            assert_eq!(
                unique.len(),
                stored.len(),
                "duplicate steps in {lesson}: {stored:?}"
            );
            for step in stored {
                assert!(
                    log.sent_steps.contains(&(lesson.clone(), step.clone())),
                    "{lesson}/{step} was never sent by learner {}",
                    client.learner
                );
            }
        }
        // Every acknowledged step is there, in the order first acknowledged.
        let mut first_acked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (lesson, step) in &log.acked_steps {
            let list = first_acked.entry(lesson).or_default();
            if !list.contains(&step.as_str()) {
                list.push(step);
            }
            checked += 1;
        }
        for (lesson, want) in &first_acked {
            let stored: Vec<&str> = me
                .progress
                .get(*lesson)
                .map(|s| {
                    s.iter()
                        .map(String::as_str)
                        .filter(|s| want.contains(s))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                &stored, want,
                "acknowledged steps of {lesson} for learner {}: stored {:?}",
                client.learner, me.progress
            );
        }
        let mut seen = BTreeSet::new();
        for result in &me.results {
            let key = (result.lesson.clone(), result.task);
            assert!(seen.insert(key.clone()), "duplicate result {key:?}");
            assert!(
                log.sent_tasks.contains(&key),
                "result {key:?} was never checked"
            );
        }
        for key in &log.acked_tasks {
            assert!(
                seen.contains(key),
                "acknowledged check {key:?} missing for learner {}: {:?}",
                client.learner,
                me.results
            );
            checked += 1;
        }
    }
    assert!(
        checked >= ACKS_BEFORE_KILL,
        "{checked} acknowledged writes checked"
    );
}

/// A learner with one step written before the store is hurt.
async fn learner_with_a_step(
    server: &ServerProcess,
) -> (String, (String, String), (String, String)) {
    let pages = server.lessons().await;
    let page = pages
        .iter()
        .find(|p| p.steps.len() >= 2)
        .expect("a lesson with two steps");
    let slug = page.summary.slug.clone();
    let first = (slug.clone(), page.steps[0].clone());
    let second = (slug, page.steps[1].clone());
    let learner = server
        .new_learner(serde_json::json!({"name": "Grace"}))
        .await;
    let response = server
        .progress(&learner.token, &first.0, &first.1)
        .await
        .expect("server answers");
    assert_eq!(response.status(), StatusCode::OK);
    (learner.token, first, second)
}

/// `PING` through the console answers `PONG`.
async fn console_answers(server: &ServerProcess, session: &str) {
    let response = server.exec(session, "PING").await;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "console PING: {body}");
    let reply: protocol::ExecResponse = serde_json::from_str(&body).expect("ExecResponse");
    assert!(body.contains("PONG"), "console PING: {reply:?}");
}

/// Writes `step` until it is acknowledged: every answer on the way must be
/// 200 or 503 `store_unavailable`, and each must come within `answer_within`.
/// Returns (how long it took, whether a 503 was seen, whether /healthz said
/// degraded).
async fn write_until_acknowledged(
    server: &ServerProcess,
    token: &str,
    step: &(String, String),
    within: Duration,
    answer_within: Duration,
) -> (Duration, bool, bool) {
    let started = Instant::now();
    let (mut saw_503, mut saw_degraded) = (false, false);
    loop {
        if let Ok(health) = server.health().await {
            assert_eq!(
                health.status == "degraded",
                health.control_store == "down",
                "{health:?}"
            );
            saw_degraded |= health.status == "degraded";
        }
        let sent = Instant::now();
        let response = server
            .progress(token, &step.0, &step.1)
            .await
            .expect("the server itself stays up");
        let took = sent.elapsed();
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            took <= answer_within,
            "a write took {took:?} to answer ({status} {body})"
        );
        match status {
            StatusCode::OK => return (started.elapsed(), saw_503, saw_degraded),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(
                    error_code(&body).as_deref(),
                    Some("store_unavailable"),
                    "{body}"
                );
                saw_503 = true;
            }
            other => panic!("a write while the store is down answered {other} {body}"),
        }
        assert!(
            started.elapsed() < within,
            "writes still refused after {within:?}:\n{}",
            server.log.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_killed_control_store_is_restarted_while_consoles_keep_working() {
    let dirs = ServerDirs::new();
    let mut server = ServerProcess::start(&dirs.options()).await;
    let session = server.new_session(None).await.session;
    let (token, first, second) = learner_with_a_step(&server).await;
    let old = server.control_pid().await;

    signal(old, "KILL");
    // The server reaps it: no zombie left behind.
    assert!(
        eventually(Duration::from_secs(5), || proc_info(old).is_none()).await,
        "the killed control store was not reaped: {:?}",
        proc_info(old)
    );
    console_answers(&server, &session).await;

    let (took, saw_503, saw_degraded) = write_until_acknowledged(
        &server,
        &token,
        &second,
        Duration::from_secs(10),
        Duration::from_secs(10),
    )
    .await;
    eprintln!("write acknowledged again after {took:?} (503 seen: {saw_503}, degraded seen: {saw_degraded})");

    assert!(server.is_running(), "the server itself was never restarted");
    let new = server.control_pid().await;
    assert_ne!(new, old, "a new control process");
    server
        .wait_for_health("ok", Duration::from_secs(5))
        .await
        .expect("healthy again");
    console_answers(&server, &session).await;
    let me = server.me(&token).await;
    assert_eq!(
        me.progress.get(&first.0),
        Some(&vec![first.1.clone(), second.1.clone()]),
        "the step from before the kill and the one after"
    );
    assert_eq!(me.name.as_deref(), Some("Grace"));
}

/// SIGCONTs a frozen process even when the test fails, so it can stop.
struct Thaw(u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

#[tokio::test]
async fn a_frozen_control_store_makes_writes_fail_fast_not_hang() {
    let dirs = ServerDirs::new();
    let server = ServerProcess::start(&dirs.options()).await;
    let session = server.new_session(None).await.session;
    let (token, first, second) = learner_with_a_step(&server).await;
    let pid = server.control_pid().await;

    signal(pid, "STOP");
    let thaw = Thaw(pid);
    // A store that accepts nothing and answers nothing: each write must be
    // refused within the store's call deadline, not left hanging.
    let sent = Instant::now();
    let response = server
        .progress(&token, &second.0, &second.1)
        .await
        .expect("the server answers");
    let took = sent.elapsed();
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        error_code(&body).as_deref(),
        Some("store_unavailable"),
        "{body}"
    );
    assert!(
        took < Duration::from_secs(8),
        "a write to a frozen store took {took:?}"
    );
    let health = server.health().await.expect("/healthz answers");
    assert_eq!(
        (health.status.as_str(), health.control_store.as_str()),
        ("degraded", "down")
    );
    console_answers(&server, &session).await;

    drop(thaw);
    write_until_acknowledged(
        &server,
        &token,
        &second,
        Duration::from_secs(10),
        Duration::from_secs(8),
    )
    .await;
    let me = server.me(&token).await;
    assert_eq!(
        me.progress.get(&first.0),
        Some(&vec![first.1.clone(), second.1.clone()])
    );

    // The refused write is counted, beside the fsync confirmations.
    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sum = |parts: &[&str]| -> f64 {
        metrics
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .filter(|(name, _)| {
                name.contains("control_store") && parts.iter().all(|p| name.contains(p))
            })
            .filter_map(|(_, v)| v.trim().parse::<f64>().ok())
            .sum()
    };
    assert!(
        sum(&["error"]) >= 1.0,
        "control store errors counted:\n{metrics}"
    );
    assert!(
        sum(&["fsync"]) > 0.0,
        "fsync confirmations counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_clean_stop_ends_the_control_store_and_keeps_its_data() {
    let dirs = ServerDirs::new();
    let mut server = ServerProcess::start(&dirs.options()).await;
    let (token, first, _) = learner_with_a_step(&server).await;
    let control = server.control_pid().await;

    let status = server.stop().await;
    assert!(
        status.success(),
        "SIGTERM stop: {status}\n{}",
        server.log.text()
    );
    assert!(!alive(control), "the control store outlived a clean stop");
    assert!(control_processes(&dirs.data).is_empty());

    let server = ServerProcess::start(&dirs.options()).await;
    let me = server.me(&token).await;
    assert_eq!(me.progress.get(&first.0), Some(&vec![first.1.clone()]));
}

#[tokio::test]
async fn a_restart_right_after_a_sigkill_runs_one_control_store_on_the_same_data() {
    let dirs = ServerDirs::new();
    let mut server = ServerProcess::start(&dirs.options()).await;
    let (token, first, _) = learner_with_a_step(&server).await;
    let old = server.control_pid().await;

    // No waiting for the old store to go: the new server deals with it.
    server.kill9();
    let server = ServerProcess::start(&dirs.options()).await;
    let new = server.control_pid().await;
    assert_ne!(new, old);
    let all: Vec<u32> = control_processes(&dirs.data)
        .iter()
        .map(|p| p.pid)
        .collect();
    assert_eq!(all, vec![new], "exactly one control store on the data dir");
    let me = server.me(&token).await;
    assert_eq!(me.progress.get(&first.0), Some(&vec![first.1.clone()]));
}
