//! The state root: an OCI image layout (`oci/`), extracted layers by chain ID (`layers/`),
//! compiled modules (`modules/`), containers (`containers/`) and what skiff knows of images beyond OCI (`meta/`), written atomically under a lock.
//!
//! Contracts
//! * Every file is written to a temporary file in the same directory, then renamed into place:
//!   a reader (or a `kill -9`) never sees half a file.
//! * Writers that change what exists (import, tag, remove) hold the store lock
//!   ([`Store::lock`]); readers take no lock and rely on the renames.
//! * Putting a blob or a layer that already exists is a no-op: content is addressed by hash.
//! * Scratch space is per process: `tmp/<pid>-<start time>/` ([`Store::scratch_dir`]). A process
//!   removes its own when its command ends; whoever next takes the lock removes those of
//!   processes that are gone (killed, crashed), so an interrupted command leaks nothing for
//!   long.

mod blobs;
pub mod check;
pub mod crash;
mod distribution;
mod gc;
mod images;
mod layers;
mod meta;

pub use distribution::{DistributionSource, RepoDigests};
pub use gc::Deleted;
pub use images::{Image, ImageSummary};
pub(crate) use layers::make_writable;
pub use layers::{LayerInfo, LayerMeta, NewLayer, Unpacked};

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

    /// A temporary directory shared by every process (`tmp/`): for what must outlive the
    /// process that made it (a pull's partial download, resumed by the next pull). Nothing
    /// removes its entries for their owners; `system check` reports old ones.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// This process's scratch directory inside the store (same filesystem, so renames are
    /// atomic): `tmp/<pid>-<start time>/`, created on first use. What a killed process leaves
    /// there is removed by the next process that takes the lock ([`Store::reclaim_tmp`]).
    /// Once the process is ending ([`remove_own_tmp`]) it is not made again: a thread still
    /// at work then fails to write there instead of leaving a directory nobody removes.
    pub fn scratch_dir(&self) -> PathBuf {
        let dir = self.root.join("tmp").join(process_tag());
        if !dir.is_dir() {
            // Checked, made and recorded under the lock `remove_own_tmp` takes.
            let mut scratch = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
            if !scratch.closed && fs::create_dir_all(&dir).is_ok() && !scratch.made.contains(&dir) {
                scratch.made.push(dir.clone());
            }
        }
        dir
    }

    /// Take the exclusive writer lock (blocks until free). The holder also clears the
    /// scratch directories of processes that died.
    pub fn lock(&self) -> Result<Lock> {
        let lock = self.lock_quiet()?;
        self.reclaim_tmp();
        Ok(lock)
    }

    /// Run `f`, a change to the store made under the lock the caller holds, all or nothing: if
    /// it fails, the image index is put back as it was and whatever `f` stored that nothing
    /// references any more (blobs, extracted layers) is removed, so a refused `load`,
    /// `import` or `commit` keeps no image and leaks no disk.
    pub fn all_or_nothing<T, E>(&self, f: impl FnOnce() -> std::result::Result<T, E>) -> std::result::Result<T, E> {
        let index = self.root.join("oci/index.json");
        let before = fs::read(&index).ok();
        let out = f();
        if out.is_err() {
            let _ = match &before {
                Some(data) => atomic_write(&index, data),
                None => fs::remove_file(&index).or(Ok(())),
            };
            self.drop_leases();
            let _ = self.collect_garbage();
        }
        out
    }

    /// Forget this process's leases (what it stored is about to be referenced, or abandoned).
    pub fn drop_leases(&self) {
        let _ = fs::remove_file(self.scratch_dir().join("leases"));
    }

    /// The writer lock, without the housekeeping (`system check` reports what it finds).
    pub fn lock_quiet(&self) -> Result<Lock> {
        let p = self.root.join("lock");
        let f = fs::OpenOptions::new().create(true).truncate(false).write(true).open(&p).at(&p)?;
        f.lock().at(&p)?;
        Ok(Lock { _file: f })
    }

    /// Remove the scratch directories (`tmp/<pid>-<start>/`) of processes that are gone
    /// (killed, crashed). Returns the entries removed. Errors are ignored: this is
    /// housekeeping. Other entries of `tmp/` are shared ([`Store::tmp_dir`]) and left alone.
    pub fn reclaim_tmp(&self) -> Vec<PathBuf> {
        let dir = self.root.join("tmp");
        let mut removed = Vec::new();
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !is_scratch_name(&name) || tmp_owner_alive(&name) {
                continue;
            }
            let p = e.path();
            make_writable(&p);
            if fs::remove_dir_all(&p).is_ok() {
                removed.push(p);
            }
        }
        removed
    }
}

/// Scratch directories this process made (removed by [`remove_own_tmp`] when it is done),
/// and whether it is ending.
struct Scratch {
    made: Vec<PathBuf>,
    closed: bool,
}
static SCRATCH: std::sync::Mutex<Scratch> = std::sync::Mutex::new(Scratch { made: Vec::new(), closed: false });

/// Remove this process's scratch directories; none is made after it. Called once, as the
/// process ends (the CLI when a command ends, a signal's exit, the SIGPIPE death).
pub fn remove_own_tmp() {
    let made = {
        let mut scratch = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
        scratch.closed = true;
        std::mem::take(&mut scratch.made)
    };
    for dir in made {
        make_writable(&dir);
        let _ = fs::remove_dir_all(&dir);
    }
}

/// `<pid>-<start time>` of this process: a PID alone can be reused by another process.
fn process_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        format!("{pid}-{}", crate::hostproc::start_time(pid).unwrap_or(0))
    })
}

/// Whether `name` is a process's scratch directory (`<pid>-<start>`).
pub(crate) fn is_scratch_name(name: &str) -> bool {
    name.split_once('-').is_some_and(|(p, s)| {
        !p.is_empty() && !s.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && s.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Whether the scratch entry `name` (`<pid>-<start>`) belongs to a process still running.
pub(crate) fn tmp_owner_alive(name: &str) -> bool {
    let Some((pid, start)) = name.split_once('-') else { return false };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else { return false };
    if pid == std::process::id() {
        return name == process_tag();
    }
    if !crate::hostproc::alive(pid) {
        return false;
    }
    match crate::hostproc::start_time(pid) {
        Some(s) => s == start,
        None => true, // no /proc: trust the PID
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
    crash::point("atomic-write");
    persist(tmp, path).map_err(|e| crate::error::Error::io(path, e))
}

/// Rename `tmp` over `path`. Windows refuses to replace a file another process has open at
/// that instant (a supervisor just resumed by `unpause` looks at its record at once; a virus
/// scanner opens new files): the rename is tried again for up to a second.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let mut tmp = tmp;
        for _ in 0..100 {
            match tmp.persist(path) {
                Ok(_) => return Ok(()),
                Err(e) if e.error.kind() == std::io::ErrorKind::PermissionDenied => {
                    tmp = e.file;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(e.error),
            }
        }
        tmp.persist(path).map(|_| ()).map_err(|e| e.error)
    }
    #[cfg(not(windows))]
    {
        tmp.persist(path).map(|_| ()).map_err(|e| e.error)
    }
}
