//! The native backend's snapshotter: layers as kernel overlayfs wants them, and the
//! container's root as an overlay mount over them (containerd's overlay snapshotter is the
//! model).
//!
//! The store keeps every layer extracted once for the userspace union view
//! (`layers/<chain>/diff/`, OCI whiteouts as `.wh.` files, modes kept for skiff's own access).
//! Overlayfs needs another form: whiteouts as 0/0 character devices, opaque directories marked
//! with the `trusted.overlay.opaque` xattr, and real owners, modes and device nodes. So the
//! first native use of a layer extracts its blob again, in that form, into
//! `layers/<chain>/native/` (aside, then renamed in: it appears whole or not at all). Both
//! forms come from the same verified blob; only layers that run natively get the second.
//!
//! A container's root: `lowerdir` = its layers' native dirs (top first), `upperdir` =
//! `containers/<id>/upper` (the same writable layer `diff` and `commit` read: overlay's own
//! whiteouts there are read as deletions too), `workdir` = `containers/<id>/work`, mounted
//! at `containers/<id>/bundle/rootfs`.

use super::sys;
use crate::error::{Error, IoContext, Result};
use crate::runtime::ContainerSpec;
use crate::store::Store;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The overlay form of a layer (extracted on first use).
pub fn native_dir(store: &Store, chain: &crate::spec::Digest) -> PathBuf {
    store.layer_dir(chain).join("native")
}

/// Make sure every lower layer of `c` has its overlay form; returns their dirs, top first.
pub fn prepare_lowers(store: &Store, c: &ContainerSpec) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for l in &c.lowers {
        let dir = native_dir(store, &l.chain_id);
        if !dir.is_dir() {
            let meta = store.layer_meta(&l.chain_id)?;
            extract_native(store, &meta.diff_id, &dir)?;
        }
        out.push(dir);
    }
    Ok(out)
}

/// Extract blob `diff_id` (an uncompressed layer tar) into `dest` in overlay form.
fn extract_native(store: &Store, diff_id: &crate::spec::Digest, dest: &Path) -> Result<()> {
    let blob = store.blob_path(diff_id);
    let tmp = tempfile::Builder::new().prefix("native-").tempdir_in(store.tmp_dir()).at(store.tmp_dir())?;
    let root = tmp.path().join("d");
    fs::create_dir(&root).at(&root)?;
    let file = fs::File::open(&blob).at(&blob)?;
    let mut archive = tar::Archive::new(file);
    let layer = diff_id.short().to_string();
    let bad = |entry: &str, reason: &str| Error::InvalidLayer {
        layer: layer.clone(),
        entry: entry.to_string(),
        reason: reason.to_string(),
    };
    // Directory times are set last: creating entries inside changes them.
    let mut dir_times: Vec<(PathBuf, i64)> = Vec::new();
    for entry in archive.entries().at(&blob)? {
        let mut entry = entry.at(&blob)?;
        let raw = entry.path().at(&blob)?.into_owned();
        let name = raw.to_string_lossy().into_owned();
        let Some(rel) = clean(&raw) else { return Err(bad(&name, "path leaves the layer")) };
        if rel.as_os_str().is_empty() {
            continue; // "./"
        }
        let h = entry.header().clone();
        let (uid, gid) = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
        let mode = h.mode().unwrap_or(0o644);
        let mtime = h.mtime().unwrap_or(0) as i64;
        let file_name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let parent = rel.parent().map(|p| root.join(p)).unwrap_or_else(|| root.clone());
        ensure_dir(&root, &parent)?;
        let target = root.join(&rel);
        if file_name == ".wh..wh..opq" {
            sys::lsetxattr(&parent, "trusted.overlay.opaque", b"y").at(&parent)?;
            continue;
        }
        if let Some(hidden) = file_name.strip_prefix(".wh.") {
            let w = parent.join(hidden);
            let _ = fs::remove_file(&w);
            sys::mknod_whiteout(&w).at(&w)?;
            continue;
        }
        let kind = h.entry_type();
        if !kind.is_dir() {
            if let Ok(m) = fs::symlink_metadata(&target) {
                if m.is_dir() {
                    fs::remove_dir_all(&target).at(&target)?;
                } else {
                    fs::remove_file(&target).at(&target)?;
                }
            }
        }
        match kind {
            tar::EntryType::Directory => {
                if !target.is_dir() {
                    fs::create_dir(&target).at(&target)?;
                }
                dir_times.push((target.clone(), mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut out = fs::File::create(&target).at(&target)?;
                std::io::copy(&mut (&mut entry).take(u64::MAX), &mut out).at(&target)?;
            }
            tar::EntryType::Symlink => {
                let to = entry.link_name().at(&blob)?.ok_or_else(|| bad(&name, "symlink without target"))?;
                std::os::unix::fs::symlink(&to, &target).at(&target)?;
            }
            tar::EntryType::Link => {
                let to = entry.link_name().at(&blob)?.ok_or_else(|| bad(&name, "hard link without target"))?;
                let to = clean(&to).ok_or_else(|| bad(&name, "hard link leaves the layer"))?;
                let src = root.join(to);
                if fs::symlink_metadata(&src).map(|m| m.is_dir()).unwrap_or(true) {
                    return Err(bad(&name, "hard link to a missing file or a directory"));
                }
                fs::hard_link(&src, &target).at(&target)?;
                continue; // shares the target's owner, mode and times
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let t = match kind {
                    tar::EntryType::Char => libc::S_IFCHR,
                    tar::EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let (maj, min) =
                    (h.device_major().ok().flatten().unwrap_or(0), h.device_minor().ok().flatten().unwrap_or(0));
                sys::mknod(&target, t, mode, maj, min).at(&target)?;
            }
            _ => continue, // pax/GNU headers are read by the tar crate itself
        }
        sys::lchown(&target, uid, gid).at(&target)?;
        if kind != tar::EntryType::Symlink {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&target, fs::Permissions::from_mode(mode & 0o7777)).at(&target)?;
        }
        if let Ok(Some(xattrs)) = entry.pax_extensions().map(|p| p.map(|x| x.flatten().collect::<Vec<_>>())) {
            for x in xattrs {
                if let (Ok(k), v) = (x.key(), x.value_bytes()) {
                    if let Some(attr) = k.strip_prefix("SCHILY.xattr.") {
                        let _ = sys::lsetxattr(&target, attr, v);
                    }
                }
            }
        }
        if kind != tar::EntryType::Directory {
            let _ = sys::lutimes(&target, mtime);
        }
    }
    for (d, t) in dir_times.iter().rev() {
        let _ = sys::lutimes(d, *t);
    }
    match fs::rename(&root, dest) {
        Ok(()) => Ok(()),
        // Another command extracted it meanwhile: theirs is as good as ours.
        Err(_) if dest.is_dir() => Ok(()),
        Err(e) => Err(Error::io(dest, e)),
    }
}

/// A layer path made relative and free of `..` (`None` if it would leave the layer).
fn clean(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Create `dir` (inside `root`) and its parents as directories; a symlink or file in the way
/// is an error (no entry may be written through a symlink).
fn ensure_dir(root: &Path, dir: &Path) -> Result<()> {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Error::Other(format!("{}: not a directory in the layer", cur.display()))),
            Err(_) => fs::create_dir(&cur).at(&cur)?,
        }
    }
    Ok(())
}

