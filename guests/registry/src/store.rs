//! Storage in the filesystem layout of distribution 2.8 (`registry/storage/paths.go`), so a
//! volume written by one registry is read by the next (and by the real one):
//!
//! ```text
//! <root>/docker/registry/v2/
//!   blobs/sha256/<2 hex>/<hex>/data                         blob bytes (layers, configs, manifests)
//!   repositories/<name>/
//!     _layers/sha256/<hex>/link                             "sha256:<hex>": the blob is in the repo
//!     _manifests/revisions/sha256/<hex>/link                a manifest of the repo
//!     _manifests/tags/<tag>/current/link                    what the tag points at
//!     _manifests/tags/<tag>/index/sha256/<hex>/link         every manifest the tag pointed at
//!     _uploads/<uuid>/data, startedat                       an upload in progress
//! ```
//!
//! Every file is written whole to a temporary name and renamed into place, so a reader never
//! sees half a file and a crash leaves the old content or the new.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::util;

pub struct Store {
    /// `<root>/docker/registry/v2`.
    pub base: PathBuf,
}

/// `sha256:<hex>`.
pub fn digest(hex: &str) -> String {
    format!("sha256:{hex}")
}

/// Write `data` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or(io::ErrorKind::InvalidInput)?;
    fs::create_dir_all(dir)?;
    let mut rnd = [0u8; 6];
    util::random(&mut rnd);
    let tmp = dir.join(format!(".tmp-{}", util::hex(&rnd)));
    let res = File::create(&tmp).and_then(|mut f| f.write_all(data)).and_then(|_| fs::rename(&tmp, path));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// Remove a directory tree; one that is already gone is fine.
fn remove_tree(p: &Path) -> io::Result<()> {
    match fs::remove_dir_all(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The names of the entries of `dir` that are directories (none when it is missing).
fn subdirs(dir: &Path) -> io::Result<Vec<String>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e),
    };
    let mut v = Vec::new();
    for e in rd {
        let e = e?;
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            if let Some(n) = e.file_name().to_str() {
                v.push(n.to_string());
            }
        }
    }
    Ok(v)
}

/// The order the real registry lists repositories in: by path, `/` before any character.
pub fn path_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| s.bytes().map(|c| if c == b'/' { 0 } else { c }).collect::<Vec<u8>>();
    key(a).cmp(&key(b))
}

impl Store {
    pub fn new(root: &str) -> Store {
        Store { base: Path::new(root).join("docker/registry/v2") }
    }

