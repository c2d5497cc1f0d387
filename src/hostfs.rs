//! Small host-filesystem helpers shared by the builder, `cp`, archives, prune and volumes:
//! permission bits, symlinks and directory sizes, with the portable fallbacks in one place.

pub mod portable;

use std::fs;
use std::io;
use std::path::Path;

/// Permission bits of a host file (Windows has none: 0755 for directories, else 0644).
pub fn mode_of(md: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        md.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        if md.is_dir() {
            0o755
        } else {
            0o644
        }
    }
}

/// `mode` made safe for a host file skiff writes from untrusted content (a layer from an
/// archive, a file copied out of a container): no setuid, setgid or world-write bit, since
/// the file is the host's (and root's, when skiff runs as root). The layer's tar keeps the
/// original bits; only the host copy loses them.
pub fn safe_mode(mode: u32) -> u32 {
    mode & 0o7777 & !0o6002
}

/// [`safe_mode`] for a directory: no setuid or setgid bit; no world-write bit either, except
/// on a sticky directory (`/tmp`, 1777), which guests' permission checks need writable by all
/// and where the sticky bit keeps one user from removing another's files.
pub fn safe_dir_mode(mode: u32) -> u32 {
    let mode = mode & 0o7777 & !0o6000;
    if mode & 0o1000 != 0 {
        mode
    } else {
        mode & !0o002
    }
}

/// Set permission bits (a no-op where the host has none).
pub fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = (p, mode);
        Ok(())
    }
}

/// Make a symbolic link `link` → `target`. Where the host has none (Windows), in the portable
/// form instead: a file holding the target, described in its directory's metadata
/// ([`portable`]), which layer tars read back as a symlink.
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(not(unix))]
    {
        portable::make_symlink(&target.to_string_lossy().replace('\\', "/"), link, false)
    }
}

/// Bytes in the regular files below `p` (0 if it cannot be read).
pub fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else { return 0 };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Whether a regular file under `dir` starts with the ELF magic (a native Linux program);
/// looks at no more than `budget` entries.
pub fn has_elf(dir: &Path, budget: usize) -> bool {
    let mut seen = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            seen += 1;
            if seen > budget {
                return false;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                let mut magic = [0u8; 4];
                if std::fs::File::open(e.path()).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
                    && &magic == b"\x7fELF"
                {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether a writable-layer entry is an overlayfs whiteout (a 0/0 character device: a native
/// container deleted the name). The userspace view writes OCI `.wh.` files instead.
pub fn is_overlay_whiteout(md: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        md.file_type().is_char_device() && md.rdev() == 0
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        false
    }
}

/// Whether directory `p` is marked opaque by overlayfs (`trusted.overlay.opaque=y`: a native
/// container removed and re-created it, hiding what the layers below had there).
pub fn is_overlay_opaque(p: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else { return false };
        let mut buf = [0u8; 4];
        // SAFETY: valid NUL-terminated strings and a buffer of buf.len() bytes.
        let n = unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
            )
        };
        n == 1 && buf[0] == b'y'
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = p;
        false
    }
}

/// Owner (uid, gid) of a host file (0:0 where the host has none).
pub fn owner_of(md: &fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (md.uid() as u64, md.gid() as u64)
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        (0, 0)
    }
}
