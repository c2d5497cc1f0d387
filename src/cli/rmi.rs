//! `skiff rmi [-f] IMAGE...`: untag, and delete an image once its last tag is gone, with
//! Docker's conflict rules (an image a container uses is kept unless forced; never while a
//! container runs). Layers go only when no image or container needs them.

use crate::container;
use crate::error::Error;
use crate::reference::Reference;
use crate::store::Store;
use clap::Args;
use std::collections::BTreeSet;

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short, long)]
    force: bool,
    /// Images to remove (names or IDs)
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub fn exec(a: RmiArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut code = 0;
    for name in &a.images {
        let _lock = store.lock()?;
        if let Err(e) = remove_one(&store, name, a.force) {
            eprintln!("Error: {e}");
            code = 1;
        }
    }
    Ok(code)
}

fn remove_one(store: &Store, name: &str, force: bool) -> anyhow::Result<()> {
    let img = store.find_image(name).map_err(|e| match e {
        Error::NoSuchImage(_) => Error::NoSuchImage(name.to_string()),
        other => other,
    })?;
    let tag = Reference::parse(name).ok().map(Reference::with_default_tag).filter(|r| img.tags.contains(r));
    let containers = container::list(store)?;
    let users: Vec<&container::Container> = containers.iter().filter(|c| c.image == img.id).collect();
    let running = users.iter().find(|c| c.state.is_alive());
    let short = img.id.short();
    match &tag {
        Some(r) if img.tags.len() > 1 => {
            store.untag(r)?;
            println!("Untagged: {}", r.familiar());
            untagged(store, &img.id, r);
            return Ok(());
        }
        Some(r) => {
            if let Some(c) = users.first().filter(|_| !force) {
                anyhow::bail!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {short}",
                    c.short_id()
                );
            }
            store.untag(r)?;
            println!("Untagged: {}", r.familiar());
            untagged(store, &img.id, r);
            if running.is_some() || !store.children(&img.id)?.is_empty() {
                // The image stays: dangling until its container is gone, or as the
                // intermediate image its children were made from.
                return Ok(());
            }
        }
        None => {
            if let Some(c) = running {
                anyhow::bail!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container {}", c.short_id());
            }
            if !store.children(&img.id)?.is_empty() {
                anyhow::bail!(
                    "conflict: unable to delete {short} (cannot be forced) - image has dependent child images"
                );
            }
            if img.tags.len() > 1 && !force {
                anyhow::bail!("conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories");
            }
            if let Some(c) = users.first().filter(|_| !force) {
                anyhow::bail!(
                    "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {}",
                    c.short_id()
                );
            }
            for t in &img.tags {
                store.untag(t)?;
                println!("Untagged: {}", t.familiar());
                untagged(store, &img.id, t);
            }
        }
    }
    let in_use: BTreeSet<_> = containers.iter().flat_map(|c| c.layers.iter().cloned()).collect();
    let used_images: BTreeSet<_> = containers.iter().map(|c| c.image.clone()).collect();
    for deleted in store.delete_image_and_parents(&img, &in_use, &used_images)? {
        if let Some(id) = deleted.image {
            println!("Deleted: {id}");
            let id = id.to_string();
            crate::events::record(store, crate::events::Event::new("image", "delete", &id, &[("name", &id)]));
        }
        for l in deleted.layers {
            println!("Deleted: {l}");
        }
    }
    Ok(())
}

/// `image untag <id> (name=repo:tag)`.
fn untagged(store: &Store, id: &crate::spec::Digest, r: &Reference) {
    crate::events::record(
        store,
        crate::events::Event::new("image", "untag", &id.to_string(), &[("name", &r.familiar())]),
    );
}
