//! The userspace union filesystem: read-only image layers + a writable upper dir (+ bind
//! mounts) presented as one virtual tree, with OCI whiteouts, copy-up and `docker diff`.
//!
//! Every path is a *virtual* container path, resolved here one component at a time
//! (`..` clamped at the container root, symlinks followed inside the view); only resolved
//! layer-relative paths reach the host, through one `cap_std::fs::Dir` per layer, which refuses
//! escapes as a second defence. Only the read-only layers are cached (`cache.rs`: each layer
//! directory is read once); the upper dir and mounts are asked every time, so every process of
//! a container, and `exec`, see every write at once.

mod access;
mod cache;
mod diff;
mod error;
pub mod index;
mod lookup;
mod mutate;
mod path;
mod portable;
#[cfg(test)]
mod tests;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use cap_std::fs::Dir;

pub use diff::{diff, Change};
pub use error::{code_of, Code, FsError};
pub use lookup::DirList;
pub use path::{ino_of, join};

use error::{ctx, err};
use lookup::{DirRoots, Node, Root, S_IFDIR, S_IFLNK, S_IFREG};
use path::{canonical, parse, OPAQUE};

/// The kind of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// Who asks, for the permission checks a non-root process gets (uid 0 passes them all,
/// except execute, which needs some x bit). Set per thread: every guest process runs on its
/// own thread over the container's one view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

thread_local! {
    static ACCESS: std::cell::RefCell<Option<Access>> = const { std::cell::RefCell::new(None) };
}

/// Make the calling thread's file operations those of `who` (`None`: skiff itself, no checks).
pub fn set_access(who: Option<Access>) {
    ACCESS.with(|a| *a.borrow_mut() = who.filter(|w| w.uid != 0));
}

/// The calling thread's identity, if it is a non-root guest process.
pub(crate) fn current_access() -> Option<Access> {
    ACCESS.with(|a| a.borrow().clone())
}

/// Which directory provides an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Upper,
    /// Index into `lowers` as given to [`UnionFs::new`] (0 = top).
    Lower(usize),
    /// Index into the mounts given to [`UnionFs::with_mounts`].
    Mount(usize),
}

/// What `stat` reports for a virtual path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    /// Full `st_mode`, type bits included.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Synthetic, stable per virtual path ([`ino_of`]).
    pub ino: u64,
    pub layer: Layer,
}

/// Where a virtual path leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Canonical virtual path ("/usr/bin/sh"), symlinks resolved as asked.
    pub path: String,
    pub layer: Layer,
    /// The host file or directory (empty for a directory that only leads to a mount).
    pub host_path: PathBuf,
    pub kind: Kind,
}

/// One entry of a merged directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: Kind,
    pub ino: u64,
    pub layer: Layer,
}

/// A bind mount: `source` (host dir or file) replaces the container path `target`.
#[derive(Clone, Debug)]
pub struct Mount {
    /// Absolute container path.
    pub target: String,
    pub source: PathBuf,
    pub readonly: bool,
}

/// How to open a file (as `std::fs::OpenOptions`; `follow` = follow a final symlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOpts {
    pub read: bool,
    pub write: bool,
    pub append: bool,
    pub create: bool,
    pub create_new: bool,
    pub truncate: bool,
    pub follow: bool,
}

impl Default for OpenOpts {
    fn default() -> Self {
        OpenOpts::read()
    }
}

impl OpenOpts {
    /// Read only.
    pub fn read() -> Self {
        OpenOpts {
            read: true,
            write: false,
            append: false,
            create: false,
            create_new: false,
            truncate: false,
            follow: true,
        }
    }

    /// Write: create + truncate (`>`).
    pub fn write() -> Self {
        OpenOpts { read: false, write: true, create: true, truncate: true, ..OpenOpts::read() }
    }

    /// Append: create + append (`>>`).
    pub fn append() -> Self {
        OpenOpts { read: false, write: true, append: true, create: true, ..OpenOpts::read() }
    }

