//! The build context: the directory `skiff build` reads, less what `.dockerignore` leaves out,
//! and the files a `COPY`/`ADD` source names in it (globs as Go's `filepath.Match`).

use super::ignore::{glob_match, IgnoreMatcher};
use crate::unionfs::{Kind as UnionKind, UnionFs};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One file, directory or symlink in the context.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Slash-separated, relative to the context root.
    pub rel: String,
    pub path: PathBuf,
    pub kind: EntryKind,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
}

/// The context directory, walked once.
#[derive(Debug)]
pub struct Context {
    pub root: PathBuf,
    /// Every entry not excluded, in path order.
    pub entries: BTreeMap<String, Entry>,
    /// The root itself (what `COPY . /dst` names).
    root_entry: Entry,
}

impl Context {
    /// Walk `root`, honouring its `.dockerignore`.
    pub fn open(root: &Path) -> anyhow::Result<Context> {
        let ignore = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => IgnoreMatcher::parse(&text).map_err(|e| anyhow::anyhow!("error reading .dockerignore: {e}"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreMatcher::default(),
            Err(e) => anyhow::bail!("error reading .dockerignore: {e}"),
        };
        let mut entries = BTreeMap::new();
        walk(root, "", &ignore, &mut entries)?;
        let root_entry = Entry { rel: String::new(), path: root.to_path_buf(), kind: EntryKind::Dir, size: 0 };
        Ok(Context { root: root.to_path_buf(), entries, root_entry })
    }

    /// The files of an image, through its union view (for `COPY --from=`): each entry's
    /// path is the host file in whichever layer provides it.
    pub fn from_view(view: &UnionFs) -> anyhow::Result<Context> {
        let mut entries = BTreeMap::new();
        let mut stack = vec![String::new()];
        while let Some(dir) = stack.pop() {
            for d in view.read_dir(if dir.is_empty() { "/" } else { &dir })? {
                let vpath = format!("{dir}/{}", d.name);
                let r = view.resolve(&vpath, false)?;
                let kind = match d.kind {
                    UnionKind::Dir => EntryKind::Dir,
                    UnionKind::Symlink => EntryKind::Symlink,
                    UnionKind::File => EntryKind::File,
                    UnionKind::Other => continue,
                };
                let size =
                    if kind == EntryKind::File { fs::metadata(&r.host_path).map(|m| m.len()).unwrap_or(0) } else { 0 };
                let rel = vpath.trim_start_matches('/').to_string();
                if kind == EntryKind::Dir {
                    stack.push(vpath.clone());
                }
                entries.insert(rel.clone(), Entry { rel, path: r.host_path, kind, size });
            }
        }
        let root_entry =
            Entry { rel: String::new(), path: view.resolve("/", true)?.host_path, kind: EntryKind::Dir, size: 0 };
        Ok(Context { root: PathBuf::from("/"), entries, root_entry })
    }

    /// What Docker prints as the context size: the tar stream it would send (a 512-byte
    /// header per entry, contents padded to 512, two zero blocks at the end).
    pub fn tar_size(&self) -> u64 {
        let body: u64 = self.entries.values().map(|e| 512 + e.size.div_ceil(512) * 512).sum();
        body + 1024
    }

    /// The entries a source names: a path, or a glob matched against every path. A
    /// directory stands for itself (the caller copies its contents).
    pub fn resolve(&self, src: &str) -> anyhow::Result<Vec<&Entry>> {
        let clean = clean(src);
        if clean.is_empty() {
            return Ok(vec![&self.root_entry]);
        }
        if has_glob(&clean) {
            let hits: Vec<&Entry> = self.entries.values().filter(|e| glob_match(&clean, &e.rel)).collect();
            // A match inside a matched directory is copied with it.
            let dirs: Vec<&str> = hits.iter().filter(|e| e.kind == EntryKind::Dir).map(|e| e.rel.as_str()).collect();
            let hits: Vec<&Entry> =
                hits.into_iter().filter(|e| !dirs.iter().any(|d| e.rel.starts_with(&format!("{d}/")))).collect();
            if hits.is_empty() {
                anyhow::bail!("no source files were specified");
            }
            return Ok(hits);
        }
        match self.entries.get(&clean) {
            Some(e) => Ok(vec![e]),
            None => anyhow::bail!(
                "file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
            ),
        }
    }

    /// Everything below directory `rel` ("" is the root), in path order.
    pub fn below<'a>(&'a self, rel: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.values().filter(move |e| rel.is_empty() || e.rel.starts_with(&format!("{rel}/")))
    }
}

fn walk(dir: &Path, rel: &str, ignore: &IgnoreMatcher, out: &mut BTreeMap<String, Entry>) -> anyhow::Result<()> {
    let mut names: Vec<_> =
        fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?.collect::<Result<_, _>>()?;
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let meta = fs::symlink_metadata(e.path())?;
        let kind = if meta.is_dir() {
            EntryKind::Dir
        } else if meta.file_type().is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::File
        };
        if kind == EntryKind::Dir {
            if !ignore.dir_may_contain_included(&r) {
                continue;
            }
            if !ignore.is_excluded(&r) {
                out.insert(r.clone(), Entry { rel: r.clone(), path: e.path(), kind, size: 0 });
            }
            walk(&e.path(), &r, ignore, out)?;
        } else if !ignore.is_excluded(&r) {
            let size = if kind == EntryKind::File { meta.len() } else { 0 };
            out.insert(r.clone(), Entry { rel: r, path: e.path(), kind, size });
        }
    }
    Ok(())
}

/// Go's `path.Clean` of a context-relative source, without leading `/` or `./`; `.` → "".
pub fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}
