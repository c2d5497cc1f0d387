//! `diff`: normal and unified (`-u`, `-U N`) output of a Myers (linear-space bisection) line
//! diff; `-r` for directories, `-q`, `-N`, `-b`/`-w`/`-i`/`-B`-style comparisons, `-L` labels.
//! Exit status 0 (same), 1 (different), 2 (trouble).

use crate::err;
use crate::util::{self, errstr, out};
use std::collections::HashMap;
use std::io::Write;

/// One step of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// a[i] == b[j]
    Same(usize, usize),
    Del(usize),
    Ins(usize),
}

struct Differ<'a> {
    a: &'a [u32],
    b: &'a [u32],
    ops: Vec<Op>,
}

impl Differ<'_> {
    fn run(&mut self, mut a0: usize, mut a1: usize, mut b0: usize, mut b1: usize) {
        // Common prefix.
        while a0 < a1 && b0 < b1 && self.a[a0] == self.b[b0] {
            self.ops.push(Op::Same(a0, b0));
            a0 += 1;
            b0 += 1;
        }
        // Common suffix (emitted after the middle).
        let mut suffix = 0;
        while a1 > a0 && b1 > b0 && self.a[a1 - 1] == self.b[b1 - 1] {
            a1 -= 1;
            b1 -= 1;
            suffix += 1;
        }
        if a0 == a1 {
            for j in b0..b1 {
                self.ops.push(Op::Ins(j));
            }
        } else if b0 == b1 {
            for i in a0..a1 {
                self.ops.push(Op::Del(i));
            }
        } else {
            match self.bisect(a0, a1, b0, b1) {
                Some((x, y)) => {
                    self.run(a0, x, b0, y);
                    self.run(x, a1, y, b1);
                }
                None => {
                    for i in a0..a1 {
                        self.ops.push(Op::Del(i));
                    }
                    for j in b0..b1 {
                        self.ops.push(Op::Ins(j));
                    }
                }
            }
        }
        for k in 0..suffix {
            self.ops.push(Op::Same(a1 + k, b1 + k));
        }
    }

    /// The middle snake's split point (as diff-match-patch's `diff_bisect`).
    fn bisect(&self, a0: usize, a1: usize, b0: usize, b1: usize) -> Option<(usize, usize)> {
        let (a, b) = (&self.a[a0..a1], &self.b[b0..b1]);
        let (n, m) = (a.len() as isize, b.len() as isize);
        let max_d = (n + m + 1) / 2;
        let off = max_d;
        let len = (2 * max_d + 2) as usize;
        let mut v1 = vec![-1isize; len];
        let mut v2 = vec![-1isize; len];
        v1[(off + 1) as usize] = 0;
        v2[(off + 1) as usize] = 0;
        let delta = n - m;
        let front = delta % 2 != 0;
        let (mut k1s, mut k1e, mut k2s, mut k2e) = (0isize, 0isize, 0isize, 0isize);
        for d in 0..max_d {
            let mut k1 = -d + k1s;
            while k1 <= d - k1e {
                let ko = (off + k1) as usize;
                let mut x1 = if k1 == -d || (k1 != d && v1[ko - 1] < v1[ko + 1]) { v1[ko + 1] } else { v1[ko - 1] + 1 };
                let mut y1 = x1 - k1;
                while x1 < n && y1 < m && a[x1 as usize] == b[y1 as usize] {
                    x1 += 1;
                    y1 += 1;
                }
                v1[ko] = x1;
                if x1 > n {
                    k1e += 2;
                } else if y1 > m {
                    k1s += 2;
                } else if front {
                    let k2o = off + delta - k1;
                    if k2o >= 0 && (k2o as usize) < len && v2[k2o as usize] != -1 {
                        let x2 = n - v2[k2o as usize];
                        if x1 >= x2 {
                            return Some((a0 + x1 as usize, b0 + y1 as usize));
                        }
                    }
                }
                k1 += 2;
            }
            let mut k2 = -d + k2s;
            while k2 <= d - k2e {
                let ko = (off + k2) as usize;
                let mut x2 = if k2 == -d || (k2 != d && v2[ko - 1] < v2[ko + 1]) { v2[ko + 1] } else { v2[ko - 1] + 1 };
                let mut y2 = x2 - k2;
                while x2 < n && y2 < m && a[(n - x2 - 1) as usize] == b[(m - y2 - 1) as usize] {
                    x2 += 1;
                    y2 += 1;
                }
                v2[ko] = x2;
                if x2 > n {
                    k2e += 2;
                } else if y2 > m {
                    k2s += 2;
                } else if !front {
                    let k1o = off + delta - k2;
                    if k1o >= 0 && (k1o as usize) < len && v1[k1o as usize] != -1 {
                        let x1 = v1[k1o as usize];
                        let y1 = off + x1 - k1o;
                        if x1 >= n - x2 {
                            return Some((a0 + x1 as usize, b0 + y1 as usize));
                        }
                    }
                }
                k2 += 2;
            }
        }
        None
    }
}

