//! The union view over portable trees ([`crate::hostfs::portable`]): layers and writable
//! layers whose symlinks, modes and owners are skiff's own metadata because the host cannot
//! keep them (Windows, or `SKIFF_NO_HOST_SYMLINKS=1`). A root is portable when it has the
//! marker ([`Root::portable`]); for any other root every function here is a no-op, so a Unix
//! host's view is what it was.
//!
//! Reading: [`stat`] is what a lookup finds (a symlink where the host has its placeholder
//! file; the recorded mode and owner), [`link`] a symlink's target, [`Listing`] the kinds of
//! a directory's entries. Writing (the writable layer): modes, owners and new symlinks go
//! into the metadata, and removing or renaming an entry takes its metadata along.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cap_std::fs::Metadata;

use super::error::ctx;
use super::lookup::{kind_of, stat_of, Root, Stat, S_IFDIR, S_IFLNK, S_IFREG};
use super::Kind;
use crate::hostfs::portable::{self as meta, DirMeta, Entry};

/// The name copy-up gives a file before renaming it into place.
const COPYUP_PREFIX: &str = ".wh..wh..copyup.";

/// Whether the tree at `host` is read and written in the portable form: it has the marker,
/// or it is a writable layer this process writes in that form.
pub(crate) fn root_is_portable(host: &Path, writable: bool) -> bool {
    if writable {
        meta::writes_portable(host)
    } else {
        meta::is_portable(host)
    }
}

/// Directory metadata of read-only layers, by host directory (layers never change).
fn lower_dirs() -> &'static Mutex<HashMap<PathBuf, Arc<DirMeta>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<DirMeta>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The metadata of directory `dir_rel` of `root` (cached for read-only layers).
fn dir_meta(root: &Root, dir_rel: &Path) -> Arc<DirMeta> {
    let host = root.host.join(dir_rel);
    if !root.readonly {
        return Arc::new(meta::read(&host).unwrap_or_default());
    }
    if let Some(m) = lower_dirs().lock().unwrap_or_else(|p| p.into_inner()).get(&host) {
        return m.clone();
    }
    let m = Arc::new(meta::read(&host).unwrap_or_default());
    let mut cache = lower_dirs().lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(host, m.clone());
    m
}

/// The entry of `rel` in `root`, if `root` is portable and has one.
fn entry(root: &Root, rel: &Path) -> Option<Entry> {
    if !root.portable {
        return None;
    }
    let name = rel.file_name()?.to_str()?;
    dir_meta(root, rel.parent().unwrap_or(Path::new(""))).get(name).cloned()
}

/// What a lookup finds at `rel` of `root`, whose host entry has metadata `md`.
pub(crate) fn stat(root: &Root, rel: &Path, md: &Metadata) -> (Kind, Stat) {
    let (kind, mut stat) = (kind_of(md.file_type()), stat_of(md));
    let Some(e) = entry(root, rel) else { return (kind, stat) };
    if e.link.is_some() && kind == Kind::File {
        stat.mode = S_IFLNK | 0o777;
        (stat.uid, stat.gid) = (e.uid, e.gid);
        return (Kind::Symlink, stat);
    }
    if let Some(mode) = e.mode {
        stat.mode = (stat.mode & 0o170000) | (mode & 0o7777);
        if stat.mode & 0o170000 == 0 {
            stat.mode |= if kind == Kind::Dir { S_IFDIR } else { S_IFREG };
        }
    }
    (stat.uid, stat.gid) = (e.uid, e.gid);
    (kind, stat)
}

/// The target of the symlink at `rel` of `root`, when the metadata keeps it.
pub(crate) fn link(root: &Root, rel: &Path) -> Option<String> {
    entry(root, rel)?.link
}

/// A directory's metadata, read once for a listing.
pub(crate) struct Listing(Option<Arc<DirMeta>>);

impl Listing {
    pub(crate) fn of(root: &Root, dir_rel: &Path) -> Listing {
        Listing(root.portable.then(|| dir_meta(root, dir_rel)))
    }

