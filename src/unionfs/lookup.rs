//! Lookup over the layer stack: one component at a time, whiteouts and opaque dirs honoured,
//! symlinks followed virtually, `..` clamped at the container root; merged directory listings.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use cap_std::fs::{Dir, Metadata};

use super::cache::{DirIndex, DirRef, LayerCache};
use super::error::{ctx, err, Code};
use super::path::{canonical, child_path, ino_of, parse, ChildInos, MAX_LINKS, META_PREFIX, OPAQUE, WH_PREFIX};
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
    /// Symlinks, modes and owners are skiff's metadata here ([`super::portable`]).
    pub portable: bool,
    /// The directory indexes of a read-only layer (`None` for the upper dir, mounts and
    /// portable layers): layers never change, and going to the host costs system calls at
    /// every component of every lookup.
    pub cache: Option<LayerCache>,
}

/// What one root says about a name in a directory ([`Root::probe`]).
struct Probe {
    /// The entry's kind, and its metadata when asked for.
    found: Option<(Kind, Option<Stat>)>,
    /// The entry is a directory marked opaque (union roots only).
    opaque: bool,
    /// Where the entry is in a cached layer's index, when it is a directory.
    index: Option<DirRef>,
    /// Whether a whiteout here hides the name below, when that was free to learn (a cached
    /// layer); `None`: ask [`Root::whiteout`].
    hides: Option<bool>,
}

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

    /// lstat inside the root; a missing entry (or a non-directory parent) is `None`. Always
    /// asks the host (a single `fstatat` for a name directly in the root).
    pub fn stat(&self, rel: &Path) -> io::Result<Option<Metadata>> {
        match self.dir.symlink_metadata(rel) {
            Ok(md) => Ok(Some(md)),
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn exists(&self, rel: &Path) -> bool {
        matches!(self.stat(rel), Ok(Some(_)))
    }

    /// The last component of `comps` in this root: found (with its metadata if `want_stat`),
    /// and whether it is an opaque directory or hidden below by a whiteout (asked only if
    /// `want_opaque`: a root below could have it). `parent`: where the parent directory is in
    /// this root's index, if the caller knows.
    fn probe(
        &self,
        comps: &[String],
        parent: Option<&DirRef>,
        want_stat: bool,
        want_opaque: bool,
    ) -> io::Result<Probe> {
        let missing = Probe { found: None, opaque: false, index: None, hides: None };
        let name = comps.last().map(String::as_str).unwrap_or("");
        if let (Some(cache), Some((_, parent_comps))) = (&self.cache, comps.split_last()) {
            let dir = match parent {
                Some(r) => cache.resolve(&self.dir, r)?,
                None => cache.dir(&self.dir, parent_comps)?,
            };
            let Some(dir) = dir else { return Ok(Probe { hides: Some(false), ..missing }) };
            // Whiteouts, like opaque markers, only matter when a root below could have the name.
            let hides = Some(want_opaque && cache.hides(&self.dir, &dir, name)?);
            let missing = Probe { hides, ..missing };
            let Some(entry) = cache.lookup(&self.dir, &dir, name)? else { return Ok(missing) };
            let kind = entry.kind.unwrap_or(Kind::Other);
            let stat = if want_stat { Some(cache.stat(&self.dir, &dir, &entry)?) } else { None };
            if kind != Kind::Dir {
                return Ok(Probe { found: Some((kind, stat)), ..missing });
            }
            let index = LayerCache::dir_ref(&dir, &entry);
            let opaque = match want_opaque {
                true => match cache.resolve(&self.dir, &index)? {
                    Some(d) => cache.opaque(&self.dir, &d)?,
                    None => false,
                },
                false => false,
            };
            return Ok(Probe { found: Some((kind, stat)), opaque, index: Some(index), ..missing });
        }
        let rel = self.rel(comps);
        let Some(md) = self.stat(&rel)? else { return Ok(missing) };
        let opaque = want_opaque && md.is_dir() && self.is_union() && self.stat(&rel.join(OPAQUE))?.is_some();
        let (kind, stat) = super::portable::stat(self, &rel, &md);
        Ok(Probe { found: Some((kind, Some(stat))), opaque, ..missing })
    }

    /// Does a whiteout in this root hide the last component of `comps` in the roots below?
    fn whiteout(&self, comps: &[String]) -> io::Result<bool> {
        if !self.is_union() {
            return Ok(false);
        }
        let Some((name, parent)) = comps.split_last() else { return Ok(false) };
        if let Some(cache) = &self.cache {
            return match cache.dir(&self.dir, parent)? {
                Some(d) => cache.hides(&self.dir, &d, name),
                None => Ok(false),
            };
        }
        Ok(self.stat(&self.rel(comps).with_file_name(format!("{WH_PREFIX}{name}")))?.is_some())
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
    /// The virtual path. Left empty while a walk is under way (the walk keeps one path for
    /// all its nodes) and filled in for the nodes it returns.
    pub comps: Vec<String>,
    /// The root providing the entry (its top-most copy); `None` for a directory that exists
    /// only because a mount lies below it.
    pub root: Option<usize>,
    pub kind: Kind,
    pub stat: Stat,
    /// For directories: the roots whose copy of this directory is merged, top first.
    pub dirs: DirRoots,
}

/// The roots whose copy of a directory is merged, top first, each with where the directory is
/// in that root's index (a cached layer, when the lookup came that way; else `None`: ask the
/// cache by path). Most directories come from one root: that case allocates nothing.
#[derive(Clone, Debug, Default)]
pub(crate) enum DirRoots {
    #[default]
    None,
    One(usize, Option<DirRef>),
    Many(Arc<[(usize, Option<DirRef>)]>),
}

impl DirRoots {
    pub fn from_roots(roots: &[usize]) -> Self {
        match roots {
            [] => DirRoots::None,
            [r] => DirRoots::One(*r, None),
            _ => DirRoots::Many(roots.iter().map(|r| (*r, None)).collect()),
        }
    }

    fn push(&mut self, r: usize, index: Option<DirRef>) {
        *self = match std::mem::take(self) {
            DirRoots::None => DirRoots::One(r, index),
            DirRoots::One(a, ai) => DirRoots::Many(Arc::from([(a, ai), (r, index)])),
            DirRoots::Many(v) => DirRoots::Many(v.iter().cloned().chain([(r, index)]).collect()),
        }
    }

    /// Each root with the directory's place in its index, if known.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Option<&DirRef>)> {
        let (one, many) = match self {
            DirRoots::None => (None, &[][..]),
            DirRoots::One(r, i) => (Some((*r, i.as_ref())), &[][..]),
            DirRoots::Many(v) => (None, &v[..]),
        };
        one.into_iter().chain(many.iter().map(|(r, i)| (*r, i.as_ref())))
    }

    /// The roots, top first.
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        self.iter().map(|(r, _)| r)
    }

    pub fn len(&self) -> usize {
        match self {
            DirRoots::None => 0,
            DirRoots::One(..) => 1,
            DirRoots::Many(v) => v.len(),
        }
    }
}

