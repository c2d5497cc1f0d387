//! `grep` (-i -v -c -n -l -L -q -s -E -F -r -w -x -o -h -H -e -f -A -B -C) over the regex module.

use crate::err;
use crate::regex::{is_word, Regex};
use crate::util::{self, errstr, join, open_input, out};
use std::io::{BufRead, BufReader, Write};

enum Pat {
    Fixed(Vec<char>),
    Re(Regex),
}

fn fold(c: char) -> char {
    c.to_ascii_lowercase()
}

/// All patterns of one grep run, with the -i/-w/-x rules applied.
pub struct Matcher {
    pats: Vec<Pat>,
    icase: bool,
    word: bool,
}

impl Matcher {
    pub fn new(
        patterns: &[String],
        fixed: bool,
        ere: bool,
        icase: bool,
        word: bool,
        line: bool,
    ) -> Result<Matcher, String> {
        let mut pats = Vec::new();
        for p in patterns {
            if fixed {
                let mut v: Vec<char> = p.chars().collect();
                if icase {
                    v = v.into_iter().map(fold).collect();
                }
                if line {
                    // whole-line fixed match: anchor via a regex of escaped chars
                    let esc: String = p
                        .chars()
                        .flat_map(|c| if "\\.[]*^$+?{}()|".contains(c) { vec!['\\', c] } else { vec![c] })
                        .collect();
                    pats.push(Pat::Re(Regex::new(&format!("^({esc})$"), true, icase)?));
                } else {
                    pats.push(Pat::Fixed(v));
                }
            } else {
                let src = if line {
                    if ere {
                        format!("^({p})$")
                    } else {
                        format!("^\\({p}\\)$")
                    }
                } else {
                    p.clone()
                };
                pats.push(Pat::Re(Regex::new(&src, ere, icase)?));
            }
        }
        Ok(Matcher { pats, icase, word })
    }

    fn find_one(&self, p: &Pat, t: &[char], folded: &[char], start: usize) -> Option<(usize, usize)> {
        match p {
            Pat::Fixed(f) => {
                let hay = if self.icase { folded } else { t };
                if f.is_empty() {
                    return Some((start, start));
                }
                (start..hay.len().saturating_sub(f.len() - 1))
                    .find(|&i| hay[i..i + f.len()] == f[..])
                    .map(|i| (i, i + f.len()))
            }
            Pat::Re(r) => r.find_at(t, start).map(|c| (c[0].unwrap(), c[1].unwrap())),
        }
    }

    /// The leftmost match at or after `start` (longest among ties).
    pub fn find(&self, t: &[char], start: usize) -> Option<(usize, usize)> {
        let folded: Vec<char> = if self.icase { t.iter().map(|&c| fold(c)).collect() } else { Vec::new() };
        let mut best: Option<(usize, usize)> = None;
        for p in &self.pats {
            let mut pos = start;
            while pos <= t.len() {
                let Some((s, e)) = self.find_one(p, t, &folded, pos) else {
                    break;
                };
                let ok = !self.word || ((s == 0 || !is_word(t[s - 1])) && (e == t.len() || !is_word(t[e])) && e > s);
                if ok {
                    if best.is_none_or(|(bs, be)| s < bs || (s == bs && e > be)) {
                        best = Some((s, e));
                    }
                    break;
                }
                pos = s + 1;
            }
        }
        best
    }
}

struct G {
    m: Matcher,
    invert: bool,
    count: bool,
    number: bool,
    list: bool,
    list_missing: bool,
    quiet: bool,
    only: bool,
    names: bool,
    after: usize,
    before: usize,
    max: Option<usize>,
}

