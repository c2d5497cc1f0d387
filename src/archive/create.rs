//! Deterministic layer tars: entries sorted by path, owner 0:0, a fixed mtime
//! (`SOURCE_DATE_EPOCH`, else 0), so the same content always gives the same diff ID.

use crate::error::{IoContext, Result};
use crate::hostfs::{mode_of, portable};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

/// One entry of a layer being built in memory.
#[derive(Debug, Clone)]
pub enum Node {
    Dir { mode: u32 },
    File { data: Vec<u8>, mode: u32 },
    Symlink { target: String },
}

/// The timestamp written into layer tars: `$SOURCE_DATE_EPOCH`, else 0.
pub fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// A layer described path → node (paths relative, no leading `/`), written as a tar.
#[derive(Debug, Default, Clone)]
pub struct LayerBuilder {
    nodes: BTreeMap<String, Node>,
}

impl LayerBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.nodes.insert(path.trim_matches('/').to_string(), Node::Dir { mode });
        self
    }

    pub fn file(&mut self, path: &str, data: impl Into<Vec<u8>>, mode: u32) -> &mut Self {
        self.nodes.insert(path.trim_matches('/').to_string(), Node::File { data: data.into(), mode });
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.nodes.insert(path.trim_matches('/').to_string(), Node::Symlink { target: target.to_string() });
        self
    }

    /// The tar bytes. Parent directories that were not named are added with mode 0755.
    pub fn to_tar(&self, mtime: u64) -> Vec<u8> {
        let mut nodes = self.nodes.clone();
        for path in self.nodes.keys() {
            let mut p = path.as_str();
            while let Some((parent, _)) = p.rsplit_once('/') {
                nodes.entry(parent.to_string()).or_insert(Node::Dir { mode: 0o755 });
                p = parent;
            }
        }
        let mut w = TarWriter::new(Vec::new(), mtime);
        for (path, node) in &nodes {
            w.append(path, node).expect("writing to memory cannot fail");
        }
        w.finish().expect("writing to memory cannot fail")
    }
}

/// Writes tar entries with normalised metadata.
pub struct TarWriter<W: Write> {
    b: tar::Builder<W>,
    mtime: u64,
    /// uid and gid of every entry (0:0 unless a `COPY --chown` says otherwise).
    owner: (u64, u64),
    /// Take each file's owner from the host instead (a native container's writable layer).
    host_owners: bool,
}

/// Whose files a layer tar says they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owners {
    /// Every entry owned by this uid:gid (`COPY --chown`; 0:0 by default).
    Fixed(u64, u64),
    /// Each entry owned as on the host (a native container's writable layer, whose files
    /// carry the owners the container's processes gave them).
    AsOnHost,
}

impl<W: Write> TarWriter<W> {
    pub fn new(w: W, mtime: u64) -> Self {
        let mut b = tar::Builder::new(w);
        b.mode(tar::HeaderMode::Deterministic);
        TarWriter { b, mtime, owner: (0, 0), host_owners: false }
    }

    /// Give every entry this owner.
    pub fn with_owner(mut self, uid: u64, gid: u64) -> Self {
        self.owner = (uid, gid);
        self
    }

    fn header(&self, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode & 0o7777);
        h.set_uid(self.owner.0);
        h.set_gid(self.owner.1);
        h.set_mtime(self.mtime);
        h.set_size(size);
        h
    }

    pub fn append(&mut self, path: &str, node: &Node) -> std::io::Result<()> {
        match node {
            Node::Dir { mode } => {
                let mut h = self.header(tar::EntryType::Directory, *mode, 0);
                self.b.append_data(&mut h, format!("{path}/"), std::io::empty())
            }
            Node::File { data, mode } => {
                let mut h = self.header(tar::EntryType::Regular, *mode, data.len() as u64);
                self.b.append_data(&mut h, path, data.as_slice())
            }
            Node::Symlink { target } => {
                let mut h = self.header(tar::EntryType::Symlink, 0o777, 0);
                self.b.append_link(&mut h, path, target)
            }
        }
    }

    /// Append a file from the host with the given tar path.
    pub fn append_file(&mut self, path: &str, host: &Path, mode: u32) -> std::io::Result<()> {
        let f = fs::File::open(host)?;
        let md = f.metadata()?;
        let mut h = self.header(tar::EntryType::Regular, mode, md.len());
        self.host_owner(&mut h, &md);
        self.b.append_data(&mut h, path, f)
    }

    fn host_owner(&self, h: &mut tar::Header, md: &fs::Metadata) {
        if self.host_owners {
            let (u, g) = crate::hostfs::owner_of(md);
            h.set_uid(u);
            h.set_gid(g);
        }
    }

    /// Append a host directory, symlink, device or fifo entry (owner as the writer says),
    /// as its portable metadata `meta` describes it if it has some.
    fn append_host(
        &mut self,
        path: &str,
        host: &Path,
        md: &fs::Metadata,
        meta: Option<&portable::Entry>,
    ) -> std::io::Result<()> {
        if let Some(e) = meta {
            let (link, mode, uid, gid) = portable::apply(Some(e), mode_of(md), (0, 0));
            let owned = |w: &Self, h: &mut tar::Header| {
                if w.host_owners {
                    h.set_uid(uid.into());
                    h.set_gid(gid.into());
                }
            };
            if let (Some(target), true) = (link, md.is_file()) {
                let mut h = self.header(tar::EntryType::Symlink, 0o777, 0);
                owned(self, &mut h);
                return self.b.append_link(&mut h, path, target);
            }
            if md.is_dir() {
                let mut h = self.header(tar::EntryType::Directory, mode, 0);
                owned(self, &mut h);
                return self.b.append_data(&mut h, format!("{path}/"), std::io::empty());
            }
            if md.is_file() {
                let f = fs::File::open(host)?;
                let mut h = self.header(tar::EntryType::Regular, mode, f.metadata()?.len());
                owned(self, &mut h);
                return self.b.append_data(&mut h, path, f);
            }
        }
        let mode = mode_of(md);
        let ft = md.file_type();
        if ft.is_symlink() {
            let mut h = self.header(tar::EntryType::Symlink, 0o777, 0);
            self.host_owner(&mut h, md);
            let target = fs::read_link(host)?;
            return self.b.append_link(&mut h, path, target.to_string_lossy().as_ref());
        }
        if ft.is_dir() {
            let mut h = self.header(tar::EntryType::Directory, mode, 0);
            self.host_owner(&mut h, md);
            return self.b.append_data(&mut h, format!("{path}/"), std::io::empty());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            let kind = if ft.is_char_device() {
                Some(tar::EntryType::Char)
            } else if ft.is_block_device() {
                Some(tar::EntryType::Block)
            } else if ft.is_fifo() {
                Some(tar::EntryType::Fifo)
            } else {
                None
            };
            if let Some(kind) = kind {
                let mut h = self.header(kind, mode, 0);
                self.host_owner(&mut h, md);
                // dev_t is 64 bits on Linux, 32 (signed) on macOS.
                let dev = md.rdev() as libc::dev_t;
                h.set_device_major(libc::major(dev) as u32)?;
                h.set_device_minor(libc::minor(dev) as u32)?;
                return self.b.append_data(&mut h, path, std::io::empty());
            }
            if ft.is_socket() {
                return Ok(()); // sockets do not go into layers (as Docker's archive skips them)
            }
        }
        self.append_file(path, host, mode)
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.b.into_inner()
    }
}