impl Node {
    pub fn vpath(&self) -> String {
        canonical(&self.comps)
    }

    pub fn name(&self) -> &str {
        self.comps.last().map(String::as_str).unwrap_or("/")
    }
}

/// The chain of a walk: one path and the node of each of its prefixes (`nodes[0]` is the
/// root, `nodes[i]` is `path[..i]`; the nodes' own `comps` are left empty).
struct Walked {
    path: Vec<String>,
    nodes: Vec<Node>,
}

impl Walked {
    fn last(&self) -> &Node {
        self.nodes.last().expect("chain has the root")
    }

    /// The nodes with their paths filled in.
    fn into_chain(self) -> Vec<Node> {
        let path = self.path;
        self.nodes
            .into_iter()
            .enumerate()
            .map(|(i, mut n)| {
                n.comps = path[..i].to_vec();
                n
            })
            .collect()
    }

    /// The last node, with its path.
    fn into_last(mut self) -> Node {
        let mut n = self.nodes.pop().expect("chain has the root");
        self.path.truncate(self.nodes.len());
        n.comps = self.path;
        n
    }
}

impl UnionFs {
    /// The container root, the upper dir merged with the lowers down to an opaque root, without
    /// its metadata (a placeholder): a lookup below it needs none, and reading it is a system
    /// call per lookup. [`UnionFs::root_stat`] fills it in.
    fn root_node_unstatted(&self) -> Node {
        Node {
            comps: vec![],
            root: Some(0),
            kind: Kind::Dir,
            stat: Stat { mode: S_IFDIR | 0o755, size: 0, mtime: 0, mtime_nsec: 0, nlink: 2, uid: 0, gid: 0 },
            dirs: self.root_dirs.clone(),
        }
    }

    fn root_stat(&self) -> io::Result<Stat> {
        Ok(stat_of(&self.roots[0].dir.dir_metadata().map_err(|e| ctx(e, "/"))?))
    }

