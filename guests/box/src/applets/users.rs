//! Who we are and who owns files: id, whoami, chown, chgrp (the `ids` and `chown` imports,
//! names from the image's `/etc/passwd` and `/etc/group`).

use crate::err;
use crate::util::{self, done, errstr, getopt, out};
use skiff_guest::proc;
use std::io::{self, Write};

/// `uid=0(root)`-style item: the number and, when known, the name.
fn num_name(id: u32, name: Option<String>) -> String {
    match name {
        Some(n) => format!("{id}({n})"),
        None => id.to_string(),
    }
}

/// The groups line of `id`: the primary group first, then the others, without repeats.
pub fn group_list(gid: u32, extra: &[u32]) -> Vec<u32> {
    let mut v = vec![gid];
    for &g in extra {
        if !v.contains(&g) {
            v.push(g);
        }
    }
    v
}

/// Groups whose member list names `user` (the supplementary groups of a passwd user).
pub fn member_groups(db: &[util::DbEntry], user: &str) -> Vec<u32> {
    db.iter().filter(|g| g.members.iter().any(|m| m == user)).map(|g| g.id).collect()
}

/// `id [-u|-g|-G] [-n] [-r] [USER]`: this process's ids (the host's `ids`) or a user's from
/// `/etc/passwd` and `/etc/group`.
pub fn id(args: &[String]) -> i32 {
    let o = match getopt(args, "ugGnr") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let (uid, gid, groups) = match o.args.first() {
        None => {
            let me = proc::ids();
            (me.uid, me.gid, group_list(me.gid, &me.groups))
        }
        Some(name) => match util::passwd().iter().find(|e| &e.name == name) {
            Some(e) => (e.id, e.gid, group_list(e.gid, &member_groups(util::groups_db(), name))),
            None if name == "root" => (0, 0, vec![0]),
            None => {
                err!("unknown user {name}");
                return 1;
            }
        },
    };
    let n = o.has('n');
    let show_g = |g: u32| if n { util::group_or_id(g) } else { g.to_string() };
    let line = if o.has('u') {
        if n {
            util::user_or_id(uid)
        } else {
            uid.to_string()
        }
    } else if o.has('g') {
        show_g(gid)
    } else if o.has('G') {
        groups.iter().map(|&g| show_g(g)).collect::<Vec<_>>().join(" ")
    } else {
        if n {
            err!("option -n requires -u, -g or -G");
            return 1;
        }
        let gl: Vec<String> = groups.iter().map(|&g| num_name(g, util::group_name(g))).collect();
        format!(
            "uid={} gid={} groups={}",
            num_name(uid, util::user_name(uid)),
            num_name(gid, util::group_name(gid)),
            gl.join(",")
        )
    };
    println!("{line}");
    0
}

/// `whoami`: the name of this process's user (`ids`), as `/etc/passwd` spells it.
pub fn whoami(_: &[String]) -> i32 {
    let uid = proc::ids().uid;
    match util::user_name(uid) {
        Some(n) => {
            println!("{n}");
            0
        }
        None => {
            err!("unknown uid {uid}");
            1
        }
    }
}

/// Parse chown's `USER[:GROUP]` (also `USER.GROUP`, `:GROUP`, `USER:` for the user's login
/// group) with the given lookups; `Err` names what is unknown.
pub fn parse_owner(
    spec: &str,
    users: impl Fn(&str) -> Option<(u32, u32)>,
    groups: impl Fn(&str) -> Option<u32>,
) -> Result<(Option<u32>, Option<u32>), String> {
    let (u, g) = match spec.find(':') {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => match spec.find('.') {
            // `user.group` only when `user.group` is not itself a user name.
            Some(i) if users(spec).is_none() => (&spec[..i], Some(&spec[i + 1..])),
            _ => (spec, None),
        },
    };
    let mut uid = None;
    let mut login_gid = None;
    if !u.is_empty() {
        let (id, g) = users(u).ok_or_else(|| format!("unknown user {u}"))?;
        uid = Some(id);
        login_gid = Some(g);
    }
    let gid = match g {
        None => None,
        Some("") => login_gid,
        Some(g) => Some(groups(g).ok_or_else(|| format!("unknown group {g}"))?),
    };
    if uid.is_none() && gid.is_none() && g.is_none() {
        return Err(format!("invalid user '{spec}'"));
    }
    Ok((uid, gid))
}

fn chown_err(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(skiff_guest::errno::ENOSYS) {
        "changing owners is not supported by this host".into()
    } else if e.raw_os_error() == Some(skiff_guest::errno::EPERM) {
        "Operation not permitted".into()
    } else {
        errstr(e)
    }
}

struct Chown<'a> {
    uid: Option<u32>,
    gid: Option<u32>,
    o: &'a util::Opts,
    w: util::Out,
}

