//! File applets: mkdir, rm, rmdir, cp, mv, touch, ln, chmod, stat, du, readlink, realpath.

use crate::err;
use crate::util::{self, base_name, done, errstr, getopt, join, meta, out};
use std::fs;
use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const UMASK: u32 = 0o022;

/// Apply a chmod mode spec (octal or symbolic `u+x,go-w,a=r`) to `old`.
pub fn parse_mode(spec: &str, old: u32, is_dir: bool) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        let v = u32::from_str_radix(spec, 8).ok()?;
        return (v <= 0o7777).then_some(v);
    }
    let mut mode = old & 0o7777;
    for clause in spec.split(',') {
        let b = clause.as_bytes();
        let mut i = 0;
        let mut who = 0u32;
        while i < b.len() && b"ugoa".contains(&b[i]) {
            who |= match b[i] {
                b'u' => 0o4700,
                b'g' => 0o2070,
                b'o' => 0o1007,
                _ => 0o7777,
            };
            i += 1;
        }
        let explicit = who != 0;
        if !explicit {
            who = 0o7777;
        }
        if i >= b.len() {
            return None;
        }
        while i < b.len() {
            let op = b[i];
            if !b"+-=".contains(&op) {
                return None;
            }
            i += 1;
            let mut bits = 0u32;
            if i < b.len() && b"ugo".contains(&b[i]) {
                let src = match b[i] {
                    b'u' => (mode >> 6) & 7,
                    b'g' => (mode >> 3) & 7,
                    _ => mode & 7,
                };
                bits = src * 0o111;
                i += 1;
            } else {
                while i < b.len() && b"rwxXst".contains(&b[i]) {
                    bits |= match b[i] {
                        b'r' => 0o444,
                        b'w' => 0o222,
                        b'x' => 0o111,
                        b'X' if is_dir || mode & 0o111 != 0 => 0o111,
                        b's' => 0o6000,
                        b't' => 0o1000,
                        _ => 0,
                    };
                    i += 1;
                }
            }
            let mut mask = who & bits;
            if !explicit && op != b'-' {
                mask &= !UMASK;
            }
            match op {
                b'+' => mode |= mask,
                b'-' => mode &= !(who & bits),
                _ => {
                    let keep = if is_dir { 0o6000 & !who } else { 0 };
                    mode = (mode & !(who & 0o7777)) | mask | (mode & keep);
                }
            }
        }
    }
    Some(mode)
}

/// `mkdir [-p] [-m MODE] DIR...`
pub fn mkdir(args: &[String]) -> i32 {
    let o = match getopt(args, "pm:v") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing operand");
        return 1;
    }
    let mode = match o.val('m') {
        Some(m) => match parse_mode(m, 0o777, true) {
            Some(v) => Some(v),
            None => {
                err!("invalid mode '{m}'");
                return 1;
            }
        },
        None => None,
    };
    let mut rc = 0;
    for d in &o.args {
        let r = if o.has('p') {
            match fs::metadata(d) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(io::ErrorKind::AlreadyExists.into()),
                Err(_) => fs::create_dir_all(d),
            }
        } else {
            fs::create_dir(d)
        };
        match r {
            Ok(()) => {
                if let Some(m) = mode {
                    if let Err(e) = util::set_mode(d, m) {
                        err!("can't change mode of '{d}': {}", errstr(&e));
                        rc = 1;
                    }
                }
            }
            Err(e) => {
                err!("can't create directory '{d}': {}", errstr(&e));
                rc = 1;
            }
        }
    }
    rc
}

fn remove_tree(p: &str, force: bool) -> bool {
    let md = match fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => {
            if !(force && e.kind() == io::ErrorKind::NotFound) {
                err!("can't remove '{p}': {}", errstr(&e));
                return false;
            }
            return true;
        }
    };
    if md.is_dir() {
        let mut ok = true;
        match fs::read_dir(p) {
            Ok(rd) => {
                for e in rd.flatten() {
                    ok &= remove_tree(&join(p, &e.file_name().to_string_lossy()), force);
                }
            }
            Err(e) => {
                err!("can't open '{p}': {}", errstr(&e));
                return false;
            }
        }
        if let Err(e) = fs::remove_dir(p) {
            err!("can't remove '{p}': {}", errstr(&e));
            return false;
        }
        ok
    } else if let Err(e) = fs::remove_file(p) {
        err!("can't remove '{p}': {}", errstr(&e));
        false
    } else {
        true
    }
}

