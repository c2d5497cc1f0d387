//! Lookup over the layer stack: one component at a time, whiteouts and opaque dirs honoured,
//! symlinks followed virtually, `..` clamped at the container root; merged directory listings.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use cap_std::fs::{Dir, Metadata};

use super::error::{ctx, err, Code};
use super::path::{canonical, child_path, ino_of, parse, MAX_LINKS, META_PREFIX, OPAQUE, WH_PREFIX};
use super::{DirEntry, Kind, Layer, UnionFs};

/// One host directory the view is made of: the upper dir, a lower layer, or a bind mount.
pub(crate) struct Root {
    pub dir: Dir,
    pub host: PathBuf,
    pub layer: Layer,
    /// Virtual path where this root is anchored ([] for layers, the target for mounts).
    pub prefix: Vec<String>,
    /// For a file bind mount: `dir` is the source's parent and this is the file's name.
    pub file_name: Option<String>,
    pub readonly: bool,
    /// What `stat` found in a read-only layer, by path: layers never change, and going to
    /// the host costs a dozen system calls per path (cap-std resolves it component by
    /// component), paid at every component of every lookup.
    pub lower_cache: Option<StatCache>,
    /// Symlinks, modes and owners are skiff's metadata here ([`super::portable`]).
    pub portable: bool,
}

/// How many paths a layer's stat cache holds before it starts over.
const STAT_CACHE_MAX: usize = 16 * 1024;

/// Cached `stat` results of one read-only layer (`None`: not there).
pub(crate) type StatCache = std::sync::Mutex<std::collections::HashMap<PathBuf, Option<Metadata>>>;

impl Root {
    /// Layers take part in the union (whiteouts, opaque dirs); mounts are plain host dirs.
    pub fn is_union(&self) -> bool {
        !matches!(self.layer, Layer::Mount(_))
    }

    /// The path inside this root of the virtual path `comps` (which lies under `prefix`).
    pub fn rel(&self, comps: &[String]) -> PathBuf {
        let mut p = PathBuf::new();
        if let Some(f) = &self.file_name {
            p.push(f);
        }
        for c in &comps[self.prefix.len().min(comps.len())..] {
            p.push(c);
        }
        if p.as_os_str().is_empty() {
            p.push(".");
        }
        p
    }

    /// The host path of the virtual path `comps` (a file mount's is its source).
    pub fn host_path(&self, comps: &[String]) -> PathBuf {
        let rel = self.rel(comps);
        if rel.as_os_str() == "." || self.file_name.is_some() {
            self.host.clone()
        } else {
            self.host.join(rel)
        }
    }

    /// lstat inside the root; a missing entry (or a non-directory parent) is `None`.
    pub fn stat(&self, rel: &Path) -> io::Result<Option<Metadata>> {
        let Some(cache) = &self.lower_cache else { return self.stat_host(rel) };
        if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(rel) {
            return Ok(hit.clone());
        }
        let found = self.stat_host(rel)?;
        let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.len() >= STAT_CACHE_MAX {
            c.clear(); // bounded: a guest probing many missing names must not grow it forever
        }
        c.insert(rel.to_path_buf(), found.clone());
        Ok(found)
    }