/// Tar a directory tree (e.g. a container's `upper/`) deterministically: sorted, 0:0, fixed mtime.
pub fn tar_dir<W: Write>(dir: &Path, out: W, mtime: u64) -> Result<W> {
    tar_dir_owned(dir, out, mtime, Owners::Fixed(0, 0))
}

/// [`tar_dir`] with every entry owned as `owners` says. Whiteouts in either form become OCI
/// whiteouts: `.wh.` files as they are, overlayfs's 0/0 character devices as `.wh.<name>`,
/// and an overlayfs opaque directory gets a `.wh..wh..opq` entry.
pub fn tar_dir_owned<W: Write>(dir: &Path, out: W, mtime: u64, owners: Owners) -> Result<W> {
    let mut w = TarWriter::new(out, mtime);
    match owners {
        Owners::Fixed(u, g) => w = w.with_owner(u, g),
        Owners::AsOnHost => w.host_owners = true,
    }
    walk(dir, "", &mut w)?;
    w.finish().at(dir)
}

fn walk<W: Write>(root: &Path, rel: &str, w: &mut TarWriter<W>) -> Result<()> {
    let dir = if rel.is_empty() { root.to_path_buf() } else { root.join(rel) };
    let mut names: Vec<String> = fs::read_dir(&dir)
        .at(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // A union's bookkeeping (copy-up temp files, portable metadata) is not content.
        .filter(|n| !n.starts_with(".wh..wh.") || n == ".wh..wh..opq")
        .collect();
    names.sort();
    // Symlinks, modes and owners the host could not keep ([`portable`]).
    let meta = portable::read(&dir).at(&dir)?;
    for name in names {
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let host = root.join(&path);
        let md = fs::symlink_metadata(&host).at(&host)?;
        if crate::hostfs::is_overlay_whiteout(&md) {
            let wh = if rel.is_empty() { format!(".wh.{name}") } else { format!("{rel}/.wh.{name}") };
            w.append(&wh, &Node::File { data: vec![], mode: 0 }).at(&host)?;
            continue;
        }
        w.append_host(&path, &host, &md, meta.get(&name)).at(&host)?;
        if md.is_dir() {
            if crate::hostfs::is_overlay_opaque(&host) {
                w.append(&format!("{path}/.wh..wh..opq"), &Node::File { data: vec![], mode: 0 }).at(&host)?;
            }
            walk(root, &path, w)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_bytes() {
        let mut a = LayerBuilder::new();
        a.file("bin/x", b"hello".to_vec(), 0o755).symlink("bin/y", "x").dir("etc", 0o755);
        let mut b = LayerBuilder::new();
        b.dir("etc", 0o755).symlink("bin/y", "x").file("bin/x", b"hello".to_vec(), 0o755);
        assert_eq!(a.to_tar(0), b.to_tar(0));
        assert_ne!(a.to_tar(0), a.to_tar(1));
    }

    #[test]
    fn parents_are_added() {
        let mut a = LayerBuilder::new();
        a.file("a/b/c", b"x".to_vec(), 0o644);
        let tar = a.to_tar(0);
        let mut ar = tar::Archive::new(tar.as_slice());
        let names: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a/", "a/b/", "a/b/c"]);
    }
}
