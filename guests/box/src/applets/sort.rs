//! `sort` with keys (-k F[.C][flags][,F[.C][flags]]), -t, -n, -r, -u, -f, -b, -s, -o.

use crate::err;
use crate::util::{self, errstr, getopt, lines};
use std::cmp::Ordering;
use std::io::Write;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flags {
    pub numeric: bool,
    pub reverse: bool,
    pub fold: bool,
    pub blanks: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub f1: usize,
    pub c1: usize,
    pub f2: Option<usize>,
    pub c2: usize,
    pub flags: Flags,
    /// Key has its own ordering flags (global flags then do not apply).
    pub own: bool,
}

fn parse_flags(s: &str, f: &mut Flags) -> Option<bool> {
    let mut any = false;
    for c in s.chars() {
        match c {
            'n' | 'g' | 'h' => f.numeric = true,
            'r' => f.reverse = true,
            'f' => f.fold = true,
            'b' => f.blanks = true,
            'd' | 'i' | 'M' | 'V' | 'R' => {}
            _ => return None,
        }
        any = true;
    }
    Some(any)
}

/// Parse a `-k` key definition.
pub fn parse_key(s: &str) -> Option<Key> {
    let mut k = Key { f1: 0, c1: 0, f2: None, c2: 0, flags: Flags::default(), own: false };
    let (a, b) = match s.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let split_num = |p: &str| -> (String, String) {
        let i = p.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(p.len());
        (p[..i].to_string(), p[i..].to_string())
    };
    let (pos, fl) = split_num(a);
    let (f, c) = pos.split_once('.').unwrap_or((&pos, ""));
    k.f1 = f.parse().ok().filter(|&n| n > 0)?;
    k.c1 = if c.is_empty() { 1 } else { c.parse().ok().filter(|&n| n > 0)? };
    k.own |= parse_flags(&fl, &mut k.flags)?;
    if let Some(b) = b {
        let (pos, fl) = split_num(b);
        let (f, c) = pos.split_once('.').unwrap_or((&pos, ""));
        k.f2 = Some(f.parse().ok().filter(|&n| n > 0)?);
        k.c2 = if c.is_empty() { 0 } else { c.parse().ok()? };
        k.own |= parse_flags(&fl, &mut k.flags)?;
    }
    Some(k)
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Start offsets and ends of each field of `line`.
fn fields(line: &[u8], sep: Option<u8>) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    match sep {
        Some(t) => {
            let mut st = 0;
            for (i, &b) in line.iter().enumerate() {
                if b == t {
                    v.push((st, i));
                    st = i + 1;
                }
            }
            v.push((st, line.len()));
        }
        None => {
            let mut i = 0;
            while i < line.len() {
                let st = i;
                while i < line.len() && is_blank(line[i]) {
                    i += 1;
                }
                while i < line.len() && !is_blank(line[i]) {
                    i += 1;
                }
                v.push((st, i));
            }
        }
    }
    v
}

/// The bytes of `line` that key `k` selects.
pub fn key_slice<'a>(line: &'a [u8], k: &Key, sep: Option<u8>, blanks: bool) -> &'a [u8] {
    let fs = fields(line, sep);
    let skip = |mut p: usize, end: usize| {
        while p < end && is_blank(line[p]) {
            p += 1;
        }
        p
    };
    let start = match fs.get(k.f1 - 1) {
        None => return &[],
        Some(&(s, e)) => {
            let s = if blanks { skip(s, e) } else { s };
            (s + k.c1 - 1).min(e)
        }
    };
    let end = match k.f2 {
        None => line.len(),
        Some(f2) => match fs.get(f2 - 1) {
            None => line.len(),
            Some(&(s, e)) => {
                if k.c2 == 0 {
                    e
                } else {
                    let s = if blanks { skip(s, e) } else { s };
                    (s + k.c2).min(e)
                }
            }
        },
    };
    if end <= start {
        &[]
    } else {
        &line[start..end]
    }
}

/// Leading number of `s` (blanks skipped); 0 when there is none.
fn num_prefix(s: &[u8]) -> f64 {
    let t = String::from_utf8_lossy(s);
    let t = t.trim_start();
    let mut end = 0;
    let b = t.as_bytes();
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    let mut dot = false;
    while end < b.len() && (b[end].is_ascii_digit() || (b[end] == b'.' && !dot)) {
        dot |= b[end] == b'.';
        end += 1;
    }
    t[..end].parse().unwrap_or(0.0)
}

fn cmp_with(a: &[u8], b: &[u8], f: &Flags) -> Ordering {
    let (a, b) = if f.blanks {
        let t = |s: &[u8]| -> usize { s.iter().position(|&c| !is_blank(c)).unwrap_or(s.len()) };
        (&a[t(a)..], &b[t(b)..])
    } else {
        (a, b)
    };
    let o = if f.numeric {
        num_prefix(a).partial_cmp(&num_prefix(b)).unwrap_or(Ordering::Equal)
    } else if f.fold {
        a.iter().map(|c| c.to_ascii_uppercase()).cmp(b.iter().map(|c| c.to_ascii_uppercase()))
    } else {
        a.cmp(b)
    };
    if f.reverse {
        o.reverse()
    } else {
        o
    }
}

pub struct Sorter {
    pub keys: Vec<Key>,
    pub global: Flags,
    pub sep: Option<u8>,
    pub stable: bool,
}