    fn stat_host(&self, rel: &Path) -> io::Result<Option<Metadata>> {
        match self.dir.symlink_metadata(rel) {
            Ok(md) => Ok(Some(md)),
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn exists(&self, rel: &Path) -> bool {
        matches!(self.stat(rel), Ok(Some(_)))
    }
}

/// Metadata of a node, taken from the layer that provides it.
#[derive(Clone, Debug)]
pub(crate) struct Stat {
    pub mode: u32,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: u32,
    pub nlink: u32,
    /// The host file's owner: the container's, where skiff can set host owners (as root on a
    /// Unix host); else 0:0.
    pub uid: u32,
    pub gid: u32,
}

pub(crate) const S_IFDIR: u32 = 0o040000;
pub(crate) const S_IFREG: u32 = 0o100000;
pub(crate) const S_IFLNK: u32 = 0o120000;

pub(crate) fn kind_of(ft: cap_std::fs::FileType) -> Kind {
    if ft.is_dir() {
        Kind::Dir
    } else if ft.is_symlink() {
        Kind::Symlink
    } else if ft.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

pub(crate) fn stat_of(md: &Metadata) -> Stat {
    let (mtime, mtime_nsec) = md
        .modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
        .map(|d| (d.as_secs() as i64, d.subsec_nanos()))
        .unwrap_or((0, 0));
    Stat {
        mode: mode_of(md),
        size: md.len(),
        mtime,
        mtime_nsec,
        nlink: cap_fs_ext::MetadataExt::nlink(md).try_into().unwrap_or(u32::MAX),
        uid: owner_of(md).0,
        gid: owner_of(md).1,
    }
}

#[cfg(unix)]
fn owner_of(md: &Metadata) -> (u32, u32) {
    (cap_std::fs::MetadataExt::uid(md), cap_std::fs::MetadataExt::gid(md))
}

#[cfg(not(unix))]
fn owner_of(_: &Metadata) -> (u32, u32) {
    (0, 0)
}

#[cfg(unix)]
fn mode_of(md: &Metadata) -> u32 {
    cap_std::fs::MetadataExt::mode(md)
}

/// Without unix modes, report what a typical image has.
#[cfg(not(unix))]
fn mode_of(md: &Metadata) -> u32 {
    match kind_of(md.file_type()) {
        Kind::Dir => S_IFDIR | 0o755,
        Kind::Symlink => S_IFLNK | 0o777,
        _ => S_IFREG | 0o644,
    }
}

/// An entry of the virtual tree, as found by a lookup.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub comps: Vec<String>,
    /// The root providing the entry (its top-most copy); `None` for a directory that exists
    /// only because a mount lies below it.
    pub root: Option<usize>,
    pub kind: Kind,
    pub stat: Stat,
    /// For directories: the roots whose copy of this directory is merged, top first.
    pub dir_roots: Vec<usize>,
}

impl Node {
    pub fn vpath(&self) -> String {
        canonical(&self.comps)
    }

    pub fn name(&self) -> &str {
        self.comps.last().map(String::as_str).unwrap_or("/")
    }
}

impl UnionFs {
    /// The container root: the upper dir merged with the lowers down to an opaque root.
    pub(crate) fn root_node(&self) -> io::Result<Node> {
        let md = self.roots[0].dir.dir_metadata().map_err(|e| ctx(e, "/"))?;
        Ok(Node {
            comps: vec![],
            root: Some(0),
            kind: Kind::Dir,
            stat: stat_of(&md),
            dir_roots: self.root_dirs.clone(),
        })
    }

    /// Looks `name` up in directory `parent` (no symlink following).
    pub(crate) fn child(&self, parent: &Node, name: &str) -> io::Result<Option<Node>> {
        let mut comps = parent.comps.clone();
        comps.push(name.to_string());
        if let Some(r) = self.mount_at(&comps) {
            return self.mount_node(comps, r).map(Some);
        }
        let in_union = parent.dir_roots.first().is_none_or(|r| self.roots[*r].is_union());
        if in_union && name.starts_with(WH_PREFIX) {
            return Ok(None); // whiteouts and markers are never visible
        }
        let found = self.lookup_in(comps.clone(), &parent.dir_roots)?;
        if found.is_none() && self.is_mount_ancestor(&comps) {
            return Ok(Some(synthetic_dir(comps)));
        }
        Ok(found)
    }

    /// Looks the last component of `comps` up in `roots` (the parent's merged roots, top first).
    pub(crate) fn lookup_in(&self, comps: Vec<String>, roots: &[usize]) -> io::Result<Option<Node>> {
        let whiteout = format!("{WH_PREFIX}{}", comps.last().map(String::as_str).unwrap_or(""));
        let mut node: Option<Node> = None;
        for (k, &r) in roots.iter().enumerate() {
            let root = &self.roots[r];
            let rel = root.rel(&comps);
            if let Some(md) = root.stat(&rel).map_err(|e| ctx(e, &canonical(&comps)))? {
                let is_dir = md.is_dir();
                match &mut node {
                    None => {
                        let (kind, stat) = super::portable::stat(root, &rel, &md);
                        node = Some(Node {
                            comps: comps.clone(),
                            root: Some(r),
                            kind,
                            stat,
                            dir_roots: if is_dir { vec![r] } else { vec![] },
                        })
                    }
                    // Below a directory only directories merge; anything else is shadowed.
                    Some(n) if is_dir => n.dir_roots.push(r),
                    Some(_) => break,
                }
                if !is_dir || (root.is_union() && root.exists(&rel.join(OPAQUE))) {
                    break;
                }
            }
            let last = k + 1 == roots.len();
            // A whiteout hides the name in the layers below its own (OCI).
            if !last && root.is_union() && root.exists(&rel.with_file_name(&whiteout)) {
                break;
            }
        }
        Ok(node)
    }

    fn mount_node(&self, comps: Vec<String>, r: usize) -> io::Result<Node> {
        let root = &self.roots[r];
        let vpath = canonical(&comps);
        let md = root
            .stat(&root.rel(&comps))
            .map_err(|e| ctx(e, &vpath))?
            .ok_or_else(|| err(Code::NoEnt, &vpath, "mount source is missing"))?;
        let is_dir = md.is_dir();
        Ok(Node {
            comps,
            root: Some(r),
            kind: kind_of(md.file_type()),
            stat: stat_of(&md),
            dir_roots: if is_dir { vec![r] } else { vec![] },
        })
    }

    /// Resolves `path` (absolute, or relative to "/") to the chain of nodes root..target.
    /// `follow`: follow a final symlink (intermediate ones are always followed).
    pub(crate) fn walk(&self, path: &str, follow: bool) -> io::Result<Vec<Node>> {
        let p = parse(path);
        let chain = self.walk_comps(p.comps, follow || p.trailing_dir)?;
        let last = chain.last().expect("chain has the root");
        if p.trailing_dir && last.kind != Kind::Dir {
            return Err(err(Code::NotDir, &last.vpath(), "not a directory"));
        }
        Ok(chain)
    }

    fn walk_comps(&self, comps: Vec<String>, follow: bool) -> io::Result<Vec<Node>> {
        let mut chain = vec![self.root_node()?];
        let mut pending: VecDeque<String> = comps.into();
        let mut links = 0;
        // A non-root guest needs search (x) permission on every directory it crosses.
        let who = super::current_access();
        while let Some(c) = pending.pop_front() {
            let cur = chain.last().expect("chain has the root");
            if cur.kind != Kind::Dir {
                return Err(err(Code::NotDir, &cur.vpath(), "not a directory"));
            }
            if let Some(w) = &who {
                if !super::access::allowed(w, cur.stat.uid, cur.stat.gid, cur.stat.mode, super::access::X) {
                    return Err(err(Code::Acces, &child_path(&cur.comps, &c), "permission denied"));
                }
            }
            if c == ".." {
                // Clamped at the container root, as in a chroot.
                if chain.len() > 1 {
                    chain.pop();
                }
                continue;
            }
            let child = self
                .child(cur, &c)?
                .ok_or_else(|| err(Code::NoEnt, &child_path(&cur.comps, &c), "no such file or directory"))?;
            if child.kind == Kind::Symlink && (!pending.is_empty() || follow) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(err(Code::Loop, &child.vpath(), "too many levels of symbolic links"));
                }
                let target = self.read_link_node(&child)?;
                if target.is_empty() {
                    return Err(err(Code::NoEnt, &child.vpath(), "empty symlink"));
                }
                let t = parse(&target);
                if t.absolute {
                    chain.truncate(1); // absolute targets restart at the *container* root
                }
                for c in t.comps.into_iter().rev() {
                    pending.push_front(c);
                }
                continue;
            }
            chain.push(child);
        }
        Ok(chain)
    }

