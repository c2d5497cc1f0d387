//! Virtual path helpers: splitting guest paths, canonical strings, synthetic inode numbers.

/// Name prefix of an OCI whiteout file.
pub(crate) const WH_PREFIX: &str = ".wh.";
/// OCI opaque-directory marker.
pub(crate) const OPAQUE: &str = ".wh..wh..opq";
/// Names with this prefix are skiff's own bookkeeping (opaque marker, copy-up temp files).
pub(crate) const META_PREFIX: &str = ".wh..wh.";
/// Symlinks followed in one resolution before ELOOP (as Linux).
pub(crate) const MAX_LINKS: usize = 40;

/// A guest path split into components.
pub(crate) struct Parsed {
    /// Components without "" and "." (".." is kept: it is resolved over the virtual tree).
    pub comps: Vec<String>,
    pub absolute: bool,
    /// The path ends in "/", "/." or "/..": the last component must be a directory.
    pub trailing_dir: bool,
    /// The last raw component is "." or ".." (so the path has no final name to create/remove).
    pub ends_dot: bool,
}

pub(crate) fn parse(path: &str) -> Parsed {
    let last = path.split('/').rev().find(|c| !c.is_empty()).unwrap_or("");
    let ends_dot = last == "." || last == "..";
    let trailing_dir = path.ends_with('/') || ends_dot;
    let comps = path.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect();
    Parsed { comps, absolute: path.starts_with('/'), trailing_dir, ends_dot }
}

/// "/a/b" for ["a", "b"], "/" for [].
pub(crate) fn canonical(comps: &[String]) -> String {
    if comps.is_empty() {
        return "/".to_string();
    }
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(c);
    }
    s
}

/// `base` + `name` as a virtual path string (for messages and child inode numbers).
pub(crate) fn child_path(base: &[String], name: &str) -> String {
    let mut s = canonical(base);
    if s.len() > 1 {
        s.push('/');
    }
    s.push_str(name);
    s
}

/// Synthetic inode number of a virtual path: FNV-1a, stable across runs and layers.
pub fn ino_of(vpath: &str) -> u64 {
    fnv(FNV_START, vpath.as_bytes()).max(1)
}

const FNV_START: u64 = 0xcbf29ce484222325;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// [`ino_of`] of the canonical path of `comps`, without building it.
pub(crate) fn ino_of_comps(comps: &[String]) -> u64 {
    if comps.is_empty() {
        return fnv(FNV_START, b"/").max(1);
    }
    comps.iter().fold(FNV_START, |h, c| fnv(fnv(h, b"/"), c.as_bytes())).max(1)
}

/// The inode numbers of the entries of directory `comps`: [`ino_of`] their paths, sharing the
/// work of the directory's own path.
pub(crate) struct ChildInos(u64);

impl ChildInos {
    pub fn of(comps: &[String]) -> Self {
        ChildInos(comps.iter().fold(FNV_START, |h, c| fnv(fnv(h, b"/"), c.as_bytes())))
    }

    pub fn ino(&self, name: &str) -> u64 {
        fnv(fnv(self.0, b"/"), name.as_bytes()).max(1)
    }
}

/// Joins a guest path to a base directory's canonical virtual path ("/" restarts at the root).
pub fn join(base: &str, path: &str) -> String {
    if path.starts_with('/') || base.is_empty() || base == "/" {
        return format!("/{}", path.trim_start_matches('/'));
    }
    format!("{}/{}", base.trim_end_matches('/'), path)
}
