//! Grading (`skiff tutorial grade NN`): every exercise of a tutorial checked against a state root, with
//! what is missing. The checks are the ones the test suite verifies after each exercise's solution.

use super::checks::evaluate;
use super::parse::{Item, Tutorial};
use super::runner::Runner;

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The check as written.
    pub check: String,
    /// `None` when it passes, else what is missing.
    pub missing: Option<String>,
}

/// One exercise's verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub title: String,
    pub line: usize,
    pub verdicts: Vec<Verdict>,
}

impl Graded {
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| v.missing.is_none())
    }
}

/// Checks every exercise of `tutorial` in the runner's state root.
pub fn grade(tutorial: &Tutorial, runner: &mut Runner) -> Vec<Graded> {
    let mut out = Vec::new();
    for item in &tutorial.items {
        if let Item::Exercise(ex) = item {
            let verdicts = ex
                .checks
                .iter()
                .map(|c| Verdict { check: c.text.clone(), missing: evaluate(c, runner).err() })
                .collect();
            out.push(Graded { title: ex.title.clone(), line: ex.line, verdicts });
        }
    }
    out
}

/// The report a teacher reads: per exercise `✓`/`✗` and per failed check what is missing.
pub fn render(tutorial: &Tutorial, graded: &[Graded]) -> String {
    let mut s = String::new();
    if graded.is_empty() {
        s.push_str(&format!("{}: no exercises to grade\n", tutorial.title));
        return s;
    }
    for g in graded {
        let passed = g.verdicts.iter().filter(|v| v.missing.is_none()).count();
        let mark = if g.passed() { "✓" } else { "✗" };
        s.push_str(&format!("{mark} {} ({passed}/{} checks)\n", g.title, g.verdicts.len()));
        for v in &g.verdicts {
            match &v.missing {
                None => s.push_str(&format!("    ✓ {}\n", v.check)),
                Some(m) => s.push_str(&format!("    ✗ {}: {m}\n", v.check)),
            }
        }
    }
    let done = graded.iter().filter(|g| g.passed()).count();
    s.push_str(&format!("{done}/{} exercises done\n", graded.len()));
    s
}
