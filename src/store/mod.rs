//! The state root: an OCI image layout (`oci/`), extracted layers by chain ID (`layers/`),
//! compiled modules (`modules/`), containers (`containers/`) and what skiff knows of images beyond OCI (`meta/`), written atomically under a lock.
//!
//! Contracts
//! * Every file is written to a temporary file in the same directory, then renamed into place:
//!   a reader (or a `kill -9`) never sees half a file.
//! * Writers that change what exists (import, tag, remove) hold the store lock
//!   ([`Store::lock`]); readers take no lock and rely on the renames.
//! * Putting a blob or a layer that already exists is a no-op: content is addressed by hash.

mod blobs;
mod distribution;
mod gc;
mod images;
mod layers;
mod meta;

pub use distribution::{DistributionSource, RepoDigests};
pub use gc::Deleted;
pub use images::{Image, ImageSummary};
pub(crate) use layers::make_writable;
pub use layers::{LayerInfo, LayerMeta};

use crate::error::{IoContext, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A handle on the state root.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Held while a writer changes the store; released on drop.
pub struct Lock {
    _file: fs::File,
}

impl Store {
    /// `$SKIFF_ROOT`, else `$XDG_DATA_HOME/skiff`, else the platform's data dir + `skiff`.
    pub fn default_root() -> PathBuf {
        if let Some(r) = std::env::var_os("SKIFF_ROOT").filter(|r| !r.is_empty()) {
            return PathBuf::from(r);
        }
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|r| !r.is_empty()) {
            return PathBuf::from(x).join("skiff");
        }
        #[cfg(windows)]
        if let Some(a) = std::env::var_os("LOCALAPPDATA") {
            return PathBuf::from(a).join("skiff");
        }
        #[cfg(target_os = "macos")]
        if let Some(h) = std::env::var_os("HOME") {
            return PathBuf::from(h).join("Library/Application Support/skiff");
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        home.join(".local/share/skiff")
    }

    /// Open (creating if needed) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        let store = Store { root };
        for d in ["oci/blobs/sha256", "layers", "modules", "containers", "tmp"] {
            let p = store.root.join(d);
            fs::create_dir_all(&p).at(&p)?;
        }
        let layout = store.root.join("oci/oci-layout");
        if !layout.exists() {
            atomic_write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A scratch directory inside the store (same filesystem, so renames are atomic).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Take the exclusive writer lock (blocks until free).
    pub fn lock(&self) -> Result<Lock> {
        let p = self.root.join("lock");
        let f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).at(&p)?;
        f.lock().at(&p)?;
        Ok(Lock { _file: f })
    }
}

/// Write `data` to `path` atomically: a temporary file in the same directory, renamed into
/// place. Atomic against a killed process (the guarantee skiff gives); not fsynced, so a power
/// cut may lose the newest writes — content blobs are verified by digest when read, and `run`
/// stays fast (an fsync costs milliseconds here).
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir).at(dir)?;
    tmp.write_all(data).at(tmp.path())?;
    tmp.persist(path).map_err(|e| crate::error::Error::io(path, e.error))?;
    Ok(())
}
