//! One measured run: the baseline, the learners on their ramp, a progress
//! line every two seconds, the faults at their moments, then the checks
//! once everybody has left, and the report (and chart) built from it all.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::api::Api;
use crate::chart::{self, ChartData};
use crate::checks;
use crate::faults::{self, Faults};
use crate::hostile;
use crate::learner::{self, Ctx, LearnerLog, Plan};
use crate::report::{ErrorRow, Report, UsageSummary};
use crate::rng::Rng;
use crate::server::ServerChild;
use crate::tally::{Class, Kind, Tally};
use crate::usage::{Sample, UsageSampler};
use crate::{say, Args};

const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// How long past the ramp the run waits for every learner to be online.
const ONLINE_WITHIN: Duration = Duration::from_secs(60);

pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("an HTTP client")
}

pub async fn measure(
    args: &Args,
    mut server: Option<ServerChild>,
    instructor: Option<String>,
    nodes: Vec<String>,
) -> anyhow::Result<Report> {
    let base = match (&server, &args.url) {
        (Some(server), _) => server.base.clone(),
        (None, Some(url)) => url.clone(),
        (None, None) => bail!("no server to drive"),
    };
    let first_pid = server
        .as_ref()
        .map_or(args.server_pid.unwrap_or(0), |s| s.pid());
    let pid = Arc::new(AtomicU32::new(first_pid));
    let course = Api::new(client(Duration::from_secs(10))?, &base)
        .course()
        .await
        .context("reading the course")?;
    if course.is_empty() {
        bail!("the server has no lesson with blocks that its engine can run");
    }
    let baseline = checks::baseline(first_pid).await;
    let start = Instant::now();
    let sampler = UsageSampler::start(start, pid.clone(), Duration::from_millis(args.sample_ms));
    let tally = Arc::new(Tally::new(start));
    let faults = Arc::new(Faults::default());
    let api = Api::new(client(Duration::from_secs(60))?, &base);
    let room_code = match &instructor {
        Some(token) => Some(
            api.create_room(token)
                .await
                .context("creating the class's room")?
                .code,
        ),
        None => None,
    };
    let mut entries = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let api = Api::new(client(Duration::from_secs(60))?, node);
        let ws = api.ws_base();
        entries.push((api, ws));
    }
    let ctx = Arc::new(Ctx {
        room_code,
        entries,
        ws_base: api.ws_base(),
        api,
        tally: tally.clone(),
        faults: faults.clone(),
        server_pid: pid.clone(),
        course,
        plan: Plan {
            learners: args.learners,
            ramp: args.ramp(),
            think: Duration::from_millis(args.think_ms),
            start,
            seconds: args.window(),
            window: OnceLock::new(),
            grace: Duration::from_secs_f64(args.grace_seconds),
            grade_every: args.grade_every,
            seed: args.seed,
        },
    });
    say(&format!(
        "{} learners arriving over {:.0} s, then {:.0} s measured",
        args.learners,
        args.ramp().as_secs_f64(),
        args.window().as_secs_f64()
    ));
    let learners: Vec<_> = (0..args.learners)
        .map(|i| tokio::spawn(learner::run(ctx.clone(), i)))
        .collect();
    let progress = tokio::spawn(progress_lines(ctx.clone(), sampler.latest.clone()));
    let window_from = all_online(&ctx, args).await;
    let online = ctx.tally.online.load(Ordering::Relaxed).max(0) as usize;
    let end = ctx.plan.end();
    let phase = Duration::from_secs_f64(args.seconds);
    let hostile_rows = args.hostile.then(|| {
        let target = Arc::new(hostile::Target {
            server: base
                .trim_start_matches("http://")
                .parse()
                .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            base: base.clone(),
            ws_base: ctx.ws_base.clone(),
            settled: std::sync::Mutex::default(),
        });
        // The hostile clients get a runtime (and a thread) of their own, as
        // a stranger's machine would: on the class's runtime a flood of
        // writes delays the learners' own tasks, which measures the
        // generator, not the server. They still share the host's cores.
        let (hostile_target, plan) = (target.clone(), args.hostile_plan());
        let rounds = args.hostile_rounds(window_from);
        let rows = tokio::task::spawn_blocking(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(hostile::run_all(hostile_target, plan, &rounds)))
        });
        (rows, target)
    });
    drop(ctx);
    inject(args, window_from, server.as_mut(), &pid, &faults).await;
    let mut logs: Vec<LearnerLog> = Vec::with_capacity(learners.len());
    for handle in learners {
        logs.push(handle.await.unwrap_or_default());
    }
    progress.abort();
    let measured_to = end.min(Instant::now());
    let hostile = match hostile_rows {
        Some((task, _)) => {
            let (rows, settled) = match task.await {
                Ok(Ok(done)) => done,
                Ok(Err(e)) => {
                    say(&format!("the hostile clients' runtime did not start: {e}"));
                    Default::default()
                }
                Err(_) => Default::default(),
            };
            Some(hostile::compare(
                &tally,
                &args.hostile_rounds(window_from),
                &settled,
                measured_to,
                rows,
            ))
        }
        None => None,
    };
    say("every learner has left; checking what they left behind");
    let kill = faults
        .server_kill
        .lock()
        .map(|k| k.killed_at)
        .ok()
        .flatten();
    let durability = checks::durability(&base, &logs, kill).await;
    let leaks = checks::leaks(&pid, &baseline, server.as_mut()).await;
    let samples = sampler.finish();
    let inside: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.t_s >= (window_from - start).as_secs_f64())
        .collect();
    let exec = tally.latency(Kind::Exec, window_from, measured_to);
    let errors_by_code = tally
        .errors()
        .into_iter()
        .map(|((code, class), count)| ErrorRow { code, class, count })
        .collect();
    let report = Report {
        date: crate::report::today(),
        cores: std::thread::available_parallelism().map_or(0, |c| c.get()),
        learners: args.learners,
        seconds: args.seconds,
        ramp_s: args.ramp().as_secs_f64(),
        all_online_s: (window_from - start).as_secs_f64(),
        online,
        think_ms: args.think_ms,
        commands: tally.commands.load(Ordering::Relaxed),
        errors: tally.count(Class::Real),
        rate_limited: tally.count(Class::RateLimit),
        expected_errors: tally.count(Class::Expected),
        fault_errors: tally.count(Class::Fault),
        errors_by_code,
        error_examples: tally.examples(),
        redis_error_replies: tally.redis_errors.load(Ordering::Relaxed),
        p50_us: exec.p50_us,
        p95_us: exec.p95_us,
        p99_us: exec.p99_us,
        max_us: exec.max_us,
        round_trips: Kind::ALL
            .iter()
            .map(|&k| match k {
                // Sessions start on the ramp, and again after a server kill.
                Kind::SessionStart => (k, tally.latency(k, start, Instant::now())),
                _ => (k, tally.latency(k, window_from, measured_to)),
            })
            .collect(),
        sessions_started: tally.sessions_started.load(Ordering::Relaxed),
        sessions_refused: tally.sessions_refused.load(Ordering::Relaxed),
        reconnects: tally.reconnects.load(Ordering::Relaxed),
        frames: tally.frames.load(Ordering::Relaxed),
        grades: tally.grades.load(Ordering::Relaxed),
        usage: UsageSummary::of(&inside),
        leaks,
        durability,
        sandbox_kill: checks::sandbox_kill_report(&faults, &tally, start),
        server_kill: checks::server_kill_report(&faults, start, &logs),
        hostile,
        nodes: None,
    };
    if let Some(path) = &args.times {
        match tally.write_csv(path) {
            Ok(()) => say(&format!(
                "every round trip written to {} (all online at {:.3} s{})",
                path.display(),
                (window_from - start).as_secs_f64(),
                match args.hostile {
                    true => format!(
                        ", hostile from {:.3} s",
                        (window_from + phase - start).as_secs_f64()
                    ),
                    false => String::new(),
                }
            )),
            Err(e) => say(&format!("could not write {}: {e}", path.display())),
        }
    }
    if let Some(path) = &args.chart {
        let since = |at: Instant| (at - start).as_secs_f64();
        let mut marks = vec![
            (since(window_from), " all online".to_owned()),
            (since(measured_to), " end".to_owned()),
        ];
        if let Some(k) = &report.sandbox_kill {
            marks.push((k.at_s, format!(" kill -9 {} sandboxes", k.killed)));
        }
        if let Some(k) = &report.server_kill {
            marks.push((k.at_s, " kill -9 server".to_owned()));
        }
        let data = ChartData {
            title: format!(
                "redis-tutor-load: {} learners, {} ({} cores)",
                args.learners, report.date, report.cores
            ),
            latency: &tally.per_second(Kind::Exec, Instant::now()),
            samples: &samples,
            marks,
        };
        chart::draw(path, args.font.as_deref(), &data).context("drawing the chart")?;
        say(&format!("chart written to {}", path.display()));
    }
    Ok(report)
}

