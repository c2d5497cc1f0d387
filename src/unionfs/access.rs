//! Linux's permission checks for a non-root guest process (the calling thread's
//! [`super::Access`]): search (x) on every directory a path crosses, read or write on a file
//! opened, write and search on a directory whose entries change, the sticky bit (`/tmp`),
//! owner-only `chmod`, and new entries owned by their creator. Root (no access set) is never
//! checked, as skiff's own work and uid 0 guests.

use std::io;
use std::path::Path;

use super::error::{err, Code};
use super::lookup::Node;
use super::{current_access, Access, UnionFs};

pub(crate) const R: u32 = 4;
pub(crate) const W: u32 = 2;
pub(crate) const X: u32 = 1;

/// Whether `who` may do `want` (a mask of r=4, w=2, x=1) to an entry of `uid`:`gid`, `mode`.
pub(crate) fn allowed(who: &Access, uid: u32, gid: u32, mode: u32, want: u32) -> bool {
    let bits = if who.uid == uid {
        (mode >> 6) & 7
    } else if who.gid == gid || who.groups.contains(&gid) {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    bits & want == want
}

impl UnionFs {
    /// `want` on `node`, for the calling thread's guest process (Ok for root or skiff).
    pub(crate) fn permit(&self, node: &Node, want: u32) -> io::Result<()> {
        match current_access() {
            Some(who) if !allowed(&who, node.stat.uid, node.stat.gid, node.stat.mode, want) => {
                Err(err(Code::Acces, &node.vpath(), "permission denied"))
            }
            _ => Ok(()),
        }
    }

    /// May the caller remove or rename `child` of directory `dir`? Write and search on the
    /// directory, and with the sticky bit set (`/tmp`), own the entry or the directory.
    pub(crate) fn permit_unlink(&self, dir: &Node, child: &Node) -> io::Result<()> {
        self.permit(dir, W | X)?;
        if let Some(who) = current_access() {
            if dir.stat.mode & 0o1000 != 0 && who.uid != child.stat.uid && who.uid != dir.stat.uid {
                return Err(err(Code::Perm, &child.vpath(), "operation not permitted (sticky directory)"));
            }
        }
        Ok(())
    }

    /// Whether the caller may execute a file with metadata `m`: some x bit for root, the x
    /// bit of the caller's class for anyone else.
    pub fn may_execute(&self, m: &super::Meta) -> bool {
        match current_access() {
            Some(who) => allowed(&who, m.uid, m.gid, m.mode, X),
            None => m.mode & 0o111 != 0,
        }
    }

    /// Only the owner (or root) changes an entry's mode or times.
    pub(crate) fn permit_owner(&self, node: &Node) -> io::Result<()> {
        match current_access() {
            Some(who) if who.uid != node.stat.uid => Err(err(Code::Perm, &node.vpath(), "operation not permitted")),
            _ => Ok(()),
        }
    }
}

/// Give a new entry (host path `host`) to the caller, as its creator (nothing for root).
pub(crate) fn own_new(host: &Path) {
    #[cfg(unix)]
    if let Some(who) = current_access() {
        let _ = std::os::unix::fs::lchown(host, Some(who.uid), Some(who.gid));
    }
    #[cfg(not(unix))]
    let _ = host;
}

/// Keep a copied-up entry's owner (skiff writes the copy as itself).
pub(crate) fn keep_owner(host: &Path, uid: u32, gid: u32) {
    #[cfg(unix)]
    if uid != 0 || gid != 0 {
        let _ = std::os::unix::fs::lchown(host, Some(uid), Some(gid));
    }
    #[cfg(not(unix))]
    let _ = (host, uid, gid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let bob = Access { uid: 1000, gid: 100, groups: vec![10] };
        assert!(allowed(&bob, 1000, 0, 0o700, R | W | X), "owner");
        assert!(!allowed(&bob, 0, 0, 0o755, W), "other cannot write root's");
        assert!(allowed(&bob, 0, 10, 0o070, R), "supplementary group");
        assert!(!allowed(&bob, 1000, 100, 0o077, R), "the owner class wins even when it is narrower");
        assert!(allowed(&bob, 0, 0, 0o1777, W | X), "/tmp");
    }
}