/// `rm [-rRf] FILE...`
pub fn rm(args: &[String]) -> i32 {
    let o = match getopt(args, "rRfiv") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let force = o.has('f');
    if o.args.is_empty() && !force {
        err!("missing operand");
        return 1;
    }
    let mut rc = 0;
    for p in &o.args {
        let b = base_name(p);
        if b == "." || b == ".." {
            err!("refusing to remove '.' or '..' directory: skipping '{p}'");
            rc = 1;
            continue;
        }
        if o.has('r') || o.has('R') {
            if !remove_tree(p, force) {
                rc = 1;
            }
            continue;
        }
        match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {
                err!("can't remove '{p}': Is a directory");
                rc = 1;
            }
            Ok(_) => {
                if let Err(e) = fs::remove_file(p) {
                    err!("can't remove '{p}': {}", errstr(&e));
                    rc = 1;
                }
            }
            Err(e) => {
                if !force {
                    err!("can't remove '{p}': {}", errstr(&e));
                    rc = 1;
                }
            }
        }
    }
    rc
}

/// `rmdir [-p] DIR...`
pub fn rmdir(args: &[String]) -> i32 {
    let o = match getopt(args, "pv") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut rc = 0;
    for d in &o.args {
        let mut cur = d.trim_end_matches('/').to_string();
        loop {
            if let Err(e) = fs::remove_dir(&cur) {
                err!("'{cur}': {}", errstr(&e));
                rc = 1;
                break;
            }
            if !o.has('p') {
                break;
            }
            let parent = util::dir_name(&cur);
            if parent == "." || parent == "/" || parent == cur {
                break;
            }
            cur = parent;
        }
    }
    rc
}

#[derive(Clone, Copy, Default)]
struct CpOpts {
    recursive: bool,
    preserve: bool,
    no_deref: bool,
    force: bool,
    no_clobber: bool,
    verbose: bool,
}

pub fn set_mtime(p: &str, secs: i64) {
    let t = if secs >= 0 { UNIX_EPOCH + Duration::from_secs(secs as u64) } else { UNIX_EPOCH };
    if let Ok(f) = fs::File::open(p) {
        let _ = f.set_modified(t);
    }
}

fn copy_file(src: &str, dst: &str, o: &CpOpts, src_mode: u32, mtime: i64) -> io::Result<()> {
    let existed = fs::symlink_metadata(dst).is_ok();
    let mut inp = fs::File::open(src)?;
    let mut outf = match fs::File::create(dst) {
        Ok(f) => f,
        Err(_) if o.force && existed => {
            fs::remove_file(dst)?;
            fs::File::create(dst)?
        }
        Err(e) => return Err(e),
    };
    io::copy(&mut inp, &mut outf)?;
    drop(outf);
    if o.preserve {
        let _ = util::set_mode(dst, src_mode & 0o7777);
        set_mtime(dst, mtime);
    } else if !existed {
        let _ = util::set_mode(dst, src_mode & 0o777 & !UMASK);
    }
    Ok(())
}