    /// Looks `name` up in directory `parent` (no symlink following).
    pub(crate) fn child(&self, parent: &Node, name: &str) -> io::Result<Option<Node>> {
        let mut comps = parent.comps.clone();
        comps.push(name.to_string());
        let found = self.child_at(parent, &comps)?;
        Ok(found.map(|mut n| {
            n.comps = comps;
            n
        }))
    }

    /// Looks the last component of `comps` up in its parent directory `parent` (whose own
    /// `comps` may be empty: a walk's nodes). The node returned has no `comps`.
    fn child_at(&self, parent: &Node, comps: &[String]) -> io::Result<Option<Node>> {
        let name = comps.last().map(String::as_str).unwrap_or("");
        if let Some(r) = self.mount_at(comps) {
            return self.mount_node(comps, r).map(Some);
        }
        let in_union = parent.dirs.roots().next().is_none_or(|r| self.roots[r].is_union());
        if in_union && name.starts_with(WH_PREFIX) {
            return Ok(None); // whiteouts and markers are never visible
        }
        let found = self.find(comps, &parent.dirs)?;
        if found.is_none() && self.is_mount_ancestor(comps) {
            return Ok(Some(synthetic_dir()));
        }
        Ok(found)
    }

    /// Looks the last component of `comps` up in `roots` (the parent's merged roots, top first).
    pub(crate) fn lookup_in(&self, comps: Vec<String>, roots: &[usize]) -> io::Result<Option<Node>> {
        let found = self.find(&comps, &DirRoots::from_roots(roots))?;
        Ok(found.map(|mut n| {
            n.comps = comps;
            n
        }))
    }

    /// [`UnionFs::lookup_in`] in the parent directory's `roots`. The node returned has no
    /// `comps`.
    fn find(&self, comps: &[String], roots: &DirRoots) -> io::Result<Option<Node>> {
        let fail = |e| ctx(e, &canonical(comps));
        let mut top: Option<Node> = None;
        let count = roots.len();
        for (k, (r, parent)) in roots.iter().enumerate() {
            let root = &self.roots[r];
            let last = k + 1 == count;
            // Opaque or not only matters when a root below could add to the directory.
            let probe = root.probe(comps, parent, top.is_none(), !last).map_err(fail)?;
            if let Some((kind, stat)) = probe.found {
                let is_dir = kind == Kind::Dir;
                match &mut top {
                    None => {
                        let stat = stat.ok_or_else(|| err(Code::Io, &canonical(comps), "no metadata"))?;
                        let dirs = if is_dir { DirRoots::One(r, probe.index) } else { DirRoots::None };
                        top = Some(Node { comps: vec![], root: Some(r), kind, stat, dirs });
                    }
                    // Below a directory only directories merge; anything else is shadowed.
                    Some(_) if !is_dir => break,
                    Some(n) => n.dirs.push(r, probe.index),
                }
                if !is_dir || probe.opaque {
                    break;
                }
            }
            // A whiteout hides the name in the layers below its own (OCI).
            if !last && probe.hides.map_or_else(|| root.whiteout(comps), Ok).map_err(fail)? {
                break;
            }
        }
        Ok(top)
    }

    fn mount_node(&self, comps: &[String], r: usize) -> io::Result<Node> {
        let root = &self.roots[r];
        let vpath = canonical(comps);
        let md = root
            .stat(&root.rel(comps))
            .map_err(|e| ctx(e, &vpath))?
            .ok_or_else(|| err(Code::NoEnt, &vpath, "mount source is missing"))?;
        let is_dir = md.is_dir();
        Ok(Node {
            comps: vec![],
            root: Some(r),
            kind: kind_of(md.file_type()),
            stat: stat_of(&md),
            dirs: if is_dir { DirRoots::One(r, None) } else { DirRoots::None },
        })
    }

    /// Resolves `path` (absolute, or relative to "/") to the chain of nodes root..target.
    /// `follow`: follow a final symlink (intermediate ones are always followed).
    pub(crate) fn walk(&self, path: &str, follow: bool) -> io::Result<Vec<Node>> {
        let mut walked = self.walk_path(path, follow)?;
        walked.nodes[0].stat = self.root_stat()?; // callers that change things may need it
        Ok(walked.into_chain())
    }

    /// [`UnionFs::walk`]'s last node only: what reading needs.
    pub(crate) fn walk_last(&self, path: &str, follow: bool) -> io::Result<Node> {
        let mut walked = self.walk_path(path, follow)?;
        if walked.nodes.len() == 1 {
            walked.nodes[0].stat = self.root_stat()?;
        }
        Ok(walked.into_last())
    }