/// The edit script turning `a` into `b` (lines compared by `key`).
pub fn diff_ops(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Op> {
    let mut ids: HashMap<&[u8], u32> = HashMap::new();
    let mut ai = Vec::with_capacity(a.len());
    for l in a {
        let n = ids.len() as u32;
        ai.push(*ids.entry(l.as_slice()).or_insert(n));
    }
    let mut bi = Vec::with_capacity(b.len());
    for l in b {
        let n = ids.len() as u32;
        bi.push(*ids.entry(l.as_slice()).or_insert(n));
    }
    let mut d = Differ { a: &ai, b: &bi, ops: Vec::new() };
    d.run(0, ai.len(), 0, bi.len());
    d.ops
}

/// A run of changes: `a[a0..a1]` replaced by `b[b0..b1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub a0: usize,
    pub a1: usize,
    pub b0: usize,
    pub b1: usize,
}

/// Group an edit script into changes.
pub fn changes(ops: &[Op]) -> Vec<Change> {
    let mut v: Vec<Change> = Vec::new();
    let (mut ai, mut bi) = (0, 0);
    let mut cur: Option<Change> = None;
    for op in ops {
        match *op {
            Op::Same(i, j) => {
                if let Some(c) = cur.take() {
                    v.push(c);
                }
                ai = i + 1;
                bi = j + 1;
            }
            Op::Del(i) => {
                let c = cur.get_or_insert(Change { a0: i, a1: i, b0: bi, b1: bi });
                c.a1 = i + 1;
                ai = i + 1;
            }
            Op::Ins(j) => {
                let c = cur.get_or_insert(Change { a0: ai, a1: ai, b0: j, b1: j });
                c.b1 = j + 1;
                bi = j + 1;
            }
        }
    }
    if let Some(c) = cur {
        v.push(c);
    }
    v
}

/// A file's lines and whether its last line lacks a newline.
pub struct Text {
    pub lines: Vec<Vec<u8>>,
    pub no_eol: bool,
}

impl Text {
    pub fn new(data: &[u8]) -> Text {
        Text {
            lines: util::lines(data).into_iter().map(|l| l.to_vec()).collect(),
            no_eol: !data.is_empty() && !data.ends_with(b"\n"),
        }
    }
}

fn emit(s: &mut Vec<u8>, prefix: &str, t: &Text, i: usize) {
    s.extend_from_slice(prefix.as_bytes());
    s.extend_from_slice(&t.lines[i]);
    s.push(b'\n');
    if t.no_eol && i + 1 == t.lines.len() {
        s.extend_from_slice(b"\\ No newline at end of file\n");
    }
}

fn range(lo: usize, hi: usize) -> String {
    // 1-based inclusive
    if hi <= lo + 1 {
        (lo + 1).to_string()
    } else {
        format!("{},{}", lo + 1, hi)
    }
}

