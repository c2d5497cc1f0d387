//! Safe extraction of a layer tar into a directory: nothing is ever written outside it.
//!
//! Refused, with `invalid layer <layer>: <entry>: <reason>`: absolute paths, `..` components,
//! writing through a symlink that the layer itself planted, hard links that point outside the
//! layer or through a symlink, and device nodes / FIFOs. Symlink *targets* may be anything: they
//! are resolved later inside the container root by the union view, never on the host.
//! Host files never get setuid, setgid or world-write bits ([`crate::hostfs::safe_mode`]).
//! The caller extracts into a fresh temporary directory and renames it into place only on
//! success, so a refused layer leaves nothing behind.

use crate::error::{Error, Result};
use crate::spec::Digest;
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// What extraction found out about a layer.
#[derive(Debug, Default, Clone)]
pub struct Extracted {
    /// Sum of the sizes of regular files (what `docker images` adds up as SIZE).
    pub size: u64,
    /// Every regular file that is a wasm module (`\0asm`), with its sha256.
    pub wasm: Vec<(String, Digest)>,
    /// Device nodes and FIFOs the layer has and the host was not given ([`Specials::Skip`]).
    pub special: Vec<String>,
}

/// What to do with device nodes and FIFOs in a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Specials {
    /// Refuse the layer (archives from elsewhere: `load`, `import`, `ADD`).
    #[default]
    Refuse,
    /// Leave them out of the extracted files and list them (a native container's own
    /// `mknod`, committed: the blob keeps them, and the native backend makes them).
    Skip,
}

/// Extract `tar` into `dest` (an existing, empty directory).
pub fn extract_layer(tar: impl Read, dest: &Path, layer: &str) -> Result<Extracted> {
    extract_layer_with(tar, dest, layer, Specials::Refuse)
}

/// [`extract_layer`], with device nodes and FIFOs handled as `specials` says, in the form this
/// process writes new trees in ([`portable::forced`]).
pub fn extract_layer_with(tar: impl Read, dest: &Path, layer: &str, specials: Specials) -> Result<Extracted> {
    extract_layer_as(tar, dest, layer, specials, portable::forced())
}

