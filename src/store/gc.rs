//! Removing images and the layers only they used. A layer or blob is deleted only when no
//! remaining image and no container (the caller passes the chain IDs containers use) needs it.
//! Callers hold the store lock, so no import can start using a layer while it is removed.

use super::{Image, Store};
use crate::error::{IoContext, Result};
use crate::reference::Reference;
use crate::spec::{Digest, ANNOTATION_REF_NAME};
use std::collections::BTreeSet;
use std::fs;

/// What removing an image deleted: the image ID, then each layer (chain ID).
#[derive(Debug, Default)]
pub struct Deleted {
    pub image: Option<Digest>,
    pub layers: Vec<Digest>,
}

impl Store {
    /// Remove tag `r` from the index. Returns whether it existed. The image itself stays
    /// (as a dangling entry if it has no tag left); see [`Store::delete_image`].
    pub fn untag(&self, r: &Reference) -> Result<bool> {
        let name = r.to_string();
        let mut idx = self.index()?;
        let Some(pos) = idx.manifests.iter().position(|d| d.annotations.get(ANNOTATION_REF_NAME) == Some(&name)) else {
            return Ok(false);
        };
        super::crash::point("untag");
        let removed = idx.manifests.remove(pos);
        if !idx.manifests.iter().any(|d| d.digest == removed.digest) {
            let mut bare = removed.clone();
            bare.annotations.clear();
            idx.manifests.push(bare);
        }
        self.write_index(&idx)?;
        Ok(true)
    }

    /// Delete an image (all its index entries, its manifest and config) and every layer that
    /// no other image and no container (`in_use`: chain IDs) still needs.
    pub fn delete_image(&self, img: &Image, in_use: &BTreeSet<Digest>) -> Result<Deleted> {
        let mut idx = self.index()?;
        idx.manifests.retain(|d| d.digest != img.manifest_digest);
        self.write_index(&idx)?;
        super::crash::point("delete-image");
        self.forget_image_meta(&img.id)?;
        // What the remaining images still need.
        let mut keep_chains = in_use.clone();
        let mut keep_blobs: BTreeSet<Digest> = BTreeSet::new();
        for d in &idx.manifests {
            if let Ok(other) = self.image_by_manifest(&d.digest, vec![]) {
                keep_chains.extend(other.chain_ids());
                keep_blobs.insert(other.id.clone());
                keep_blobs.insert(other.manifest_digest.clone());
                keep_blobs.extend(other.manifest.layers.iter().map(|l| l.digest.clone()));
            }
        }
        let mut deleted = Deleted { image: Some(img.id.clone()), layers: vec![] };
        for blob in [&img.manifest_digest, &img.id] {
            if !keep_blobs.contains(blob) {
                super::crash::point("delete-blob");
                remove_file_if_exists(&self.blob_path(blob))?;
            }
        }
        // Top layer first, as Docker reports them.
        for (chain, desc) in img.chain_ids().iter().zip(&img.manifest.layers).rev() {
            if keep_chains.contains(chain) {
                continue;
            }
            super::crash::point("delete-layer");
            self.remove_layer(chain)?;
            deleted.layers.push(chain.clone());
            if !keep_blobs.contains(&desc.digest) {
                remove_file_if_exists(&self.blob_path(&desc.digest))?;
            }
        }
        Ok(deleted)
    }
}

impl Store {
    /// Delete `img` as [`Store::delete_image`] does, then its parents while each is
    /// untagged, has no other child and no container uses it (Docker prunes parents so).
    /// `used_images` are the image IDs containers use. Returns what each deletion removed.
    pub fn delete_image_and_parents(
        &self,
        img: &Image,
        in_use: &BTreeSet<Digest>,
        used_images: &BTreeSet<Digest>,
    ) -> Result<Vec<Deleted>> {
        let parent = self.parent(&img.id);
        let mut out = vec![self.delete_image(img, in_use)?];
        let mut next = parent;
        while let Some(id) = next.take() {
            let Ok(p) = self.find_image(&id.to_string()) else { break };
            if !p.tags.is_empty() || used_images.contains(&p.id) || !self.children(&p.id)?.is_empty() {
                break;
            }
            next = self.parent(&p.id);
            out.push(self.delete_image(&p, in_use)?);
        }
        Ok(out)
    }
}

fn remove_file_if_exists(p: &std::path::Path) -> Result<()> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).at(p),
        _ => Ok(()),
    }
}
