//! Redis's glob matching (`stringmatchlen`), used to expand `CONFIG GET`
//! patterns over the settings a learner may read.

/// Matches `text` against a Redis glob: `*`, `?`, `[abc]`, `[a-z]`,
/// `[^x]` and `\` escapes. Case-insensitive when `nocase` (as CONFIG GET is).
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    // Backtracking point for the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, t));
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(pattern, p, text[t], nocase) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if eq(pattern[p + 1], text[t]) {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, text[t]) {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at `pattern[start]`: whether `c` matches, and where the
/// pattern continues.
fn class(pattern: &[u8], start: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let c = fold(c);
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    loop {
        let b = *pattern.get(i)?;
        if b == b']' {
            break;
        }
        if b == b'\\' && i + 1 < pattern.len() {
            if fold(pattern[i + 1]) == c {
                matched = true;
            }
            i += 2;
        } else if pattern.get(i + 1) == Some(&b'-')
            && pattern.get(i + 2).is_some_and(|&e| e != b']')
        {
            let (lo, hi) = (fold(b), fold(pattern[i + 2]));
            let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
            if (lo..=hi).contains(&c) {
                matched = true;
            }
            i += 3;
        } else {
            if fold(b) == c {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        matches(p.as_bytes(), t.as_bytes(), true)
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("maxmemory*", "maxmemory-policy"));
        assert!(m("*max-*-entries", "hash-max-listpack-entries"));
        assert!(m("*", "anything"));
        assert!(m("h?", "hz"));
        assert!(!m("h?", "hzz"));
        assert!(!m("maxmemory*", "dir"));
    }

    #[test]
    fn classes_and_escapes() {
        assert!(m("[hz]z", "hz"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
    }

    #[test]
    fn case_insensitive_like_config_get() {
        assert!(m("MAXMEMORY", "maxmemory"));
        assert!(!matches(b"A", b"a", false));
    }
}