/// Copy `src` to `dst` (both exact paths); prints its own errors; returns success.
fn copy_any(src: &str, dst: &str, o: &CpOpts, top: bool) -> bool {
    let st = match if o.no_deref { meta(src, false) } else { meta(src, true) } {
        Ok(s) => s,
        Err(e) => {
            err!("can't stat '{src}': {}", errstr(&e));
            return false;
        }
    };
    if o.no_clobber && fs::symlink_metadata(dst).is_ok() {
        return true;
    }
    if o.verbose {
        println!("'{src}' -> '{dst}'");
    }
    if util::is_dir(st.mode) {
        if !o.recursive {
            err!("omitting directory '{src}'");
            return false;
        }
        if top {
            if let (Ok(a), Ok(b)) = (util::realpath(src, false), util::realpath(dst, true)) {
                if b == a || b.starts_with(&format!("{a}/")) {
                    err!("can't copy a directory, '{src}', into itself, '{dst}'");
                    return false;
                }
            }
        }
        match fs::symlink_metadata(dst) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                err!("can't create directory '{dst}': File exists");
                return false;
            }
            Err(_) => {
                if let Err(e) = fs::create_dir(dst) {
                    err!("can't create directory '{dst}': {}", errstr(&e));
                    return false;
                }
            }
        }
        let mut ok = true;
        match fs::read_dir(src) {
            Ok(rd) => {
                let mut names: Vec<String> =
                    rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                names.sort();
                for n in names {
                    ok &= copy_any(&join(src, &n), &join(dst, &n), o, false);
                }
            }
            Err(e) => {
                err!("can't open '{src}': {}", errstr(&e));
                ok = false;
            }
        }
        let m = if o.preserve { st.mode & 0o7777 } else { st.mode & 0o777 & !UMASK };
        let _ = util::set_mode(dst, m);
        if o.preserve {
            set_mtime(dst, st.mtime);
        }
        return ok;
    }
    if util::is_lnk(st.mode) {
        let target = match fs::read_link(src) {
            Ok(t) => t.to_string_lossy().into_owned(),
            Err(e) => {
                err!("can't read link '{src}': {}", errstr(&e));
                return false;
            }
        };
        if fs::symlink_metadata(dst).is_ok() {
            let _ = fs::remove_file(dst);
        }
        if let Err(e) = util::symlink(&target, dst) {
            err!("can't create symlink '{dst}': {}", errstr(&e));
            return false;
        }
        return true;
    }
    if let (true, Ok(a), Ok(b)) = (top, util::realpath(src, false), util::realpath(dst, false)) {
        if a == b {
            err!("'{src}' and '{dst}' are the same file");
            return false;
        }
    }
    match copy_file(src, dst, o, st.mode, st.mtime) {
        Ok(()) => true,
        Err(e) => {
            let who = if fs::File::open(src).is_err() { src } else { dst };
            err!("can't open '{who}': {}", errstr(&e));
            false
        }
    }
}

fn is_dir_path(p: &str) -> bool {
    fs::metadata(p).map(|m| m.is_dir()).unwrap_or(false)
}

/// `cp [-rRapdPfnv] SRC... DEST`
pub fn cp(args: &[String]) -> i32 {
    let o = match getopt(args, "rRapdPLHfinvlsTu") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let recursive = o.has('r') || o.has('R') || o.has('a');
    let co = CpOpts {
        recursive,
        preserve: o.has('p') || o.has('a'),
        no_deref: (o.has('d') || o.has('P') || o.has('a') || recursive) && !o.has('L'),
        force: o.has('f'),
        no_clobber: o.has('n'),
        verbose: o.has('v'),
    };
    if o.args.len() < 2 {
        err!("missing operand");
        return 1;
    }
    let (srcs, dest) = o.args.split_at(o.args.len() - 1);
    let dest = &dest[0];
    let into = is_dir_path(dest) && !o.has('T');
    if srcs.len() > 1 && !into {
        err!("'{dest}' is not a directory");
        return 1;
    }
    let mut rc = 0;
    for s in srcs {
        let d = if into { join(dest, base_name(s)) } else { dest.clone() };
        if !copy_any(s, &d, &co, true) {
            rc = 1;
        }
    }
    rc
}

/// `mv [-fnv] SRC... DEST` (rename; copy + delete across devices).
pub fn mv(args: &[String]) -> i32 {
    let o = match getopt(args, "finvT") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.len() < 2 {
        err!("missing operand");
        return 1;
    }
    let (srcs, dest) = o.args.split_at(o.args.len() - 1);
    let dest = &dest[0];
    let into = is_dir_path(dest) && !o.has('T');
    if srcs.len() > 1 && !into {
        err!("'{dest}' is not a directory");
        return 1;
    }
    let mut rc = 0;
    for s in srcs {
        let d = if into { join(dest, base_name(s)) } else { dest.clone() };
        if let Err(e) = fs::symlink_metadata(s) {
            err!("can't rename '{s}': {}", errstr(&e));
            rc = 1;
            continue;
        }
        if o.has('n') && fs::symlink_metadata(&d).is_ok() {
            continue;
        }
        if o.has('v') {
            println!("'{s}' -> '{d}'");
        }
        match fs::rename(s, &d) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound
                        | io::ErrorKind::DirectoryNotEmpty
                        | io::ErrorKind::IsADirectory
                        | io::ErrorKind::NotADirectory
                        | io::ErrorKind::InvalidInput
                ) =>
            {
                err!("can't rename '{s}': {}", errstr(&e));
                rc = 1;
            }
            Err(_) => {
                // e.g. EXDEV: copy, then delete the source
                let co = CpOpts { recursive: true, preserve: true, no_deref: true, force: true, ..Default::default() };
                if fs::symlink_metadata(&d).map(|m| !m.is_dir()).unwrap_or(false) {
                    let _ = fs::remove_file(&d);
                }
                if copy_any(s, &d, &co, true) {
                    if !remove_tree(s, true) {
                        rc = 1;
                    }
                } else {
                    rc = 1;
                }
            }
        }
    }
    rc
}

