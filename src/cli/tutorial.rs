//! `skiff tutorial [NAME] [--check]`: list the tutorials, walk through one step by step, or
//! check them all (what the test suite does).

use crate::tutorial;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TutorialArgs {
    /// Run every step without pausing and report the first that does not match
    #[arg(long)]
    check: bool,
    /// Where the tutorials are (default: ./tutorials, else the ones skiff was built with)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// A tutorial: its file name or number (`01`); none lists them
    name: Option<String>,
}

pub fn exec(a: TutorialArgs) -> anyhow::Result<i32> {
    let dir = a.dir.clone().unwrap_or_else(|| {
        let local = PathBuf::from("tutorials");
        if local.is_dir() {
            local
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tutorials")
        }
    });
    let all = tutorial::find(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let skiff = std::env::current_exe()?;
    let selected: Vec<PathBuf> = match &a.name {
        None if !a.check => {
            println!("Tutorials in {}:", dir.display());
            for p in &all {
                let t = tutorial::load(p)?;
                println!("  {}  {}", p.file_stem().unwrap_or_default().to_string_lossy(), t.title);
            }
            println!("\nStart one with: skiff tutorial 01");
            return Ok(0);
        }
        None => all,
        Some(n) => {
            let found: Vec<PathBuf> = all
                .into_iter()
                .filter(|p| {
                    p.file_stem()
                        .is_some_and(|s| s.to_string_lossy() == *n || s.to_string_lossy().starts_with(&format!("{n}-")))
                })
                .collect();
            anyhow::ensure!(!found.is_empty(), "No such tutorial: {n}");
            found
        }
    };
    let mut failed = 0;
    for p in &selected {
        let t = tutorial::load(p)?;
        let mut runner = tutorial::Runner::new(skiff.clone())?;
        if a.check {
            match tutorial::check(&t, &mut runner) {
                Ok(r) => println!("ok   {} ({} steps)", p.display(), r.steps),
                Err(f) => {
                    println!("FAIL {f}");
                    failed += 1;
                }
            }
        } else {
            let stdin = std::io::stdin();
            let res = tutorial::walk(&t, &mut runner, &mut stdin.lock(), &mut std::io::stdout())?;
            println!("{}", res.summary());
            if res.quit {
                break;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}
