//! Who a guest process is: the image's `USER` or `--user`, resolved with the container's own
//! `/etc/passwd` and `/etc/group` (read through the union view), inherited by children. The
//! identity is also set as the calling thread's, so the union view can check permissions as
//! that user.

use crate::runtime::users;
use crate::unionfs::UnionFs;

/// A guest process's user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub home: String,
}

impl Identity {
    pub fn root() -> Identity {
        Identity { home: "/root".into(), ..Default::default() }
    }

    /// Resolve `--user` / `USER` (empty: root) in the container `fs`.
    pub fn resolve(fs: &UnionFs, spec: &str) -> Result<Identity, String> {
        let read = |p: &str| fs.read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let u = users::resolve(spec, &read("/etc/passwd"), &read("/etc/group"))?;
        Ok(Identity { uid: u.uid, gid: u.gid, groups: u.groups, home: u.home })
    }

    /// As the union view checks access: uid, gid, supplementary groups.
    pub fn as_access(&self) -> crate::unionfs::Access {
        crate::unionfs::Access { uid: self.uid, gid: self.gid, groups: self.groups.clone() }
    }
}
