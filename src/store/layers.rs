//! Layers: each layer tar extracted once under `layers/<chain-id>/diff/`, shared by every image
//! whose stack has that chain ID, with `meta.json` (diff ID, parent, size, wasm modules) and
//! `index` (the union view's index of the files, `unionfs/index.rs`).

use super::{atomic_write, Store};
use crate::archive::extract::{extract_layer_with, settle_as_extracted, Extracted, Specials};
use crate::error::{Error, IoContext, Result};
use crate::spec::Digest;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::PathBuf;

/// What the store knows about an extracted layer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerMeta {
    pub diff_id: Digest,
    pub chain_id: Digest,
    pub parent: Option<Digest>,
    /// Sum of regular file sizes.
    pub size: u64,
    /// Layer-relative path of each wasm module → its sha256 (the key of the compiled cache).
    pub wasm: BTreeMap<String, Digest>,
}

pub type LayerInfo = LayerMeta;

impl Store {
    /// `layers/<chain hex>/`.
    pub fn layer_dir(&self, chain: &Digest) -> PathBuf {
        self.root.join("layers").join(chain.hex())
    }

    /// The extracted files of a layer: a lower directory of the union view.
    pub fn layer_diff_dir(&self, chain: &Digest) -> PathBuf {
        self.layer_dir(chain).join("diff")
    }

    pub fn has_layer(&self, chain: &Digest) -> bool {
        self.layer_dir(chain).join("meta.json").exists()
    }

    pub fn layer_meta(&self, chain: &Digest) -> Result<LayerMeta> {
        let p = self.layer_dir(chain).join("meta.json");
        let data = fs::read(&p).at(&p)?;
        serde_json::from_slice(&data).map_err(|e| Error::Other(format!("{}: {e}", p.display())))
    }

    /// Extract the uncompressed layer blob `diff_id` on top of `parent` (a chain ID), unless that
    /// chain is already extracted. The blob is checked against `diff_id` while it is read; a
    /// refused or corrupt layer leaves nothing in `layers/`.
    pub fn unpack_layer(&self, diff_id: &Digest, parent: Option<&Digest>) -> Result<LayerMeta> {
        self.unpack_layer_with(diff_id, parent, Specials::Refuse)
    }

    /// [`Store::unpack_layer`] with device nodes and FIFOs handled as `specials` says.
    pub fn unpack_layer_with(
        &self,
        diff_id: &Digest,
        parent: Option<&Digest>,
        specials: Specials,
    ) -> Result<LayerMeta> {
        let chain = chain_of(parent, diff_id);
        if self.has_layer(&chain) {
            return self.layer_meta(&chain);
        }
        let blob = self.blob_path(diff_id);
        let file = fs::File::open(&blob).at(&blob)?;
        let mut reader = HashingReader { inner: file, hasher: Sha256::new() };
        let unpacked = self.extract_to_scratch(&mut reader, diff_id, specials)?;
        std::io::copy(&mut reader, &mut std::io::sink()).at(&blob)?; // tar padding after the end marker
        let actual = Digest::from_hasher(reader.hasher);
        if &actual != diff_id {
            return Err(Error::CorruptBlob { digest: diff_id.to_string(), actual: actual.to_string() });
        }
        self.install_layer(unpacked, parent)
    }

    /// Extract the layer tar `tar` (said to be `diff_id`) into this process's scratch space.
    /// Nothing enters `layers/`: the caller checks that the tar hashed to `diff_id`, then
    /// calls [`Store::install_layer`]; dropping the result removes the files.
    pub fn extract_to_scratch(&self, tar: impl Read, diff_id: &Digest, specials: Specials) -> Result<Unpacked> {
        let dir = tempfile::Builder::new().prefix("layer-").tempdir_in(self.scratch_dir()).at(self.scratch_dir())?;
        let diff = dir.path().join("diff");
        fs::create_dir(&diff).at(&diff)?;
        let extracted = extract_layer_with(tar, &diff, &diff_id.to_string(), specials)?;
        Ok(Unpacked { dir, diff_id: diff_id.clone(), extracted })
    }