    fn walk_path(&self, path: &str, follow: bool) -> io::Result<Walked> {
        let p = parse(path);
        let walked = self.walk_comps(p.comps, follow || p.trailing_dir)?;
        if p.trailing_dir && walked.last().kind != Kind::Dir {
            return Err(err(Code::NotDir, &canonical(&walked.path), "not a directory"));
        }
        Ok(walked)
    }

    fn walk_comps(&self, comps: Vec<String>, follow: bool) -> io::Result<Walked> {
        // A non-root guest needs search (x) permission on every directory it crosses.
        let who = super::current_access();
        let mut root = self.root_node_unstatted();
        if who.is_some() {
            root.stat = self.root_stat()?;
        }
        let mut w = Walked { path: Vec::with_capacity(comps.len()), nodes: Vec::with_capacity(comps.len() + 1) };
        w.nodes.push(root);
        let mut pending: VecDeque<String> = comps.into();
        let mut links = 0;
        while let Some(c) = pending.pop_front() {
            let cur = w.last();
            if cur.kind != Kind::Dir {
                return Err(err(Code::NotDir, &canonical(&w.path), "not a directory"));
            }
            if let Some(who) = &who {
                if !super::access::allowed(who, cur.stat.uid, cur.stat.gid, cur.stat.mode, super::access::X) {
                    return Err(err(Code::Acces, &child_path(&w.path, &c), "permission denied"));
                }
            }
            if c == ".." {
                // Clamped at the container root, as in a chroot.
                if w.nodes.len() > 1 {
                    w.nodes.pop();
                    w.path.pop();
                }
                continue;
            }
            w.path.push(c);
            let Some(child) = self.child_at(w.last(), &w.path)? else {
                return Err(err(Code::NoEnt, &canonical(&w.path), "no such file or directory"));
            };
            if child.kind == Kind::Symlink && (!pending.is_empty() || follow) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(err(Code::Loop, &canonical(&w.path), "too many levels of symbolic links"));
                }
                let target = self.read_link_at(&child, &w.path)?;
                if target.is_empty() {
                    return Err(err(Code::NoEnt, &canonical(&w.path), "empty symlink"));
                }
                w.path.pop();
                let t = parse(&target);
                if t.absolute {
                    // Absolute targets restart at the *container* root.
                    w.nodes.truncate(1);
                    w.path.clear();
                }
                for c in t.comps.into_iter().rev() {
                    pending.push_front(c);
                }
                continue;
            }
            w.nodes.push(child);
        }
        Ok(w)
    }

    /// Resolves the parent directory of `path` (following symlinks) and returns its chain and
    /// the final name; the name is `None` when the path ends in ".", ".." or is "/".
    pub(crate) fn walk_parent(&self, path: &str) -> io::Result<(Vec<Node>, Option<String>)> {
        let mut p = parse(path);
        let name = if p.ends_dot { None } else { p.comps.pop() };
        if p.ends_dot {
            return Ok((self.walk(path, true)?, None));
        }
        let mut walked = self.walk_comps(p.comps, true)?;
        if walked.last().kind != Kind::Dir {
            return Err(err(Code::NotDir, &canonical(&walked.path), "not a directory"));
        }
        walked.nodes[0].stat = self.root_stat()?;
        Ok((walked.into_chain(), name))
    }

    pub(crate) fn read_link_node(&self, node: &Node) -> io::Result<String> {
        self.read_link_at(node, &node.comps)
    }

    /// The target of symlink `node`, whose path is `comps`.
    fn read_link_at(&self, node: &Node, comps: &[String]) -> io::Result<String> {
        let root = node
            .root
            .map(|r| &self.roots[r])
            .ok_or_else(|| err(Code::Inval, &canonical(comps), "no backing directory"))?;
        if let Some(target) = super::portable::link(root, &root.rel(comps)) {
            return Ok(target);
        }
        let target = root.dir.read_link_contents(root.rel(comps)).map_err(|e| ctx(e, &canonical(comps)))?;
        Ok(target.to_string_lossy().into_owned())
    }

    pub(crate) fn root_of(&self, node: &Node) -> io::Result<&Root> {
        node.root.map(|r| &self.roots[r]).ok_or_else(|| err(Code::Inval, &node.vpath(), "no backing directory"))
    }

    /// Merged listing of directory `dir`: top layer wins, whiteouts and opaque dirs honoured,
    /// mount points added; sorted by name, without "." and "..".
    pub(crate) fn list(&self, dir: &Node) -> io::Result<Vec<DirEntry>> {
        Ok(self.list_node(dir)?.to_vec())
    }

    /// [`UnionFs::list`], with the names left in the layer's index when one cached layer
    /// provides the whole directory.
    pub(crate) fn list_node(&self, dir: &Node) -> io::Result<DirList> {
        let vpath = dir.vpath();
        let inos = ChildInos::of(&dir.comps);
        if let DirRoots::One(r, place) = &dir.dirs {
            // One layer and nothing mounted below: its listing as it is (sorted already).
            let root = &self.roots[*r];
            if let (Some(cache), false) = (&root.cache, self.is_mount_ancestor(&dir.comps)) {
                let index = match place {
                    Some(p) => cache.resolve(&root.dir, p),
                    None => cache.dir(&root.dir, &dir.comps),
                };
                let Some(index) = index.map_err(|e| ctx(e, &vpath))? else { return Ok(DirList::merged(vec![])) };
                cache.listing(&root.dir, &index).map_err(|e| ctx(e, &vpath))?;
                return Ok(DirList::layer(index, inos, root.layer));
            }
        }
        let mut out: BTreeMap<String, DirEntry> = BTreeMap::new();
        let mut hidden: HashSet<String> = HashSet::new();
        for (r, place) in dir.dirs.iter() {
            let root = &self.roots[r];
            if let Some(cache) = &root.cache {
                let index = match place {
                    Some(r) => cache.resolve(&root.dir, r),
                    None => cache.dir(&root.dir, &dir.comps),
                };
                let index = index.map_err(|e| ctx(e, &vpath))?;
                let Some(index) = index else { continue };
                let listing = cache.listing(&root.dir, &index).map_err(|e| ctx(e, &vpath))?;
                for (name, kind) in listing.iter() {
                    if hidden.contains(name) || out.contains_key(name) {
                        continue;
                    }
                    let ino = inos.ino(name);
                    let name = name.to_string();
                    out.insert(name.clone(), DirEntry { name, kind, ino, layer: root.layer });
                }
                hidden.extend(listing.whiteouts.iter().map(|w| w.to_string()));
                continue;
            }
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
                let ino = inos.ino(&name);
                out.insert(name.clone(), DirEntry { name, kind, ino, layer: root.layer });
            }
            hidden.extend(whiteouts); // they hide names of the layers below only
        }
        self.add_mount_entries(dir, &mut out)?;
        Ok(DirList::merged(out.into_values().collect()))
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
                let kind = self.mount_node(comps, *r)?.kind;
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