/// Waits until every learner is online (or the ramp plus a minute has
/// passed), and starts the measured window there.
async fn all_online(ctx: &Ctx, args: &Args) -> Instant {
    let give_up = Instant::now() + args.ramp() + ONLINE_WITHIN;
    while (ctx.tally.online.load(Ordering::Relaxed) as usize) < args.learners
        && Instant::now() < give_up
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = Instant::now();
    let from = *ctx.plan.window.get_or_init(|| now);
    say(&format!(
        "{} learners online after {:.1} s: {:.0} s measured from now",
        ctx.tally.online.load(Ordering::Relaxed),
        (from - ctx.plan.start).as_secs_f64(),
        args.seconds
    ));
    from
}

/// The faults, each at its moment of the measured window.
async fn inject(
    args: &Args,
    window_from: Instant,
    mut server: Option<&mut ServerChild>,
    pid: &AtomicU32,
    faults: &Faults,
) {
    let at = |secs: f64| window_from + Duration::from_secs_f64(secs.max(0.0));
    let mut rng = Rng::new(args.seed.wrapping_mul(31).wrapping_add(7));
    let mut plan: Vec<(Instant, bool)> = Vec::new();
    if args.kill_sandboxes.is_some() {
        plan.push((at(args.kill_at.unwrap_or(args.seconds / 3.0)), true));
    }
    if let Some(secs) = args.kill_server_at {
        plan.push((at(secs), false));
    }
    plan.sort_by_key(|(when, _)| *when);
    for (when, sandboxes) in plan {
        tokio::time::sleep_until(when.into()).await;
        if sandboxes {
            let percent = args.kill_sandboxes.unwrap_or(10.0);
            faults.kill_sandboxes(pid.load(Ordering::SeqCst), percent, &mut rng);
            let killed = faults.sandbox_kill.lock().map(|k| k.killed).unwrap_or(0);
            say(&format!(
                "kill -9 of {killed} sandboxes ({percent} % of those in use)"
            ));
        } else if let Some(server) = server.as_deref_mut() {
            kill_server(server, pid, faults).await;
        }
    }
}