fn grep_reader(g: &G, r: Box<dyn std::io::Read>, name: &str, w: &mut util::Out) -> std::io::Result<bool> {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    let mut n = 0usize;
    let mut matches = 0usize;
    let mut hist: std::collections::VecDeque<(usize, Vec<u8>)> = Default::default();
    let mut after_left = 0usize;
    let mut last_printed: Option<usize> = None;
    let ctx = g.after > 0 || g.before > 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text: Vec<char> = String::from_utf8_lossy(line).chars().collect();
        let hit = g.m.find(&text, 0).is_some() != g.invert;
        let emit_prefix = |w: &mut util::Out, n: usize, sep: char| -> std::io::Result<()> {
            if g.names {
                write!(w, "{name}{sep}")?;
            }
            if g.number {
                write!(w, "{n}{sep}")?;
            }
            Ok(())
        };
        if hit {
            matches += 1;
            if g.quiet {
                return Ok(true);
            }
            if g.list || g.list_missing {
                break;
            }
            if !g.count {
                if ctx {
                    if let Some(lp) = last_printed {
                        if n - hist.len() > lp + 1 {
                            w.write_all(b"--\n")?;
                        }
                    }
                    for (hn, hl) in hist.drain(..) {
                        emit_prefix(w, hn, '-')?;
                        w.write_all(&hl)?;
                        w.write_all(b"\n")?;
                    }
                }
                if g.only && !g.invert {
                    let mut pos = 0;
                    while let Some((s, e)) = g.m.find(&text, pos) {
                        if e > s {
                            emit_prefix(w, n, ':')?;
                            let piece: String = text[s..e].iter().collect();
                            writeln!(w, "{piece}")?;
                            pos = e;
                        } else {
                            pos = s + 1;
                        }
                        if pos > text.len() {
                            break;
                        }
                    }
                } else if !g.only {
                    emit_prefix(w, n, ':')?;
                    w.write_all(line)?;
                    w.write_all(b"\n")?;
                }
                last_printed = Some(n);
                after_left = g.after;
            }
            if g.max.is_some_and(|m| matches >= m) {
                break;
            }
        } else if ctx && !g.count {
            if after_left > 0 {
                after_left -= 1;
                emit_prefix(w, n, '-')?;
                w.write_all(line)?;
                w.write_all(b"\n")?;
                last_printed = Some(n);
            } else if g.before > 0 {
                hist.push_back((n, line.to_vec()));
                if hist.len() > g.before {
                    hist.pop_front();
                }
            }
        }
    }
    if g.count {
        if g.names {
            write!(w, "{name}:")?;
        }
        writeln!(w, "{matches}")?;
    }
    if g.list && matches > 0 {
        writeln!(w, "{name}")?;
    }
    if g.list_missing && matches == 0 {
        writeln!(w, "{name}")?;
    }
    Ok(matches > 0)
}

fn walk(path: &str, out_files: &mut Vec<String>) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            if let Ok(rd) = std::fs::read_dir(path) {
                let mut names: Vec<String> =
                    rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                names.sort();
                for n in names {
                    walk(&join(path, &n), out_files);
                }
            }
        }
        Ok(m) if m.file_type().is_symlink() => {}
        _ => out_files.push(path.to_string()),
    }
}

