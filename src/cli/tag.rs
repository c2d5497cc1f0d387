//! `skiff tag SOURCE TARGET`: another name for the same image (same ID, no extra space).

use crate::error::Error;
use crate::reference::Reference;
use clap::Args;

#[derive(Debug, Args)]
pub struct TagArgs {
    /// SOURCE_IMAGE[:TAG]
    source: String,
    /// TARGET_IMAGE[:TAG]
    target: String,
}

pub fn exec(a: TagArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    // As Docker's client: both references are checked before anything is looked up.
    let invalid = |name: &str, e: crate::Error| {
        anyhow::anyhow!("Error parsing reference: {name:?} is not a valid repository/tag: {e}")
    };
    if !a.source.starts_with("sha256:") && !(a.source.len() <= 64 && a.source.bytes().all(|b| b.is_ascii_hexdigit())) {
        Reference::parse(&a.source).map_err(|e| invalid(&a.source, e))?;
    }
    let target = Reference::parse(&a.target).map_err(|e| invalid(&a.target, e))?;
    if target.digest.is_some() {
        anyhow::bail!("refusing to create a tag with a digest reference");
    }
    let target = target.with_default_tag();
    let image = store.find_image(&a.source).map_err(|e| match e {
        Error::NoSuchImage(_) => Error::NoSuchImage(
            Reference::parse(&a.source).map(|r| r.with_default_tag().familiar()).unwrap_or(a.source.clone()),
        ),
        other => other,
    })?;
    let _lock = store.lock()?;
    store.tag_image(&image.manifest_digest, &target)?;
    crate::container::commit::tagged(&store, &image.id, &target);
    Ok(0)
}
