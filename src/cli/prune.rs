//! Pruning, for `image prune`, `container prune`, `volume prune`, `network prune` and
//! `system prune`: what each removes, reported the one way Docker reports it
//! (`super::each::report`). Images: the dangling ones (with `-a`, every image no container
//! uses), and the layers only they used.

use super::each::Pruned;
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
            println!("Total reclaimed space: 0B");
            return Ok(0);
        }
    }
    let store = super::open_store()?;
    super::each::report(&[images(&store, a.all)?]);
    Ok(0)
}

/// Remove dangling images (`all`: every image no container uses) and the layers only they
/// used.
pub fn images(store: &Store, all: bool) -> anyhow::Result<Pruned> {
    let _lock = store.lock()?;
    let containers = container::list(store)?;
    let used_images: BTreeSet<_> = containers.iter().map(|c| c.image.clone()).collect();
    let in_use: BTreeSet<_> = containers.iter().flat_map(|c| c.layers.iter().cloned()).collect();
    let mut lines = Vec::new();
    let mut reclaimed = 0u64;
    // With `-a`, a tagged base whose last child went in one pass goes in the next.
    while prune_pass(store, all, &used_images, &in_use, &mut lines, &mut reclaimed)? && all {}
    // What interrupted or refused commands left: blobs and layers nothing uses.
    reclaimed += store.collect_garbage()?;
    Ok(Pruned { heading: "Deleted Images:", lines, reclaimed: Some(reclaimed) })
}

/// Remove every container that is not running.
pub fn containers(store: &Store) -> anyhow::Result<Pruned> {
    let mut out = Pruned::new("Deleted Containers:", Some(0));
    for c in container::list(store)? {
        if c.state.is_alive() {
            continue;
        }
        let size = crate::hostfs::dir_size(&c.upper(store));
        container::remove(store, &c, false)?;
        *out.reclaimed.get_or_insert(0) += size;
        out.lines.push(c.id);
    }
    Ok(out)
}

/// Remove every volume no container (in any state) mounts.
pub fn volumes(store: &Store) -> anyhow::Result<Pruned> {
    let users = super::volume::users(store)?;
    let mut out = Pruned::new("Deleted Volumes:", Some(0));
    for v in crate::volume::list(store)? {
        if users.iter().any(|(n, _)| *n == v.name) {
            continue;
        }
        let size = crate::volume::size(store, &v.name);
        crate::volume::remove(store, &v.name)?;
        *out.reclaimed.get_or_insert(0) += size;
        out.lines.push(v.name);
    }
    Ok(out)
}

/// Remove every user-defined network no container is on.
pub fn networks(store: &Store) -> anyhow::Result<Pruned> {
    let mut out = Pruned::new("Deleted Networks:", None);
    let containers = container::list(store)?;
    for n in crate::network::list(store)? {
        if crate::network::is_builtin(&n.name) || containers.iter().any(|c| c.networks.contains_key(&n.name)) {
            continue;
        }
        crate::network::remove(store, &n)?;
        out.lines.push(n.name);
    }
    Ok(out)
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
            crate::events::record(
                store,
                crate::events::Event::new("image", "untag", &summary.id.to_string(), &[("name", &t.familiar())]),
            );
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
            if let Some(d) = &deleted.image {
                lines.push(format!("deleted: {d}"));
                let id = d.to_string();
                crate::events::record(store, crate::events::Event::new("image", "delete", &id, &[("name", &id)]));
            }
            for l in &deleted.layers {
                lines.push(format!("deleted: {l}"));
                *reclaimed += sizes.get(l).copied().unwrap_or(0);
            }
        }
    }
    Ok(lines.len() > before)
}