/// The default ("normal") output format.
pub fn normal(a: &Text, b: &Text, ch: &[Change]) -> Vec<u8> {
    let mut s = Vec::new();
    for c in ch {
        let head = if c.a0 == c.a1 {
            format!("{}a{}\n", c.a0, range(c.b0, c.b1))
        } else if c.b0 == c.b1 {
            format!("{}d{}\n", range(c.a0, c.a1), c.b0)
        } else {
            format!("{}c{}\n", range(c.a0, c.a1), range(c.b0, c.b1))
        };
        s.extend_from_slice(head.as_bytes());
        for i in c.a0..c.a1 {
            emit(&mut s, "< ", a, i);
        }
        if c.a0 < c.a1 && c.b0 < c.b1 {
            s.extend_from_slice(b"---\n");
        }
        for j in c.b0..c.b1 {
            emit(&mut s, "> ", b, j);
        }
    }
    s
}

fn uni_range(start: usize, count: usize) -> String {
    match count {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{}", start + 1, n),
    }
}

/// Unified hunks with `ctx` lines of context (without the `---`/`+++` header).
pub fn unified(a: &Text, b: &Text, ch: &[Change], ctx: usize) -> Vec<u8> {
    let mut s = Vec::new();
    let mut i = 0;
    while i < ch.len() {
        // Merge changes whose context overlaps.
        let mut j = i;
        while j + 1 < ch.len() && ch[j + 1].a0 - ch[j].a1 <= 2 * ctx {
            j += 1;
        }
        let a_start = ch[i].a0.saturating_sub(ctx);
        let b_start = ch[i].b0 - (ch[i].a0 - a_start);
        let a_end = (ch[j].a1 + ctx).min(a.lines.len());
        let b_end = ch[j].b1 + (a_end - ch[j].a1);
        s.extend_from_slice(
            format!("@@ -{} +{} @@\n", uni_range(a_start, a_end - a_start), uni_range(b_start, b_end - b_start))
                .as_bytes(),
        );
        let mut ai = a_start;
        for c in &ch[i..=j] {
            while ai < c.a0 {
                emit(&mut s, " ", a, ai);
                ai += 1;
            }
            for k in c.a0..c.a1 {
                emit(&mut s, "-", a, k);
            }
            for k in c.b0..c.b1 {
                emit(&mut s, "+", b, k);
            }
            ai = c.a1;
        }
        while ai < a_end {
            emit(&mut s, " ", a, ai);
            ai += 1;
        }
        i = j + 1;
    }
    s
}

struct Cfg {
    unified: Option<usize>,
    brief: bool,
    recursive: bool,
    absent_empty: bool,
    ignore_space_change: bool,
    ignore_all_space: bool,
    ignore_case: bool,
    ignore_blank: bool,
    text: bool,
    report_same: bool,
    labels: Vec<String>,
    switches: String,
}

/// The comparison key of a line under `-b`, `-w`, `-i`.
fn key(c: &Cfg, l: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = if c.ignore_all_space {
        l.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect()
    } else if c.ignore_space_change {
        let mut v = Vec::new();
        let mut sp = false;
        for &b in l {
            if b == b' ' || b == b'\t' || b == b'\r' {
                sp = true;
            } else {
                if sp && !v.is_empty() {
                    v.push(b' ');
                }
                sp = false;
                v.push(b);
            }
        }
        v
    } else {
        l.to_vec()
    };
    if c.ignore_case {
        v.make_ascii_lowercase();
    }
    v
}

fn mtime_label(path: &str) -> String {
    let t = if path == "-" { crate::date::now() } else { util::meta(path, true).map(|s| s.mtime).unwrap_or(0) };
    crate::date::strftime("%Y-%m-%d %H:%M:%S.000000000 +0000", &crate::date::gmtime(t))
}

