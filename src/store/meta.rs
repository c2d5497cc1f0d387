//! What skiff keeps about an image beside the OCI layout, as Docker's image store does:
//! which image it was made from (`meta/parents/<image hex>` holds the parent's ID, and
//! `meta/children/<parent hex>/<image hex>` indexes it the other way; `commit` and each build
//! step set it), and for a build step the record its cache is looked up by
//! (`meta/build/<image hex>.json`). Parents decide which untagged images are intermediate
//! (hidden by `images` without `-a`, kept by prune) and let `rmi` remove untagged parents
//! after their last child.

use super::{atomic_write, Store};
use crate::error::{IoContext, Result};
use crate::spec::Digest;
use std::fs;
use std::path::PathBuf;

impl Store {
    fn parents_dir(&self) -> PathBuf {
        self.root.join("meta/parents")
    }

    fn children_dir(&self, parent: &Digest) -> PathBuf {
        self.root.join("meta/children").join(parent.hex())
    }

    /// Record that `child` was made from `parent`. Caller holds the lock.
    pub fn set_parent(&self, child: &Digest, parent: &Digest) -> Result<()> {
        let dir = self.parents_dir();
        fs::create_dir_all(&dir).at(&dir)?;
        let kids = self.children_dir(parent);
        fs::create_dir_all(&kids).at(&kids)?;
        // The index first: a child listed whose parent file is missing is ignored.
        atomic_write(&kids.join(child.hex()), b"")?;
        super::crash::point("set-parent");
        atomic_write(&dir.join(child.hex()), parent.to_string().as_bytes())
    }

    /// The image `id` was made from, if this store recorded one.
    pub fn parent(&self, id: &Digest) -> Option<Digest> {
        let text = fs::read_to_string(self.parents_dir().join(id.hex())).ok()?;
        text.trim().parse().ok()
    }

    /// Every recorded (child, parent) pair.
    pub fn parent_links(&self) -> Result<Vec<(Digest, Digest)>> {
        let dir = self.parents_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e).at(&dir),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.at(&dir)?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if let (Ok(child), Some(parent)) = (
                format!("sha256:{name}").parse::<Digest>(),
                fs::read_to_string(e.path()).ok().and_then(|t| t.trim().parse().ok()),
            ) {
                out.push((child, parent));
            }
        }
        Ok(out)
    }

    /// Images recorded as made from `id`.
    pub fn children(&self, id: &Digest) -> Result<Vec<Digest>> {
        let dir = self.children_dir(id);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e).at(&dir),
        };
        let mut out = Vec::new();
        for e in entries {
            let name = e.at(&dir)?.file_name().to_string_lossy().into_owned();
            if let Ok(child) = format!("sha256:{name}").parse::<Digest>() {
                if self.parent(&child).as_ref() == Some(id) {
                    out.push(child);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Save the build-cache record of image `id` (any JSON). Caller holds the lock.
    pub fn set_build_record(&self, id: &Digest, record: &[u8]) -> Result<()> {
        let dir = self.root.join("meta/build");
        fs::create_dir_all(&dir).at(&dir)?;
        atomic_write(&dir.join(format!("{}.json", id.hex())), record)
    }

    /// The build-cache record of image `id`, if a build step made it.
    pub fn build_record(&self, id: &Digest) -> Option<Vec<u8>> {
        fs::read(self.root.join("meta/build").join(format!("{}.json", id.hex()))).ok()
    }

    /// Forget what is kept about `id` (its image is being deleted). Caller holds the lock.
    pub(super) fn forget_image_meta(&self, id: &Digest) -> Result<()> {
        let mut files =
            vec![self.parents_dir().join(id.hex()), self.root.join("meta/build").join(format!("{}.json", id.hex()))];
        if let Some(parent) = self.parent(id) {
            files.insert(0, self.children_dir(&parent).join(id.hex()));
        }
        for p in files {
            match fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).at(&p),
                _ => {}
            }
        }
        self.forget_repo_digests(id)
    }
}
