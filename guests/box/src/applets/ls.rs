//! `ls` (-l -a -A -1 -d -R -h -F -p -r -t -S -n -L -C): long format with modes from the host.

use crate::err;
use crate::util::{self, done, errstr, is_dir, is_lnk, join, meta, Stat};
use std::io::{IsTerminal, Write};

struct Entry {
    name: String,
    path: String,
    st: Option<Stat>,
    link: Option<String>,
}

struct Cfg {
    long: bool,
    all: bool,
    almost: bool,
    dir_only: bool,
    recursive: bool,
    human: bool,
    classify: bool,
    slash: bool,
    reverse: bool,
    by_time: bool,
    by_size: bool,
    numeric: bool,
    deref: bool,
    columns: bool,
    no_owner: bool,
    no_group: bool,
    now: i64,
}

fn entry(name: String, path: String, c: &Cfg) -> Entry {
    let st = meta(&path, c.deref).ok();
    let link = match st {
        Some(s) if is_lnk(s.mode) && c.long => std::fs::read_link(&path).ok().map(|p| p.to_string_lossy().into_owned()),
        _ => None,
    };
    Entry { name, path, st, link }
}

fn indicator(st: &Stat, c: &Cfg) -> &'static str {
    if c.slash && !c.classify {
        return if is_dir(st.mode) { "/" } else { "" };
    }
    match st.mode & util::S_IFMT {
        util::S_IFDIR => "/",
        util::S_IFLNK => "@",
        0o010000 => "|",
        0o140000 => "=",
        _ if st.mode & 0o111 != 0 => "*",
        _ => "",
    }
}

/// `Nov 23 12:00` for recent times, `Nov 23  2020` otherwise.
pub fn ls_time(t: i64, now: i64) -> String {
    let tm = crate::date::gmtime(t);
    let recent = t <= now + 3600 && now - t < 182 * 86400;
    if recent {
        crate::date::strftime("%b %e %H:%M", &tm)
    } else {
        crate::date::strftime("%b %e  %Y", &tm)
    }
}

/// One `ls -l` line (without the newline).
fn long_line(e: &Entry, c: &Cfg) -> String {
    let Some(st) = e.st else {
        return format!("?????????? ? ? ? ? ? {}", e.name);
    };
    let user = if c.numeric { st.uid.to_string() } else { util::user_or_id(st.uid) };
    let group = if c.numeric { st.gid.to_string() } else { util::group_or_id(st.gid) };
    let size = if c.human { util::human(st.size) } else { st.size.to_string() };
    let mut s = format!("{} {:>4} ", util::mode_string(st.mode), st.nlink);
    if !c.no_owner {
        s.push_str(&format!("{user:<8} "));
    }
    if !c.no_group {
        s.push_str(&format!("{group:<8} "));
    }
    s.push_str(&format!("{size:>9} {} {}", ls_time(st.mtime, c.now), e.name));
    if let Some(t) = &e.link {
        s.push_str(" -> ");
        s.push_str(t);
    } else if c.classify || c.slash {
        s.push_str(indicator(&st, c));
    }
    s
}

fn sort_entries(v: &mut [Entry], c: &Cfg) {
    v.sort_by(|a, b| {
        let sa = a.st.unwrap_or_default();
        let sb = b.st.unwrap_or_default();
        let o = if c.by_time {
            sb.mtime.cmp(&sa.mtime)
        } else if c.by_size {
            sb.size.cmp(&sa.size)
        } else {
            std::cmp::Ordering::Equal
        };
        o.then_with(|| a.name.as_bytes().cmp(b.name.as_bytes()))
    });
    if c.reverse {
        v.reverse();
    }
}

/// Lay names out in columns (column-major) for a terminal `width` wide.
pub fn columns(names: &[String], width: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let lens: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    let n = names.len();
    let mut rows = 1;
    let (cols, widths) = loop {
        let cols = n.div_ceil(rows);
        let widths: Vec<usize> =
            (0..cols).map(|ci| (ci * rows..((ci + 1) * rows).min(n)).map(|i| lens[i]).max().unwrap_or(0) + 2).collect();
        let total: usize = widths.iter().sum::<usize>() - 2;
        if total <= width || rows >= n {
            break (cols, widths);
        }
        rows += 1;
    };
    let mut s = String::new();
    for r in 0..rows {
        for ci in 0..cols {
            let i = ci * rows + r;
            if i >= n {
                continue;
            }
            s.push_str(&names[i]);
            let last = ci + 1 == cols || (ci + 1) * rows + r >= n;
            if !last {
                s.push_str(&" ".repeat(widths[ci] - lens[i]));
            }
        }
        s.push('\n');
    }
    s
}

fn print_list(w: &mut util::Out, v: &[Entry], c: &Cfg) {
    if c.long {
        for e in v {
            let _ = writeln!(w, "{}", long_line(e, c));
        }
        return;
    }
    let names: Vec<String> = v
        .iter()
        .map(|e| {
            let mut n = e.name.clone();
            if c.classify || c.slash {
                if let Some(st) = &e.st {
                    n.push_str(indicator(st, c));
                }
            }
            n
        })
        .collect();
    if c.columns {
        // The terminal's width (the host's tty_size), else $COLUMNS, else 80.
        let width = crate::term::size().1;
        let _ = w.write_all(columns(&names, width).as_bytes());
    } else {
        for n in names {
            let _ = writeln!(w, "{n}");
        }
    }
}