    /// Anything that modifies the file, so needs it in a writable layer.
    fn writes(&self) -> bool {
        self.write || self.append || self.truncate || self.create || self.create_new
    }
}

/// The result of [`UnionFs::open_ex`]: a host file, or a directory (which is not opened).
#[derive(Debug)]
pub enum Opened {
    File(std::fs::File, Resolved),
    Dir(Resolved),
}

/// A new access/modification time.
#[derive(Clone, Copy, Debug)]
pub enum SetTime {
    Now,
    At(SystemTime),
}

/// The union view of one container. `Send + Sync`; share it as `Arc<UnionFs>`.
pub struct UnionFs {
    /// roots[0] = upper, roots[1..=n] = lowers (top first), then mounts.
    roots: Vec<Root>,
    /// The roots merged at "/" (upper and lowers down to an opaque root).
    root_dirs: DirRoots,
    /// Mount targets and their roots, in the order given.
    mounts: Vec<(Vec<String>, usize)>,
    /// Serialises mutations, so two processes never copy up the same file at once.
    write_lock: Mutex<()>,
}

fn open_root(path: &std::path::Path) -> io::Result<Dir> {
    Dir::open_ambient_dir(path, cap_std::ambient_authority()).map_err(|e| ctx(e, &path.display().to_string()))
}

impl UnionFs {
    /// A view of `lowers` (top first, never modified) under the writable `upper` dir.
    /// The writable layer's host directory.
    pub fn upper_host(&self) -> PathBuf {
        self.roots[0].host.clone()
    }

    pub fn new(lowers: Vec<PathBuf>, upper: PathBuf) -> io::Result<Self> {
        let mut roots = vec![Root {
            dir: open_root(&upper)?,
            portable: portable::root_is_portable(&upper, true),
            host: upper,
            layer: Layer::Upper,
            prefix: vec![],
            file_name: None,
            readonly: false,
            cache: None,
        }];
        for (i, lower) in lowers.into_iter().enumerate() {
            let portable = portable::root_is_portable(&lower, false);
            // The index knows host kinds and modes only: a portable layer's are its metadata.
            let cache = if portable { None } else { Some(cache::LayerCache::new(&lower)) };
            roots.push(Root {
                dir: open_root(&lower)?,
                portable,
                host: lower,
                layer: Layer::Lower(i),
                prefix: vec![],
                file_name: None,
                readonly: true,
                cache,
            });
        }
        let mut root_dirs = vec![];
        for (i, root) in roots.iter().enumerate() {
            root_dirs.push(i);
            if root.exists(std::path::Path::new(OPAQUE)) {
                break;
            }
        }
        let root_dirs = DirRoots::from_roots(&root_dirs);
        Ok(UnionFs { roots, root_dirs, mounts: vec![], write_lock: Mutex::new(()) })
    }

    /// Adds bind mounts: each source replaces its target path; writes go to the source
    /// (EROFS if read-only) and are never recorded in the upper dir.
    pub fn with_mounts(mut self, mounts: Vec<Mount>) -> io::Result<Self> {
        for (i, m) in mounts.into_iter().enumerate() {
            let p = parse(&m.target);
            if p.comps.is_empty() || p.comps.iter().any(|c| c == "..") {
                return Err(err(Code::Inval, &m.target, "mount target must be an absolute path below /"));
            }
            let md = std::fs::metadata(&m.source).map_err(|e| ctx(e, &m.source.display().to_string()))?;
            let (dir, file_name) = if md.is_dir() {
                (open_root(&m.source)?, None)
            } else {
                let parent = m.source.parent().filter(|p| !p.as_os_str().is_empty());
                let name = m.source.file_name().and_then(|n| n.to_str());
                match (parent, name) {
                    (Some(parent), Some(name)) => (open_root(parent)?, Some(name.to_string())),
                    _ => return Err(err(Code::Inval, &m.target, "mount source has no file name")),
                }
            };
            self.mounts.push((p.comps.clone(), self.roots.len()));
            self.roots.push(Root {
                dir,
                host: m.source,
                layer: Layer::Mount(i),
                prefix: p.comps,
                file_name,
                readonly: m.readonly,
                portable: false,
                cache: None,
            });
        }
        Ok(self)
    }