/// Compare two files; writes the output; returns 0/1/2.
fn diff_files(c: &Cfg, pa: &str, pb: &str, w: &mut util::Out) -> i32 {
    let read = |p: &str| -> Result<Vec<u8>, i32> {
        match util::read_all(p) {
            Ok(d) => Ok(d),
            Err(e) if c.absent_empty && e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => {
                err!("{p}: {}", errstr(&e));
                Err(2)
            }
        }
    };
    let (da, db) = match (read(pa), read(pb)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return 2,
    };
    if da == db {
        if c.report_same {
            let _ = writeln!(w, "Files {pa} and {pb} are identical");
        }
        return 0;
    }
    if !c.text && (da.contains(&0) || db.contains(&0)) {
        let _ = writeln!(w, "Binary files {pa} and {pb} differ");
        return 1;
    }
    let (ta, tb) = (Text::new(&da), Text::new(&db));
    // A last line without its newline differs from the same text with one.
    let keys = |t: &Text| -> Vec<Vec<u8>> {
        let mut k: Vec<Vec<u8>> = t.lines.iter().map(|l| key(c, l)).collect();
        if t.no_eol {
            if let Some(l) = k.last_mut() {
                l.extend_from_slice(b"\0no-eol");
            }
        }
        k
    };
    let (ka, kb) = (keys(&ta), keys(&tb));
    let mut ch = changes(&diff_ops(&ka, &kb));
    if c.ignore_blank {
        ch.retain(|x| {
            !(ta.lines[x.a0..x.a1].iter().all(|l| l.iter().all(u8::is_ascii_whitespace))
                && tb.lines[x.b0..x.b1].iter().all(|l| l.iter().all(u8::is_ascii_whitespace)))
        });
    }
    if ch.is_empty() {
        return 0;
    }
    if c.brief {
        let _ = writeln!(w, "Files {pa} and {pb} differ");
        return 1;
    }
    if c.recursive {
        let _ = writeln!(w, "diff {}{pa} {pb}", c.switches);
    }
    let body = match c.unified {
        Some(ctx) => {
            let la = c.labels.first().cloned().unwrap_or_else(|| format!("{pa}\t{}", mtime_label(pa)));
            let lb = c.labels.get(1).cloned().unwrap_or_else(|| format!("{pb}\t{}", mtime_label(pb)));
            let mut s = format!("--- {la}\n+++ {lb}\n").into_bytes();
            s.extend(unified(&ta, &tb, &ch, ctx));
            s
        }
        None => normal(&ta, &tb, &ch),
    };
    let _ = w.write_all(&body);
    1
}

fn list_dir(p: &str) -> Result<Vec<String>, String> {
    let rd = std::fs::read_dir(p).map_err(|e| format!("{p}: {}", errstr(&e)))?;
    let mut v: Vec<String> = rd.flatten().map(|d| d.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    Ok(v)
}

fn is_dir(p: &str) -> bool {
    util::meta(p, true).map(|s| util::is_dir(s.mode)).unwrap_or(false)
}

fn diff_dirs(c: &Cfg, da: &str, db: &str, w: &mut util::Out) -> i32 {
    let (la, lb) = match (list_dir(da), list_dir(db)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(m), _) | (_, Err(m)) => {
            err!("{m}");
            return 2;
        }
    };
    let mut names: Vec<&String> = la.iter().chain(lb.iter()).collect();
    names.sort();
    names.dedup();
    let mut rc = 0;
    for n in names {
        let (pa, pb) = (util::join(da, n), util::join(db, n));
        let (ina, inb) = (la.contains(n), lb.contains(n));
        let r = if ina && inb || c.absent_empty {
            let (dira, dirb) = (ina && is_dir(&pa), inb && is_dir(&pb));
            if dira && dirb {
                if c.recursive {
                    diff_dirs(c, &pa, &pb, w)
                } else {
                    let _ = writeln!(w, "Common subdirectories: {pa} and {pb}");
                    0
                }
            } else if dira != dirb && ina && inb {
                let (d, f) = if dira { (&pa, &pb) } else { (&pb, &pa) };
                let _ = writeln!(w, "File {d} is a directory while file {f} is a regular file");
                1
            } else if dira || dirb {
                let (dir, name) = if dira { (da, n) } else { (db, n) };
                let _ = writeln!(w, "Only in {dir}: {name}");
                1
            } else {
                diff_files(c, &pa, &pb, w)
            }
        } else {
            let dir = if ina { da } else { db };
            let _ = writeln!(w, "Only in {dir}: {n}");
            1
        };
        rc = rc.max(r);
    }
    rc
}

