//! What commands over several named objects share: for each name, find the object and act
//! on it, printing the name as given (Docker echoes what was typed) or one `Error: …` line;
//! exit 1 if any failed. And the report every prune prints: `Deleted Containers:` and the
//! IDs, then `Total reclaimed space: 1.2MB`.

use crate::units::human_size;

/// Find and act on each of `names`; the exit code (1 if any failed).
pub fn for_each<T>(
    names: &[String],
    find: impl Fn(&str) -> anyhow::Result<T>,
    act: impl FnMut(&str, T) -> anyhow::Result<()>,
) -> i32 {
    for_each_tolerant(names, find, act, |_| false)
}

/// [`for_each`], where a failure for which `tolerated` holds is reported but does not fail
/// the command (`rm -f` of a missing container).
pub fn for_each_tolerant<T>(
    names: &[String],
    find: impl Fn(&str) -> anyhow::Result<T>,
    mut act: impl FnMut(&str, T) -> anyhow::Result<()>,
    tolerated: impl Fn(&anyhow::Error) -> bool,
) -> i32 {
    let mut code = 0;
    for name in names {
        match find(name).and_then(|object| act(name, object)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                if !tolerated(&e) {
                    code = 1;
                }
            }
        }
    }
    code
}

/// What one prune removed: the heading (`Deleted Containers:`), the lines, and the bytes
/// freed when the kind counts them (networks do not).
#[derive(Debug, Default)]
pub struct Pruned {
    pub heading: &'static str,
    pub lines: Vec<String>,
    pub reclaimed: Option<u64>,
}

impl Pruned {
    pub fn new(heading: &'static str, reclaimed: Option<u64>) -> Pruned {
        Pruned { heading, lines: Vec::new(), reclaimed }
    }
}

/// Print prunes as Docker does: each non-empty section with a blank line after it, then the
/// total (when any section counts bytes).
pub fn report(sections: &[Pruned]) {
    let mut total = None;
    for s in sections {
        if !s.lines.is_empty() {
            println!("{}", s.heading);
            for l in &s.lines {
                println!("{l}");
            }
            println!();
        }
        if let Some(r) = s.reclaimed {
            total = Some(total.unwrap_or(0) + r);
        }
    }
    if let Some(t) = total {
        println!("Total reclaimed space: {}", human_size(t));
    }
}
