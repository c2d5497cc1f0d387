//! Images and tags: `oci/index.json` holds one entry per (manifest, tag) — plus one untagged
//! entry for an image that has no tag left — so the OCI layout alone says what exists.
//! The image ID is the digest of the config blob.

use super::{atomic_write, LayerMeta, Store};
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::spec::{
    to_json, Descriptor, Digest, ImageConfig, ImageIndex, Manifest, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME,
    MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST,
};
use std::collections::BTreeMap;
use std::fs;

/// An image read from the store.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image ID: digest of the config.
    pub id: Digest,
    pub manifest_digest: Digest,
    pub manifest: Manifest,
    pub config: ImageConfig,
    pub tags: Vec<Reference>,
}

/// One image for `images`: its tags, ID, creation time and size.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: Digest,
    pub manifest_digest: Digest,
    pub tags: Vec<Reference>,
    pub created: Option<String>,
    pub size: u64,
}

impl Image {
    /// Chain IDs of the layers, bottom first.
    pub fn chain_ids(&self) -> Vec<Digest> {
        Digest::chain(&self.config.rootfs.diff_ids)
    }
}

impl Store {
    pub fn index(&self) -> Result<ImageIndex> {
        let p = self.root.join("oci/index.json");
        match fs::read(&p) {
            Ok(data) => serde_json::from_slice(&data).map_err(|e| Error::Other(format!("{}: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ImageIndex::default()),
            Err(e) => Err(Error::io(p, e)),
        }
    }

    pub(super) fn write_index(&self, idx: &ImageIndex) -> Result<()> {
        let data = serde_json::to_vec_pretty(idx).expect("index serialises");
        atomic_write(&self.root.join("oci/index.json"), &data)
    }

    /// Store an image whose layer blobs are already in the store; returns (image ID, manifest
    /// digest). The image is recorded untagged until [`Store::tag_image`]. Caller holds the lock.
    pub fn put_image(&self, config_bytes: &[u8], layers: Vec<Descriptor>) -> Result<(Digest, Digest)> {
        let id = self.put_blob(config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_MANIFEST.into()),
            config: Descriptor::new(MEDIA_TYPE_CONFIG, id.clone(), config_bytes.len() as u64),
            layers,
            annotations: BTreeMap::new(),
        };
        let mbytes = to_json(&manifest);
        let mdigest = self.put_blob(&mbytes)?;
        super::crash::point("put-image");
        let mut idx = self.index()?;
        if !idx.manifests.iter().any(|d| d.digest == mdigest) {
            idx.manifests.push(Descriptor::new(MEDIA_TYPE_MANIFEST, mdigest.clone(), mbytes.len() as u64));
            self.write_index(&idx)?;
        }
        Ok((id, mdigest))
    }

    /// Point tag `r` at manifest `m`. Returns the manifest the tag was taken from, if any
    /// (that image keeps an untagged entry, so it shows as dangling). Caller holds the lock.
    pub fn tag_image(&self, m: &Digest, r: &Reference) -> Result<Option<Digest>> {
        let name = r.to_string();
        let mut idx = self.index()?;
        let size = self.blob_size(m)?;
        let old = idx
            .manifests
            .iter()
            .find(|d| d.annotations.get(ANNOTATION_REF_NAME) == Some(&name))
            .map(|d| d.digest.clone());
        if old.as_ref() == Some(m) {
            return Ok(None);
        }
        idx.manifests.retain(|d| d.annotations.get(ANNOTATION_REF_NAME) != Some(&name));
        // The tagged image needs no untagged placeholder any more.
        idx.manifests.retain(|d| !(d.digest == *m && d.annotations.is_empty()));
        super::crash::point("tag");
        let mut desc = Descriptor::new(MEDIA_TYPE_MANIFEST, m.clone(), size);
        desc.annotations.insert(ANNOTATION_REF_NAME.into(), name.clone());
        desc.annotations.insert(ANNOTATION_IMAGE_NAME.into(), name);
        idx.manifests.push(desc);
        if let Some(o) = &old {
            if !idx.manifests.iter().any(|d| &d.digest == o) {
                idx.manifests.push(Descriptor::new(MEDIA_TYPE_MANIFEST, o.clone(), self.blob_size(o)?));
            }
        }
        self.write_index(&idx)?;
        Ok(old)
    }

    fn blob_size(&self, d: &Digest) -> Result<u64> {
        let p = self.blob_path(d);
        Ok(fs::metadata(&p).at(&p)?.len())
    }

    /// The manifest a tag points at.
    pub fn lookup_tag(&self, r: &Reference) -> Result<Option<Digest>> {
        let name = r.to_string();
        Ok(self
            .index()?
            .manifests
            .into_iter()
            .find(|d| d.annotations.get(ANNOTATION_REF_NAME) == Some(&name))
            .map(|d| d.digest))
    }

    /// Tags of each manifest in the index, in index order.
    fn tags_by_manifest(&self) -> Result<Vec<(Digest, Vec<Reference>)>> {
        let mut out: Vec<(Digest, Vec<Reference>)> = Vec::new();
        for d in self.index()?.manifests {
            let tag = d.annotations.get(ANNOTATION_REF_NAME).and_then(|n| Reference::parse(n).ok());
            match out.iter_mut().find(|(m, _)| *m == d.digest) {
                Some((_, tags)) => tags.extend(tag),
                None => out.push((d.digest, tag.into_iter().collect())),
            }
        }
        Ok(out)
    }

    /// Read an image by manifest digest (config and manifest verified against their digests).
    pub fn image_by_manifest(&self, m: &Digest, tags: Vec<Reference>) -> Result<Image> {
        let manifest: Manifest = self.read_json(m)?;
        let id = manifest.config.digest.clone();
        let config: ImageConfig = self.read_json(&id)?;
        Ok(Image { id, manifest_digest: m.clone(), manifest, config, tags })
    }

    /// Find an image by reference (`busybox`, `me/app:v1`) or by ID (full or a prefix, with or
    /// without `sha256:`), as Docker does: the reference first.
    pub fn find_image(&self, name: &str) -> Result<Image> {
        let all = self.tags_by_manifest()?;
        if let Ok(r) = Reference::parse(name) {
            // `name@sha256:…`: the image a push or pull recorded under that digest.
            if let (Some(d), None) = (&r.digest, &r.tag) {
                if let Some(id) = self.image_by_repo_digest(&format!("{}@{d}", r.full_name())) {
                    for (m, tags) in &all {
                        let img = self.image_by_manifest(m, tags.clone())?;
                        if img.id == id {
                            return Ok(img);
                        }
                    }
                }
            }
            let r = r.with_default_tag();
            for (m, tags) in &all {
                if tags.contains(&r) {
                    return self.image_by_manifest(m, tags.clone());
                }
            }
        }
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        if !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            for (m, tags) in &all {
                let img = match self.image_by_manifest(m, tags.clone()) {
                    Err(e) if vanished(&e) => continue,
                    other => other?,
                };
                if img.id.hex().starts_with(hex) {
                    return Ok(img);
                }
            }
        }
        Err(Error::NoSuchImage(
            Reference::parse(name).map(|r| r.with_default_tag().familiar()).unwrap_or_else(|_| name.to_string()),
        ))
    }

    /// The IDs of every image in the index.
    pub fn image_ids(&self) -> Result<std::collections::BTreeSet<Digest>> {
        let mut out = std::collections::BTreeSet::new();
        for (m, _) in self.tags_by_manifest()? {
            let manifest: Manifest = match self.read_json(&m) {
                Err(e) if vanished(&e) => continue,
                other => other?,
            };
            out.insert(manifest.config.digest);
        }
        Ok(out)
    }

    /// Every image, newest entries first (as `docker images` lists them).
    pub fn list_images(&self) -> Result<Vec<ImageSummary>> {
        let mut out = Vec::new();
        for (m, tags) in self.tags_by_manifest()? {
            let img = match self.image_by_manifest(&m, tags) {
                Err(e) if vanished(&e) => continue,
                other => other?,
            };
            let mut size = 0;
            for chain in img.chain_ids() {
                size += self.layer_meta(&chain).map(|l| l.size).unwrap_or(0);
            }
            out.push(ImageSummary {
                id: img.id,
                manifest_digest: m,
                tags: img.tags,
                created: img.config.created.clone(),
                size,
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(out)
    }

    /// The image's layers, bottom first, extracting any that are missing from their blobs.
    pub fn image_layers(&self, img: &Image) -> Result<Vec<LayerMeta>> {
        let mut parent: Option<Digest> = None;
        let mut out = Vec::new();
        for diff in &img.config.rootfs.diff_ids {
            let meta = self.unpack_layer(diff, parent.as_ref())?;
            parent = Some(meta.chain_id.clone());
            out.push(meta);
        }
        Ok(out)
    }
}

/// Whether reading an image failed because a command removed it since the index was read
/// (readers take no lock: the index they read may name an image deleted a moment later).
fn vanished(e: &Error) -> bool {
    matches!(e, Error::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound)
}