/// [`extract_layer_with`] in the given form: `portable`, symlinks, modes and owners go into
/// skiff's own metadata ([`crate::hostfs::portable`]) and host files get default modes; else
/// they are the host's own.
pub fn extract_layer_as(
    tar: impl Read,
    dest: &Path,
    layer: &str,
    specials: Specials,
    portable: bool,
) -> Result<Extracted> {
    let invalid = |entry: &str, reason: &str| Error::InvalidLayer {
        layer: layer.to_string(),
        entry: entry.to_string(),
        reason: reason.to_string(),
    };
    let io_err = |entry: &str, e: std::io::Error| invalid(entry, &e.to_string());
    let mut out = Extracted::default();
    if portable {
        portable::mark(dest).map_err(|e| io_err("<archive>", e))?;
    }
    // A portable tree records each name's metadata in its directory's file.
    let record = |rel: &Path, entry: Option<portable::Entry>| -> std::io::Result<()> {
        let (dir, name) = portable::split(rel)?;
        if name.starts_with(".wh.") {
            return Ok(()); // whiteouts and markers: their modes mean nothing
        }
        portable::update(&dest.join(dir), &name, dir.as_os_str().is_empty(), |_| entry)
    };
    let mut ar = tar::Archive::new(tar);
    let entries = ar.entries().map_err(|e| io_err("<archive>", e))?;
    let mut buf = vec![0u8; 128 * 1024];
    // The parent directory of the last entry, checked (no symlink on the way) and created:
    // entries come directory by directory, so most need neither again. Anything but a
    // directory at or above it (it may replace a directory) forgets it.
    let mut checked: Option<PathBuf> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_err("<archive>", e))?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let rel = clean_path(&name).map_err(|r| invalid(&name, r))?;
        let kind = entry.header().entry_type();
        if rel.as_os_str().is_empty() {
            continue; // "./" itself
        }
        // `.wh..wh.` names other than the opaque marker are a union's own bookkeeping (AUFS's,
        // skiff's metadata): never taken from a layer, as Docker skips AUFS's.
        let base = rel.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        if base.starts_with(".wh..wh.") && base != ".wh..wh..opq" {
            continue;
        }
        let target = dest.join(&rel);
        if kind != tar::EntryType::Directory && checked.as_ref().is_some_and(|c| c.starts_with(&rel)) {
            checked = None;
        }
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        if checked.as_deref() != Some(parent_rel) {
            check_no_symlink_parents(dest, &rel, portable).map_err(|r| invalid(&name, &r))?;
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| io_err(&name, e))?;
            }
            checked = Some(parent_rel.to_path_buf());
        }
        let mode = entry.header().mode().unwrap_or(0o644);
        let owner = (entry.header().uid().unwrap_or(0) as u32, entry.header().gid().unwrap_or(0) as u32);
        // As root, host files carry the layer's owners and exact modes (the union view reads
        // them for guests' permission checks); otherwise skiff keeps its own read/write bits.
        let keep = if as_root() { 0 } else { 0o700 };
        match kind {
            tar::EntryType::Directory => {
                if let Ok(md) = fs::symlink_metadata(&target) {
                    if !md.is_dir() {
                        remove_any(&target).map_err(|e| io_err(&name, e))?;
                    }
                }
                fs::create_dir_all(&target).map_err(|e| io_err(&name, e))?;
                if portable {
                    set_mode(&target, portable::default_mode(true)).map_err(|e| io_err(&name, e))?;
                    record(&rel, portable::entry_for(safe_dir_mode(mode), owner.0, owner.1, true))
                        .map_err(|e| io_err(&name, e))?;
                } else {
                    set_mode(&target, safe_dir_mode(mode) | keep).map_err(|e| io_err(&name, e))?;
                    set_owner(&target, owner);
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut f = create_new(&target).map_err(|e| io_err(&name, e))?;
                let (size, wasm) = copy_and_sniff(&mut entry, &mut f, &mut buf).map_err(|e| io_err(&name, e))?;
                if portable {
                    set_file_mode(&f, &target, portable::default_mode(false)).map_err(|e| io_err(&name, e))?;
                    drop(f);
                    record(&rel, portable::entry_for(safe_mode(mode), owner.0, owner.1, false))
                        .map_err(|e| io_err(&name, e))?;
                } else {
                    set_file_mode(&f, &target, safe_mode(mode) | (keep & 0o600)).map_err(|e| io_err(&name, e))?;
                    set_file_owner(&f, owner);
                }
                out.size += size;
                if let Some(d) = wasm {
                    out.wasm.push((rel.to_string_lossy().replace('\\', "/"), d));
                }
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| invalid(&name, "symlink without a target"))?;
                remove_any(&target).ok();
                if portable {
                    fs::write(&target, link.as_bytes()).map_err(|e| io_err(&name, e))?;
                    let entry = portable::Entry { link: Some(link), mode: None, uid: owner.0, gid: owner.1 };
                    record(&rel, Some(entry)).map_err(|e| io_err(&name, e))?;
                } else {
                    crate::hostfs::symlink(Path::new(&link), &target).map_err(|e| io_err(&name, e))?;
                    set_owner(&target, owner);
                }
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| invalid(&name, "hard link without a target"))?;
                let link_rel = clean_path(&link).map_err(|_| invalid(&name, "hard link points outside the layer"))?;
                check_no_symlink_parents(dest, &link_rel, portable)
                    .map_err(|_| invalid(&name, "hard link points through a symlink"))?;
                let src = dest.join(&link_rel);
                let md =
                    fs::symlink_metadata(&src).map_err(|_| invalid(&name, "hard link to a file not in the layer"))?;
                remove_any(&target).ok();
                if md.is_dir() {
                    return Err(invalid(&name, "hard link to a directory"));
                }
                fs::hard_link(&src, &target).map_err(|e| io_err(&name, e))?;
                let link_entry = if portable { lookup(dest, &link_rel) } else { None };
                if portable {
                    // The same file under another name: the same mode, owner or symlink target.
                    record(&rel, link_entry.clone()).map_err(|e| io_err(&name, e))?;
                }
                if md.is_file() && link_entry.is_none_or(|e| e.link.is_none()) {
                    out.size += md.len();
                }
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo if specials == Specials::Skip => {
                out.special.push(rel.to_string_lossy().replace('\\', "/"));
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                return Err(invalid(&name, "device nodes are not allowed"));
            }
            tar::EntryType::Fifo => return Err(invalid(&name, "FIFOs are not allowed")),
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            tar::EntryType::GNULongName | tar::EntryType::GNULongLink => {}
            other => return Err(invalid(&name, &format!("unsupported entry type {other:?}"))),
        }
    }
    Ok(out)
}

