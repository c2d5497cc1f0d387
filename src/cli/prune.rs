//! `skiff image prune [-a] [-f]`: remove dangling images (with `-a`, every image no container
//! uses), and the layers only they used.

use crate::container;
use crate::spec::Digest;
use crate::store::Store;
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};

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
        let what =
            if a.all { "all images without at least one container associated to them" } else { "all dangling images" };
        if !super::confirm(&format!("WARNING! This will remove {what}."))? {
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
    // With `-a`, a tagged base whose last child went in one pass goes in the next.
    while prune_pass(&store, a.all, &used_images, &in_use, &mut lines, &mut reclaimed)? && a.all {}
    // What interrupted or refused commands left: blobs and layers nothing uses.
    reclaimed += store.collect_garbage()?;
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

/// One pass over the heads (images no other image was made from), as Docker prunes: each
/// candidate goes with the untagged intermediate images below it. Returns whether any went.
fn prune_pass(
    store: &Store,
    all: bool,
    used_images: &BTreeSet<Digest>,
    in_use: &BTreeSet<Digest>,
    lines: &mut Vec<String>,
    reclaimed: &mut u64,
) -> anyhow::Result<bool> {
    let before = lines.len();
    let parents: BTreeSet<_> = store.parent_links()?.into_iter().map(|(_, p)| p).collect();
    for summary in store.list_images()? {
        if used_images.contains(&summary.id) || parents.contains(&summary.id) || (!all && !summary.tags.is_empty()) {
            continue;
        }
        let img = store.image_by_manifest(&summary.manifest_digest, summary.tags.clone())?;
        for t in &img.tags {
            store.untag(t)?;
            lines.push(format!("untagged: {}", t.familiar()));
        }
        // Layer sizes of the image and its ancestors, for the reclaimed total.
        let mut sizes = BTreeMap::new();
        let mut walk = Some(img.clone());
        while let Some(i) = walk.take() {
            for c in i.chain_ids() {
                sizes.insert(c.clone(), store.layer_meta(&c).map(|m| m.size).unwrap_or(0));
            }
            walk = store.parent(&i.id).and_then(|p| store.find_image(&p.to_string()).ok());
        }
        for deleted in store.delete_image_and_parents(&img, in_use, used_images)? {
            lines.extend(deleted.image.iter().map(|d| format!("deleted: {d}")));
            for l in &deleted.layers {
                lines.push(format!("deleted: {l}"));
                *reclaimed += sizes.get(l).copied().unwrap_or(0);
            }
        }
    }
    Ok(lines.len() > before)
}
