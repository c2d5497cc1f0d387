//! Portable file metadata: what a layer's files are (symlink targets, permission bits,
//! owners) kept by skiff itself where the host filesystem cannot keep it — on Windows, or on
//! any host with `SKIFF_NO_HOST_SYMLINKS=1` (so the Windows representation is tested on
//! Linux).
//!
//! * A symlink is a small regular file holding its target (as git does with
//!   `core.symlinks=false`) plus an entry `{"link": target}` in its directory's metadata.
//! * A file or directory whose mode or owner differs from the default (0644 files, 0755
//!   directories, 0:0) has an entry with its mode (octal) and owner.
//! * The metadata of a directory is the file [`FILE`] in it: one JSON object, name → entry,
//!   written atomically. Its name begins with `.wh..wh.`, the prefix the union view, `diff` and
//!   guests already keep for skiff's bookkeeping, so no guest sees it or can make one.
//! * A directory tree written this way (a layer's `diff/`, a container's `upper/`) has
//!   the file at its top even when that is empty: the marker that says "read me with my
//!   metadata". Whoever reads or changes that tree follows the marker, whatever this process's
//!   own mode, so a store written on Windows (or with the switch) reads the same from any
//!   process.
//!
//! The modes kept are those a Unix host running skiff as root would give the host files, so
//! the union view, `diff`, `commit` and `save` see the same bytes on every OS.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The metadata file of a directory.
pub const FILE: &str = ".wh..wh..meta.json";

/// What skiff knows about one name of a directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// A symlink, to this target (the host file holds the same bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Permission bits (07777), written in octal.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "octal")]
    pub mode: Option<u32>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uid: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gid: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

mod octal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match mode {
            Some(m) => s.serialize_str(&format!("{m:04o}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| u32::from_str_radix(&s, 8).map_err(serde::de::Error::custom)).transpose()
    }
}

/// The entries of one directory, by name.
pub type DirMeta = BTreeMap<String, Entry>;

/// Whether this process writes the portable form for new trees: always on Windows; on other
/// hosts when `SKIFF_NO_HOST_SYMLINKS=1`.
pub fn forced() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| cfg!(not(unix)) || std::env::var_os("SKIFF_NO_HOST_SYMLINKS").is_some_and(|v| v == "1"))
}

/// The default mode of a file (`dir`: of a directory) with no entry: what the host reports
/// on Windows, and what portable trees give their host files elsewhere.
pub fn default_mode(dir: bool) -> u32 {
    if dir {
        0o755
    } else {
        0o644
    }
}

/// Roots already asked about (a tree's marker is made once and stays).
fn roots() -> &'static Mutex<BTreeMap<PathBuf, bool>> {
    static ROOTS: OnceLock<Mutex<BTreeMap<PathBuf, bool>>> = OnceLock::new();
    ROOTS.get_or_init(Default::default)
}

/// Whether the tree at `root` is in the portable form (it has the marker).
pub fn is_portable(root: &Path) -> bool {
    if let Some(known) = roots().lock().unwrap_or_else(|p| p.into_inner()).get(root) {
        return *known;
    }
    let yes = root.join(FILE).is_file();
    roots().lock().unwrap_or_else(|p| p.into_inner()).insert(root.to_path_buf(), yes);
    yes
}

/// Whether changes to the tree at `root` are written in the portable form: it is one
/// already, or it is new and this process writes that form.
pub fn writes_portable(root: &Path) -> bool {
    is_portable(root) || forced()
}

/// Make `root` a portable tree (write its marker if it has none).
pub fn mark(root: &Path) -> io::Result<()> {
    if !root.join(FILE).is_file() {
        write(root, &DirMeta::new(), true)?;
    }
    roots().lock().unwrap_or_else(|p| p.into_inner()).insert(root.to_path_buf(), true);
    Ok(())
}

/// The metadata of directory `dir` (empty if it has none).
pub fn read(dir: &Path) -> io::Result<DirMeta> {
    match std::fs::read(dir.join(FILE)) {
        Ok(data) => serde_json::from_slice(&data)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", dir.join(FILE).display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DirMeta::new()),
        Err(e) => Err(e),
    }
}

