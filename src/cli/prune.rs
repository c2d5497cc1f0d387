//! `skiff image prune [-a] [-f]`: remove dangling images (with `-a`, every image no container
//! uses), and the layers only they used.

use crate::container;
use clap::Args;
use std::collections::BTreeSet;
use std::io::BufRead;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub fn exec(a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force {
        let what = if a.all { "all images without at least one container associated to them" } else { "all dangling images" };
        println!("WARNING! This will remove {what}.");
        print!("Are you sure you want to continue? [y/N] ");
        use std::io::Write;
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(0);
        }
    }
    let store = super::open_store()?;
    let _lock = store.lock()?;
    let containers = container::list(&store)?;
    let used_images: BTreeSet<_> = containers.iter().map(|c| c.image.clone()).collect();
    let in_use: BTreeSet<_> = containers.iter().flat_map(|c| c.layers.iter().cloned()).collect();
    let mut lines = Vec::new();
    let mut reclaimed = 0u64;
    for summary in store.list_images()? {
        if used_images.contains(&summary.id) || (!a.all && !summary.tags.is_empty()) {
            continue;
        }
        let img = store.image_by_manifest(&summary.manifest_digest, summary.tags.clone())?;
        for t in &img.tags {
            store.untag(t)?;
            lines.push(format!("untagged: {}", t.familiar()));
        }
        let sizes: Vec<_> = img.chain_ids().iter().map(|c| (c.clone(), store.layer_meta(c).map(|m| m.size).unwrap_or(0))).collect();
        let deleted = store.delete_image(&img, &in_use)?;
        lines.extend(deleted.image.iter().map(|d| format!("deleted: {d}")));
        for l in &deleted.layers {
            lines.push(format!("deleted: {l}"));
            reclaimed += sizes.iter().find(|(c, _)| c == l).map(|(_, s)| *s).unwrap_or(0);
        }
    }
    if !lines.is_empty() {
        println!("Deleted Images:");
        for l in lines {
            println!("{l}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", super::table::human_size(reclaimed));
    Ok(0)
}
