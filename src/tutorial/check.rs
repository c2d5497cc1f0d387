//! Checking a whole tutorial against the program (the test-suite mode): run every item in order, stop at the first failure.

use std::fmt;
use std::path::PathBuf;

use super::checks::evaluate;
use super::matching::matches;
use super::parse::{Exercise, Item, Step, Tutorial};
use super::runner::{Outcome, Runner};

/// What a successful check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Steps run (all matched).
    pub steps: usize,
    /// Steps marked `<!-- skip -->` (not run).
    pub skipped: usize,
    /// ```file blocks written.
    pub files: usize,
    /// Exercises whose checks passed after their solution (and not all before it).
    pub exercises: usize,
}

/// The first step that did not do what the tutorial says.
/// Displays as `tutorials/01-first-container.md:42: `skiff ps -a`: output differs:\n<diff>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub path: PathBuf,
    /// 1-based line of the step's command (or of the ```file fence).
    pub line: usize,
    /// The command's first line (`Step::summary`), or `file path=NAME`.
    pub command: String,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: `{}`: {}", self.path.display(), self.line, self.command, self.message)
    }
}

impl std::error::Error for Failure {}

/// Indents text for inclusion in a message; `(no output)` when empty.
pub(crate) fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (no output)\n".to_string();
    }
    let mut s: String = text.lines().map(|l| format!("    {l}\n")).collect();
    if !text.ends_with('\n') {
        s.push_str("    [no newline at end of output]\n");
    }
    s
}

/// Compares an outcome with a step's expectation; `Err(message)` says how it differs.
pub fn compare(step: &Step, outcome: &Outcome, timeout_secs: f64) -> Result<(), String> {
    if outcome.timed_out {
        return Err(format!(
            "timed out after {timeout_secs}s and was killed; output so far:\n{}",
            indent(&outcome.output)
        ));
    }
    let diff = matches(&step.expected, &outcome.output);
    match (outcome.exit == step.exit, diff) {
        (true, Ok(())) => Ok(()),
        (true, Err(m)) => Err(format!("output differs:\n{m}")),
        (false, Ok(())) => Err(format!(
            "exit code differs (expected {}, got {}); output:\n{}",
            step.exit,
            outcome.exit,
            indent(&outcome.output)
        )),
        (false, Err(m)) => {
            Err(format!("exit code differs (expected {}, got {}) and output differs:\n{m}", step.exit, outcome.exit))
        }
    }
}

/// Runs all items of a tutorial in order (writing files, running non-skipped steps) and checks each step.
/// An exercise is checked twice: before its solution at least one of its checks must fail (else it asks
/// for nothing), and after its solution (the `<!-- solution -->` steps that follow it) all must pass.
pub fn check(tutorial: &Tutorial, runner: &mut Runner) -> Result<Report, Failure> {
    let mut report = Report::default();
    let fail =
        |line: usize, command: String, message: String| Failure { path: tutorial.path.clone(), line, command, message };
    let mut pending: Option<&Exercise> = None;
    let finish = |ex: &Exercise, runner: &mut Runner| -> Result<(), Failure> {
        for c in &ex.checks {
            evaluate(c, runner)
                .map_err(|m| fail(c.line, format!("check {}", c.text), format!("after the solution: {m}")))?;
        }
        Ok(())
    };
    for item in &tutorial.items {
        let in_solution = matches!(item, Item::Prose(_)) || matches!(item, Item::Step(s) if s.solution);
        if !in_solution {
            if let Some(ex) = pending.take() {
                finish(ex, runner)?;
                report.exercises += 1;
            }
        }
        match item {
            Item::Prose(_) => {}
            Item::File { name, content, line } => {
                runner
                    .write_file(name, content)
                    .map_err(|e| fail(*line, format!("file path={name}"), format!("cannot write the file: {e}")))?;
                report.files += 1;
            }
            Item::Exercise(ex) => {
                if ex.checks.iter().all(|c| evaluate(c, runner).is_ok()) {
                    return Err(fail(
                        ex.line,
                        "exercise".into(),
                        "every check passes before the solution ran: the exercise asks for nothing".into(),
                    ));
                }
                pending = Some(ex);
            }
            Item::Step(step) if step.skip => report.skipped += 1,
            Item::Step(step) => {
                let outcome = runner
                    .run(step)
                    .map_err(|e| fail(step.line, step.summary(), format!("cannot run the command: {e}")))?;
                compare(step, &outcome, runner.timeout.as_secs_f64())
                    .map_err(|m| fail(step.line, step.summary(), m))?;
                report.steps += 1;
            }
        }
    }
    if let Some(ex) = pending.take() {
        finish(ex, runner)?;
        report.exercises += 1;
    }
    Ok(report)
}

