//! Matching a command's actual output against a step's expected lines (`[..]`, `...`), with readable diffs.

use std::fmt;

/// A line of expected output that matches any number of actual lines (including zero).
pub const ANY_LINES: &str = "...";
/// Inside an expected line: matches any text within that line (possibly empty).
pub const ANY_TEXT: &str = "[..]";
/// Last expected line: the output must not end with a newline (as in the reference transcripts).
pub const NO_NEWLINE: &str = "[no newline at end of output]";

/// Why the output did not match: both sides as compared, with the first differing lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Expected lines (trailing whitespace and trailing blank lines removed, without the no-newline marker).
    pub expected: Vec<String>,
    /// Actual lines, normalised the same way.
    pub actual: Vec<String>,
    /// 0-based index of the first expected line that could not be matched (`expected.len()`: the
    /// expectation ended but the output goes on).
    pub expected_at: usize,
    /// 0-based index of the first actual line that could not be matched (`actual.len()`: the output
    /// ended but more was expected).
    pub actual_at: usize,
    /// Extra explanation (e.g. about the final newline).
    pub note: Option<String>,
}

/// Splits output into lines: CRLF → LF, trailing whitespace and trailing blank lines removed.
pub fn output_lines(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    let mut lines: Vec<String> = text.split('\n').map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Does one expected line (with `[..]`) match one actual line? Both compared without trailing whitespace.
pub fn line_matches(pattern: &str, actual: &str) -> bool {
    let pattern = pattern.trim_end();
    let actual = actual.trim_end();
    let parts: Vec<&str> = pattern.split(ANY_TEXT).collect();
    if parts.len() == 1 {
        return pattern == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for mid in &parts[1..parts.len() - 1] {
        match actual[pos..].find(mid) {
            Some(k) => pos += k + mid.len(),
            None => return false,
        }
    }
    actual.len() - pos >= last.len() && actual.ends_with(last)
}

/// Checks `actual` (the merged stdout+stderr of a command) against a step's expected lines.
pub fn matches(expected: &[String], actual: &str) -> Result<(), Mismatch> {
    let mut pats: Vec<String> = expected.iter().map(|l| l.trim_end().to_string()).collect();
    let no_newline = pats.last().is_some_and(|l| l == NO_NEWLINE);
    if no_newline {
        pats.pop();
    }
    while pats.last().is_some_and(|l| l.is_empty()) {
        pats.pop();
    }
    let lines = output_lines(actual);
    let (n, m) = (pats.len(), lines.len());
    // reach[i][j]: the first i patterns match the first j lines.
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[0][0] = true;
    for i in 0..n {
        if pats[i] == ANY_LINES {
            // matches from the first reachable line on
            if let Some(first) = reach[i].iter().position(|&r| r) {
                reach[i + 1][first..].iter_mut().for_each(|r| *r = true);
            }
        } else {
            for j in 0..m {
                if reach[i][j] && line_matches(&pats[i], &lines[j]) {
                    reach[i + 1][j + 1] = true;
                }
            }
        }
    }
    let ends_with_newline = actual.replace("\r\n", "\n").ends_with('\n');
    if reach[n][m] {
        if no_newline && (actual.is_empty() || ends_with_newline) {
            return Err(Mismatch {
                expected: pats,
                actual: lines,
                expected_at: n,
                actual_at: m,
                note: Some("expected no newline at the end of the output, but there is one".into()),
            });
        }
        return Ok(());
    }
    let actual_at = (0..=m).rev().find(|&j| (0..=n).any(|i| reach[i][j])).unwrap_or(0);
    let expected_at = (0..=n).rev().find(|&i| reach[i][actual_at]).unwrap_or(0);
    Err(Mismatch { expected: pats, actual: lines, expected_at, actual_at, note: None })
}

/// Lines around `at` with 1-based numbers, `>` marking line `at`.
fn listing(f: &mut fmt::Formatter<'_>, lines: &[String], at: usize, end_note: &str) -> fmt::Result {
    const CONTEXT: usize = 12;
    let from = at.saturating_sub(CONTEXT);
    let to = (at + CONTEXT + 1).min(lines.len());
    if lines.is_empty() {
        return writeln!(f, "  >      ({end_note})");
    }
    if from > 0 {
        writeln!(f, "         ({from} lines before)")?;
    }
    for (k, line) in lines.iter().enumerate().take(to).skip(from) {
        let mark = if k == at { ">" } else { " " };
        writeln!(f, "  {mark} {:>4} | {line}", k + 1)?;
    }
    if to < lines.len() {
        writeln!(f, "         ({} more lines)", lines.len() - to)?;
    } else if at >= lines.len() {
        writeln!(f, "  >      ({end_note})")?;
    }
    Ok(())
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(note) = &self.note {
            writeln!(f, "{note}")?;
        }
        writeln!(f, "expected:")?;
        listing(f, &self.expected, self.expected_at, "end of expected output")?;
        writeln!(f, "actual:")?;
        listing(f, &self.actual, self.actual_at, "end of output")?;
        if self.note.is_none() {
            let exp = self.expected.get(self.expected_at);
            let act = self.actual.get(self.actual_at);
            match (exp, act) {
                (Some(e), Some(a)) => write!(
                    f,
                    "first difference: expected line {} `{e}`, actual line {} `{a}`",
                    self.expected_at + 1,
                    self.actual_at + 1
                ),
                (Some(e), None) => {
                    write!(f, "first difference: the output ended, expected line {} `{e}`", self.expected_at + 1)
                }
                (None, Some(a)) => {
                    write!(f, "first difference: actual line {} `{a}` is more than was expected", self.actual_at + 1)
                }
                (None, None) => Ok(()),
            }?;
        }
        Ok(())
    }
}

impl std::error::Error for Mismatch {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn line_patterns() {
        let cases: &[(&str, &str, bool)] = &[
            ("hello", "hello", true),
            ("hello", "hello   ", true),
            ("hello  ", "hello", true),
            ("hello", "hell", false),
            ("[..]", "", true),
            ("[..]", "anything at all", true),
            ("a[..]", "abc", true),
            ("[..]c", "abc", true),
            ("a[..]c", "ac", true),
            ("a[..]c", "abbbc", true),
            ("a[..]c", "abcd", false),
            ("ab[..]bc", "abc", false),
            ("[..] seconds ago [..]", "3 seconds ago Up", true),
            ("CONTAINER ID[..]NAMES", "CONTAINER ID   IMAGE   NAMES", true),
            ("[..]x[..]y[..]", "..x..y..", true),
            ("[..]x[..]y[..]", "..y..x..", false),
            ("[..]a[..]a", "a", false),
            ("[..]a[..]a", "aa", true),
        ];
        for (p, a, want) in cases {
            assert_eq!(line_matches(p, a), *want, "{p:?} vs {a:?}");
        }
    }

    #[test]
    fn block_patterns() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&[], "", true),
            (&[], "\n\n", true),
            (&[], "x\n", false),
            (&["a", "b"], "a\nb\n", true),
            (&["a", "b"], "a\r\nb\r\n", true),
            (&["a", "b"], "a\nb", true),
            (&["a", "b", ""], "a\nb\n\n\n", true),
            (&["a", "", "b"], "a\nb\n", false),
            (&["a"], "a\nb\n", false),
            (&["a", "b"], "a\n", false),
            (&["..."], "", true),
            (&["..."], "x\ny\n", true),
            (&["...", "z"], "x\ny\nz\n", true),
            (&["...", "z"], "z\n", true),
            (&["a", "...", "z"], "a\nz\n", true),
            (&["a", "...", "z"], "a\n1\n2\nz\n", true),
            (&["a", "...", "z"], "a\n1\n2\n", false),
            (&["a", "..."], "a\n1\n2\n", true),
            (&["a", "..."], "b\n1\n", false),
            (&["...", "[..]2", "..."], "a\nb2\nc\n", true),
            (&["a", "[no newline at end of output]"], "a", true),
            (&["a", "[no newline at end of output]"], "a\n", false),
            (&["[y/N] [no newline at end of output]"], "[y/N] ", false),
        ];
        for (exp, act, want) in cases {
            assert_eq!(matches(&v(exp), act).is_ok(), *want, "{exp:?} vs {act:?}");
        }
    }

    #[test]
    fn mismatch_marks_first_difference() {
        // (expected, actual, expected_at, actual_at, message fragments)
        type Case<'a> = (&'a [&'a str], &'a str, usize, usize, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                &["Unable to find image 'busybox:latest' locally", "[..]", "hello"],
                "Unable to find image 'busybox:latest' locally\nlatest: Pulling\nhelo\n",
                2,
                2,
                &[
                    "  >    3 | hello",
                    "  >    3 | helo",
                    "first difference: expected line 3 `hello`, actual line 3 `helo`",
                ],
            ),
            (&["a", "b"], "a\n", 1, 1, &["  >      (end of output)", "the output ended, expected line 2 `b`"]),
            (
                &["a"],
                "a\nextra\n",
                1,
                1,
                &["(end of expected output)", "actual line 2 `extra` is more than was expected"],
            ),
            (&["a", "...", "z"], "a\nb\nc\n", 2, 3, &["expected line 3 `z`"]),
            (&["x"], "", 0, 0, &["expected:\n  >    1 | x\nactual:\n  >      (end of output)\n"]),
            (&["a", "[no newline at end of output]"], "a\n", 1, 1, &["expected no newline at the end"]),
        ];
        for (exp, act, e_at, a_at, frags) in cases {
            let m = matches(&v(exp), act).unwrap_err();
            assert_eq!((m.expected_at, m.actual_at), (*e_at, *a_at), "{exp:?} vs {act:?}");
            let text = m.to_string();
            for frag in *frags {
                assert!(text.contains(frag), "{frag:?} not in:\n{text}");
            }
        }
    }

    #[test]
    fn long_outputs_are_cut_around_the_difference() {
        let actual: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let mut exp: Vec<String> = (1..=100).map(|i| format!("line {i}")).collect();
        exp[49] = "other".into();
        let text = matches(&exp, &actual).unwrap_err().to_string();
        assert!(text.contains("(37 lines before)"), "{text}");
        assert!(text.contains("  >   50 | line 50"), "{text}");
        assert!(text.contains("(38 more lines)"), "{text}");
        assert!(!text.contains("| line 1\n"), "{text}");
    }
}