    /// Resolves the parent directory of `path` (following symlinks) and returns its chain and
    /// the final name; the name is `None` when the path ends in ".", ".." or is "/".
    pub(crate) fn walk_parent(&self, path: &str) -> io::Result<(Vec<Node>, Option<String>)> {
        let mut p = parse(path);
        let name = if p.ends_dot { None } else { p.comps.pop() };
        if p.ends_dot {
            return Ok((self.walk(path, true)?, None));
        }
        let chain = self.walk_comps(p.comps, true)?;
        let last = chain.last().expect("chain has the root");
        if last.kind != Kind::Dir {
            return Err(err(Code::NotDir, &last.vpath(), "not a directory"));
        }
        Ok((chain, name))
    }

    pub(crate) fn read_link_node(&self, node: &Node) -> io::Result<String> {
        let root = self.root_of(node)?;
        if let Some(target) = super::portable::link(root, &root.rel(&node.comps)) {
            return Ok(target);
        }
        let target = root.dir.read_link_contents(root.rel(&node.comps)).map_err(|e| ctx(e, &node.vpath()))?;
        Ok(target.to_string_lossy().into_owned())
    }

    pub(crate) fn root_of(&self, node: &Node) -> io::Result<&Root> {
        node.root.map(|r| &self.roots[r]).ok_or_else(|| err(Code::Inval, &node.vpath(), "no backing directory"))
    }

