//! The explain commands no other tool has: `image layers IMAGE` draws an image's stack of
//! layers; `image why IMAGE PATH` says which layer provides a path and what it shadows.

use crate::archive::WHITEOUT_PREFIX;
use crate::spec::{Digest, History};
use crate::store::{Image, Store};
use crate::unionfs::{Layer, UnionFs};
use crate::units::human_size;
use clap::Args;

#[derive(Debug, Args)]
pub struct LayersArgs {
    /// The image
    image: String,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The image
    image: String,
    /// An absolute path in the image
    path: String,
}

/// One layer of an image, bottom = 1.
struct LayerRow {
    number: usize,
    chain: Digest,
    diff: Digest,
    size: u64,
    created_by: String,
}

fn layer_rows(store: &Store, img: &Image) -> anyhow::Result<Vec<LayerRow>> {
    let steps: Vec<&History> = img.config.history.iter().filter(|h| !h.empty_layer).collect();
    let mut rows = Vec::new();
    for (i, (chain, diff)) in img.chain_ids().into_iter().zip(img.config.rootfs.diff_ids.iter()).enumerate() {
        let size = store.layer_meta(&chain)?.size;
        let created_by = steps.get(i).and_then(|h| h.created_by.clone()).unwrap_or_else(|| "<unknown step>".into());
        rows.push(LayerRow { number: i + 1, chain, diff: diff.clone(), size, created_by });
    }
    Ok(rows)
}

fn name_of(img: &Image) -> String {
    img.tags.first().map(|t| t.familiar()).unwrap_or_else(|| img.id.short().to_string())
}

pub fn layers(a: LayersArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let img = store.find_image(&a.image)?;
    store.image_layers(&img)?;
    let rows = layer_rows(&store, &img)?;
    // Which other images have each layer (same chain ID = same layer, stored once).
    // Untagged images (build steps, mostly) are counted rather than named.
    let mut others: Vec<(Option<String>, Vec<Digest>)> = Vec::new();
    for s in store.list_images()? {
        if s.id == img.id {
            continue;
        }
        let other = store.image_by_manifest(&s.manifest_digest, s.tags.clone())?;
        others.push((other.tags.first().map(|_| name_of(&other)), other.chain_ids()));
    }
    let total: u64 = rows.iter().map(|r| r.size).sum();
    println!("{}  {}  {} layers, {}", name_of(&img), img.id, rows.len(), human_size(total));
    println!("  ┌─ each container adds its own writable layer here (see `skiff diff`)");
    for r in rows.iter().rev() {
        println!("  ├─ layer {}  {}  {}", r.number, r.diff, human_size(r.size));
        println!("  │    made by: {}", crate::error::printable_name(&super::table::ellipsis(&r.created_by, 90)));
        // The compressed forms it travelled to registries as (its distribution digests).
        for src in store.distribution_sources(&r.diff) {
            let repos: Vec<String> = src
                .repos
                .iter()
                .map(|x| crate::reference::Reference::parse(x).map(|r| r.familiar_name()).unwrap_or_else(|_| x.clone()))
                .collect();
            println!("  │    compressed: {}  {}  in {}", src.digest, human_size(src.size), repos.join(", "));
        }
        let sharing: Vec<&Option<String>> =
            others.iter().filter(|(_, c)| c.contains(&r.chain)).map(|(n, _)| n).collect();
        let mut shared: Vec<String> = sharing.iter().filter_map(|n| (*n).clone()).collect();
        shared.sort();
        let untagged = sharing.iter().filter(|n| n.is_none()).count();
        if untagged > 0 {
            shared.push(format!("{untagged} untagged image{}", if untagged == 1 { "" } else { "s" }));
        }
        if !shared.is_empty() {
            println!("  │    shared with: {} (stored once)", shared.join(", "));
        }
    }
    println!("  └─ (empty root)");
    Ok(0)
}

pub fn why(a: WhyArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let img = store.find_image(&a.image)?;
    store.image_layers(&img)?;
    let rows = layer_rows(&store, &img)?;
    let lowers = rows.iter().rev().map(|r| store.layer_diff_dir(&r.chain)).collect();
    let empty = tempfile::tempdir_in(store.scratch_dir())?;
    let fs = UnionFs::new(lowers, empty.path().to_path_buf())?;
    let path = if a.path.starts_with('/') { a.path.clone() } else { format!("/{}", a.path) };
    let describe = |r: &LayerRow| {
        format!("layer {} ({}, made by: {})", r.number, r.diff.short(), super::table::ellipsis(&r.created_by, 60))
    };
    // Where the raw name appears, and which layers hide it with a whiteout, top first.
    let rel = path.trim_start_matches('/');
    let (parent, base) = rel.rsplit_once('/').unwrap_or(("", rel));
    let wh = if parent.is_empty() {
        format!("{WHITEOUT_PREFIX}{base}")
    } else {
        format!("{parent}/{WHITEOUT_PREFIX}{base}")
    };
    let has = |r: &LayerRow, p: &str| std::fs::symlink_metadata(store.layer_diff_dir(&r.chain).join(p)).is_ok();
    match fs.resolve(&path, false) {
        Ok(res) => {
            let Layer::Lower(top_index) = res.layer else {
                anyhow::bail!("{path}: not provided by a layer");
            };
            let provider = &rows[rows.len() - 1 - top_index];
            println!("{} in {} comes from {}", crate::error::printable_name(&path), name_of(&img), describe(provider));
            let canonical = res.path.trim_start_matches('/').to_string();
            if canonical != rel {
                println!("  (through symlinks, it is /{})", crate::error::printable_name(&canonical));
            }
            for r in rows.iter().rev().filter(|r| r.number < provider.number && has(r, &canonical)) {
                println!("  it shadows the version in {}", describe(r));
            }
        }
        Err(_) => {
            let hidden: Vec<&LayerRow> = rows.iter().rev().filter(|r| has(r, &wh)).collect();
            let had: Vec<&LayerRow> = rows.iter().rev().filter(|r| has(r, rel)).collect();
            if hidden.is_empty() && had.is_empty() {
                println!("{path} is not in {}: no layer has it", name_of(&img));
                return Ok(1);
            }
            println!("{path} is not in {}", name_of(&img));
            for r in hidden {
                println!("  a whiteout (/{wh}) in {} deletes it", describe(r));
            }
            for r in had {
                println!("  it was added by {}", describe(r));
            }
        }
    }
    Ok(0)
}