    pub fn blob_data(&self, hex: &str) -> PathBuf {
        self.base.join("blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    fn repo(&self, name: &str) -> PathBuf {
        self.base.join("repositories").join(name)
    }

    fn layer_link(&self, name: &str, hex: &str) -> PathBuf {
        self.repo(name).join("_layers/sha256").join(hex).join("link")
    }

    fn revision_dir(&self, name: &str, hex: &str) -> PathBuf {
        self.repo(name).join("_manifests/revisions/sha256").join(hex)
    }

    fn tags_dir(&self, name: &str) -> PathBuf {
        self.repo(name).join("_manifests/tags")
    }

    pub fn upload_dir(&self, name: &str, uuid: &str) -> PathBuf {
        self.repo(name).join("_uploads").join(uuid)
    }

    pub fn upload_data(&self, name: &str, uuid: &str) -> PathBuf {
        self.upload_dir(name, uuid).join("data")
    }

    /// The size of blob `hex` in the global blob store.
    pub fn blob_size(&self, hex: &str) -> Option<u64> {
        fs::metadata(self.blob_data(hex)).ok().filter(|m| m.is_file()).map(|m| m.len())
    }

    /// Whether the link file at `path` names `hex`.
    fn linked(path: &Path, hex: &str) -> bool {
        fs::read(path).is_ok_and(|b| b == digest(hex).as_bytes())
    }

    /// The size of blob `hex` when repository `name` has it.
    pub fn repo_blob(&self, name: &str, hex: &str) -> Option<u64> {
        if Self::linked(&self.layer_link(name, hex), hex) {
            self.blob_size(hex)
        } else {
            None
        }
    }

    /// Link blob `hex` into repository `name`.
    pub fn link_layer(&self, name: &str, hex: &str) -> io::Result<()> {
        let p = self.layer_link(name, hex);
        if Self::linked(&p, hex) {
            return Ok(());
        }
        write_atomic(&p, digest(hex).as_bytes())
    }

    /// Unlink blob `hex` from repository `name` (the blob itself stays until a garbage
    /// collection); false when it was not linked.
    pub fn unlink_layer(&self, name: &str, hex: &str) -> io::Result<bool> {
        let p = self.layer_link(name, hex);
        if !Self::linked(&p, hex) {
            return Ok(false);
        }
        remove_tree(p.parent().unwrap_or(&p))?;
        Ok(true)
    }

    /// Store `data` as a blob (when it is not there yet); returns its hex digest.
    pub fn put_blob(&self, data: &[u8]) -> io::Result<String> {
        let hex = util::sha256_hex(data);
        if self.blob_size(&hex) != Some(data.len() as u64) {
            write_atomic(&self.blob_data(&hex), data)?;
        }
        Ok(hex)
    }

    /// Start an upload: its directory, its `startedat` and an empty `data`, open for writing.
    pub fn new_upload(&self, name: &str, uuid: &str, started_ms: u64) -> io::Result<File> {
        let dir = self.upload_dir(name, uuid);
        fs::create_dir_all(&dir)?;
        write_atomic(&dir.join("startedat"), util::rfc3339(started_ms).as_bytes())?;
        File::create(dir.join("data"))
    }

    /// An upload's data, open for appending (an upload begun before a restart).
    pub fn reopen_upload(&self, name: &str, uuid: &str) -> io::Result<File> {
        OpenOptions::new().append(true).open(self.upload_data(name, uuid))
    }

    /// When an upload began (`startedat`), in ms since the epoch.
    pub fn upload_started(&self, name: &str, uuid: &str) -> Option<u64> {
        util::parse_rfc3339(fs::read_to_string(self.upload_dir(name, uuid).join("startedat")).ok()?.trim())
    }

    pub fn cancel_upload(&self, name: &str, uuid: &str) -> io::Result<()> {
        remove_tree(&self.upload_dir(name, uuid))
    }

    /// Finish an upload whose data has digest `hex`: the data moves into the blob store (a
    /// rename), the blob is linked into the repository, the upload directory goes.
    pub fn commit_upload(&self, name: &str, uuid: &str, hex: &str) -> io::Result<()> {
        let data = self.upload_data(name, uuid);
        if self.blob_size(hex).is_none() {
            let dst = self.blob_data(hex);
            fs::create_dir_all(dst.parent().ok_or(io::ErrorKind::InvalidInput)?)?;
            fs::rename(&data, &dst)?;
        }
        self.link_layer(name, hex)?;
        self.cancel_upload(name, uuid)
    }

    /// Every upload directory of every repository: (name, uuid).
    pub fn uploads(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for name in self.repositories_with("_uploads") {
            for uuid in subdirs(&self.repo(&name).join("_uploads")).unwrap_or_default() {
                v.push((name.clone(), uuid));
            }
        }
        v
    }

    /// Store manifest `data` in repository `name` (as a blob, and linked as a revision);
    /// returns its hex digest.
    pub fn put_manifest(&self, name: &str, data: &[u8]) -> io::Result<String> {
        let hex = self.put_blob(data)?;
        let link = self.revision_dir(name, &hex).join("link");
        if !Self::linked(&link, &hex) {
            write_atomic(&link, digest(&hex).as_bytes())?;
        }
        Ok(hex)
    }

    /// Whether repository `name` has manifest `hex`.
    pub fn has_manifest(&self, name: &str, hex: &str) -> bool {
        Self::linked(&self.revision_dir(name, hex).join("link"), hex) && self.blob_size(hex).is_some()
    }

    /// The bytes of manifest `hex` of repository `name`.
    pub fn manifest(&self, name: &str, hex: &str) -> Option<Vec<u8>> {
        if !Self::linked(&self.revision_dir(name, hex).join("link"), hex) {
            return None;
        }
        fs::read(self.blob_data(hex)).ok()
    }

    /// The manifest tag `tag` of repository `name` points at.
    pub fn tag(&self, name: &str, tag: &str) -> Option<String> {
        let link = fs::read_to_string(self.tags_dir(name).join(tag).join("current/link")).ok()?;
        link.strip_prefix("sha256:").map(str::to_string)
    }

    /// Point `tag` at manifest `hex`.
    pub fn set_tag(&self, name: &str, tag: &str, hex: &str) -> io::Result<()> {
        let dir = self.tags_dir(name).join(tag);
        let index = dir.join("index/sha256").join(hex).join("link");
        if !Self::linked(&index, hex) {
            write_atomic(&index, digest(hex).as_bytes())?;
        }
        write_atomic(&dir.join("current/link"), digest(hex).as_bytes())
    }

    /// The tags of repository `name`, sorted; `None` when it has never had one (the real
    /// registry's "repository name not known").
    pub fn tags(&self, name: &str) -> Option<Vec<String>> {
        let dir = self.tags_dir(name);
        if !dir.is_dir() {
            return None;
        }
        let mut v = subdirs(&dir).ok()?;
        v.sort();
        Some(v)
    }

    /// Delete manifest `hex` from repository `name` and every tag pointing at it; false when
    /// the repository does not have it.
    pub fn delete_manifest(&self, name: &str, hex: &str) -> io::Result<bool> {
        if !self.has_manifest(name, hex) {
            return Ok(false);
        }
        remove_tree(&self.revision_dir(name, hex))?;
        for t in self.tags(name).unwrap_or_default() {
            if self.tag(name, &t).as_deref() == Some(hex) {
                remove_tree(&self.tags_dir(name).join(&t))?;
            }
        }
        Ok(true)
    }

    /// Repository names, in the real registry's catalog order: a directory under
    /// `repositories/` holding `_layers` is a repository.
    pub fn repositories(&self) -> Vec<String> {
        self.repositories_with("_layers")
    }

    fn repositories_with(&self, marker: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut todo = vec![String::new()];
        let root = self.base.join("repositories");
        while let Some(rel) = todo.pop() {
            let dir = if rel.is_empty() { root.clone() } else { root.join(&rel) };
            for d in subdirs(&dir).unwrap_or_default() {
                if d == marker {
                    found.push(rel.clone());
                } else if !d.starts_with('_') && !d.starts_with('.') {
                    todo.push(if rel.is_empty() { d } else { format!("{rel}/{d}") });
                }
            }
        }
        found.retain(|r| !r.is_empty());
        found.sort_by(|a, b| path_order(a, b));
        found
    }

    /// Every blob in the blob store (hex digests).
    pub fn blobs(&self) -> Vec<String> {
        let mut v = Vec::new();
        let dir = self.base.join("blobs/sha256");
        for two in subdirs(&dir).unwrap_or_default() {
            for hex in subdirs(&dir.join(&two)).unwrap_or_default() {
                if hex.len() == 64 && hex.starts_with(&two) {
                    v.push(hex);
                }
            }
        }
        v.sort();
        v
    }

    /// The manifests (hex) repository `name` has.
    pub fn manifests(&self, name: &str) -> Vec<String> {
        let mut v = subdirs(&self.repo(name).join("_manifests/revisions/sha256")).unwrap_or_default();
        v.retain(|h| self.has_manifest(name, h));
        v.sort();
        v
    }

    /// Remove blob `hex` from the blob store (garbage collection).
    pub fn remove_blob(&self, hex: &str) -> io::Result<()> {
        remove_tree(self.blob_data(hex).parent().unwrap_or(&self.base))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory.
    pub fn tempdir(tag: &str) -> PathBuf {
        let mut r = [0u8; 8];
        util::random(&mut r);
        let p = std::env::temp_dir().join(format!("skiff-registry-{tag}-{}", util::hex(&r)));
        fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn layout_of_an_upload_a_manifest_and_a_tag() {
        let root = tempdir("layout");
        let s = Store::new(root.to_str().unwrap());
        let mut f = s.new_upload("yeeechen/nginx", "u1", 1_795_514_400_000).unwrap();
        f.write_all(b"hello").unwrap();
        drop(f);
        let hex = util::sha256_hex(b"hello");
        assert_eq!(s.uploads(), vec![("yeeechen/nginx".to_string(), "u1".to_string())]);
        assert_eq!(s.upload_started("yeeechen/nginx", "u1"), Some(1_795_514_400_000));
        s.commit_upload("yeeechen/nginx", "u1", &hex).unwrap();
        let v2 = root.join("docker/registry/v2");
        assert_eq!(fs::read(v2.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2]))).unwrap(), b"hello");
        assert_eq!(
            fs::read_to_string(v2.join(format!("repositories/yeeechen/nginx/_layers/sha256/{hex}/link"))).unwrap(),
            format!("sha256:{hex}")
        );
        assert!(!v2.join("repositories/yeeechen/nginx/_uploads/u1").exists());
        assert_eq!(s.repo_blob("yeeechen/nginx", &hex), Some(5));
        assert_eq!(s.repo_blob("other", &hex), None);

        let m = s.put_manifest("yeeechen/nginx", b"{}").unwrap();
        s.set_tag("yeeechen/nginx", "latest", &m).unwrap();
        assert_eq!(
            fs::read_to_string(v2.join("repositories/yeeechen/nginx/_manifests/tags/latest/current/link")).unwrap(),
            format!("sha256:{m}")
        );
        assert!(v2.join(format!("repositories/yeeechen/nginx/_manifests/tags/latest/index/sha256/{m}/link")).is_file());
        assert!(v2.join(format!("repositories/yeeechen/nginx/_manifests/revisions/sha256/{m}/link")).is_file());
        assert_eq!(s.tag("yeeechen/nginx", "latest"), Some(m.clone()));
        assert_eq!(s.manifest("yeeechen/nginx", &m).unwrap(), b"{}");
        assert_eq!(s.tags("yeeechen/nginx"), Some(vec!["latest".to_string()]));
        assert_eq!(s.tags("nope"), None);
        // No temporary files are left behind.
        let leftovers =
            fs::read_dir(v2.join("repositories/yeeechen/nginx/_manifests/tags/latest/current")).unwrap().count();
        assert_eq!(leftovers, 1);

        assert!(s.delete_manifest("yeeechen/nginx", &m).unwrap());
        assert_eq!(s.tags("yeeechen/nginx"), Some(vec![]));
        assert!(!s.delete_manifest("yeeechen/nginx", &m).unwrap());
        assert!(s.unlink_layer("yeeechen/nginx", &hex).unwrap());
        assert_eq!(s.repo_blob("yeeechen/nginx", &hex), None);
        assert_eq!(s.blob_size(&hex), Some(5), "the blob itself waits for garbage collection");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn catalog_order_and_nesting() {
        let root = tempdir("catalog");
        let s = Store::new(root.to_str().unwrap());
        let hex = s.put_blob(b"x").unwrap();
        for name in ["b", "a-b", "a/b", "a", "c/_x"] {
            if name != "c/_x" {
                s.link_layer(name, &hex).unwrap();
            }
        }
        fs::create_dir_all(root.join("docker/registry/v2/repositories/c/_uploads")).unwrap();
        assert_eq!(s.repositories(), vec!["a", "a/b", "a-b", "b"]);
        assert_eq!(s.blobs(), vec![hex]);
        fs::remove_dir_all(root).unwrap();
    }
}