/// `touch [-c] [-d DATE] [-t STAMP] [-r REF] FILE...`
pub fn touch(args: &[String]) -> i32 {
    let o = match getopt(args, "cd:t:r:amh") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing operand");
        return 1;
    }
    let mut when: Option<i64> = None;
    if let Some(d) = o.val('d') {
        match crate::date::parse_date(d) {
            Some(t) => when = Some(t),
            None => {
                err!("invalid date '{d}'");
                return 1;
            }
        }
    }
    if let Some(t) = o.val('t') {
        // [[CC]YY]MMDDhhmm[.ss]
        let (main, ss) = t.split_once('.').unwrap_or((t, "0"));
        let ok = main.chars().all(|c| c.is_ascii_digit()) && matches!(main.len(), 8 | 10 | 12);
        let n = |s: &str| s.parse::<i64>().unwrap_or(0);
        if !ok {
            err!("invalid date '{t}'");
            return 1;
        }
        let (year, rest) = match main.len() {
            12 => (n(&main[..4]), &main[4..]),
            10 => (2000 + n(&main[..2]), &main[2..]),
            _ => (crate::date::gmtime(crate::date::now()).year, main),
        };
        let days = crate::date::days_from_civil(year, n(&rest[..2]) as u32, n(&rest[2..4]) as u32);
        when = Some(days * 86400 + n(&rest[4..6]) * 3600 + n(&rest[6..8]) * 60 + n(ss));
    }
    if let Some(r) = o.val('r') {
        match meta(r, true) {
            Ok(s) => when = Some(s.mtime),
            Err(e) => {
                err!("{r}: {}", errstr(&e));
                return 1;
            }
        }
    }
    let mut rc = 0;
    for p in &o.args {
        let exists = fs::symlink_metadata(p).is_ok();
        if !exists {
            if o.has('c') {
                continue;
            }
            if let Err(e) = fs::OpenOptions::new().create(true).append(true).open(p) {
                err!("{p}: {}", errstr(&e));
                rc = 1;
                continue;
            }
            if when.is_none() {
                continue;
            }
        }
        let t = match when {
            Some(s) if s >= 0 => UNIX_EPOCH + Duration::from_secs(s as u64),
            Some(_) => UNIX_EPOCH,
            None => SystemTime::now(),
        };
        let r = fs::File::open(p)
            .and_then(|f| f.set_modified(t))
            .or_else(|_| fs::OpenOptions::new().write(true).open(p).and_then(|f| f.set_modified(t)));
        if let Err(e) = r {
            err!("{p}: {}", errstr(&e));
            rc = 1;
        }
    }
    rc
}

