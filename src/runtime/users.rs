//! `--user` / `USER`: `name`, `uid`, `name:group`, `uid:gid` resolved against the image's
//! `/etc/passwd` and `/etc/group`, as Docker (runc's `user` package) does: a name must exist,
//! a number need not; the group defaults to the user's primary group, and the supplementary
//! groups are those listing the user.

/// Who a process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The user's home from passwd (`HOME` defaults to it), `/` if unknown.
    pub home: String,
}

/// One `/etc/passwd` line: name, uid, gid, home.
fn passwd_entries(passwd: &str) -> impl Iterator<Item = (&str, u32, u32, &str)> {
    passwd.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 6 {
            return None;
        }
        Some((f[0], f[2].parse().ok()?, f[3].parse().ok()?, f[5]))
    })
}

/// One `/etc/group` line: name, gid, members.
fn group_entries(group: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    group.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 3 {
            return None;
        }
        let members = f.get(3).map(|m| m.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        Some((f[0], f[2].parse().ok()?, members))
    })
}

/// Resolve `spec` (empty: root) with the image's passwd and group files' contents.
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<User, String> {
    if spec.is_empty() {
        // Root, with the groups that list root (busybox's root is in `wheel`, as Docker shows).
        return match passwd_entries(passwd).find(|e| e.1 == 0) {
            Some((name, ..)) => resolve(name, passwd, group),
            None => Ok(User { uid: 0, gid: 0, groups: vec![], home: "/root".into() }),
        };
    }
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = match u.parse::<u32>() {
        Ok(uid) => passwd_entries(passwd).find(|e| e.1 == uid).map(|e| (e.0, e.1, e.2, e.3)),
        Err(_) => passwd_entries(passwd).find(|e| e.0 == u).map(|e| (e.0, e.1, e.2, e.3)),
    };
    let (name, uid, primary, home) = match (entry, u.parse::<u32>()) {
        (Some(e), _) => (Some(e.0), e.1, e.2, e.3.to_string()),
        (None, Ok(uid)) => (None, uid, 0, "/".to_string()),
        (None, Err(_)) => {
            return Err(format!("unable to find user {u}: no matching entries in passwd file"));
        }
    };
    let gid = match g {
        None | Some("") => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_entries(group)
                .find(|e| e.0 == g)
                .map(|e| e.1)
                .ok_or_else(|| format!("unable to find group {g}: no matching entries in group file"))?,
        },
    };
    let mut groups: Vec<u32> = match (name, g) {
        (Some(n), None) => group_entries(group).filter(|e| e.2.contains(&n)).map(|e| e.1).collect(),
        _ => vec![],
    };
    groups.retain(|x| *x != gid);
    groups.dedup();
    Ok(User { uid, gid, groups, home })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nbob:x:1000:100:Bob:/home/bob:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nusers:x:100:\nwheel:x:10:root,bob\nnogroup:x:65534:\n";

    #[test]
    fn users_and_groups() {
        assert_eq!(
            resolve("", PASSWD, GROUP).unwrap(),
            User { uid: 0, gid: 0, groups: vec![10], home: "/root".into() }
        );
        let bob = resolve("bob", PASSWD, GROUP).unwrap();
        assert_eq!((bob.uid, bob.gid, bob.groups.clone(), bob.home.as_str()), (1000, 100, vec![10], "/home/bob"));
        assert_eq!(resolve("nobody", PASSWD, GROUP).unwrap().gid, 65534);
        let n = resolve("1234:55", PASSWD, GROUP).unwrap();
        assert_eq!((n.uid, n.gid, n.home.as_str()), (1234, 55, "/"));
        assert_eq!(resolve("bob:wheel", PASSWD, GROUP).unwrap().gid, 10);
        assert!(resolve("alice", PASSWD, GROUP).unwrap_err().contains("unable to find user alice"));
        assert!(resolve("bob:staff", PASSWD, GROUP).unwrap_err().contains("unable to find group staff"));
    }
}