/// Where a container's root is mounted.
pub fn rootfs(c: &ContainerSpec) -> PathBuf {
    c.dir.join("bundle").join("rootfs")
}

/// Mount `c`'s root (idempotent: an existing mount is kept).
pub fn mount_root(lowers: &[PathBuf], c: &ContainerSpec) -> Result<PathBuf> {
    let target = rootfs(c);
    fs::create_dir_all(&target).at(&target)?;
    if sys::is_mount_point(&target) {
        return Ok(target);
    }
    let work = c.dir.join("work");
    fs::create_dir_all(&work).at(&work)?;
    fs::create_dir_all(&c.upper).at(&c.upper)?;
    let mut lowers: Vec<PathBuf> = lowers.to_vec();
    lowers.insert(0, init_layer(&lowers, c)?);
    let lowerdir: Vec<String> = lowers.iter().map(|l| escape_option(&l.to_string_lossy())).collect();
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        escape_option(&c.upper.to_string_lossy()),
        escape_option(&work.to_string_lossy())
    );
    if options.len() >= 4000 {
        return Err(Error::Other(format!(
            "the image has too many layers ({}) for one overlay mount from {}",
            lowers.len(),
            c.dir.display()
        )));
    }
    // A `--rm` container's writable layer is deleted at exit, so it need not survive a crash:
    // `volatile` (Linux 5.10) skips the overlay's syncs, above all the sync of the whole
    // upper filesystem at unmount (as Podman mounts `--rm` containers). An older kernel
    // refuses the option: mount without it.
    let volatile = c.auto_remove && {
        // The marker a previous volatile mount left; it refuses a new mount.
        let _ = fs::remove_dir_all(work.join("work").join("incompat"));
        sys::mount_overlay(&target, &format!("{options},volatile")).is_ok()
    };
    if !volatile {
        sys::mount_overlay(&target, &options)
            .map_err(|e| Error::Other(format!("mount overlay on {}: {e}", target.display())))?;
    }
    Ok(target)
}

