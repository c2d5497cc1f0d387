//! `skiff system check [--repair] [--deep]`: verify the whole state root (blobs against their
//! digests, every reference between manifests, configs, layers, containers, networks and
//! volumes, leftovers of interrupted commands) and say exactly what is wrong; exit 1 when
//! something is. See `store::check` for what is checked and what `--repair` may remove.

use crate::store::check::{self, Severity};
use clap::Args;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Remove what interrupted commands left behind (never data something uses)
    #[arg(long)]
    repair: bool,
    /// Also extract every layer again and compare it with the stored copy (slow)
    #[arg(long)]
    deep: bool,
    /// Print only problems
    #[arg(short, long)]
    quiet: bool,
}

pub fn exec(a: CheckArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let report = check::check(&store, check::Options { repair: a.repair, deep: a.deep })?;
    for f in &report.repaired {
        println!("repaired: {}", f.message);
    }
    for f in &report.findings {
        let tag = match f.severity {
            Severity::Damage => "damage",
            Severity::Garbage if a.repair => "garbage (not removed)",
            Severity::Garbage => "garbage",
        };
        println!("{tag}: {}", f.message);
    }
    if !a.quiet {
        let counts: Vec<String> = report.checked.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let what = if counts.is_empty() { "an empty store".to_string() } else { counts.join(", ") };
        match report.findings.len() {
            0 => println!("Checked {what}: no problems."),
            n => println!(
                "Checked {what}: {n} problem{} ({} damage){}.",
                if n == 1 { "" } else { "s" },
                report.damage().count(),
                if report.findings.iter().any(|f| f.severity == Severity::Garbage) && !a.repair {
                    "; `skiff system check --repair` removes the garbage"
                } else {
                    ""
                }
            ),
        }
    }
    Ok(if report.clean() { 0 } else { 1 })
}