/// A merged directory listing ([`UnionFs::list_dir`]), sorted by name, without "." and "..".
pub struct DirList(Listed);

enum Listed {
    /// One cached layer provides the whole directory: its index (listing read), as it is.
    Layer {
        index: Arc<DirIndex>,
        inos: ChildInos,
        layer: Layer,
    },
    Merged(Vec<DirEntry>),
}

impl DirList {
    fn layer(index: Arc<DirIndex>, inos: ChildInos, layer: Layer) -> Self {
        DirList(Listed::Layer { index, inos, layer })
    }

    fn merged(entries: Vec<DirEntry>) -> Self {
        DirList(Listed::Merged(entries))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Listed::Layer { index, .. } => index.listed().map_or(0, |l| l.len()),
            Listed::Merged(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th entry's name, kind and inode number.
    pub fn get(&self, i: usize) -> Option<(&str, Kind, u64)> {
        match &self.0 {
            Listed::Layer { index, inos, .. } => {
                index.listed()?.get(i).map(|(name, kind)| (name, kind, inos.ino(name)))
            }
            Listed::Merged(v) => v.get(i).map(|e| (e.name.as_str(), e.kind, e.ino)),
        }
    }

    /// The entries, as [`UnionFs::read_dir`] gives them.
    pub fn to_vec(self) -> Vec<DirEntry> {
        match self.0 {
            Listed::Layer { index, inos, layer } => index.listed().map_or_else(Vec::new, |l| {
                l.iter()
                    .map(|(name, kind)| DirEntry { name: name.to_string(), kind, ino: inos.ino(name), layer })
                    .collect()
            }),
            Listed::Merged(v) => v,
        }
    }
}

/// A directory that exists only because a mount target lies below it (no `comps` yet).
fn synthetic_dir() -> Node {
    Node {
        comps: vec![],
        root: None,
        kind: Kind::Dir,
        stat: Stat { mode: S_IFDIR | 0o755, size: 0, mtime: 0, mtime_nsec: 0, nlink: 2, uid: 0, gid: 0 },
        dirs: DirRoots::None,
    }
}