/// Replace the metadata of `dir` atomically; an empty map removes the file unless `keep`
/// (a tree's top keeps it: it is the marker).
pub fn write(dir: &Path, meta: &DirMeta, keep: bool) -> io::Result<()> {
    let path = dir.join(FILE);
    if meta.is_empty() && !keep {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let data = serde_json::to_vec_pretty(meta).expect("metadata serialises");
    // Temp file + rename, the temp file under a name the view and `diff` never show.
    let mut tmp = tempfile::Builder::new().prefix(".wh..wh..tmp-").tempfile_in(dir)?;
    io::Write::write_all(&mut tmp, &data)?;
    crate::store::persist(tmp, &path)
}

/// Change the entry of `name` in `dir` (`None` removes it). `top`: `dir` is the tree's top
/// (its file stays, as the marker). Changes are serialised within this process; two
/// processes changing one directory's metadata at the same instant (a guest's `chmod` in the
/// supervisor and one in an `exec`) can lose one of the two changes, never tear the file.
pub fn update(
    dir: &Path,
    name: &str,
    top: bool,
    change: impl FnOnce(Option<Entry>) -> Option<Entry>,
) -> io::Result<()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let mut meta = read(dir)?;
    let before = meta.clone();
    match change(meta.remove(name)) {
        Some(e) if e != Entry::default() => {
            meta.insert(name.to_string(), e);
        }
        _ => {}
    }
    if meta == before && (top || !meta.is_empty()) && dir.join(FILE).exists() {
        return Ok(());
    }
    if meta.is_empty() && !top && !dir.join(FILE).exists() {
        return Ok(());
    }
    write(dir, &meta, top)
}

/// The entry for `mode`/owner of a non-symlink: `None` when they are the defaults.
pub fn entry_for(mode: u32, uid: u32, gid: u32, dir: bool) -> Option<Entry> {
    let mode = mode & 0o7777;
    (mode != default_mode(dir) || uid != 0 || gid != 0).then(|| Entry {
        link: None,
        mode: (mode != default_mode(dir)).then_some(mode),
        uid,
        gid,
    })
}

/// Make the symlink `link` → `target` as a portable tree keeps it: `link` becomes a
/// regular file holding the target, and its directory's metadata says what it is.
pub fn make_symlink(target: &str, link: &Path, top: bool) -> io::Result<()> {
    let (dir, name) = split(link)?;
    std::fs::write(link, target.as_bytes())?;
    update(dir, &name, top, |_| Some(Entry { link: Some(target.to_string()), ..Default::default() }))
}

/// `path`'s directory and name.
pub fn split(path: &Path) -> io::Result<(&Path, String)> {
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => Ok((d, n.to_string_lossy().into_owned())),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{}: no file name", path.display()))),
    }
}

/// What a host entry is, metadata applied: `(is symlink target, mode, uid, gid)` where
/// `host_mode`/`host_owner` stand when there is no entry.
pub fn apply(entry: Option<&Entry>, host_mode: u32, host_owner: (u32, u32)) -> (Option<String>, u32, u32, u32) {
    match entry {
        Some(e) if e.link.is_some() => (e.link.clone(), 0o777, e.uid, e.gid),
        Some(e) => (None, e.mode.unwrap_or(host_mode), e.uid, e.gid),
        None => (None, host_mode, host_owner.0, host_owner.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_in_octal() {
        let d = tempfile::tempdir().unwrap();
        mark(d.path()).unwrap();
        assert!(is_portable(d.path()));
        make_symlink("box", &d.path().join("ls"), true).unwrap();
        update(d.path(), "sh", true, |_| entry_for(0o4755, 0, 0, false)).unwrap();
        update(d.path(), "plain", true, |_| entry_for(0o644, 0, 0, false)).unwrap();
        let text = std::fs::read_to_string(d.path().join(FILE)).unwrap();
        assert!(text.contains("\"mode\": \"4755\""), "{text}");
        let m = read(d.path()).unwrap();
        assert_eq!(m.len(), 2, "defaults take no entry");
        assert_eq!(m["ls"].link.as_deref(), Some("box"));
        assert_eq!(std::fs::read(d.path().join("ls")).unwrap(), b"box");
        update(d.path(), "ls", true, |_| None).unwrap();
        update(d.path(), "sh", true, |_| None).unwrap();
        assert!(d.path().join(FILE).exists(), "the top keeps its marker");
        let sub = d.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        update(&sub, "x", false, |_| entry_for(0o600, 5, 5, false)).unwrap();
        update(&sub, "x", false, |_| None).unwrap();
        assert!(!sub.join(FILE).exists(), "an empty directory's file goes");
    }
}