/// `ln [-sfnvT] TARGET [LINK]` / `ln TARGET... DIR`
pub fn ln(args: &[String]) -> i32 {
    let o = match getopt(args, "sfnvTb") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing operand");
        return 1;
    }
    let (targets, dest): (&[String], String) = if o.args.len() == 1 {
        (&o.args[..], ".".to_string())
    } else {
        (&o.args[..o.args.len() - 1], o.args[o.args.len() - 1].clone())
    };
    let dest_dir =
        if o.has('n') { fs::symlink_metadata(&dest).map(|m| m.is_dir()).unwrap_or(false) } else { is_dir_path(&dest) };
    let into = (o.args.len() == 1 || dest_dir) && !o.has('T');
    if targets.len() > 1 && !into {
        err!("'{dest}' is not a directory");
        return 1;
    }
    let mut rc = 0;
    for t in targets {
        let link = if into { join(&dest, base_name(t)) } else { dest.clone() };
        if fs::symlink_metadata(&link).is_ok() {
            if o.has('f') {
                let _ = fs::remove_file(&link);
            } else {
                err!("{link}: File exists");
                rc = 1;
                continue;
            }
        }
        let r = if o.has('s') {
            util::symlink(t, &link)
        } else {
            match fs::metadata(t) {
                Err(e) => Err(e),
                Ok(m) if m.is_dir() => {
                    err!("{t}: hard link not allowed for directory");
                    rc = 1;
                    continue;
                }
                // a filesystem without hard links: fall back to a copy
                Ok(_) => fs::hard_link(t, &link).or_else(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        return Err(e);
                    }
                    let co = CpOpts { preserve: true, ..Default::default() };
                    let st = meta(t, true)?;
                    copy_file(t, &link, &co, st.mode, st.mtime)
                }),
            }
        };
        if let Err(e) = r {
            err!("{link}: {}", errstr(&e));
            rc = 1;
        } else if o.has('v') {
            println!("'{link}' -> '{t}'");
        }
    }
    rc
}

fn chmod_one(p: &str, spec: &str, recursive: bool, o: &util::Opts) -> bool {
    let st = match meta(p, !recursive) {
        Ok(s) => s,
        Err(e) => {
            if !o.has('f') {
                err!("{p}: {}", errstr(&e));
            }
            return false;
        }
    };
    let mut ok = true;
    if !util::is_lnk(st.mode) {
        let Some(m) = parse_mode(spec, st.mode, util::is_dir(st.mode)) else {
            err!("invalid mode '{spec}'");
            return false;
        };
        if let Err(e) = util::set_mode(p, m) {
            if !o.has('f') {
                err!("{p}: {}", errstr(&e));
            }
            ok = false;
        } else if o.has('v') || (o.has('c') && m != st.mode & 0o7777) {
            println!("mode of '{p}' changed to {m:04o} ({})", &util::mode_string(m | (st.mode & util::S_IFMT))[1..]);
        }
    }
    if recursive && util::is_dir(st.mode) {
        if let Ok(rd) = fs::read_dir(p) {
            let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            for n in names {
                ok &= chmod_one(&join(p, &n), spec, true, o);
            }
        }
    }
    ok
}

/// `chmod [-Rfvc] MODE FILE...`
pub fn chmod(args: &[String]) -> i32 {
    // a mode like -w looks like an option: take it out first
    let mut a: Vec<String> = Vec::new();
    let mut mode: Option<String> = None;
    for (i, x) in args.iter().enumerate() {
        if i > 0
            && mode.is_none()
            && x.len() > 1
            && x.starts_with('-')
            && parse_mode(x, 0, false).is_some()
            && !x[1..].chars().all(|c| "Rfvc".contains(c))
        {
            mode = Some(x.clone());
        } else {
            a.push(x.clone());
        }
    }
    let o = match getopt(&a, "Rfvc") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut files = o.args.clone();
    let mode = match mode {
        Some(m) => m,
        None if !files.is_empty() => files.remove(0),
        None => {
            err!("missing operand");
            return 1;
        }
    };
    if files.is_empty() {
        err!("missing operand after '{mode}'");
        return 1;
    }
    if parse_mode(&mode, 0o644, false).is_none() {
        err!("invalid mode '{mode}'");
        return 1;
    }
    let mut rc = 0;
    for f in &files {
        if !chmod_one(f, &mode, o.has('R'), &o) {
            rc = 1;
        }
    }
    rc
}

fn fmt_time(t: i64) -> String {
    crate::date::strftime("%Y-%m-%d %H:%M:%S.000000000 +0000", &crate::date::gmtime(t))
}