/// Make the tree `dir` exactly what [`extract_layer_with`] makes of its own layer tar
/// (`archive::create::tar_dir_owned(dir, .., Owners::Fixed(owner))`, taken just before), and
/// report what that extraction reports; so a directory that was just tarred into a layer can
/// become the extracted layer itself instead of extracting the tar again (a build's
/// `COPY`/`ADD`). As extraction would: modes lose setuid, setgid and world-write (skiff keeps its
/// own read/write bits when not root), owners are the tar's (root only), and hard links are
/// broken (the tar holds each name's content). `Ok(None)`: the tree has what the tar would not
/// carry the same way (a special file, an overlayfs whiteout or opaque directory, a name that
/// is not UTF-8); extract the tar instead.
pub fn settle_as_extracted(dir: &Path, owner: (u32, u32)) -> std::io::Result<Option<Extracted>> {
    if portable::forced() {
        return Ok(None); // the portable form keeps modes and links in metadata: extract instead
    }
    let mut out = Extracted::default();
    let owner = if owner != (0, 0) && as_root() { Some(owner) } else { own_ids() };
    let keep = if as_root() { 0 } else { 0o700 };
    let mut buf = vec![0u8; 128 * 1024];
    if settle_dir(dir, "", owner, keep, &mut out, &mut buf)? {
        Ok(Some(out))
    } else {
        Ok(None)
    }
}

/// [`settle_as_extracted`] of directory `rel` (below `root`); false: not settleable.
fn settle_dir(
    root: &Path,
    rel: &str,
    owner: Option<(u32, u32)>,
    keep: u32,
    out: &mut Extracted,
    buf: &mut [u8],
) -> std::io::Result<bool> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { return Ok(false) };
        if name.starts_with(".wh..wh.") && name != ".wh..wh..opq" {
            return Ok(false); // extraction leaves such names out
        }
        let path = dir.join(&name);
        let rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let md = fs::symlink_metadata(&path)?;
        let ft = md.file_type();
        if ft.is_symlink() {
            settle_owner(&path, &md, owner)?;
        } else if ft.is_dir() {
            if crate::hostfs::is_overlay_opaque(&path) {
                return Ok(false);
            }
            settle_mode(&path, &md, safe_dir_mode(crate::hostfs::mode_of(&md)) | keep)?;
            settle_owner(&path, &md, owner)?;
            if !settle_dir(root, &rel, owner, keep, out, buf)? {
                return Ok(false);
            }
        } else if ft.is_file() {
            let mode = safe_mode(crate::hostfs::mode_of(&md)) | (keep & 0o600);
            let mut f = fs::File::open(&path)?;
            let (mut size, mut wasm) = (md.len(), None);
            if nlink(&md) > 1 {
                // Another name shares this file: give this one its own copy, as extracting the
                // tar would (and sniff it on the way).
                let tmp = dir.join(format!(".wh..wh..settle.{}", std::process::id()));
                let mut copy = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
                (size, wasm) = copy_and_sniff(&mut f, &mut copy, buf)?;
                fs::rename(&tmp, &path)?;
                set_file_mode(&copy, &path, mode)?;
                set_file_owner_to(&copy, owner)?;
            } else {
                let mut head = [0u8; 4];
                if size >= 4 && f.read_exact(&mut head).is_ok() && &head == b"\0asm" {
                    let mut h = Sha256::new();
                    h.update(head);
                    std::io::copy(&mut f, &mut h)?;
                    wasm = Some(Digest::from_hasher(h));
                }
                settle_mode(&path, &md, mode)?;
                settle_owner(&path, &md, owner)?;
            }
            out.size += size;
            if let Some(d) = wasm {
                out.wasm.push((rel, d));
            }
        } else {
            return Ok(false); // devices, FIFOs, sockets, overlayfs whiteouts
        }
    }
    Ok(true)
}