impl Sorter {
    /// Compare by keys only (what -u uses to find duplicates).
    pub fn key_cmp(&self, a: &[u8], b: &[u8]) -> Ordering {
        if self.keys.is_empty() {
            return cmp_with(a, b, &self.global);
        }
        for k in &self.keys {
            let f = if k.own { k.flags } else { Flags { blanks: self.global.blanks || k.flags.blanks, ..self.global } };
            let o = cmp_with(key_slice(a, k, self.sep, f.blanks), key_slice(b, k, self.sep, f.blanks), &f);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    pub fn cmp(&self, a: &[u8], b: &[u8]) -> Ordering {
        let o = self.key_cmp(a, b);
        if o != Ordering::Equal || self.stable {
            return o;
        }
        let last = a.cmp(b);
        if self.global.reverse {
            last.reverse()
        } else {
            last
        }
    }

    pub fn sort(&self, v: &mut Vec<&[u8]>, unique: bool) {
        v.sort_by(|a, b| self.cmp(a, b));
        if unique {
            v.dedup_by(|b, a| self.key_cmp(a, b) == Ordering::Equal);
        }
    }
}

/// `sort [-nrufbsc] [-t SEP] [-k KEY]... [-o FILE] [FILE]...`
pub fn sort(args: &[String]) -> i32 {
    let o = match getopt(args, "nrufbsgMhdizcCt:k:o:S:T:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut global = Flags::default();
    global.numeric = o.has('n') || o.has('g') || o.has('h');
    global.reverse = o.has('r');
    global.fold = o.has('f');
    global.blanks = o.has('b');
    let sep = match o.val('t') {
        None => None,
        Some(t) if t.len() == 1 => Some(t.as_bytes()[0]),
        Some(t) => {
            err!("multi-character tab '{t}'");
            return 2;
        }
    };
    let mut keys = Vec::new();
    for k in o.vals('k') {
        match parse_key(k) {
            Some(k) => keys.push(k),
            None => {
                err!("invalid key '{k}'");
                return 2;
            }
        }
    }
    let s = Sorter { keys, global, sep, stable: o.has('s') };
    let files = if o.args.is_empty() { vec!["-".to_string()] } else { o.args.clone() };
    let mut data = Vec::new();
    for f in &files {
        match util::read_all(f) {
            Ok(d) => {
                data.extend_from_slice(&d);
                if !d.is_empty() && !d.ends_with(b"\n") {
                    data.push(b'\n');
                }
            }
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                return 2;
            }
        }
    }
    let mut ls = lines(&data);
    if o.has('c') || o.has('C') {
        for (i, w) in ls.windows(2).enumerate() {
            let ord = s.cmp(w[0], w[1]);
            if ord == Ordering::Greater || (o.has('u') && ord == Ordering::Equal) {
                if o.has('c') {
                    err!("{}: disorder: {}", files[0], String::from_utf8_lossy(w[1]));
                }
                let _ = i;
                return 1;
            }
        }
        return 0;
    }
    s.sort(&mut ls, o.has('u'));
    let mut buf = Vec::with_capacity(data.len());
    for l in ls {
        buf.extend_from_slice(l);
        buf.push(b'\n');
    }
    if let Some(p) = o.val('o') {
        if let Err(e) = std::fs::write(p, &buf) {
            err!("{p}: {}", errstr(&e));
            return 2;
        }
        return 0;
    }
    let mut w = util::out();
    let _ = w.write_all(&buf);
    util::done(&mut w, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, keys: &[&str], global: Flags, sep: Option<u8>, unique: bool) -> String {
        let s = Sorter { keys: keys.iter().map(|k| parse_key(k).unwrap()).collect(), global, sep, stable: false };
        let mut v = lines(input.as_bytes());
        s.sort(&mut v, unique);
        v.iter().map(|l| String::from_utf8_lossy(l).into_owned() + "\n").collect()
    }

    #[test]
    fn keys() {
        let k = parse_key("2,3nr").unwrap();
        assert_eq!(
            (k.f1, k.c1, k.f2, k.c2, k.flags.numeric, k.flags.reverse, k.own),
            (2, 1, Some(3), 0, true, true, true)
        );
        let k = parse_key("1.2").unwrap();
        assert_eq!((k.f1, k.c1, k.f2), (1, 2, None));
        assert!(parse_key("0").is_none());
        assert!(parse_key("1z").is_none());
        let k2 = parse_key("2,2").unwrap();
        assert_eq!(key_slice(b"a  bb c", &k2, None, false), b"  bb");
        assert_eq!(key_slice(b"a  bb c", &k2, None, true), b"bb");
        assert_eq!(key_slice(b"a:b:c", &parse_key("2").unwrap(), Some(b':'), false), b"b:c");
        assert_eq!(key_slice(b"a:b:c", &parse_key("5").unwrap(), Some(b':'), false), b"");
        assert_eq!(key_slice(b"hello world", &parse_key("1.2,1.3").unwrap(), None, false), b"el");
    }

    #[test]
    fn sorting() {
        let g = Flags::default();
        assert_eq!(run("b\na\nc\n", &[], g, None, false), "a\nb\nc\n");
        assert_eq!(run("10\n9\n100\n-1\n", &[], Flags { numeric: true, ..g }, None, false), "-1\n9\n10\n100\n");
        assert_eq!(run("b\na\nb\n", &[], Flags { reverse: true, ..g }, None, true), "b\na\n");
        assert_eq!(run("x 3\ny 1\nz 2\n", &["2n"], g, None, false), "y 1\nz 2\nx 3\n");
        assert_eq!(
            run("a:3\nb:1\nc:2\n", &["2,2"], Flags { reverse: true, ..g }, Some(b':'), false),
            "a:3\nc:2\nb:1\n"
        );
        assert_eq!(run("B\na\nA\n", &[], Flags { fold: true, ..g }, None, false), "A\na\nB\n");
        assert_eq!(run("a 1\nb 1\n", &["2,2"], g, None, true), "a 1\n");
    }
}