    /// Put a layer extracted by [`Store::extract_to_scratch`], whose tar was verified against
    /// its diff ID, in place on top of `parent` (one rename: it appears whole or not at all).
    pub fn install_layer(&self, unpacked: Unpacked, parent: Option<&Digest>) -> Result<LayerMeta> {
        let Unpacked { dir: tmp, diff_id, extracted } = unpacked;
        let chain = chain_of(parent, &diff_id);
        if self.has_layer(&chain) {
            return self.layer_meta(&chain);
        }
        let meta = LayerMeta {
            diff_id,
            chain_id: chain.clone(),
            parent: parent.cloned(),
            size: extracted.size,
            wasm: extracted.wasm.into_iter().collect(),
        };
        // The union view's index of the files (unionfs/index.rs), written now that they are
        // final; without it (it could not be written) views read the directories instead.
        let _ = crate::unionfs::index::write_layer(&tmp.path().join("diff"), &tmp.path().join("index"), &chain.hex());
        atomic_write(&tmp.path().join("meta.json"), &serde_json::to_vec_pretty(&meta).unwrap())?;
        let dest = self.layer_dir(&chain);
        self.lease(&chain);
        crate::store::crash::point("layer-rename");
        let tmp_path = tmp.keep();
        if let Err(e) = fs::rename(&tmp_path, &dest) {
            let _ = fs::remove_dir_all(&tmp_path);
            if !self.has_layer(&chain) {
                return Err(Error::io(dest, e));
            }
        }
        Ok(meta)
    }

    /// A directory to fill with a new layer's files and store with [`Store::adopt_layer`]:
    /// made as [`Store::extract_to_scratch`] makes the one it extracts into. Dropped unused, it
    /// is removed.
    pub fn new_layer(&self) -> Result<NewLayer> {
        let tmp = tempfile::Builder::new().prefix("layer-").tempdir_in(self.scratch_dir()).at(self.scratch_dir())?;
        let diff = tmp.path().join("diff");
        fs::create_dir(&diff).at(&diff)?;
        Ok(NewLayer { tmp })
    }

    /// Store `new`, whose files were just tarred into the blob `diff_id` (by `tar_dir_owned`
    /// with every entry owned by `owner`), as that blob's extracted layer on top of `parent`,
    /// without extracting the blob again: its files are settled into what extraction makes
    /// ([`settle_as_extracted`]) and the directory is renamed into place. A tree that cannot be
    /// settled so (special files, a portable store) is extracted from the blob as usual.
    pub fn adopt_layer(
        &self,
        new: NewLayer,
        diff_id: &Digest,
        parent: Option<&Digest>,
        owner: (u32, u32),
    ) -> Result<LayerMeta> {
        let chain = chain_of(parent, diff_id);
        if self.has_layer(&chain) {
            return self.layer_meta(&chain);
        }
        let diff = new.diff();
        let Some(extracted) = settle_as_extracted(&diff, owner).at(&diff)? else {
            return self.unpack_layer_with(diff_id, parent, Specials::Skip);
        };
        self.install_layer(Unpacked { dir: new.tmp, diff_id: diff_id.clone(), extracted }, parent)
    }

    /// Remove an extracted layer directory (the caller checked nothing uses it).
    pub fn remove_layer(&self, chain: &Digest) -> Result<()> {
        let dir = self.layer_dir(chain);
        if !dir.exists() {
            return Ok(());
        }
        // Rename first so a half-deleted layer is never visible under its chain ID.
        let trash = self.scratch_dir().join(format!("rm-{}", chain.hex()));
        fs::rename(&dir, &trash).at(&dir)?;
        crate::store::crash::point("layer-trash");
        make_writable(&trash);
        fs::remove_dir_all(&trash).at(&trash)
    }
}

/// A layer's files in scratch space, not yet in the store ([`Store::extract_to_scratch`]).
pub struct Unpacked {
    dir: tempfile::TempDir,
    diff_id: Digest,
    extracted: Extracted,
}

/// A new layer's directory being filled ([`Store::new_layer`]).
pub struct NewLayer {
    tmp: tempfile::TempDir,
}

impl NewLayer {
    /// Where the layer's files go.
    pub fn diff(&self) -> PathBuf {
        self.tmp.path().join("diff")
    }
}

/// The chain ID of `diff_id` on top of the chain `parent`.
fn chain_of(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => Digest::of(format!("{p} {diff_id}").as_bytes()),
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Give the owner write permission on every directory below `p` so it can be removed.
pub(crate) fn make_writable(p: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(md) = fs::symlink_metadata(p) {
            if md.is_dir() {
                let _ = fs::set_permissions(p, fs::Permissions::from_mode(md.permissions().mode() | 0o700));
                if let Ok(rd) = fs::read_dir(p) {
                    for e in rd.flatten() {
                        make_writable(&e.path());
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = p;
}
