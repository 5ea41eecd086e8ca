//! The progress cache's merge rules, without a browser or a server.

use std::collections::BTreeMap;

use protocol::{LessonBlock, LessonPage, LessonSummary, LessonTask, Me, ProgressStep, TaskOutcome};

use super::{enqueue, merge_server, Course, LessonProgress};

fn me(progress: &[(&str, &[&str])], results: &[(&str, usize, bool)]) -> Me {
    Me {
        learner: "l1".into(),
        name: None,
        progress: progress
            .iter()
            .map(|(l, s)| (l.to_string(), s.iter().map(|s| s.to_string()).collect()))
            .collect(),
        results: results
            .iter()
            .map(|&(lesson, task, passed)| TaskOutcome {
                lesson: lesson.into(),
                task,
                passed,
                at_ms: 1,
            })
            .collect(),
    }
}

fn step(lesson: &str, step: &str) -> ProgressStep {
    ProgressStep {
        lesson: lesson.into(),
        step: step.into(),
    }
}

fn page(blocks: &[Option<&str>], steps: &[&str], tasks: usize) -> LessonPage {
    let block = |step: &Option<&str>| LessonBlock {
        source: "PING".into(),
        strict: false,
        expect_error: None,
        output: None,
        step: step.map(str::to_owned),
    };
    let task = LessonTask {
        goal: "g".into(),
        hint: None,
        solution: vec![],
    };
    LessonPage {
        summary: LessonSummary {
            slug: "counters".into(),
            number: 1,
            title: "Counters".into(),
            summary: String::new(),
            requires: vec![],
            missing: vec![],
        },
        html: String::new(),
        prev: None,
        next: None,
        setup: vec![],
        blocks: blocks.iter().map(block).collect(),
        tasks: vec![task; tasks],
        steps: steps.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_fresh_browser_takes_the_servers_steps_and_uploads_nothing() {
    let mut course = Course::new();
    let upload = merge_server(&mut course, &me(&[("counters", &["a"])], &[]));
    assert!(upload.is_empty(), "{upload:?}");
    assert_eq!(course["counters"].label(), Some("in progress"));
}

#[test]
fn steps_known_only_here_are_uploaded() {
    let mut course = Course::new();
    let mut local = LessonProgress::default();
    local.steps.extend(["a".to_owned(), "b".to_owned()]);
    course.insert("counters".into(), local);
    let upload = merge_server(&mut course, &me(&[("counters", &["a"])], &[]));
    assert_eq!(upload, [step("counters", "b")]);
}

#[test]
fn the_server_decides_a_tasks_latest_result() {
    let mut course = Course::new();
    let mut local = LessonProgress::default();
    local.passed.insert(0);
    local.passed.insert(1);
    course.insert("counters".into(), local);
    merge_server(
        &mut course,
        &me(&[], &[("counters", 0, false), ("second", 0, true)]),
    );
    // Task 1 was passed here only: kept until its next check records it.
    assert_eq!(
        course["counters"]
            .passed
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [1]
    );
    assert!(course["second"].passed.contains(&0));
}

#[test]
fn blocks_run_before_steps_existed_map_to_their_steps() {
    let mut progress = LessonProgress::default();
    progress.ran.insert(1);
    assert!(progress.needs_page());
    progress.learn_page(&page(&[Some("a"), Some("b"), None], &["a", "b"], 1));
    assert!(!progress.needs_page());
    assert_eq!(progress.steps.iter().collect::<Vec<_>>(), ["b"]);
    assert!(!progress.completed, "its task has not passed");
}

#[test]
fn a_lesson_without_tasks_completes_when_every_step_ran() {
    let mut course: Course = BTreeMap::new();
    let mut local = LessonProgress::default();
    local.learn_page(&page(&[Some("a"), Some("a"), Some("b")], &["a", "b"], 0));
    course.insert("counters".into(), local);
    merge_server(&mut course, &me(&[("counters", &["a", "b"])], &[]));
    assert_eq!(course["counters"].label(), Some("completed"));
}

#[test]
fn the_outbox_holds_each_step_once() {
    let mut outbox = vec![step("counters", "a")];
    enqueue(&mut outbox, [step("counters", "a"), step("counters", "b")]);
    assert_eq!(outbox, [step("counters", "a"), step("counters", "b")]);
}