impl Chown<'_> {
    fn one(&mut self, p: &str, follow: bool) -> bool {
        let before = util::meta(p, follow).ok();
        let ok = match skiff_guest::proc::chown(p, self.uid, self.gid, follow) {
            Ok(()) => true,
            Err(e) => {
                if !self.o.has('f') {
                    err!("{p}: {}", chown_err(&e));
                }
                false
            }
        };
        let changed =
            before.is_some_and(|b| self.uid.is_some_and(|u| u != b.uid) || self.gid.is_some_and(|g| g != b.gid));
        if ok && (self.o.has('v') || (self.o.has('c') && changed)) {
            let _ = writeln!(
                self.w,
                "changed ownership of '{p}' to {}",
                match (self.uid, self.gid) {
                    (Some(u), Some(g)) => format!("{u}:{g}"),
                    (Some(u), None) => u.to_string(),
                    (None, Some(g)) => format!(":{g}"),
                    _ => String::new(),
                }
            );
        }
        ok
    }

    fn tree(&mut self, p: &str, top: bool) -> bool {
        let follow = top && !self.o.has('h');
        let mut ok = self.one(p, follow);
        if !self.o.has('R') {
            return ok;
        }
        let st = match util::meta(p, follow) {
            Ok(s) => s,
            Err(_) => return ok,
        };
        if util::is_dir(st.mode) {
            match std::fs::read_dir(p) {
                Ok(rd) => {
                    let mut names: Vec<String> =
                        rd.flatten().map(|d| d.file_name().to_string_lossy().into_owned()).collect();
                    names.sort();
                    for n in names {
                        ok &= self.tree(&util::join(p, &n), false);
                    }
                }
                Err(e) => {
                    err!("{p}: {}", errstr(&e));
                    ok = false;
                }
            }
        }
        ok
    }
}

fn chown_main(args: &[String], group_only: bool) -> i32 {
    let o = match getopt(args, "RhcfvLHP") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.len() < 2 {
        err!("missing operand");
        return 1;
    }
    let spec = &o.args[0];
    let parsed = if group_only {
        util::group_lookup(spec).map(|g| (None, Some(g))).ok_or_else(|| format!("unknown group {spec}"))
    } else {
        parse_owner(spec, util::user_lookup, util::group_lookup)
    };
    let (uid, gid) = match parsed {
        Ok(x) => x,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut c = Chown { uid, gid, o: &o, w: out() };
    let mut rc = 0;
    for p in &o.args[1..] {
        if !c.tree(p, true) {
            rc = 1;
        }
    }
    done(&mut c.w, rc)
}

/// `chown [-Rhcfv] USER[:GROUP] FILE...`
pub fn chown(args: &[String]) -> i32 {
    chown_main(args, false)
}

/// `chgrp [-Rhcfv] GROUP FILE...`
pub fn chgrp(args: &[String]) -> i32 {
    chown_main(args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(s: &str) -> Option<(u32, u32)> {
        match s {
            "root" => Some((0, 0)),
            "app" => Some((1000, 1000)),
            "a.b" => Some((7, 7)),
            _ => s.parse().ok().map(|n| (n, n)),
        }
    }
    fn groups(s: &str) -> Option<u32> {
        match s {
            "root" => Some(0),
            "app" => Some(1000),
            "wheel" => Some(10),
            _ => s.parse().ok(),
        }
    }

    #[test]
    fn owner_specs() {
        assert_eq!(parse_owner("app", users, groups), Ok((Some(1000), None)));
        assert_eq!(parse_owner("app:wheel", users, groups), Ok((Some(1000), Some(10))));
        assert_eq!(parse_owner("app.wheel", users, groups), Ok((Some(1000), Some(10))));
        assert_eq!(parse_owner("a.b", users, groups), Ok((Some(7), None)));
        assert_eq!(parse_owner(":wheel", users, groups), Ok((None, Some(10))));
        assert_eq!(parse_owner("app:", users, groups), Ok((Some(1000), Some(1000))));
        assert_eq!(parse_owner("12:34", users, groups), Ok((Some(12), Some(34))));
        assert!(parse_owner("nobody", users, groups).unwrap_err().contains("unknown user"));
        assert!(parse_owner("app:nogroup", users, groups).unwrap_err().contains("unknown group"));
        assert!(parse_owner("", users, groups).is_err());
    }

    #[test]
    fn groups_of_users() {
        let db = util::parse_db("root:x:0:\nwheel:x:10:root,app\nusers:x:100:app\n", true);
        assert_eq!(member_groups(&db, "app"), vec![10, 100]);
        assert_eq!(group_list(1000, &[10, 1000, 100]), vec![1000, 10, 100]);
        let pw = util::parse_db("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n", false);
        assert_eq!((pw[1].name.as_str(), pw[1].id, pw[1].gid), ("app", 1000, 1001));
        assert_eq!(num_name(5, None), "5");
        assert_eq!(num_name(0, Some("root".into())), "0(root)");
    }
}
