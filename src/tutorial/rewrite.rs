//! Rewrite mode for authors (SKIFF_TUTORIAL=overwrite): replace each step's expected output by the actual one, keeping patterns that still match.

use std::io;

use super::matching::{line_matches, matches, output_lines, ANY_LINES, ANY_TEXT, NO_NEWLINE};
use super::parse::{Item, Tutorial};
use super::runner::Runner;

/// Runs the tutorial like `check` (without stopping at differences) and returns its markdown with every
/// non-skipped step's expected output replaced by what the program printed. An expectation that still
/// matches is kept as it is; otherwise lines with `[..]` and `...` lines of the old expectation are kept
/// where they still fit (a best-effort alignment), the rest is the actual output. `[exit N]` and
/// `[no newline at end of output]` follow the actual run. A timeout is an error (nothing sensible to write).
pub fn rewrite(tutorial: &Tutorial, runner: &mut Runner) -> io::Result<String> {
    let mut replacements: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    for item in &tutorial.items {
        match item {
            Item::Prose(_) | Item::Exercise(_) => {}
            Item::File { name, content, .. } => runner.write_file(name, content)?,
            Item::Step(step) if step.skip => {}
            Item::Step(step) => {
                let outcome = runner.run(step)?;
                if outcome.timed_out {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "{}:{}: `{}`: timed out after {}s; output so far:\n{}",
                            tutorial.path.display(),
                            step.line,
                            step.summary(),
                            runner.timeout.as_secs_f64(),
                            super::check::indent(&outcome.output)
                        ),
                    ));
                }
                if outcome.exit == step.exit && matches(&step.expected, &outcome.output).is_ok() {
                    continue;
                }
                let mut lines = merge(&step.expected, &outcome.output);
                if !outcome.output.is_empty() && !outcome.output.ends_with('\n') {
                    lines.push(NO_NEWLINE.to_string());
                }
                if outcome.exit != 0 {
                    lines.push(format!("[exit {}]", outcome.exit));
                }
                replacements.push((step.output_lines.clone(), lines));
            }
        }
    }
    Ok(splice(&tutorial.source, &replacements))
}

/// Replaces 1-based half-open line ranges (in order, not overlapping) of `source`.
fn splice(source: &str, replacements: &[(std::ops::Range<usize>, Vec<String>)]) -> String {
    let ends_nl = source.ends_with('\n');
    let body = if ends_nl { &source[..source.len() - 1] } else { source };
    let lines: Vec<&str> = if source.is_empty() { Vec::new() } else { body.split('\n').collect() };
    let mut out: Vec<String> = Vec::new();
    let mut cursor = 0; // 0-based index of the next source line to copy
    for (range, new) in replacements {
        let (start, end) = (range.start - 1, range.end - 1);
        out.extend(lines[cursor..start.min(lines.len())].iter().map(|s| s.to_string()));
        out.extend(new.iter().cloned());
        cursor = end.min(lines.len());
    }
    out.extend(lines[cursor..].iter().map(|s| s.to_string()));
    let mut text = out.join("\n");
    if ends_nl {
        text.push('\n');
    }
    text
}

/// An actual output line written as an expected line, made safe for the markdown
/// (a line starting with `$ ` would be read as a command, one starting with ``` would end the block).
fn literal(line: &str) -> String {
    if line.starts_with("$ ") || line == "$" || line.starts_with("```") || line.starts_with("~~~") {
        format!("{ANY_TEXT}{}", &line[1..])
    } else {
        line.to_string()
    }
}

