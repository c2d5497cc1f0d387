//! Image archives: `save` writes Docker's `docker save` layout (`manifest.json`, `repositories`,
//! `<config>.json`, `<layer>/layer.tar`) or an OCI layout (`oci-layout`, `index.json`,
//! `blobs/sha256/…`); `load` reads either, with gzip-compressed layers too (podman, skopeo,
//! Docker). Everything read is checked: entry paths (safe extraction), every layer against the
//! diff ID its config names, and every layer's content through the safe layer extractor.

use crate::archive::create::TarWriter;
use crate::archive::extract::extract_layer;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::spec::{
    to_json, Descriptor, Digest, ImageConfig, ImageIndex, Manifest, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME,
    MEDIA_TYPE_LAYER, MEDIA_TYPE_MANIFEST,
};
use crate::store::{Image, LayerMeta, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

/// One entry of a docker-archive `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Write `images` (with the tags to record for each) as a docker-archive to `out`.
pub fn save_docker(store: &Store, images: &[(Image, Vec<Reference>)], out: impl Write) -> Result<()> {
    let mut w = TarWriter::new(out, 0);
    let mut manifest = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut written = std::collections::BTreeSet::new();
    for (img, tags) in images {
        let config_name = format!("{}.json", img.id.hex());
        if written.insert(config_name.clone()) {
            let config = store.read_blob(&img.id)?;
            w.append(&config_name, &crate::archive::create::Node::File { data: config, mode: 0o644 })
                .at(&config_name)?;
        }
        let mut layers = Vec::new();
        let chains = img.chain_ids();
        for (i, (chain, diff)) in chains.iter().zip(&img.config.rootfs.diff_ids).enumerate() {
            let dir = chain.hex().to_string();
            let name = format!("{dir}/layer.tar");
            if written.insert(name.clone()) {
                w.append(&dir, &crate::archive::create::Node::Dir { mode: 0o755 }).at(&dir)?;
                let v1 = serde_json::json!({ "id": dir, "parent": if i > 0 { chains[i - 1].hex().to_string() } else { String::new() } });
                w.append(
                    &format!("{dir}/VERSION"),
                    &crate::archive::create::Node::File { data: b"1.0".to_vec(), mode: 0o644 },
                )
                .at(&dir)?;
                w.append(
                    &format!("{dir}/json"),
                    &crate::archive::create::Node::File { data: to_json(&v1), mode: 0o644 },
                )
                .at(&dir)?;
                w.append_file(&name, &store.blob_path(diff), 0o644).at(&name)?;
            }
            layers.push(name);
        }
        let repo_tags: Vec<String> = tags.iter().map(|t| t.familiar()).collect();
        if let Some(top) = chains.last() {
            for t in tags {
                repositories
                    .entry(t.familiar_name())
                    .or_default()
                    .insert(t.tag.clone().unwrap_or_default(), top.hex().to_string());
            }
        }
        manifest.push(ArchiveEntry {
            config: config_name,
            repo_tags: Some(repo_tags).filter(|t| !t.is_empty()),
            layers,
        });
    }
    let node = |v: Vec<u8>| crate::archive::create::Node::File { data: v, mode: 0o644 };
    w.append("manifest.json", &node(serde_json::to_vec(&manifest).unwrap())).at("manifest.json")?;
    w.append("repositories", &node(serde_json::to_vec(&repositories).unwrap())).at("repositories")?;
    w.finish().at("archive")?;
    Ok(())
}

/// Write `images` as an OCI image layout in a tar (`--format oci`).
pub fn save_oci(store: &Store, images: &[(Image, Vec<Reference>)], out: impl Write) -> Result<()> {
    let mut w = TarWriter::new(out, 0);
    let node = |v: Vec<u8>| crate::archive::create::Node::File { data: v, mode: 0o644 };
    w.append("oci-layout", &node(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec())).at("oci-layout")?;
    let mut index = ImageIndex::default();
    let mut written = std::collections::BTreeSet::new();
    for (img, tags) in images {
        let mut blobs = vec![img.manifest_digest.clone(), img.id.clone()];
        blobs.extend(img.manifest.layers.iter().map(|l| l.digest.clone()));
        for b in blobs {
            if written.insert(b.clone()) {
                let name = format!("blobs/sha256/{}", b.hex());
                w.append_file(&name, &store.blob_path(&b), 0o644).at(&name)?;
            }
        }
        let size = fs::metadata(store.blob_path(&img.manifest_digest)).at(store.blob_path(&img.manifest_digest))?.len();
        if tags.is_empty() {
            index.manifests.push(Descriptor::new(MEDIA_TYPE_MANIFEST, img.manifest_digest.clone(), size));
        }
        for t in tags {
            let mut d = Descriptor::new(MEDIA_TYPE_MANIFEST, img.manifest_digest.clone(), size);
            d.annotations.insert(ANNOTATION_REF_NAME.into(), t.to_string());
            d.annotations.insert(ANNOTATION_IMAGE_NAME.into(), t.to_string());
            index.manifests.push(d);
        }
    }
    w.append("index.json", &node(serde_json::to_vec_pretty(&index).unwrap())).at("index.json")?;
    w.finish().at("archive")?;
    Ok(())
}

/// What `load` did for one image.
#[derive(Debug)]
pub struct Loaded {
    pub id: Digest,
    pub tags: Vec<Reference>,
    /// Tags that pointed at another image before (Docker's "renaming the old one").
    pub renamed: Vec<(Reference, Digest)>,
    pub layers: Vec<LayerMeta>,
}

/// Load every image of an archive (docker-archive or OCI layout, plain or gzip) into the store.
/// The caller holds the store lock and undoes a failure ([`Store::all_or_nothing`]). Every
/// image's tags are checked before anything is stored; nothing is tagged unless every image
/// loaded.
pub fn load(store: &Store, archive: &Path) -> Result<Vec<Loaded>> {
    let dir = tempfile::tempdir_in(store.scratch_dir()).at(store.scratch_dir())?;
    let name = crate::error::printable_name(&archive.display().to_string());
    extract_layer(decompressed(fs::File::open(archive).at(archive)?)?, dir.path(), &name).map_err(|e| match e {
        Error::InvalidLayer { entry, reason, .. } => Error::Other(format!("invalid archive {name}: {entry}: {reason}")),
        other => other,
    })?;
    let root = dir.path();
    // (config, layer files, tags) of each image, all read and checked before any is stored.
    let mut images: Vec<(Vec<u8>, Vec<std::path::PathBuf>, Vec<Reference>)> = Vec::new();
    if fs::symlink_metadata(root.join("manifest.json")).is_ok() {
        let data = read_inside(root, "manifest.json")?;
        let entries: Vec<ArchiveEntry> = parse_json(&data, &format!("{name}: manifest.json"))?;
        for e in entries {
            let config = read_inside(root, &e.config)?;
            let layers: Vec<std::path::PathBuf> = e.layers.iter().map(|l| inside(root, l)).collect::<Result<_>>()?;
            let tags = e.repo_tags.unwrap_or_default().iter().map(|t| parse_tag(t)).collect::<Result<_>>()?;
            images.push((config, layers, tags));
        }
    } else if fs::symlink_metadata(root.join("index.json")).is_ok() {
        let idx: ImageIndex = parse_json(&read_inside(root, "index.json")?, &format!("{name}: index.json"))?;
        let blob = |d: &Digest| inside(root, &format!("blobs/sha256/{}", d.hex()));
        for d in idx.manifests {
            let m: Manifest =
                parse_json(&verified(&blob(&d.digest)?, &d.digest)?, &format!("{name}: manifest {}", d.digest))?;
            let config = verified(&blob(&m.config.digest)?, &m.config.digest)?;
            let layers: Vec<_> = m.layers.iter().map(|l| blob(&l.digest)).collect::<Result<_>>()?;
            let tags: Vec<Reference> = d
                .annotations
                .get(ANNOTATION_IMAGE_NAME)
                .or(d.annotations.get(ANNOTATION_REF_NAME))
                .filter(|n| Reference::parse(n).is_ok_and(|r| r.tag.is_some()))
                .map(|t| parse_tag(t))
                .transpose()?
                .into_iter()
                .collect();
            images.push((config, layers, tags));
        }
    } else {
        return Err(Error::Other(format!(
            "{name}: neither a docker-archive (manifest.json) nor an OCI layout (index.json)"
        )));
    }
    let mut stored = Vec::new();
    for (config, layers, _) in &images {
        stored.push(store_image(store, config, layers)?);
    }
    let mut out = Vec::new();
    for ((_, _, tags), (id, manifest, metas)) in images.into_iter().zip(stored) {
        let mut loaded = Loaded { id, tags: vec![], renamed: vec![], layers: metas };
        for r in tags {
            if let Some(old) = store.tag_image(&manifest, &r)? {
                let old_id: Manifest = store.read_json(&old)?;
                loaded.renamed.push((r.clone(), old_id.config.digest));
            }
            loaded.tags.push(r);
        }
        out.push(loaded);
    }
    Ok(out)
}

/// A RepoTag, which must be a valid reference (checked before anything is stored).
fn parse_tag(t: &str) -> Result<Reference> {
    Reference::parse(t)
        .map(Reference::with_default_tag)
        .map_err(|e| Error::Other(format!("invalid tag {:?} in the archive: {e}", crate::error::printable_name(t))))
}

/// Parse archive JSON; the error says what and where, never quoting the content (it may be
/// anything, a host file even, if the archive tried to make us read one).
fn parse_json<T: serde::de::DeserializeOwned>(data: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(data).map_err(|e| {
        Error::Other(format!(
            "{what}: invalid JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// Store one image's layers (each checked against the diff ID its config names) and the
/// image itself, untagged; returns (image ID, manifest digest, layers).
fn store_image(
    store: &Store,
    config_bytes: &[u8],
    layers: &[std::path::PathBuf],
) -> Result<(Digest, Digest, Vec<LayerMeta>)> {
    let config: ImageConfig = parse_json(config_bytes, "image config")?;
    if config.rootfs.diff_ids.len() != layers.len() {
        return Err(Error::Other(format!(
            "image config names {} layers but the archive has {}",
            config.rootfs.diff_ids.len(),
            layers.len()
        )));
    }
    let mut parent: Option<Digest> = None;
    let mut descriptors = Vec::new();
    let mut metas = Vec::new();
    for (path, want) in layers.iter().zip(&config.rootfs.diff_ids) {
        let mut reader = decompressed(fs::File::open(path).at(path)?)?;
        let (diff, size) = store.put_blob_expecting(&mut reader, Some(want)).map_err(|e| match e {
            Error::CorruptBlob { actual, .. } => Error::InvalidLayer {
                layer: want.to_string(),
                entry: crate::error::printable_name(&path.file_name().unwrap_or_default().to_string_lossy()),
                reason: format!("content hashes to {actual}, not the diff ID the config names"),
            },
            other => other,
        })?;
        let meta = store.unpack_layer(&diff, parent.as_ref())?;
        parent = Some(meta.chain_id.clone());
        descriptors.push(Descriptor::new(MEDIA_TYPE_LAYER, diff, size));
        metas.push(meta);
    }
    crate::store::crash::point("load-image");
    let (id, manifest) = store.put_image(config_bytes, descriptors)?;
    Ok((id, manifest, metas))
}

fn decompressed(f: fs::File) -> Result<Box<dyn Read>> {
    super::maybe_gunzip(f).at("archive")
}

/// A path named inside the archive, which must stay inside it.
fn inside(root: &Path, rel: &str) -> Result<std::path::PathBuf> {
    let p = Path::new(rel);
    if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        let rel = crate::error::printable_name(rel);
        return Err(Error::Other(format!("invalid archive: {rel}: path leaves the archive")));
    }
    // Newer Docker links duplicate layers (`a/layer.tar -> ../b/layer.tar`): follow, but stay inside.
    let rel = crate::error::printable_name(rel);
    let full = fs::canonicalize(root.join(p)).map_err(|_| Error::Other(format!("invalid archive: {rel}: missing")))?;
    let root = fs::canonicalize(root).at(root)?;
    if !full.starts_with(&root) {
        return Err(Error::Other(format!("invalid archive: {rel}: path leaves the archive")));
    }
    let meta = fs::metadata(&full).at(&full)?;
    if !meta.is_file() {
        return Err(Error::Other(format!("invalid archive: {rel}: not a regular file")));
    }
    Ok(full)
}

/// The largest JSON document (manifest, index, config) an archive may hold: real ones are
/// kilobytes; a huge one is refused before it is read into memory.
const MAX_JSON: u64 = 16 << 20;

fn read_json_file(p: &Path, what: &str) -> Result<Vec<u8>> {
    let len = fs::metadata(p).at(p)?.len();
    if len > MAX_JSON {
        return Err(Error::Other(format!("invalid archive: {what}: {len} bytes of JSON is too large")));
    }
    fs::read(p).at(p)
}

fn read_inside(root: &Path, rel: &str) -> Result<Vec<u8>> {
    let p = inside(root, rel)?;
    read_json_file(&p, &crate::error::printable_name(rel))
}

fn verified(p: &Path, d: &Digest) -> Result<Vec<u8>> {
    let data = read_json_file(p, &d.to_string())?;
    let actual = Digest::of(&data);
    if &actual != d {
        return Err(Error::CorruptBlob { digest: d.to_string(), actual: actual.to_string() });
    }
    Ok(data)
}