    /// The kind of entry `name`, found on the host as `kind`.
    pub(crate) fn kind(&self, name: &str, kind: Kind) -> Kind {
        match self.0.as_ref().and_then(|m| m.get(name)) {
            Some(e) if e.link.is_some() && kind == Kind::File => Kind::Symlink,
            _ => kind,
        }
    }
}

/// `rel`'s directory in the tree, the name its metadata knows it by (a copy-up's temporary
/// file is recorded under the name it is about to get), and whether that is the tree's top.
fn place(rel: &Path) -> (PathBuf, String, bool) {
    let dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_prefix(COPYUP_PREFIX).map(str::to_string).unwrap_or(name);
    let top = dir.as_os_str().is_empty();
    (dir, name, top)
}

/// Change the entry of `rel` in the writable `root` (marking the tree portable first).
fn change(root: &Root, rel: &Path, vpath: &str, f: impl FnOnce(Option<Entry>) -> Option<Entry>) -> io::Result<()> {
    meta::mark(&root.host).map_err(|e| ctx(e, vpath))?;
    let (dir, name, top) = place(rel);
    meta::update(&root.host.join(dir), &name, top, f).map_err(|e| ctx(e, vpath))
}

/// chmod in a portable tree: the mode a Unix host would keep (skiff's own rw, and x on
/// directories, always on), recorded.
pub(crate) fn set_mode(root: &Root, rel: &Path, mode: u32, is_dir: bool, vpath: &str) -> io::Result<()> {
    let keep = if is_dir { 0o700 } else { 0o600 };
    let mode = (mode & 0o7777) | keep;
    change(root, rel, vpath, |old| {
        let old = old.unwrap_or_default();
        meta::entry_for(mode, old.uid, old.gid, is_dir)
    })
}

/// chown in a portable tree (`None` keeps one).
pub(crate) fn set_owner(root: &Root, rel: &Path, uid: Option<u32>, gid: Option<u32>, vpath: &str) -> io::Result<()> {
    let is_dir = root.host.join(rel).is_dir();
    change(root, rel, vpath, |old| {
        let old = old.unwrap_or_default();
        let (uid, gid) = (uid.unwrap_or(old.uid), gid.unwrap_or(old.gid));
        if old.link.is_some() {
            return Some(Entry { uid, gid, ..old });
        }
        meta::entry_for(old.mode.unwrap_or(meta::default_mode(is_dir)), uid, gid, is_dir)
    })
}

/// A new symlink in a portable tree: a file holding the target, recorded as a link.
pub(crate) fn make_symlink(root: &Root, target: &str, rel: &Path, vpath: &str) -> io::Result<()> {
    root.dir.write(rel, target.as_bytes()).map_err(|e| ctx(e, vpath))?;
    change(root, rel, vpath, |_| Some(Entry { link: Some(target.to_string()), ..Default::default() }))
}

/// An entry of `root` is gone: so is its metadata.
pub(crate) fn forget(root: &Root, rel: &Path, vpath: &str) -> io::Result<()> {
    if !root.portable {
        return Ok(());
    }
    change(root, rel, vpath, |_| None)
}

/// An entry of `root` moved from `from` to `to` (replacing what was there): its metadata
/// goes with it. A moved directory takes its own metadata file along by itself.
pub(crate) fn moved(root: &Root, from: &Path, to: &Path, vpath: &str) -> io::Result<()> {
    if !root.portable {
        return Ok(());
    }
    let mut taken = None;
    change(root, from, vpath, |old| {
        taken = old;
        None
    })?;
    change(root, to, vpath, |_| taken)
}

/// `to` is a new hard link to `from` in `root`: the same file, so the same metadata.
pub(crate) fn linked(root: &Root, from: &Path, to: &Path, vpath: &str) -> io::Result<()> {
    if !root.portable {
        return Ok(());
    }
    let e = entry(root, from);
    change(root, to, vpath, |_| e)
}
