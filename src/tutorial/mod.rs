//! The tutorial engine: `tutorials/NN-topic.md` lessons parsed into steps, walked interactively and checked as tests.
//!
//! A tutorial is markdown. Its `console` blocks hold `$ skiff …` commands, each followed by its expected
//! output (stdout and stderr merged):
//!
//! ```text
//! $ skiff run --rm busybox echo hello
//! Unable to find image 'busybox:latest' locally
//! [..]
//! hello
//! $ skiff run --rm busybox sh -c 'exit 3'
//! [exit 3]
//! ```
//!
//! - `[..]` in a line matches any text within that line; a line `...` matches any number of lines.
//! - `[exit N]` (last line) is the expected exit code (else 0); `[no newline at end of output]` (as in the
//!   reference transcripts) says the output does not end with a newline.
//! - A line ending in `\` continues the command; here-document bodies (`<<EOF`) belong to the command.
//! - Trailing whitespace on lines and trailing blank lines are ignored; CRLF is normalised.
//! - A block fenced as `file path=NAME` writes its content to NAME before the following steps; `<!-- skip -->`
//!   before a console block shows it without running it. Other fenced blocks are prose.
//! - A block fenced as `exercise` holds checks (`checks.rs`), one per line; the `<!-- solution -->` console
//!   blocks after it are its solution, which the suite runs (the checks must fail before it, pass after).
//! - Commands run through `sh -c` (stdin /dev/null) in a fresh working directory with a fresh SKIFF_ROOT,
//!   the first word `skiff` replaced by the binary under test (whose directory is also first on PATH);
//!   the current directory carries over from one step to the next (`cd` works as in a terminal).
//!
//! `check` is the test-suite mode, `walk` the classroom (`skiff tutorial`, with `explain` for mismatches
//! and `progress` for resuming), `grade` checks a learner's exercises, `rewrite` is the authors' mode
//! (SKIFF_TUTORIAL=overwrite, see `verify`). `library` finds the lessons: built in, or a folder, in
//! English or Chinese. tutorials/README.md documents the format for teachers.

mod check;
pub mod checks;
mod explain;
mod grade;
pub mod library;
mod matching;
mod parse;
mod progress;
mod rewrite;
mod runner;
mod walk;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use check::{check, compare, Failure, Report};
pub use checks::{evaluate, parse_check, Check};
pub use explain::explain;
pub use grade::{grade, render as render_grades, Graded, Verdict};
pub use library::{Lang, Lesson};
pub use matching::{line_matches, matches, output_lines, Mismatch, ANY_LINES, ANY_TEXT, NO_NEWLINE};
pub use parse::{parse, Exercise, Item, ParseError, Step, Tutorial};
pub use progress::{Classroom, LessonProgress, Progress};
pub use rewrite::{merge, rewrite};
pub use runner::{shell_quote, Outcome, Runner};
pub use walk::{plain, stop_command, stops, walk, wants_terminal, Input, Line, Lines, WalkResult};

/// The tutorials in `dir` (its `*.md` files except README.md), sorted by file name.
pub fn find(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_md = path.extension().is_some_and(|e| e == "md");
        let is_readme = path.file_stem().is_some_and(|s| s.eq_ignore_ascii_case("readme"));
        if is_md && !is_readme && path.is_file() {
            found.push(path);
        }
    }
    found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(found)
}

/// Reads and parses a tutorial file.
pub fn load(path: &Path) -> anyhow::Result<Tutorial> {
    let text = fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(parse(path, &text)?)
}

/// True when SKIFF_TUTORIAL=overwrite: tests rewrite tutorials instead of checking them.
pub fn overwrite_requested() -> bool {
    std::env::var("SKIFF_TUTORIAL").is_ok_and(|v| v == "overwrite")
}

/// What the test suite does for one tutorial file: check it with a fresh Runner, or, when
/// SKIFF_TUTORIAL=overwrite, rewrite its expected outputs in place (reporting whether it changed).
pub fn verify(path: &Path, skiff: &Path) -> anyhow::Result<Verified> {
    let tutorial = load(path)?;
    let mut runner = Runner::new(skiff.to_path_buf())?;
    if overwrite_requested() {
        let text = rewrite(&tutorial, &mut runner)?;
        let changed = text != tutorial.source;
        if changed {
            fs::write(path, text)?;
        }
        Ok(Verified::Rewritten { changed })
    } else {
        Ok(Verified::Checked(check(&tutorial, &mut runner)?))
    }
}

/// Result of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Checked(Report),
    Rewritten { changed: bool },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tutorials_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["10-b.md", "02-a.md", "README.md", "notes.txt", "01-x.md"] {
            fs::write(dir.path().join(name), "# x\n").unwrap();
        }
        fs::create_dir(dir.path().join("03-dir.md")).unwrap();
        let names: Vec<String> =
            find(dir.path()).unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["01-x.md", "02-a.md", "10-b.md"]);
    }

    #[cfg(unix)]
    #[test]
    fn verify_checks_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let skiff = check::tests::fake_skiff(dir.path());
        let path = dir.path().join("01-t.md");
        fs::write(&path, "# T\n```console\n$ skiff version\nargs: version\n```\n").unwrap();
        // SKIFF_TUTORIAL is not set in unit tests (rewrite is covered in rewrite.rs)
        if !overwrite_requested() {
            assert_eq!(
                verify(&path, &skiff).unwrap(),
                Verified::Checked(Report { steps: 1, skipped: 0, files: 0, exercises: 0 })
            );
            fs::write(&path, "# T\n```console\n$ skiff version\nargs: nope\n```\n").unwrap();
            let err = verify(&path, &skiff).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{}:3: `skiff version`: output differs", path.display())), "{err}");
        }
    }
}