    /// Merged listing of directory `dir`: top layer wins, whiteouts and opaque dirs honoured,
    /// mount points added; sorted by name, without "." and "..".
    pub(crate) fn list(&self, dir: &Node) -> io::Result<Vec<DirEntry>> {
        let vpath = dir.vpath();
        let mut out: BTreeMap<String, DirEntry> = BTreeMap::new();
        let mut hidden: HashSet<String> = HashSet::new();
        for &r in &dir.dir_roots {
            let root = &self.roots[r];
            let mut whiteouts = vec![];
            let portable = super::portable::Listing::of(root, &root.rel(&dir.comps));
            for entry in root.dir.read_dir(root.rel(&dir.comps)).map_err(|e| ctx(e, &vpath))? {
                let entry = entry.map_err(|e| ctx(e, &vpath))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue; // not representable in WASI (UTF-8 only)
                };
                if root.is_union() && name.starts_with(WH_PREFIX) {
                    if !name.starts_with(META_PREFIX) {
                        whiteouts.push(name[WH_PREFIX.len()..].to_string());
                    }
                    continue;
                }
                if hidden.contains(&name) || out.contains_key(&name) {
                    continue;
                }
                let kind = portable.kind(&name, kind_of(entry.file_type().map_err(|e| ctx(e, &vpath))?));
                let ino = ino_of(&child_path(&dir.comps, &name));
                out.insert(name.clone(), DirEntry { name, kind, ino, layer: root.layer });
            }
            hidden.extend(whiteouts); // they hide names of the layers below only
        }
        self.add_mount_entries(dir, &mut out)?;
        Ok(out.into_values().collect())
    }

    /// Mount points directly below `dir` (and directories leading to deeper ones) are listed.
    fn add_mount_entries(&self, dir: &Node, out: &mut BTreeMap<String, DirEntry>) -> io::Result<()> {
        for (comps, r) in &self.mounts {
            if comps.len() <= dir.comps.len() || !comps.starts_with(&dir.comps) {
                continue;
            }
            let name = comps[dir.comps.len()].clone();
            let ino = ino_of(&child_path(&dir.comps, &name));
            let layer = self.roots[*r].layer;
            if comps.len() == dir.comps.len() + 1 {
                let kind = self.mount_node(comps.clone(), *r)?.kind;
                out.insert(name.clone(), DirEntry { name, kind, ino, layer });
            } else if !out.contains_key(&name) {
                out.insert(name.clone(), DirEntry { name, kind: Kind::Dir, ino, layer });
            }
        }
        Ok(())
    }

    /// The mount root whose target is exactly `comps` (the last one listed wins).
    pub(crate) fn mount_at(&self, comps: &[String]) -> Option<usize> {
        self.mounts.iter().rev().find(|(c, _)| c.as_slice() == comps).map(|(_, r)| *r)
    }

    fn is_mount_ancestor(&self, comps: &[String]) -> bool {
        self.mounts.iter().any(|(c, _)| c.len() > comps.len() && c.starts_with(comps))
    }

    /// The layer reported for a node (a synthetic mount-parent reports its mount).
    pub(crate) fn layer_of(&self, node: &Node) -> Layer {
        match node.root {
            Some(r) => self.roots[r].layer,
            None => self
                .mounts
                .iter()
                .find(|(c, _)| c.starts_with(&node.comps))
                .map(|(_, r)| self.roots[*r].layer)
                .unwrap_or(Layer::Upper),
        }
    }
}

/// A directory that exists only because a mount target lies below it.
fn synthetic_dir(comps: Vec<String>) -> Node {
    Node {
        comps,
        root: None,
        kind: Kind::Dir,
        stat: Stat { mode: S_IFDIR | 0o755, size: 0, mtime: 0, mtime_nsec: 0, nlink: 2, uid: 0, gid: 0 },
        dir_roots: vec![],
    }
}
