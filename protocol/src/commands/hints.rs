//! Inline hints: how an argument reads in the Redis docs, and the walk of
//! the words typed so far through a command's argument tree (tokens,
//! blocks, `oneof`, optional and repeated arguments) that finds what is
//! still to type.
//!
//! Redis accepts a command's options in any order, so a run of optional
//! arguments between two required ones is matched in any order too; an
//! untokened optional argument is positional and passes the ones before it.

use super::ArgDoc;

impl ArgDoc {
    /// The argument as the Redis docs write it: `key`, `[NX | XX]`,
    /// `score member [score member ...]`.
    pub fn syntax(&self) -> String {
        let mut one = self.once(true);
        if self.multiple {
            one = format!("{one} {}", self.repetition());
        }
        if self.optional {
            format!("[{one}]")
        } else {
            one
        }
    }

    /// One occurrence, with its token when `with_token`.
    fn once(&self, with_token: bool) -> String {
        let value = self.value();
        match (&self.token, with_token, value.is_empty()) {
            (Some(token), true, true) => token.clone(),
            (Some(token), true, false) => format!("{token} {value}"),
            _ => value,
        }
    }

    /// What follows the token: a name, the alternatives, a block's parts.
    fn value(&self) -> String {
        match self.kind.as_str() {
            "oneof" => {
                let inner = join(&self.arguments, " | ");
                if self.optional {
                    inner
                } else {
                    format!("<{inner}>")
                }
            }
            "block" => join(&self.arguments, " "),
            "pure-token" => String::new(),
            _ => self.display.clone().unwrap_or_else(|| self.name.clone()),
        }
    }

    /// `[score member ...]`: more of a repeated argument. The token comes
    /// again only for `multiple_token` arguments (`GET pattern [GET pattern ...]`).
    fn repetition(&self) -> String {
        format!("[{} ...]", self.once(self.multiple_token))
    }

    /// Whether a fixed word must start this argument (so a typed word can
    /// be told to belong to it). `first`: its first occurrence.
    fn is_keyword(&self, first: bool) -> bool {
        if self.token.is_some() && (first || self.multiple_token) {
            return true;
        }
        match self.kind.as_str() {
            "oneof" => {
                !self.arguments.is_empty() && self.arguments.iter().all(|a| a.is_keyword(true))
            }
            "block" => self
                .arguments
                .first()
                .is_some_and(|a| !a.optional && a.is_keyword(true)),
            _ => false,
        }
    }

    /// Whether `word` is the fixed word that starts this argument.
    fn starts_with(&self, word: &str, first: bool) -> bool {
        if let Some(token) = &self.token {
            if first || self.multiple_token {
                return token.eq_ignore_ascii_case(word);
            }
        }
        match self.kind.as_str() {
            "oneof" => self.arguments.iter().any(|a| a.starts_with(word, true)),
            "block" => self
                .arguments
                .first()
                .is_some_and(|a| a.starts_with(word, true)),
            _ => false,
        }
    }
}

fn join(args: &[ArgDoc], separator: &str) -> String {
    args.iter()
        .map(ArgDoc::syntax)
        .collect::<Vec<_>>()
        .join(separator)
}

/// The hint for `typed`, the complete words after the command name: the
/// arguments still to type, or `None` when the words do not fit the
/// command or nothing is left.
pub(super) fn remaining(args: &[ArgDoc], typed: &[&str]) -> Option<String> {
    let parts = match walk_list(args, typed, 0, &|_| false) {
        Walk::Hint(parts) => parts,
        Walk::Done(_) | Walk::NoFit => return None,
    };
    let hint = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!hint.is_empty()).then_some(hint)
}

/// What matching words against an argument (or a list of them) came to.
enum Walk {
    /// It took the words before this index and can take no more.
    Done(usize),
    /// The words ran out inside it: what it can still take, rendered.
    Hint(Vec<String>),
    /// The word where it starts does not fit it.
    NoFit,
}

/// Whether the lists around an argument take a word as one of their fixed
/// words, so a repetition inside it must end there (`RETURN 1 t LIMIT`).
type Outer<'a> = &'a dyn Fn(&str) -> bool;

/// One occurrence of `arg` from `words[i]` (which exists).
fn walk_node(arg: &ArgDoc, words: &[&str], mut i: usize, first: bool, outer: Outer) -> Walk {
    if let Some(token) = &arg.token {
        if first || arg.multiple_token {
            if !token.eq_ignore_ascii_case(words[i]) {
                return Walk::NoFit;
            }
            i += 1;
            if arg.kind == "pure-token" {
                return Walk::Done(i);
            }
            if i == words.len() && arg.kind != "block" {
                return Walk::Hint(vec![arg.value()]);
            }
        }
    }
    let start = i;
    let walked = match arg.kind.as_str() {
        "pure-token" => Walk::Done(i),
        "oneof" => walk_oneof(&arg.arguments, words, i, outer),
        "block" => walk_list(&arg.arguments, words, i, outer),
        kind if fits(kind, words[i]) => Walk::Done(i + 1),
        _ => Walk::NoFit,
    };
    match walked {
        // A token alone is progress; an untokened block taking nothing is not.
        Walk::Done(j) if j == start && arg.token.is_none() => Walk::NoFit,
        other => other,
    }
}