#[cfg(all(test, unix))]
pub(crate) mod tests {
    use super::*;
    use crate::tutorial::parse;
    use std::path::Path;

    /// A fake skiff: prints its arguments, and "err: ..." on stderr; exits with $CODE.
    pub(crate) fn fake_skiff(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("skiff");
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"args: $*\"\n[ -n \"$ERR\" ] && echo \"err: $ERR\" >&2\nexit ${CODE:-0}\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    const GOOD: &str = "# Fake\n\nHello.\n\n```file path=Dockerfile\nFROM busybox\n```\n\n```console\n$ skiff run --rm busybox echo hello\nargs: run --rm busybox echo hello\n$ ERR=boom skiff ps \\\n  -a\nargs: ps -a\nerr: boom\n$ CODE=3 skiff run busybox false\nargs: [..] false\n[exit 3]\n$ cat Dockerfile\nFROM busybox\n$ mkdir app && cd app\n$ pwd\n[..]/app\n...\n$ skiff images | wc -l\n1\n```\n\n<!-- skip -->\n```console\n$ skiff run -it busybox sh\n/ # exit\n```\n";

    #[test]
    fn checks_a_good_tutorial() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Runner::new(fake_skiff(dir.path())).unwrap();
        let t = parse(Path::new("tutorials/00-fake.md"), GOOD).unwrap();
        let report = check(&t, &mut r).unwrap();
        assert_eq!(report, Report { steps: 7, skipped: 1, files: 1, exercises: 0 });
    }

    #[test]
    fn failures_name_the_line() {
        // (replace in GOOD, with, line, message fragments)
        let cases: &[(&str, &str, usize, &[&str])] = &[
            (
                "args: ps -a\n",
                "args: ps -all\n",
                12,
                &[
                    "tutorials/00-fake.md:12: `ERR=boom skiff ps …`: output differs:\n",
                    "  >    1 | args: ps -all\n",
                    "  >    1 | args: ps -a\n",
                ],
            ),
            ("[exit 3]\n", "", 16, &["tutorials/00-fake.md:16: `CODE=3 skiff run busybox false`: exit code differs (expected 0, got 3); output:\n    args: run busybox false\n"]),
            ("[exit 3]\n", "[exit 4]\n", 16, &["exit code differs (expected 4, got 3); output:"]),
            ("args: [..] false\n[exit 3]", "nope\n[exit 1]", 16, &["exit code differs (expected 1, got 3) and output differs:\n", "first difference"]),
            ("$ cat Dockerfile\n", "$ cat Dockerfile2\n", 19, &["`cat Dockerfile2`: exit code differs (expected 0, got 1)", "No such file"]),
            ("$ pwd\n[..]/app\n", "$ pwd\n[..]/nope\n", 22, &["`pwd`: output differs"]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let skiff = fake_skiff(dir.path());
        for (from, to, line, frags) in cases {
            assert!(GOOD.contains(from), "{from}");
            let md = GOOD.replacen(from, to, 1);
            let t = parse(Path::new("tutorials/00-fake.md"), &md).unwrap();
            let mut r = Runner::new(skiff.clone()).unwrap();
            let f = check(&t, &mut r).unwrap_err();
            assert_eq!(f.line, *line, "{f}");
            let text = f.to_string();
            for frag in *frags {
                assert!(text.contains(frag), "{frag:?} not in:\n{text}");
            }
        }
    }

    #[test]
    fn timeout_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Runner::new(fake_skiff(dir.path())).unwrap();
        r.timeout = std::time::Duration::from_millis(200);
        let t = parse(Path::new("t.md"), "```console\n$ echo start; sleep 20\nstart\n```\n").unwrap();
        let f = check(&t, &mut r).unwrap_err();
        assert_eq!(
            f.to_string(),
            "t.md:2: `echo start; sleep 20`: timed out after 0.2s and was killed; output so far:\n    start\n"
        );
    }
}
