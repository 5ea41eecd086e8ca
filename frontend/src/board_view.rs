//! How the instructor's class board reads, as pure functions: the order of
//! its rows for each sortable column, the summary strip's sentences, and
//! "last active" in words.

use std::cmp::Ordering;

use protocol::{BoardRow, BoardSummary};

/// A sortable column of the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardSort {
    Name,
    Step,
    Tasks,
    Errors,
    Active,
    Stuck,
    Hand,
}

impl BoardSort {
    /// The header's `data-sort` value.
    pub fn key(self) -> &'static str {
        match self {
            BoardSort::Name => "name",
            BoardSort::Step => "step",
            BoardSort::Tasks => "tasks",
            BoardSort::Errors => "errors",
            BoardSort::Active => "active",
            BoardSort::Stuck => "stuck",
            BoardSort::Hand => "hand",
        }
    }

    pub fn heading(self) -> &'static str {
        match self {
            BoardSort::Name => "Name",
            BoardSort::Step => "Step",
            BoardSort::Tasks => "Tasks",
            BoardSort::Errors => "Errors (5 min)",
            BoardSort::Active => "Last active",
            BoardSort::Stuck => "Stuck",
            BoardSort::Hand => "Hand",
        }
    }

    /// Names and steps read A to Z first; counts, times and flags put the
    /// most (the newest, the flagged) first, which is what an instructor
    /// scans for.
    fn descending_first(self) -> bool {
        !matches!(self, BoardSort::Name | BoardSort::Step)
    }
}

/// The board's order: a column and whether it is the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardOrder {
    pub by: BoardSort,
    pub reversed: bool,
}

impl BoardOrder {
    /// `by`, the way round it reads first.
    pub fn by(by: BoardSort) -> BoardOrder {
        BoardOrder {
            by,
            reversed: false,
        }
    }

    /// A click on `by`'s header: that column, or the same column the other
    /// way round.
    pub fn clicked(self, by: BoardSort) -> BoardOrder {
        BoardOrder {
            by,
            reversed: self.by == by && !self.reversed,
        }
    }

    /// `aria-sort` for `column`'s header.
    pub fn aria(self, column: BoardSort) -> &'static str {
        if self.by != column {
            return "none";
        }
        if column.descending_first() != self.reversed {
            "descending"
        } else {
            "ascending"
        }
    }
}

fn name_key(row: &BoardRow) -> String {
    row.name.to_lowercase()
}

/// Rows in `order`, ties by name; learners with no step yet come last when
/// sorting by step.
pub fn sort_rows(rows: &mut [BoardRow], order: BoardOrder) {
    let by = order.by;
    let primary = |a: &BoardRow, b: &BoardRow| -> Ordering {
        match by {
            BoardSort::Name => Ordering::Equal,
            BoardSort::Step => match (&a.lesson, &b.lesson) {
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                _ => (&a.lesson, &a.step).cmp(&(&b.lesson, &b.step)),
            },
            BoardSort::Tasks => a.tasks_passed.cmp(&b.tasks_passed),
            BoardSort::Errors => a.errors_5m.cmp(&b.errors_5m),
            BoardSort::Active => a.last_active.cmp(&b.last_active),
            BoardSort::Stuck => a.stuck.cmp(&b.stuck),
            BoardSort::Hand => a.hand_raised.cmp(&b.hand_raised),
        }
    };
    let flip = by.descending_first() != order.reversed;
    rows.sort_by(|a, b| {
        let first = if flip { primary(b, a) } else { primary(a, b) };
        let by_name = name_key(a).cmp(&name_key(b));
        first.then(if by == BoardSort::Name && order.reversed {
            by_name.reverse()
        } else {
            by_name
        })
    });
}

/// Where a learner is: `lesson › step`, or a dash before their first step.
pub fn place_text(row: &BoardRow) -> String {
    match &row.lesson {
        Some(lesson) => crate::room_state::place_label(lesson, row.step.as_deref()),
        None => "—".to_owned(),
    }
}