/// Whether `word` can be a value of this type: numbers must look like
/// numbers (so `ZADD k NX` is an option, not a score), anything else goes.
fn fits(kind: &str, word: &str) -> bool {
    match kind {
        "integer" => word.parse::<i64>().is_ok(),
        "double" => word
            .strip_prefix('(')
            .unwrap_or(word)
            .parse::<f64>()
            .is_ok(),
        _ => true,
    }
}

/// An alternative whose fixed word was typed wins; otherwise the first
/// alternative without one that fits.
fn walk_oneof(alternatives: &[ArgDoc], words: &[&str], i: usize, outer: Outer) -> Walk {
    if let Some(alt) = alternatives
        .iter()
        .find(|a| a.is_keyword(true) && a.starts_with(words[i], true))
    {
        return walk_node(alt, words, i, true, outer);
    }
    for alt in alternatives.iter().filter(|a| !a.is_keyword(true)) {
        match walk_node(alt, words, i, true, outer) {
            Walk::NoFit => continue,
            walked => return walked,
        }
    }
    Walk::NoFit
}

/// Where a walk through a list of arguments stands.
struct ListState {
    /// Arguments before this one are behind us.
    pos: usize,
    /// Optional arguments (from `pos` on) already given or passed.
    used: Vec<bool>,
    /// The last argument taken, if it may repeat.
    open: Option<usize>,
}

fn walk_list(args: &[ArgDoc], words: &[&str], mut i: usize, outer: Outer) -> Walk {
    let mut state = ListState {
        pos: 0,
        used: vec![false; args.len()],
        open: None,
    };
    loop {
        if i == words.len() {
            return Walk::Hint(rest(args, &state));
        }
        let Some((k, first)) = next_candidate(args, &state, words[i], outer) else {
            return Walk::Done(i);
        };
        let inner = |word: &str| {
            outer(word)
                || (args[k].multiple_token && args[k].starts_with(word, false))
                || keyword_at(args, &state, word).is_some_and(|at| at != k)
        };
        match walk_node(&args[k], words, i, first, &inner) {
            Walk::Done(j) => {
                took(args, &mut state, k, first);
                i = j;
            }
            Walk::Hint(mut parts) => {
                took(args, &mut state, k, first);
                parts.extend(rest(args, &state));
                return Walk::Hint(parts);
            }
            // A repetition that does not fit ends; an option that does not
            // fit is passed; a required argument that does not fit is fatal.
            Walk::NoFit if !first => state.open = None,
            Walk::NoFit if args[k].optional => state.used[k] = true,
            Walk::NoFit => return Walk::NoFit,
        }
    }
}

/// Records that argument `k` took words: an option is used up (and an
/// untokened one passes the options before it); a required argument moves
/// the list past it. A repeatable argument stays open for more.
fn took(args: &[ArgDoc], state: &mut ListState, k: usize, first: bool) {
    if first {
        if k < run_end(args, state.pos) {
            if !args[k].is_keyword(true) {
                state.used[state.pos..k].fill(true);
            }
            state.used[k] = true;
        } else {
            state.pos = k + 1;
        }
    }
    state.open = args[k].multiple.then_some(k);
}

/// The first required argument at or after `pos`.
fn run_end(args: &[ArgDoc], pos: usize) -> usize {
    (pos..args.len())
        .find(|&k| !args[k].optional)
        .unwrap_or(args.len())
}

/// The argument of this list that `word` starts as a fixed word: a free
/// option, or the next required argument.
fn keyword_at(args: &[ArgDoc], state: &ListState, word: &str) -> Option<usize> {
    let run_end = run_end(args, state.pos);
    (state.pos..run_end)
        .filter(|&k| !state.used[k])
        .chain((run_end < args.len()).then_some(run_end))
        .find(|&k| args[k].is_keyword(true) && args[k].starts_with(word, true))
}

/// Which argument `word` goes to, and whether it starts its first
/// occurrence. Fixed words decide first; then a repetition of the last
/// argument, the next positional optional one, the next required one.
/// A word the enclosing lists take as a fixed word ends this list.
fn next_candidate(
    args: &[ArgDoc],
    state: &ListState,
    word: &str,
    outer: Outer,
) -> Option<(usize, bool)> {
    let run_end = run_end(args, state.pos);
    if let Some(o) = state.open {
        if args[o].is_keyword(false) && args[o].starts_with(word, false) {
            return Some((o, false));
        }
    }
    if let Some(k) = keyword_at(args, state, word) {
        return Some((k, true));
    }
    if outer(word) && run_end == args.len() {
        return None;
    }
    if let Some(o) = state.open {
        if !args[o].is_keyword(false) {
            return Some((o, false));
        }
    }
    if let Some(k) = (state.pos..run_end)
        .filter(|&k| !state.used[k])
        .find(|&k| !args[k].is_keyword(true))
    {
        return Some((k, true));
    }
    (run_end < args.len()).then_some((run_end, true))
}

/// What a list can still take: more of the open argument, then every
/// argument not yet given, in the documented order.
fn rest(args: &[ArgDoc], state: &ListState) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(o) = state.open.filter(|o| *o < state.pos) {
        parts.push(args[o].repetition());
    }
    for (k, arg) in args.iter().enumerate().skip(state.pos) {
        if state.open == Some(k) {
            parts.push(arg.repetition());
        } else if !state.used[k] {
            parts.push(arg.syntax());
        }
    }
    parts
}

#[cfg(test)]
mod tests;