/// Expand a `stat -c` format for one file.
pub fn stat_format(fmt: &str, name: &str, st: &util::Stat, link: Option<&str>) -> String {
    let mut s = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some('\\') => s.push('\\'),
                Some(o) => {
                    s.push('\\');
                    s.push(o);
                }
                None => s.push('\\'),
            }
            continue;
        }
        if c != '%' {
            s.push(c);
            continue;
        }
        // optional width / flags, e.g. %-10s
        let mut spec = String::new();
        while let Some(&d) = it.peek() {
            if d == '-' || d.is_ascii_digit() || d == '.' || d == '#' || d == '0' {
                spec.push(d);
                it.next();
            } else {
                break;
            }
        }
        let Some(d) = it.next() else {
            s.push('%');
            break;
        };
        let v = match d {
            'a' => format!("{:o}", st.mode & 0o7777),
            'A' => util::mode_string(st.mode),
            'b' => st.size.div_ceil(512).to_string(),
            'B' => "512".into(),
            'd' => "0".into(),
            'D' => "0".into(),
            'f' => format!("{:x}", st.mode),
            'F' => util::type_name(st.mode).into(),
            'g' => st.gid.to_string(),
            'G' => util::group_or_id(st.gid),
            'h' => st.nlink.to_string(),
            'i' => "0".into(),
            'n' => name.into(),
            'N' => match link {
                Some(t) => format!("'{name}' -> '{t}'"),
                None => format!("'{name}'"),
            },
            'o' => "4096".into(),
            's' => st.size.to_string(),
            't' | 'T' => "0".into(),
            'u' => st.uid.to_string(),
            'U' => util::user_or_id(st.uid),
            'x' | 'y' | 'z' => fmt_time(st.mtime),
            'X' | 'Y' | 'Z' => st.mtime.to_string(),
            'W' => "0".into(),
            'w' => "-".into(),
            'm' => "/".into(),
            '%' => "%".into(),
            other => format!("?{other}"),
        };
        if spec.is_empty() {
            s.push_str(&v);
        } else {
            let left = spec.starts_with('-');
            let zero = spec.trim_start_matches('-').starts_with('0');
            let w: usize =
                spec.trim_start_matches(['-', '#', '0']).split('.').next().unwrap_or("").parse().unwrap_or(0);
            if left {
                s.push_str(&format!("{v:<w$}"));
            } else if zero {
                s.push_str(&format!("{v:0>w$}"));
            } else {
                s.push_str(&format!("{v:>w$}"));
            }
        }
    }
    s
}

/// `stat [-L] [-c FMT] FILE...`
pub fn stat(args: &[String]) -> i32 {
    let o = match getopt(args, "Lc:tf") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing operand");
        return 1;
    }
    let mut w = out();
    let mut rc = 0;
    for f in &o.args {
        let st = match meta(f, o.has('L')) {
            Ok(s) => s,
            Err(e) => {
                err!("can't stat '{f}': {}", errstr(&e));
                rc = 1;
                continue;
            }
        };
        let link =
            if util::is_lnk(st.mode) { fs::read_link(f).ok().map(|p| p.to_string_lossy().into_owned()) } else { None };
        let text = if let Some(c) = o.val('c') {
            format!("{}\n", stat_format(c, f, &st, link.as_deref()))
        } else if o.has('t') {
            stat_format("%n %s %b %f %u %g %D %i %h %t %T %X %Y %Z %o\n", f, &st, None)
        } else {
            let file = match &link {
                Some(t) => format!("{f} -> {t}"),
                None => f.clone(),
            };
            let body = stat_format(
                "  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n\
                 Device: %Dh/%dd\tInode: %-10i  Links: %h\n\
                 Access: (%04a/%A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\n\
                 Access: %x\nModify: %y\nChange: %z\n",
                f,
                &st,
                link.as_deref(),
            );
            format!("  File: {file}\n{body}")
        };
        if w.write_all(text.as_bytes()).is_err() {
            return 1;
        }
    }
    done(&mut w, rc)
}

fn du_walk(p: &str, depth: usize, o: &util::Opts, maxd: Option<usize>, w: &mut util::Out, rc: &mut i32) -> u64 {
    let md = match fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => {
            err!("{p}: {}", errstr(&e));
            *rc = 1;
            return 0;
        }
    };
    let mut total = md.len().div_ceil(1024);
    if md.is_dir() {
        total = 4;
        if let Ok(rd) = fs::read_dir(p) {
            let mut names: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            for n in names {
                total += du_walk(&join(p, &n), depth + 1, o, maxd, w, rc);
            }
        }
    }
    let show = if o.has('s') {
        depth == 0
    } else if let Some(m) = maxd {
        depth <= m && (md.is_dir() || o.has('a') || depth == 0)
    } else {
        md.is_dir() || o.has('a') || depth == 0
    };
    if show {
        let size = if o.has('h') {
            util::human(total * 1024)
        } else if o.has('m') {
            total.div_ceil(1024).to_string()
        } else {
            total.to_string()
        };
        let _ = writeln!(w, "{size}\t{p}");
    }
    total
}

