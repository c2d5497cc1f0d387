//! `docker diff` of a writable layer: what the upper dir adds (A), changes (C) and deletes (D)
//! relative to the lower layers.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::error::ctx;
use super::path::{child_path, META_PREFIX, OPAQUE, WH_PREFIX};
use super::UnionFs;

/// One line of `docker diff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Added(String),
    Changed(String),
    Deleted(String),
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Added(p) | Change::Changed(p) | Change::Deleted(p) => p,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added(p) => write!(f, "A {p}"),
            Change::Changed(p) => write!(f, "C {p}"),
            Change::Deleted(p) => write!(f, "D {p}"),
        }
    }
}

/// The changes `upper` makes over `lowers` (top first), sorted by path. An entry of upper
/// that also exists (visible) below is C — copied-up parent dirs included; a whiteout is D;
/// the rest is A. The content of an opaque dir is all A. Whiteout files are never listed.
pub fn diff(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<Change>> {
    let fs = UnionFs::new(lowers.to_vec(), upper.to_path_buf())?;
    let lower_roots: Vec<usize> = fs.root_dirs.roots().filter(|r| *r != 0).collect();
    let mut out = vec![];
    walk(&fs, &[], &lower_roots, &mut out)?;
    out.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(out)
}

/// Diffs upper's directory `comps`, whose lower counterpart is merged from `lower_roots`.
fn walk(fs: &UnionFs, comps: &[String], lower_roots: &[usize], out: &mut Vec<Change>) -> io::Result<()> {
    let upper = &fs.roots[0];
    let vdir = super::path::canonical(comps);
    let mut names = vec![];
    for entry in upper.dir.read_dir(upper.rel(comps)).map_err(|e| ctx(e, &vdir))? {
        let entry = entry.map_err(|e| ctx(e, &vdir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let md = std::fs::symlink_metadata(upper.host_path(comps).join(&name)).map_err(|e| ctx(e, &vdir))?;
        let whiteout = crate::hostfs::is_overlay_whiteout(&md);
        names.push((name, md.is_dir(), whiteout));
    }
    for (name, is_dir, overlay_whiteout) in names {
        if name.starts_with(META_PREFIX) {
            continue; // opaque marker, copy-up temp files
        }
        if let Some(hidden) = name.strip_prefix(WH_PREFIX) {
            out.push(Change::Deleted(child_path(comps, hidden)));
            continue;
        }
        if overlay_whiteout {
            out.push(Change::Deleted(child_path(comps, &name)));
            continue;
        }
        let mut child = comps.to_vec();
        child.push(name.clone());
        let below = fs.lookup_in(child.clone(), lower_roots)?;
        let vpath = child_path(comps, &name);
        out.push(if below.is_some() { Change::Changed(vpath) } else { Change::Added(vpath) });
        if is_dir {
            let opaque = upper.exists(&upper.rel(&child).join(OPAQUE))
                || crate::hostfs::is_overlay_opaque(&upper.host_path(&child));
            let roots = match below {
                Some(n) if !opaque => n.dirs.roots().collect(),
                _ => vec![],
            };
            walk(fs, &child, &roots, out)?;
        }
    }
    Ok(())
}