pub fn grep(args: &[String]) -> i32 {
    let applet = util::base_name(&args[0]).to_string();
    let o = match util::getopt_long(
        args,
        "ivcnlLqsEFGrRwxohHe:f:A:B:C:m:ayz",
        &[
            ("ignore-case", 'i'),
            ("invert-match", 'v'),
            ("count", 'c'),
            ("recursive", 'r'),
            ("color", 'a'),
            ("colour", 'a'),
        ],
    ) {
        Ok(o) => o,
        Err(_) => return 2,
    };
    let mut operands = o.args.clone();
    let mut patterns: Vec<String> =
        o.vals('e').iter().flat_map(|p| p.split('\n').map(String::from).collect::<Vec<_>>()).collect();
    for f in o.vals('f') {
        match std::fs::read_to_string(f) {
            Ok(t) => patterns.extend(t.lines().map(String::from)),
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                return 2;
            }
        }
    }
    if !o.has('e') && !o.has('f') {
        if operands.is_empty() {
            err!("usage: grep [OPTIONS] PATTERN [FILE]...");
            return 2;
        }
        patterns.extend(operands.remove(0).split('\n').map(String::from));
    }
    let ere = o.has('E') || applet == "egrep";
    let fixed = o.has('F') || applet == "fgrep";
    let m = match Matcher::new(&patterns, fixed, ere, o.has('i') || o.has('y'), o.has('w'), o.has('x')) {
        Ok(m) => m,
        Err(e) => {
            err!("bad regex '{}': {e}", patterns.join("\n"));
            return 2;
        }
    };
    let recursive = o.has('r') || o.has('R');
    let mut files = Vec::new();
    if operands.is_empty() {
        operands.push(if recursive { ".".into() } else { "-".into() });
    }
    for p in &operands {
        if recursive && p != "-" {
            walk(p, &mut files);
        } else {
            files.push(p.clone());
        }
    }
    let ctx = |c: char| o.val(c).or(o.val('C')).and_then(|v| v.parse().ok()).unwrap_or(0);
    let g = G {
        m,
        invert: o.has('v'),
        count: o.has('c'),
        number: o.has('n'),
        list: o.has('l'),
        list_missing: o.has('L'),
        quiet: o.has('q'),
        only: o.has('o'),
        names: !o.has('h') && (o.has('H') || files.len() > 1 || recursive),
        after: ctx('A'),
        before: ctx('B'),
        max: o.val('m').and_then(|v| v.parse().ok()),
    };
    let mut w = out();
    let mut any = false;
    let mut error = false;
    for f in &files {
        let r = match open_input(f) {
            Ok(r) => r,
            Err(e) => {
                if !o.has('s') {
                    err!("{f}: {}", errstr(&e));
                }
                error = true;
                continue;
            }
        };
        let name = if f == "-" { "(standard input)" } else { f };
        match grep_reader(&g, r, name, &mut w) {
            Ok(true) => {
                any = true;
                if g.quiet {
                    return 0;
                }
            }
            Ok(false) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return 2,
            Err(e) => {
                if !o.has('s') {
                    err!("{f}: {}", errstr(&e));
                }
                error = true;
            }
        }
    }
    let code = if error && !(g.quiet && any) {
        2
    } else if any {
        0
    } else {
        1
    };
    util::done(&mut w, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(m: &Matcher, s: &str) -> Option<String> {
        let t: Vec<char> = s.chars().collect();
        m.find(&t, 0).map(|(a, b)| t[a..b].iter().collect())
    }

    #[test]
    fn matching() {
        let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let m = Matcher::new(&v(&["foo"]), false, false, true, false, false).unwrap();
        assert_eq!(f(&m, "a FOO b").as_deref(), Some("FOO"));
        let m = Matcher::new(&v(&["foo"]), true, false, true, true, false).unwrap();
        assert_eq!(f(&m, "foobar Foo"), Some("Foo".into()));
        let m = Matcher::new(&v(&["a.c"]), true, false, false, false, false).unwrap();
        assert_eq!(f(&m, "abc a.c").as_deref(), Some("a.c"));
        let m = Matcher::new(&v(&["a.c"]), false, false, false, false, true).unwrap();
        assert_eq!(f(&m, "abc"), Some("abc".into()));
        assert_eq!(f(&m, "abcd"), None);
        let m = Matcher::new(&v(&["x", "yy"]), false, true, false, false, false).unwrap();
        assert_eq!(f(&m, "ayyx").as_deref(), Some("yy"));
        let m = Matcher::new(&v(&["ab|cd"]), false, true, false, true, false).unwrap();
        assert_eq!(f(&m, "xab cd"), Some("cd".into()));
        let m = Matcher::new(&v(&["a.b"]), true, false, false, false, true).unwrap();
        assert_eq!(f(&m, "a.b"), Some("a.b".into()));
        assert_eq!(f(&m, "axb"), None);
    }

    #[test]
    fn files_on_host() {
        let d = util::testutil::tempdir();
        std::fs::write(format!("{d}/a"), "one\ntwo\nthree\n").unwrap();
        let a = util::testutil::argv;
        assert_eq!(grep(&a(&["grep", "-q", "tw", &format!("{d}/a")])), 0);
        assert_eq!(grep(&a(&["grep", "-q", "zz", &format!("{d}/a")])), 1);
        assert_eq!(grep(&a(&["grep", "-q", "zz", &format!("{d}/none")])), 2);
        assert_eq!(grep(&a(&["grep", "-qr", "thr", &d])), 0);
        assert_eq!(grep(&a(&["grep", "-qE", "(", &format!("{d}/a")])), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