/// `du [-s] [-h] [-a] [-c] [-d N] [-k] [-m] [PATH]...` (sizes in KiB from file lengths)
pub fn du(args: &[String]) -> i32 {
    let o = match getopt(args, "sahcd:kmxL") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let maxd = o.val('d').and_then(|v| v.parse().ok());
    let paths = if o.args.is_empty() { vec![".".to_string()] } else { o.args.clone() };
    let mut w = out();
    let mut rc = 0;
    let mut grand = 0;
    for p in &paths {
        grand += du_walk(p, 0, &o, maxd, &mut w, &mut rc);
    }
    if o.has('c') {
        let size = if o.has('h') { util::human(grand * 1024) } else { grand.to_string() };
        let _ = writeln!(w, "{size}\ttotal");
    }
    done(&mut w, rc)
}

/// `readlink [-f] [-n] FILE`
pub fn readlink(args: &[String]) -> i32 {
    let o = match getopt(args, "fenqsv") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut rc = 0;
    let mut w = out();
    for p in &o.args {
        let r = if o.has('f') || o.has('e') {
            util::realpath(p, o.has('f'))
        } else {
            fs::read_link(p).map(|t| t.to_string_lossy().into_owned())
        };
        match r {
            Ok(t) => {
                let _ = write!(w, "{t}{}", if o.has('n') { "" } else { "\n" });
            }
            Err(_) => rc = 1,
        }
    }
    done(&mut w, rc)
}