/// Docker's init layer: the mount points the runtime needs (`/proc`, `/dev`, `/sys`, the
/// container's own `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, volume targets) made in a
/// small layer just above the image, so they never show in the container's writable layer
/// (`diff`, `commit`). Parent directories take the image's owner and mode. Its content
/// depends only on the image and the mount points, so containers that share both share one,
/// kept beside the image's top layer (`layers/<chain>/init/<hash of the points>`), made once
/// (aside, then renamed in) and removed with the layer: a container costs no files of its own
/// for it. A container of no layers gets its own (`containers/<id>/init`).
fn init_layer(lowers: &[PathBuf], c: &ContainerSpec) -> Result<PathBuf> {
    let mut points: Vec<(String, bool)> = ["dev", "proc", "sys"].iter().map(|d| (d.to_string(), true)).collect();
    for f in ["etc/hostname", "etc/hosts", "etc/resolv.conf"] {
        points.push((f.to_string(), false));
    }
    for m in &c.mounts {
        points.push((m.target.trim_start_matches('/').to_string(), !m.source.is_file()));
    }
    let init = match lowers.first().and_then(|top| top.parent()) {
        Some(layer) => {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for (rel, is_dir) in &points {
                h.update(format!("{rel}\0{is_dir}\n"));
            }
            layer.join("init").join(&hex::encode(h.finalize())[..16])
        }
        None => c.dir.join("init"),
    };
    if init.is_dir() {
        return Ok(init);
    }
    let parent = init.parent().unwrap_or(&c.dir);
    fs::create_dir_all(parent).at(parent)?;
    let tmp = tempfile::Builder::new().prefix(".tmp-").tempdir_in(parent).at(parent)?;
    make_points(lowers, tmp.path(), points)?;
    match fs::rename(tmp.path(), &init) {
        Ok(()) => {
            let _ = tmp.keep();
            Ok(init)
        }
        Err(_) if init.is_dir() => Ok(init), // another container made it first
        Err(e) => Err(Error::io(&init, e)),
    }
}

/// Make the mount points `points` (relative path, whether a directory) under `dir`.
fn make_points(lowers: &[PathBuf], dir: &Path, points: Vec<(String, bool)>) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // The image's entry at `rel`, if some layer has it (top first; none crossed a symlink).
    let below = |rel: &Path| lowers.iter().find_map(|l| fs::symlink_metadata(l.join(rel)).ok());
    'point: for (rel, is_dir) in points {
        let rel = PathBuf::from(rel);
        let mut cur = PathBuf::new();
        let comps: Vec<_> = rel.components().collect();
        for (i, comp) in comps.iter().enumerate() {
            cur.push(comp);
            let last = i + 1 == comps.len();
            let image = below(&cur);
            if image.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
                continue 'point; // the runtime resolves it in the image
            }
            let host = dir.join(&cur);
            if fs::symlink_metadata(&host).is_ok() {
                continue;
            }
            if !last || is_dir {
                fs::create_dir(&host).at(&host)?;
            } else {
                fs::File::create(&host).at(&host)?;
            }
            if let Some(m) = image {
                let _ = sys::lchown(&host, m.uid(), m.gid());
                let _ = fs::set_permissions(&host, fs::Permissions::from_mode(m.mode() & 0o7777));
            }
        }
    }
    // The layer's root is the container's `/`: as the image has it, not a temp dir's 0700.
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
    Ok(())
}

/// Overlay options separate with `,` and `:`: escape them in paths.
fn escape_option(p: &str) -> String {
    p.replace('\\', "\\\\").replace(',', "\\,").replace(':', "\\:")
}

/// Unmount `c`'s root if it is mounted.
pub fn unmount_root(c: &ContainerSpec) {
    let target = rootfs(c);
    while sys::is_mount_point(&target) {
        if sys::unmount(&target).is_err() {
            break;
        }
    }
}

/// Resolve `path` inside the root at `root` as the kernel would inside the container
/// (absolute symlinks restart at the container's root; `..` stops there). Returns the host
/// path of the final component (symlinks followed when `follow`).
pub fn resolve_in_root(root: &Path, path: &str, follow: bool) -> Option<PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    let mut todo: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(String::from).rev().collect();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                parts.pop();
                continue;
            }
            _ => {}
        }
        let mut host = root.to_path_buf();
        host.extend(parts.iter());
        host.push(&c);
        let last = todo.is_empty();
        match fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() && (follow || !last) => {
                links += 1;
                if links > 40 {
                    return None;
                }
                let target = fs::read_link(&host).ok()?;
                let t = target.to_string_lossy().into_owned();
                if t.starts_with('/') {
                    parts.clear();
                }
                todo.extend(t.split('/').filter(|s| !s.is_empty()).map(String::from).rev());
            }
            Ok(_) => parts.push(c),
            Err(_) if last => parts.push(c),
            Err(_) => return None,
        }
    }
    let mut host = root.to_path_buf();
    host.extend(parts.iter());
    Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(clean(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(clean(Path::new("/etc/passwd")), Some(PathBuf::from("etc/passwd")));
        assert_eq!(clean(Path::new("a/../../x")), None);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        fs::create_dir_all(r.join("bin")).unwrap();
        fs::create_dir_all(r.join("etc")).unwrap();
        fs::write(r.join("bin/busybox"), b"x").unwrap();
        std::os::unix::fs::symlink("/bin/busybox", r.join("bin/sh")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", r.join("up")).unwrap();
        assert_eq!(resolve_in_root(r, "/bin/sh", true), Some(r.join("bin/busybox")));
        assert_eq!(resolve_in_root(r, "/bin/sh", false), Some(r.join("bin/sh")));
        assert_eq!(resolve_in_root(r, "/up/passwd", true), Some(r.join("etc/passwd")));
        assert_eq!(escape_option("/a:b,c"), "/a\\:b\\,c");
    }
}