/// SIGKILL the server, start it again on the same data and port, and
/// check what became of the old one's processes.
async fn kill_server(server: &mut ServerChild, pid: &AtomicU32, faults: &Faults) {
    let old = server.pid();
    let children = faults::children(old);
    let old_root = server.run_dir().join(format!("server-{old}"));
    faults.generation.fetch_add(1, Ordering::SeqCst);
    let set = |f: &dyn Fn(&mut faults::ServerKill)| {
        if let Ok(mut kill) = faults.server_kill.lock() {
            f(&mut kill);
        }
    };
    set(&|k| {
        k.killed_at = Some(Instant::now());
        k.old_children = children.len();
    });
    pid.store(0, Ordering::SeqCst);
    server.kill9();
    say(&format!("kill -9 of the server (pid {old}); restarting it"));
    let restarted = match client(Duration::from_secs(5)) {
        Ok(http) => server.restart(&http).await,
        Err(e) => Err(e),
    };
    match restarted {
        Ok(()) => {
            set(&|k| k.up_at = Some(Instant::now()));
            pid.store(server.pid(), Ordering::SeqCst);
            say(&format!("server back (pid {})", server.pid()));
        }
        Err(e) => {
            let why = format!("{e:#}");
            say(&format!("the server did not come back: {why}"));
            set(&|k| k.restart_error = Some(why.clone()));
        }
    }
    faults.check_old_server(&children, &old_root).await;
}

async fn progress_lines(ctx: Arc<Ctx>, latest: Arc<Mutex<Sample>>) {
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let mut last_commands = 0;
    loop {
        tick.tick().await;
        let t = &ctx.tally;
        let commands = t.commands.load(Ordering::Relaxed);
        let rate = (commands - last_commands) as f64 / PROGRESS_EVERY.as_secs_f64();
        last_commands = commands;
        let exec = t.recent(Kind::Exec, PROGRESS_EVERY);
        let s = latest.lock().map(|s| *s).unwrap_or_default();
        say(&format!(
            "{:>4.0} s | {} online | {commands} lines ({rate:.0}/s) | exec p50 {:.2} ms p99 {:.2} ms | errors {} real, {} limits, {} faults | {} sandboxes, PSS {:.0} MiB | server RSS {:.0} MiB, {} fds | host CPU {:.0} %",
            t.start.elapsed().as_secs_f64(),
            t.online.load(Ordering::Relaxed),
            exec.p50_us as f64 / 1000.0,
            exec.p99_us as f64 / 1000.0,
            t.count(Class::Real),
            t.count(Class::RateLimit),
            t.count(Class::Fault),
            s.sandboxes,
            s.sandbox_pss_mib,
            s.server_rss_mib.unwrap_or(0.0),
            s.server_fds.unwrap_or(0),
            s.host_cpu_pct,
        ));
    }
}