/// `realpath FILE...`
pub fn realpath(args: &[String]) -> i32 {
    let o = match getopt(args, "") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut rc = 0;
    let mut w = out();
    for p in &o.args {
        match util::realpath(p, true) {
            Ok(t) => {
                let _ = writeln!(w, "{t}");
            }
            Err(e) => {
                err!("{p}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    done(&mut w, rc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::{argv, tempdir};

    #[test]
    fn modes() {
        assert_eq!(parse_mode("755", 0, false), Some(0o755));
        assert_eq!(parse_mode("u+x", 0o644, false), Some(0o744));
        assert_eq!(parse_mode("go-w", 0o666, false), Some(0o644));
        assert_eq!(parse_mode("a=r", 0o777, false), Some(0o444));
        assert_eq!(parse_mode("u+x,go-w", 0o666, false), Some(0o744));
        assert_eq!(parse_mode("+x", 0o644, false), Some(0o755));
        assert_eq!(parse_mode("a+X", 0o644, false), Some(0o644));
        assert_eq!(parse_mode("a+X", 0o644, true), Some(0o755));
        assert_eq!(parse_mode("u+s", 0o755, false), Some(0o4755));
        assert_eq!(parse_mode("g=u", 0o740, false), Some(0o770));
        assert_eq!(parse_mode("o=", 0o777, false), Some(0o770));
        assert_eq!(parse_mode("u=rwx,g=rx,o=", 0, false), Some(0o750));
        assert_eq!(parse_mode("-w", 0o666, false), Some(0o444));
        assert_eq!(parse_mode("x", 0, false), None);
        assert_eq!(parse_mode("u+q", 0, false), None);
        assert_eq!(parse_mode("8", 0, false), None);
    }

    #[test]
    fn stat_formats() {
        let st = util::Stat { mode: util::S_IFREG | 0o644, uid: 0, gid: 0, nlink: 1, size: 12, mtime: 0 };
        assert_eq!(stat_format("%a %A %s %n %U %F %h", "f", &st, None), "644 -rw-r--r-- 12 f root regular file 1");
        assert_eq!(stat_format("%04a|%-4s|%5u", "f", &st, None), "0644|12  |    0");
        assert_eq!(stat_format("%y", "f", &st, None), "1970-01-01 00:00:00.000000000 +0000");
    }

    #[test]
    fn tree_ops_on_host() {
        let d = tempdir();
        let p = |s: &str| format!("{d}/{s}");
        assert_eq!(mkdir(&argv(&["mkdir", "-p", &p("a/b/c")])), 0);
        assert!(fs::metadata(p("a/b/c")).unwrap().is_dir());
        assert_eq!(mkdir(&argv(&["mkdir", &p("a")])), 1);
        assert_eq!(mkdir(&argv(&["mkdir", "-p", &p("a")])), 0);
        fs::write(p("a/b/f"), "hello").unwrap();
        assert_eq!(touch(&argv(&["touch", &p("a/t")])), 0);
        assert!(fs::metadata(p("a/t")).unwrap().is_file());
        assert_eq!(touch(&argv(&["touch", "-c", &p("a/none")])), 0);
        assert!(fs::metadata(p("a/none")).is_err());
        assert_eq!(touch(&argv(&["touch", "-d", "@86400", &p("a/t")])), 0);
        assert_eq!(meta(&p("a/t"), true).unwrap().mtime, 86400);
        // cp -r into a new dir, then into an existing one
        assert_eq!(cp(&argv(&["cp", &p("a"), &p("x")])), 1);
        assert_eq!(cp(&argv(&["cp", "-r", &p("a"), &p("x")])), 0);
        assert_eq!(fs::read_to_string(p("x/b/f")).unwrap(), "hello");
        assert_eq!(cp(&argv(&["cp", "-r", &p("a"), &p("x")])), 0);
        assert_eq!(fs::read_to_string(p("x/a/b/f")).unwrap(), "hello");
        assert_eq!(cp(&argv(&["cp", "-r", &p("a"), &p("a/b")])), 1);
        assert_eq!(cp(&argv(&["cp", &p("a/b/f"), &p("g")])), 0);
        assert_eq!(fs::read_to_string(p("g")).unwrap(), "hello");
        assert_eq!(cp(&argv(&["cp", &p("nope"), &p("g")])), 1);
        // chmod + cp keeps the exec bit
        assert_eq!(chmod(&argv(&["chmod", "755", &p("g")])), 0);
        assert_eq!(meta(&p("g"), true).unwrap().mode & 0o777, 0o755);
        assert_eq!(chmod(&argv(&["chmod", "-x", &p("g")])), 0);
        assert_eq!(meta(&p("g"), true).unwrap().mode & 0o777, 0o644);
        assert_eq!(chmod(&argv(&["chmod", "u+x", &p("g")])), 0);
        assert_eq!(cp(&argv(&["cp", &p("g"), &p("g2")])), 0);
        assert_eq!(meta(&p("g2"), true).unwrap().mode & 0o777, 0o744);
        // ln -s, ln, mv
        assert_eq!(ln(&argv(&["ln", "-s", "g", &p("l")])), 0);
        assert_eq!(fs::read_link(p("l")).unwrap().to_string_lossy(), "g");
        assert_eq!(ln(&argv(&["ln", "-s", "g", &p("l")])), 1);
        assert_eq!(ln(&argv(&["ln", "-sf", "g2", &p("l")])), 0);
        assert_eq!(fs::read_to_string(p("l")).unwrap(), "hello");
        assert_eq!(ln(&argv(&["ln", &p("g"), &p("h")])), 0);
        assert_eq!(fs::read_to_string(p("h")).unwrap(), "hello");
        assert_eq!(mv(&argv(&["mv", &p("h"), &p("x")])), 0);
        assert!(fs::metadata(p("x/h")).is_ok() && fs::metadata(p("h")).is_err());
        assert_eq!(mv(&argv(&["mv", &p("nope"), &p("x")])), 1);
        assert_eq!(util::realpath(&p("l"), false).unwrap(), util::realpath(&p("g2"), false).unwrap());
        // rm, rmdir
        assert_eq!(rm(&argv(&["rm", &p("x")])), 1);
        assert_eq!(rm(&argv(&["rm", "-f", &p("nope")])), 0);
        assert_eq!(rm(&argv(&["rm", &p("nope")])), 1);
        assert_eq!(rmdir(&argv(&["rmdir", &p("a")])), 1);
        assert_eq!(rm(&argv(&["rm", "-rf", &p("x"), &p("a/b/f")])), 0);
        assert!(fs::metadata(p("x")).is_err());
        assert_eq!(rmdir(&argv(&["rmdir", "-p", &p("a/b/c")])), 1); // stops at a (holds t)
        assert!(fs::metadata(p("a/b")).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