/// Best scores per exercise, `rate-limiter 3/5 · …`.
pub fn scores_text(row: &BoardRow) -> String {
    row.scores
        .iter()
        .map(|(exercise, score)| format!("{exercise} {score}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// How long ago `then_ms`, in words a glance takes in.
pub fn ago(now_ms: u64, then_ms: u64) -> String {
    if then_ms == 0 {
        return "never".to_owned();
    }
    let seconds = now_ms.saturating_sub(then_ms) / 1000;
    match seconds {
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{seconds} s ago"),
        60..=3_599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3_600),
    }
}

/// The summary strip: learners per step (`hashes#hset: 3`), and passes per
/// task (`hashes/0: 2`, the task index the reveal box takes), in the
/// server's keys' order.
pub fn summary_lines(summary: &BoardSummary) -> (String, String) {
    let join = |entries: Vec<String>| entries.join(" · ");
    let steps = if summary.steps.is_empty() {
        "Nobody has run a step yet.".to_owned()
    } else {
        format!(
            "Learners per step: {}",
            join(
                summary
                    .steps
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect()
            )
        )
    };
    let tasks = if summary.tasks.is_empty() {
        "No task passed yet.".to_owned()
    } else {
        format!(
            "Passes per task: {}",
            join(
                summary
                    .tasks
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect()
            )
        )
    };
    (steps, tasks)
}

/// `3 connected, 2 following`.
pub fn presence_text(connected: u32, following: u32) -> String {
    format!("{connected} connected, {following} following")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, tasks: u64, active: u64) -> BoardRow {
        BoardRow {
            learner: name.to_lowercase(),
            name: name.to_owned(),
            lesson: None,
            step: None,
            tasks_passed: tasks,
            scores: Default::default(),
            last_active: active,
            errors_5m: 0,
            stuck: false,
            hand_raised: false,
            online: true,
            following: true,
        }
    }

    fn names(rows: &[BoardRow]) -> Vec<&str> {
        rows.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn sorts_names_a_to_z_ignoring_case_then_back() {
        let mut rows = vec![row("bob", 0, 0), row("Ada", 0, 0), row("Cy", 0, 0)];
        let order = BoardOrder::by(BoardSort::Name);
        sort_rows(&mut rows, order);
        assert_eq!(names(&rows), ["Ada", "bob", "Cy"]);
        sort_rows(&mut rows, order.clicked(BoardSort::Name));
        assert_eq!(names(&rows), ["Cy", "bob", "Ada"]);
    }

    #[test]
    fn sorts_counts_most_first_with_ties_by_name() {
        let mut rows = vec![row("Bo", 1, 0), row("Cy", 3, 0), row("Al", 1, 0)];
        sort_rows(&mut rows, BoardOrder::by(BoardSort::Tasks));
        assert_eq!(names(&rows), ["Cy", "Al", "Bo"]);
    }

    #[test]
    fn a_second_click_reverses_a_column() {
        let order = BoardOrder::by(BoardSort::Active);
        assert!(!order.reversed);
        assert!(order.clicked(BoardSort::Active).reversed);
        assert!(
            !order
                .clicked(BoardSort::Active)
                .clicked(BoardSort::Active)
                .reversed
        );
        assert!(!order.clicked(BoardSort::Hand).reversed);
    }

    #[test]
    fn sorts_by_step_with_no_step_last() {
        let mut rows = vec![row("A", 0, 0), row("B", 0, 0), row("C", 0, 0)];
        rows[1].lesson = Some("lists".into());
        rows[1].step = Some("lpush".into());
        rows[2].lesson = Some("hashes".into());
        rows[2].step = Some("hset".into());
        sort_rows(&mut rows, BoardOrder::by(BoardSort::Step));
        assert_eq!(names(&rows), ["C", "B", "A"]);
    }

    #[test]
    fn raised_hands_come_first() {
        let mut rows = vec![row("A", 0, 0), row("B", 0, 0)];
        rows[1].hand_raised = true;
        sort_rows(&mut rows, BoardOrder::by(BoardSort::Hand));
        assert_eq!(names(&rows), ["B", "A"]);
    }

    #[test]
    fn stuck_learners_come_first() {
        let mut rows = vec![row("A", 0, 0), row("B", 0, 0)];
        rows[1].stuck = true;
        sort_rows(&mut rows, BoardOrder::by(BoardSort::Stuck));
        assert_eq!(names(&rows), ["B", "A"]);
    }

    #[test]
    fn aria_sort_says_the_direction_shown() {
        let order = BoardOrder::by(BoardSort::Tasks);
        assert_eq!(order.aria(BoardSort::Tasks), "descending");
        assert_eq!(order.aria(BoardSort::Name), "none");
        assert_eq!(
            BoardOrder::by(BoardSort::Name).aria(BoardSort::Name),
            "ascending"
        );
    }

    #[test]
    fn last_active_reads_in_words() {
        let now = 10_000_000;
        assert_eq!(ago(now, 0), "never");
        assert_eq!(ago(now, now - 3_000), "just now");
        assert_eq!(ago(now, now - 42_000), "42 s ago");
        assert_eq!(ago(now, now - 5 * 60_000), "5 min ago");
        assert_eq!(ago(now, now - 2 * 3_600_000), "2 h ago");
        // A clock a little behind the server's is not "in the future".
        assert_eq!(ago(now, now + 5_000), "just now");
    }

    #[test]
    fn the_summary_strip_counts_steps_and_tasks() {
        let mut summary = BoardSummary::default();
        summary.steps.insert("hashes#hset".into(), 3);
        summary.steps.insert("hashes#hget".into(), 1);
        summary.tasks.insert("hashes/0".into(), 2);
        let (steps, tasks) = summary_lines(&summary);
        assert_eq!(steps, "Learners per step: hashes#hget: 1 · hashes#hset: 3");
        assert_eq!(tasks, "Passes per task: hashes/0: 2");
    }

    #[test]
    fn an_empty_summary_says_so() {
        let (steps, tasks) = summary_lines(&BoardSummary::default());
        assert_eq!(steps, "Nobody has run a step yet.");
        assert_eq!(tasks, "No task passed yet.");
    }

    #[test]
    fn presence_reads_connected_then_following() {
        assert_eq!(presence_text(3, 2), "3 connected, 2 following");
    }

    #[test]
    fn a_place_without_a_step_is_a_dash() {
        let mut r = row("A", 0, 0);
        assert_eq!(place_text(&r), "—");
        r.lesson = Some("hashes".into());
        r.step = Some("hset".into());
        assert_eq!(place_text(&r), "hashes › hset");
    }
}