    /// The whole content of a file (symlinks followed).
    pub fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let mut buf = vec![];
        self.open(path, &OpenOpts::read())?.read_to_end(&mut buf).map_err(|e| ctx(e, path))?;
        Ok(buf)
    }

    /// The first `n` bytes of a file (fewer if it is shorter): for `\0asm` / `#!` checks.
    pub fn read_head(&self, path: &str, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![];
        self.open(path, &OpenOpts::read())?.take(n as u64).read_to_end(&mut buf).map_err(|e| ctx(e, path))?;
        Ok(buf)
    }

    /// `stat` (`follow`) or `lstat`.
    pub fn metadata(&self, path: &str, follow: bool) -> io::Result<Meta> {
        Ok(self.meta_of(&self.walk_last(path, follow)?))
    }

    /// The canonical virtual path, the layer providing it and its host path.
    pub fn resolve(&self, path: &str, follow: bool) -> io::Result<Resolved> {
        Ok(self.resolved_of(&self.walk_last(path, follow)?))
    }

    /// Merged listing, sorted by name; whiteouts hidden; no "." / "..".
    pub fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        Ok(self.list_dir(path)?.to_vec())
    }

    /// [`UnionFs::read_dir`] without copying the names out of a layer's index, where one
    /// layer provides the whole directory (what a guest's `readdir` needs).
    pub fn list_dir(&self, path: &str) -> io::Result<DirList> {
        let dir = &self.walk_last(path, true)?;
        self.permit(dir, access::R)?;
        if dir.kind != Kind::Dir {
            return Err(err(Code::NotDir, &dir.vpath(), "not a directory"));
        }
        self.list_node(dir)
    }

    /// Reads a symlink's target as stored.
    pub fn read_link(&self, path: &str) -> io::Result<String> {
        let node = &self.walk_last(path, false)?;
        if node.kind != Kind::Symlink {
            return Err(err(Code::Inval, &node.vpath(), "not a symbolic link"));
        }
        self.read_link_node(node)
    }

    /// Opens a file; writing copies a lower file up first. A directory is EISDIR (use
    /// [`UnionFs::open_ex`] to tell directories apart).
    pub fn open(&self, path: &str, opts: &OpenOpts) -> io::Result<std::fs::File> {
        match self.open_ex(path, opts)? {
            Opened::File(f, _) => Ok(f),
            Opened::Dir(r) => Err(err(Code::IsDir, &r.path, "is a directory")),
        }
    }

    /// Convenience for the host: create or truncate `path` with `data`.
    pub fn write(&self, path: &str, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        self.open(path, &OpenOpts::write())?.write_all(data).map_err(|e| ctx(e, path))
    }

    fn meta_of(&self, node: &Node) -> Meta {
        let type_bits = match node.kind {
            Kind::Dir => S_IFDIR,
            Kind::Symlink => S_IFLNK,
            Kind::File => S_IFREG,
            Kind::Other => 0,
        };
        let mode = if node.stat.mode & 0o170000 == 0 { node.stat.mode | type_bits } else { node.stat.mode };
        Meta {
            kind: node.kind,
            mode,
            uid: node.stat.uid,
            gid: node.stat.gid,
            nlink: node.stat.nlink,
            size: node.stat.size,
            mtime: node.stat.mtime,
            mtime_nsec: node.stat.mtime_nsec,
            ino: path::ino_of_comps(&node.comps),
            layer: self.layer_of(node),
        }
    }

    fn resolved_of(&self, node: &Node) -> Resolved {
        let host_path = match node.root {
            Some(r) => self.roots[r].host_path(&node.comps),
            None => PathBuf::new(),
        };
        Resolved { path: canonical(&node.comps), layer: self.layer_of(node), host_path, kind: node.kind }
    }
}