fn settle_mode(p: &Path, md: &fs::Metadata, mode: u32) -> std::io::Result<()> {
    if crate::hostfs::mode_of(md) != mode & 0o7777 {
        set_mode(p, mode)?;
    }
    Ok(())
}

/// Give `p` the owner an extracted entry has: `owner`, or skiff's own (`None`: not a Unix
/// host, where nothing is owned).
fn settle_owner(p: &Path, md: &fs::Metadata, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some((uid, gid)) = owner {
        use std::os::unix::fs::MetadataExt;
        if (md.uid(), md.gid()) != (uid, gid) {
            std::os::unix::fs::lchown(p, Some(uid), Some(gid))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (p, md, owner);
    Ok(())
}

fn set_file_owner_to(f: &fs::File, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(f, Some(uid), Some(gid))?;
    }
    #[cfg(not(unix))]
    let _ = (f, owner);
    Ok(())
}

/// Who skiff's own new files belong to.
fn own_ids() -> Option<(u32, u32)> {
    #[cfg(unix)]
    {
        // SAFETY: geteuid and getegid have no preconditions.
        Some(unsafe { (libc::geteuid(), libc::getegid()) })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn nlink(md: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        std::os::unix::fs::MetadataExt::nlink(md)
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        1
    }
}

/// A relative path with no `..`, no root, no prefix; `./` removed.
fn clean_path(name: &str) -> std::result::Result<PathBuf, &'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("absolute paths are not allowed");
    }
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => {
                let s = p.to_string_lossy();
                if s.contains('\\') || s.contains(':') && cfg!(windows) {
                    return Err("path is not portable");
                }
                out.push(p)
            }
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute paths are not allowed"),
        }
    }
    Ok(out)
}

/// The portable metadata entry of `rel` in the tree `dest`.
fn lookup(dest: &Path, rel: &Path) -> Option<portable::Entry> {
    let (dir, name) = portable::split(rel).ok()?;
    portable::read(&dest.join(dir)).ok()?.remove(&name)
}

/// No existing ancestor of `rel` inside `dest` may be a symlink (or a non-directory);
/// `portable`: symlinks are the portable metadata's.
fn check_no_symlink_parents(dest: &Path, rel: &Path, portable: bool) -> std::result::Result<(), String> {
    let mut cur = dest.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps[..comps.len().saturating_sub(1)].iter().enumerate() {
        cur.push(c);
        let planted = |md: &fs::Metadata| {
            md.file_type().is_symlink()
                || portable
                    && md.is_file()
                    && lookup(dest, &comps[..=i].iter().collect::<PathBuf>()).is_some_and(|e| e.link.is_some())
        };
        match fs::symlink_metadata(&cur) {
            Ok(md) if planted(&md) => {
                return Err("writes through a symlink in the layer".to_string());
            }
            Ok(md) if !md.is_dir() => return Err("a parent is not a directory".to_string()),
            Ok(_) => {}
            Err(_) => return Ok(()), // the rest does not exist yet: it will be created as dirs
        }
    }
    Ok(())
}

/// A new file at `p`, replacing whatever is there (never writing through it: a symlink there
/// is removed, not followed).
fn create_new(p: &Path) -> std::io::Result<fs::File> {
    let new = || fs::OpenOptions::new().write(true).create_new(true).open(p);
    match new() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            remove_any(p)?;
            new()
        }
        r => r,
    }
}