/// Aligns the old expected lines with the actual output (an edit distance where `...` absorbs lines
/// cheaply) and keeps old lines that match, so `[..]` and `...` survive a rewrite.
pub fn merge(old: &[String], actual: &str) -> Vec<String> {
    const ABSORB: u32 = 1;
    const EDIT: u32 = 100;
    let pats: Vec<&str> = old.iter().map(|l| l.trim_end()).filter(|l| *l != NO_NEWLINE).collect();
    let lines = output_lines(actual);
    let (n, m) = (pats.len(), lines.len());
    let is_any = |i: usize| pats[i] == ANY_LINES;
    // cost[i][j]: cheapest way to turn pats[i..] into something matching lines[j..].
    let mut cost = vec![vec![u32::MAX; m + 1]; n + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            if i == n && j == m {
                cost[i][j] = 0;
                continue;
            }
            let mut best = u32::MAX;
            if j < m {
                best = best.min(EDIT + cost[i][j + 1]); // insert lines[j]
            }
            if i < n {
                if is_any(i) {
                    best = best.min(cost[i + 1][j]); // `...` matches nothing more
                    if j < m {
                        best = best.min(ABSORB + cost[i][j + 1]);
                    }
                } else {
                    best = best.min(EDIT + cost[i + 1][j]); // drop pats[i]
                    if j < m {
                        let step = if line_matches(pats[i], &lines[j]) { 0 } else { EDIT };
                        best = best.min(step + cost[i + 1][j + 1]); // keep or substitute
                    }
                }
            }
            cost[i][j] = best;
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let c = cost[i][j];
        if i < n && is_any(i) {
            if j < m && c == ABSORB + cost[i][j + 1] {
                j += 1;
            } else {
                out.push(ANY_LINES.to_string());
                i += 1;
            }
            continue;
        }
        if i < n && j < m && line_matches(pats[i], &lines[j]) && c == cost[i + 1][j + 1] {
            out.push(pats[i].to_string());
            (i, j) = (i + 1, j + 1);
        } else if i < n && j < m && c == EDIT + cost[i + 1][j + 1] {
            out.push(literal(&lines[j]));
            (i, j) = (i + 1, j + 1);
        } else if j < m && c == EDIT + cost[i][j + 1] {
            out.push(literal(&lines[j]));
            j += 1;
        } else {
            i += 1; // drop pats[i]
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn merges_old_patterns() {
        let cases: &[(&[&str], &str, &[&str])] = &[
            (&[], "a\nb\n", &["a", "b"]),
            (&["x"], "", &[]),
            (&["a", "[..]", "hello"], "a\npulling\nhello2\n", &["a", "[..]", "hello2"]),
            (&["...", "hello"], "pull 1\npull 2\nhello2\n", &["...", "hello2"]),
            (&["ID[..]", "...", "end"], "ID 123\nx\ny\nfinish\n", &["ID[..]", "...", "finish"]),
            (&["Created [..] ago", "old"], "Created 3s ago\nnew\nnewer\n", &["Created [..] ago", "new", "newer"]),
            (&["a", "b", "c"], "a\nc\n", &["a", "c"]),
            (&["...", "z", "..."], "z\n", &["...", "z", "..."]),
            (&[], "$ not a command\n```\n", &["[..] not a command", "[..]``"]),
            (&["a", "[no newline at end of output]"], "b", &["b"]),
        ];
        for (old, actual, want) in cases {
            let got = merge(&v(old), actual);
            assert_eq!(got, v(want), "{old:?} / {actual:?}");
            assert!(matches(&got, actual).is_ok(), "{got:?} must match {actual:?}");
        }
    }

    #[test]
    fn splices_lines() {
        let src = "l1\nl2\nl3\nl4\n";
        assert_eq!(splice(src, &[(2..3, v(&["A", "B"])), (4..4, v(&["C"]))]), "l1\nA\nB\nl3\nC\nl4\n");
        assert_eq!(splice(src, &[(5..5, v(&["end"]))]), "l1\nl2\nl3\nl4\nend\n");
        assert_eq!(splice("x", &[(1..2, v(&[]))]), "");
    }

    #[cfg(unix)]
    #[test]
    fn rewrites_a_tutorial() {
        use crate::tutorial::parse;
        use std::path::Path;
        let dir = tempfile::tempdir().unwrap();
        let skiff = crate::tutorial::check::tests::fake_skiff(dir.path());
        let md = "# T\n\n```file path=x.txt\nhello\n```\n\n```console\n$ skiff ps\nargs: [..]\n$ skiff ps -a\nwrong\nargs: [..] -a\n\n$ CODE=2 skiff run x\n$ cat x.txt\n$ printf 'no nl'\n```\n\n<!-- skip -->\n```console\n$ skiff run -it busybox\nstale\n```\n";
        let t = parse(Path::new("t.md"), md).unwrap();
        let mut r = Runner::new(skiff.clone()).unwrap();
        let got = rewrite(&t, &mut r).unwrap();
        let want = "# T\n\n```file path=x.txt\nhello\n```\n\n```console\n$ skiff ps\nargs: [..]\n$ skiff ps -a\nargs: [..] -a\n\n$ CODE=2 skiff run x\nargs: run x\n[exit 2]\n$ cat x.txt\nhello\n$ printf 'no nl'\nno nl\n[no newline at end of output]\n```\n\n<!-- skip -->\n```console\n$ skiff run -it busybox\nstale\n```\n";
        assert_eq!(got, want);
        // and the result checks
        let t2 = parse(Path::new("t.md"), &got).unwrap();
        let mut r2 = Runner::new(skiff).unwrap();
        assert!(crate::tutorial::check(&t2, &mut r2).is_ok());
    }
}