fn list_dir(w: &mut util::Out, dir: &str, c: &Cfg, header: bool, first: &mut bool, rc: &mut i32) {
    let rd = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            err!("{dir}: {}", errstr(&e));
            *rc = 1;
            return;
        }
    };
    if header {
        let _ = writeln!(w, "{}{dir}:", if *first { "" } else { "\n" });
    }
    *first = false;
    let mut v: Vec<Entry> = Vec::new();
    if c.all {
        for n in [".", ".."] {
            v.push(entry(n.to_string(), join(dir, n), c));
        }
    }
    for d in rd.flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && !(c.all || c.almost) {
            continue;
        }
        let path = join(dir, &name);
        v.push(entry(name, path, c));
    }
    sort_entries(&mut v, c);
    if c.long {
        let blocks: u64 = v.iter().filter_map(|e| e.st).map(|s| s.size.div_ceil(4096) * 4).sum();
        let _ = writeln!(w, "total {blocks}");
    }
    print_list(w, &v, c);
    if c.recursive {
        for e in &v {
            if e.name == "." || e.name == ".." {
                continue;
            }
            if let Some(st) = e.st {
                if is_dir(st.mode) {
                    list_dir(w, &e.path, c, true, first, rc);
                }
            }
        }
    }
}

pub fn ls(args: &[String]) -> i32 {
    let o = match util::getopt_long(
        args,
        "laA1dRhFprtSnLCgoiesuc",
        &[("all", 'a'), ("almost-all", 'A'), ("human-readable", 'h'), ("color", 'z')],
    ) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let long = o.has('l') || o.has('n') || o.has('g') || o.has('o');
    let mut c = Cfg {
        long,
        all: o.has('a'),
        almost: o.has('A'),
        dir_only: o.has('d'),
        recursive: o.has('R'),
        human: o.has('h'),
        classify: o.has('F'),
        slash: o.has('p'),
        reverse: o.has('r'),
        by_time: o.has('t'),
        by_size: o.has('S'),
        numeric: o.has('n'),
        deref: o.has('L'),
        columns: false,
        no_owner: o.has('g'),
        no_group: o.has('o'),
        now: crate::date::now(),
    };
    c.columns = !long && (o.has('C') || (o.last_of("1C") != Some('1') && std::io::stdout().is_terminal()));
    let ops = if o.args.is_empty() { vec![".".to_string()] } else { o.args.clone() };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut rc = 0;
    for p in &ops {
        let e = entry(p.clone(), p.clone(), &c);
        let Some(st) = e.st else {
            let msg = match meta(p, c.deref) {
                Err(x) => errstr(&x),
                Ok(_) => "No such file or directory".into(),
            };
            err!("{p}: {msg}");
            rc = 1;
            continue;
        };
        let mut dir = is_dir(st.mode);
        if is_lnk(st.mode) && !long && !c.dir_only && !c.classify {
            dir = meta(p, true).map(|s| is_dir(s.mode)).unwrap_or(false);
        }
        if dir && !c.dir_only {
            dirs.push(e);
        } else {
            files.push(e);
        }
    }
    sort_entries(&mut files, &c);
    sort_entries(&mut dirs, &c);
    let mut w = util::out();
    print_list(&mut w, &files, &c);
    let header = ops.len() > 1 || c.recursive;
    let mut first = files.is_empty();
    for d in &dirs {
        list_dir(&mut w, &d.path, &c, header, &mut first, &mut rc);
    }
    done(&mut w, rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let v: Vec<String> = ["a", "bb", "ccc", "d", "eeeee"].iter().map(|s| s.to_string()).collect();
        assert_eq!(columns(&v, 80), "a  bb  ccc  d  eeeee\n");
        assert_eq!(columns(&v, 12), "a    d\nbb   eeeee\nccc\n");
        assert_eq!(ls_time(1795435200, 1795435200 + 60), "Nov 23 12:00");
        assert_eq!(ls_time(0, 1795435200), "Jan  1  1970");
    }

    #[test]
    fn long_format() {
        let c = Cfg {
            long: true,
            all: false,
            almost: false,
            dir_only: false,
            recursive: false,
            human: false,
            classify: false,
            slash: false,
            reverse: false,
            by_time: false,
            by_size: false,
            numeric: false,
            deref: false,
            columns: false,
            no_owner: false,
            no_group: false,
            now: 1795435200,
        };
        let e = Entry {
            name: "name".into(),
            path: "name".into(),
            st: Some(Stat { mode: util::S_IFDIR | 0o755, uid: 0, gid: 0, nlink: 2, size: 4096, mtime: 1795435200 }),
            link: None,
        };
        assert_eq!(long_line(&e, &c), "drwxr-xr-x    2 root     root          4096 Nov 23 12:00 name");
        let e = Entry {
            name: "sh".into(),
            path: "sh".into(),
            st: Some(Stat { mode: util::S_IFLNK | 0o777, uid: 0, gid: 0, nlink: 1, size: 3, mtime: 1795435200 }),
            link: Some("box".into()),
        };
        assert!(long_line(&e, &c).ends_with("12:00 sh -> box"));
    }
}
