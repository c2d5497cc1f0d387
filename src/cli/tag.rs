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
    let target = Reference::parse(&a.target)
        .map_err(|e| anyhow::anyhow!("Error parsing reference: {:?} is not a valid repository/tag: {e}", a.target))?
        .with_default_tag();
    let image = store.find_image(&a.source).map_err(|e| match e {
        Error::NoSuchImage(_) => Error::NoSuchImage(
            Reference::parse(&a.source).map(|r| r.with_default_tag().familiar()).unwrap_or(a.source.clone()),
        ),
        other => other,
    })?;
    let _lock = store.lock()?;
    store.tag_image(&image.manifest_digest, &target)?;
    Ok(0)
}