/// [`set_mode`] through the open file (one path lookup fewer per file).
fn set_file_mode(f: &fs::File, p: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = p;
        f.set_permissions(fs::Permissions::from_mode(mode & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        set_mode(p, mode)
    }
}

/// [`set_owner`] through the open file.
fn set_file_owner(f: &fs::File, (uid, gid): (u32, u32)) {
    #[cfg(unix)]
    if (uid, gid) != (0, 0) && as_root() {
        let _ = std::os::unix::fs::fchown(f, Some(uid), Some(gid));
    }
    #[cfg(not(unix))]
    let _ = (f, uid, gid);
}

fn copy_and_sniff(r: &mut dyn Read, w: &mut fs::File, buf: &mut [u8]) -> std::io::Result<(u64, Option<Digest>)> {
    let mut size = 0u64;
    let mut hasher: Option<Sha256> = None;
    let mut first = true;
    loop {
        let n = r.read(buf)?;
        if n == 0 {
            break;
        }
        if first {
            first = false;
            if n >= 4 && &buf[..4] == b"\0asm" {
                hasher = Some(Sha256::new());
            }
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        w.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hasher.map(Digest::from_hasher)))
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    let md = fs::symlink_metadata(p)?;
    if md.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

use crate::hostfs::{portable, safe_dir_mode, safe_mode, set_mode};

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a tar from raw (type, path, link, data) rows, bypassing the tar crate's own checks.
    fn raw_tar(rows: &[(tar::EntryType, &str, &str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (kind, path, link, data) in rows {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            {
                let gnu = h.as_gnu_mut().unwrap();
                gnu.name[..path.len()].copy_from_slice(path.as_bytes());
                gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn refuses_dangerous_entries() {
        use tar::EntryType as T;
        let cases: &[(&str, Vec<(T, &str, &str, &[u8])>, &str)] = &[
            ("absolute", vec![(T::Regular, "/etc/passwd", "", b"x")], "absolute paths are not allowed"),
            ("dotdot", vec![(T::Regular, "a/../../x", "", b"x")], "path contains '..'"),
            (
                "symlink then write",
                vec![(T::Symlink, "evil", "/tmp", b""), (T::Regular, "evil/pwned", "", b"x")],
                "writes through a symlink",
            ),
            (
                "relative symlink then write",
                vec![(T::Symlink, "up", "../../..", b""), (T::Regular, "up/x", "", b"x")],
                "writes through a symlink",
            ),
            ("hardlink outside", vec![(T::Link, "h", "../../etc/passwd", b"")], "hard link points outside the layer"),
            ("hardlink absolute", vec![(T::Link, "h", "/etc/passwd", b"")], "hard link points outside the layer"),
            (
                "hardlink through symlink",
                vec![(T::Symlink, "s", "/etc", b""), (T::Link, "h", "s/passwd", b"")],
                "hard link points through a symlink",
            ),
            ("char device", vec![(T::Char, "dev/null", "", b"")], "device nodes are not allowed"),
            ("block device", vec![(T::Block, "dev/sda", "", b"")], "device nodes are not allowed"),
            ("fifo", vec![(T::Fifo, "p", "", b"")], "FIFOs are not allowed"),
        ];
        for (what, rows, reason) in cases {
            let outside = tempfile::tempdir().unwrap();
            let dest = outside.path().join("layer");
            fs::create_dir(&dest).unwrap();
            let err = extract_layer(raw_tar(rows).as_slice(), &dest, "sha256:test").unwrap_err().to_string();
            assert!(err.starts_with("invalid layer sha256:test: "), "{what}: {err}");
            assert!(err.contains(reason), "{what}: {err}");
            // nothing was written next to the layer
            let siblings: Vec<_> = fs::read_dir(outside.path()).unwrap().collect();
            assert_eq!(siblings.len(), 1, "{what}");
        }
    }

    #[test]
    fn extracts_files_links_and_finds_wasm() {
        use tar::EntryType as T;
        let rows: Vec<(T, &str, &str, &[u8])> = vec![
            (T::Directory, "bin/", "", b""),
            (T::Regular, "bin/box", "", b"\0asm\x01\0\0\0"),
            (T::Symlink, "bin/ls", "box", b""),
            (T::Link, "bin/box2", "bin/box", b""),
            (T::Regular, "etc/.wh.gone", "", b""),
            (T::Regular, "./etc/hostname", "", b"abc\n"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let x = extract_layer(raw_tar(&rows).as_slice(), dir.path(), "l").unwrap();
        assert_eq!(fs::read(dir.path().join("etc/hostname")).unwrap(), b"abc\n");
        assert!(dir.path().join("etc/.wh.gone").exists());
        #[cfg(unix)]
        assert_eq!(fs::read_link(dir.path().join("bin/ls")).unwrap(), Path::new("box"));
        assert_eq!(x.wasm.len(), 1);
        assert_eq!(x.wasm[0].0, "bin/box");
        assert_eq!(x.size, 8 + 4 + 8);
    }

    /// A tree as a build's COPY/ADD leaves it: unsafe modes, foreign owners, a hard link.
    #[cfg(unix)]
    fn step_tree(root: &Path) {
        use std::os::unix::fs::{lchown, symlink, PermissionsExt};
        let mode = |p: &str, m: u32| fs::set_permissions(root.join(p), fs::Permissions::from_mode(m)).unwrap();
        for d in ["bin", "open", "tmp", "deep/er"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(root.join("bin/box"), b"\0asm\x01\0\0\0 a module").unwrap();
        fs::write(root.join("bin/suid"), b"#!/bin/sh\n").unwrap();
        fs::write(root.join("open/everyone"), b"w").unwrap();
        fs::write(root.join("deep/er/.wh.gone"), b"").unwrap();
        fs::write(root.join("deep/er/tiny"), b"ab").unwrap();
        fs::hard_link(root.join("bin/box"), root.join("deep/box2")).unwrap();
        symlink("box", root.join("bin/ls")).unwrap();
        mode("bin/suid", 0o4755);
        mode("open/everyone", 0o666);
        mode("open", 0o777);
        mode("tmp", 0o1777);
        mode("deep/er", 0o2750);
        if as_root() {
            lchown(root.join("bin/suid"), Some(1000), Some(1000)).unwrap();
            lchown(root.join("bin/ls"), Some(7), Some(7)).unwrap();
            lchown(root.join("open"), Some(1000), Some(100)).unwrap();
        }
    }

    /// Every entry below `root`: kind, mode, owner, link count, content or target.
    #[cfg(unix)]
    fn describe(root: &Path) -> Vec<String> {
        use std::os::unix::fs::MetadataExt;
        fn go(root: &Path, dir: &Path, out: &mut Vec<String>) {
            let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            for p in names {
                let md = fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let what = if md.file_type().is_symlink() {
                    format!("-> {}", fs::read_link(&p).unwrap().display())
                } else if md.is_dir() {
                    format!("dir {:o}", md.mode() & 0o7777)
                } else {
                    format!("file {:o} {:?}", md.mode() & 0o7777, fs::read(&p).unwrap())
                };
                out.push(format!("{rel}: {what} {}:{} nlink {}", md.uid(), md.gid(), md.nlink()));
                if md.is_dir() {
                    go(root, &p, out);
                }
            }
        }
        let mut out = vec![];
        go(root, root, &mut out);
        out
    }

    /// Settling a tree in place gives what extracting its own tar gives, files and report.
    #[cfg(unix)]
    #[test]
    fn settled_tree_is_its_extracted_tar() {
        for owner in [(0, 0), (1000, 1000)] {
            let tmp = tempfile::tempdir().unwrap();
            let (a, b, x) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("x"));
            for d in [&a, &b, &x] {
                fs::create_dir(d).unwrap();
            }
            step_tree(&a);
            step_tree(&b);
            let owners = crate::archive::create::Owners::Fixed(owner.0.into(), owner.1.into());
            let tar = crate::archive::create::tar_dir_owned(&a, Vec::new(), 0, owners).unwrap();
            let extracted = extract_layer_with(tar.as_slice(), &x, "l", Specials::Skip).unwrap();
            let settled = settle_as_extracted(&b, owner).unwrap().expect("a plain tree settles");
            assert_eq!(describe(&b), describe(&x), "owner {owner:?}");
            assert_eq!(settled.size, extracted.size);
            let mut w1 = settled.wasm.clone();
            let mut w2 = extracted.wasm.clone();
            w1.sort();
            w2.sort();
            assert_eq!(w1, w2);
            assert_eq!(w1.len(), 2, "both names of the module");
        }
    }

    /// What a tar would carry differently is not settled (the caller extracts instead).
    #[cfg(unix)]
    #[test]
    fn special_files_are_not_settled() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("d")).unwrap();
        std::os::unix::net::UnixListener::bind(tmp.path().join("d/sock")).unwrap();
        assert!(settle_as_extracted(tmp.path(), (0, 0)).unwrap().is_none());
    }
}

/// Whether skiff runs as root (it can then give host files the layer's owners).
fn as_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Give an extracted entry the layer's owner (root only; a failure leaves skiff's own).
fn set_owner(p: &Path, (uid, gid): (u32, u32)) {
    #[cfg(unix)]
    if (uid, gid) != (0, 0) && as_root() {
        let _ = std::os::unix::fs::lchown(p, Some(uid), Some(gid));
    }
    #[cfg(not(unix))]
    let _ = (p, uid, gid);
}