/// `diff [-abBiNqrsTuw] [-U N] [-L LABEL] FILE1 FILE2`
pub fn diff(args: &[String]) -> i32 {
    let o = match util::getopt_long(
        args,
        "abBdiNqrsTtuwU:L:",
        &[
            ("unified", 'u'),
            ("brief", 'q'),
            ("recursive", 'r'),
            ("new-file", 'N'),
            ("text", 'a'),
            ("ignore-case", 'i'),
            ("ignore-all-space", 'w'),
            ("ignore-space-change", 'b'),
            ("ignore-blank-lines", 'B'),
            ("report-identical-files", 's'),
            ("label", 'L'),
        ],
    ) {
        Ok(o) => o,
        Err(_) => return 2,
    };
    if o.args.len() != 2 {
        err!("{}", if o.args.len() < 2 { "missing operand" } else { "extra operand" });
        return 2;
    }
    let unified = if let Some(n) = o.val('U') {
        match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                err!("invalid context length '{n}'");
                return 2;
            }
        }
    } else if o.has('u') {
        Some(3)
    } else {
        None
    };
    let mut switches = String::new();
    for ch in "abBiNqrsuw".chars() {
        if o.has(ch) {
            switches.push(ch);
        }
    }
    let c = Cfg {
        unified,
        brief: o.has('q'),
        recursive: o.has('r'),
        absent_empty: o.has('N'),
        ignore_space_change: o.has('b'),
        ignore_all_space: o.has('w'),
        ignore_case: o.has('i'),
        ignore_blank: o.has('B'),
        text: o.has('a'),
        report_same: o.has('s'),
        labels: o.vals('L').iter().map(|s| s.to_string()).collect(),
        switches: if switches.is_empty() { String::new() } else { format!("-{switches} ") },
    };
    let (mut a, mut b) = (o.args[0].clone(), o.args[1].clone());
    let (da, db) = (a != "-" && is_dir(&a), b != "-" && is_dir(&b));
    let mut w = out();
    let rc = if da && db {
        diff_dirs(&c, &a, &b, &mut w)
    } else {
        if da {
            a = util::join(&a, util::base_name(&b));
        } else if db {
            b = util::join(&b, util::base_name(&a));
        }
        diff_files(&c, &a, &b, &mut w)
    };
    match util::done(&mut w, rc) {
        0 => 0,
        1 if rc == 1 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::{argv, tempdir};

    fn t(s: &str) -> Text {
        Text::new(s.as_bytes())
    }

    fn normal_of(a: &str, b: &str) -> String {
        let (ta, tb) = (t(a), t(b));
        String::from_utf8(normal(&ta, &tb, &changes(&diff_ops(&ta.lines, &tb.lines)))).unwrap()
    }

    fn unified_of(a: &str, b: &str, ctx: usize) -> String {
        let (ta, tb) = (t(a), t(b));
        String::from_utf8(unified(&ta, &tb, &changes(&diff_ops(&ta.lines, &tb.lines)), ctx)).unwrap()
    }

    /// Applying the script to `a` gives `b`, and it is minimal for these small cases.
    fn check_script(a: &[&str], b: &[&str]) -> usize {
        let av: Vec<Vec<u8>> = a.iter().map(|s| s.as_bytes().to_vec()).collect();
        let bv: Vec<Vec<u8>> = b.iter().map(|s| s.as_bytes().to_vec()).collect();
        let ops = diff_ops(&av, &bv);
        let mut out = Vec::new();
        let mut edits = 0;
        for op in &ops {
            match *op {
                Op::Same(i, j) => {
                    assert_eq!(av[i], bv[j]);
                    out.push(av[i].clone());
                }
                Op::Ins(j) => {
                    out.push(bv[j].clone());
                    edits += 1;
                }
                Op::Del(_) => edits += 1,
            }
        }
        assert_eq!(out, bv);
        edits
    }

    #[test]
    fn scripts() {
        assert_eq!(check_script(&["a", "b", "c", "a", "b", "b", "a"], &["c", "b", "a", "b", "a", "c"]), 5);
        assert_eq!(check_script(&[], &["x"]), 1);
        assert_eq!(check_script(&["x", "y"], &[]), 2);
        assert_eq!(check_script(&["a", "b", "c"], &["a", "b", "c"]), 0);
        assert_eq!(check_script(&["a", "x", "c", "y", "e"], &["a", "c", "e", "z"]), 3);
        // A pseudo-random pair: the script is valid.
        let a: Vec<String> = (0..300).map(|i| ((i * 7919) % 13).to_string()).collect();
        let b: Vec<String> = (0..280).map(|i| ((i * 104729) % 11).to_string()).collect();
        let ar: Vec<&str> = a.iter().map(String::as_str).collect();
        let br: Vec<&str> = b.iter().map(String::as_str).collect();
        check_script(&ar, &br);
    }

    #[test]
    fn normal_format() {
        assert_eq!(normal_of("a\nb\nc\n", "a\nB\nc\n"), "2c2\n< b\n---\n> B\n");
        assert_eq!(normal_of("a\nc\n", "a\nb\nc\n"), "1a2\n> b\n");
        assert_eq!(normal_of("a\nb\nc\nd\n", "a\nd\n"), "2,3d1\n< b\n< c\n");
        assert_eq!(normal_of("", "x\ny\n"), "0a1,2\n> x\n> y\n");
        assert_eq!(normal_of("a\n", "a"), "");
        assert_eq!(normal_of("a\nb\n", "a\nb"), "");
        assert_eq!(
            normal_of("a\nb", "a\nc"),
            "2c2\n< b\n\\ No newline at end of file\n---\n> c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn unified_format() {
        let a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
        assert_eq!(unified_of(a, b, 3), "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
        assert_eq!(unified_of(a, b, 0), "@@ -5 +5 @@\n-5\n+five\n");
        // Two changes more than 2*ctx apart make two hunks; closer ones merge.
        let b2 = "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n";
        assert_eq!(unified_of(a, b2, 1), "@@ -1,2 +1,2 @@\n-1\n+one\n 2\n@@ -9,2 +9,2 @@\n 9\n-10\n+ten\n");
        assert_eq!(unified_of(a, b2, 4).matches("@@").count(), 2);
        assert_eq!(unified_of("", "x\n", 3), "@@ -0,0 +1 @@\n+x\n");
        assert_eq!(unified_of("x\n", "", 3), "@@ -1 +0,0 @@\n-x\n");
    }

    #[test]
    fn files_and_dirs() {
        let d = tempdir();
        let (a, b) = (format!("{d}/a"), format!("{d}/b"));
        std::fs::write(&a, "x\ny\n").unwrap();
        std::fs::write(&b, "x\nz\n").unwrap();
        assert_eq!(diff(&argv(&["diff", &a, &a])), 0);
        assert_eq!(diff(&argv(&["diff", "-q", &a, &b])), 1);
        assert_eq!(diff(&argv(&["diff", &a, &format!("{d}/missing")])), 2);
        assert_eq!(diff(&argv(&["diff", "-N", &a, &format!("{d}/missing")])), 1);
        std::fs::write(&b, "X\n  y\n").unwrap();
        assert_eq!(diff(&argv(&["diff", "-i", "-w", &a, &b])), 0);
        let (da, db) = (format!("{d}/da"), format!("{d}/db"));
        std::fs::create_dir_all(format!("{da}/sub")).unwrap();
        std::fs::create_dir_all(format!("{db}/sub")).unwrap();
        std::fs::write(format!("{da}/sub/f"), "1\n").unwrap();
        std::fs::write(format!("{db}/sub/f"), "1\n").unwrap();
        assert_eq!(diff(&argv(&["diff", "-r", &da, &db])), 0);
        std::fs::write(format!("{db}/sub/f"), "2\n").unwrap();
        assert_eq!(diff(&argv(&["diff", "-ru", &da, &db])), 1);
        std::fs::write(format!("{db}/sub/f"), "1\n").unwrap();
        std::fs::write(format!("{db}/only"), "1\n").unwrap();
        assert_eq!(diff(&argv(&["diff", "-r", &da, &db])), 1);
        assert_eq!(diff(&argv(&["diff", &a])), 2);
    }
}
