//! `find PATH... [EXPR]`: -name -iname -path -type -maxdepth -mindepth -size -newer -empty
//! -print -print0 -exec {} \; / + -delete -prune, with ! -a -o and parentheses.
//!
//! Below a starting point, an entry's type comes from its directory listing, and its
//! metadata is fetched only when a test needs it (-size, -newer, -empty): a plain `find`
//! makes no stat call per entry, as GNU find does.

use crate::err;
use crate::util::{self, errstr, out};
use std::cell::OnceCell;
use std::io::Write;

/// Shell-style pattern match (`*`, `?`, `[...]`, `\x`).
pub fn glob_match(pat: &[char], s: &[char]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                '*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                '?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class_match(pat, p, s[i]) {
                        if ok {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == '[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                '\\' if p + 1 < pat.len() => {
                    if pat[p + 1] == s[i] {
                        p += 2;
                        i += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[i] {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == '*' {
        p += 1;
    }
    p == pat.len()
}

/// Match `c` against the bracket expression at `pat[p]`; returns (matched, index after `]`).
fn class_match(pat: &[char], p: usize, c: char) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let neg = i < pat.len() && (pat[i] == '!' || pat[i] == '^');
    if neg {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < pat.len() {
        if pat[i] == ']' && !first {
            return Some((hit != neg, i + 1));
        }
        first = false;
        if pat[i] == '[' && pat.get(i + 1) == Some(&':') {
            let rest: String = pat[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let name = &rest[..end];
                hit |= match name {
                    "alpha" => c.is_ascii_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_ascii_alphanumeric(),
                    "upper" => c.is_ascii_uppercase(),
                    "lower" => c.is_ascii_lowercase(),
                    "space" => c.is_ascii_whitespace(),
                    _ => false,
                };
                i += 2 + name.chars().count() + 2;
                continue;
            }
        }
        let lo = pat[i];
        if i + 2 < pat.len() && pat[i + 1] == '-' && pat[i + 2] != ']' {
            hit |= lo <= c && c <= pat[i + 2];
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
    None
}

#[derive(Debug)]
enum E {
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    Not(Box<E>),
    Name(Vec<char>, bool),
    Path(Vec<char>),
    Type(char),
    Size(char, u64, u64),
    Newer(i64),
    Empty,
    Print(bool),
    Exec(Vec<String>, bool),
    Delete,
    Prune,
    Const(bool),
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
    maxdepth: Option<usize>,
    mindepth: usize,
    action: bool,
    depth_first: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.t.get(self.i).map(String::as_str)
    }
    fn arg(&mut self, opt: &str) -> Result<&'a str, String> {
        self.i += 1;
        self.t.get(self.i - 1).map(String::as_str).ok_or_else(|| format!("missing argument to '{opt}'"))
    }
    fn or(&mut self) -> Result<E, String> {
        let mut l = self.and()?;
        while matches!(self.peek(), Some("-o" | "-or")) {
            self.i += 1;
            l = E::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<E, String> {
        let mut l = self.not()?;
        loop {
            match self.peek() {
                Some("-a" | "-and") => {
                    self.i += 1;
                }
                Some("-o" | "-or" | ")") | None => return Ok(l),
                _ => {}
            }
            l = E::And(Box::new(l), Box::new(self.not()?));
        }
    }
    fn not(&mut self) -> Result<E, String> {
        if matches!(self.peek(), Some("!" | "-not")) {
            self.i += 1;
            return Ok(E::Not(Box::new(self.not()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<E, String> {
        let Some(tok) = self.peek() else {
            return Err("expected an expression".into());
        };
        self.i += 1;
        Ok(match tok {
            "(" => {
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return Err("missing ')'".into());
                }
                self.i += 1;
                e
            }
            "-name" => E::Name(self.arg(tok)?.chars().collect(), false),
            "-iname" => E::Name(self.arg(tok)?.to_ascii_lowercase().chars().collect(), true),
            "-path" | "-wholename" => E::Path(self.arg(tok)?.chars().collect()),
            "-type" => {
                let a = self.arg(tok)?;
                match a {
                    "f" | "d" | "l" | "p" | "s" | "b" | "c" => E::Type(a.chars().next().unwrap()),
                    _ => return Err(format!("invalid argument '{a}' to '-type'")),
                }
            }
            "-maxdepth" | "-mindepth" => {
                let a = self.arg(tok)?;
                let n: usize = a.parse().map_err(|_| format!("invalid number '{a}'"))?;
                if tok == "-maxdepth" {
                    self.maxdepth = Some(n);
                } else {
                    self.mindepth = n;
                }
                E::Const(true)
            }
            "-depth" | "-d" => {
                self.depth_first = true;
                E::Const(true)
            }
            "-xdev" | "-mount" | "-follow" | "-noleaf" => E::Const(true),
            "-size" => {
                let a = self.arg(tok)?;
                let (cmp, body) = match a.chars().next() {
                    Some(c @ ('+' | '-')) => (c, &a[1..]),
                    _ => ('=', a),
                };
                let (num, unit) = match body.chars().last() {
                    Some('c') => (&body[..body.len() - 1], 1),
                    Some('w') => (&body[..body.len() - 1], 2),
                    Some('b') => (&body[..body.len() - 1], 512),
                    Some('k') => (&body[..body.len() - 1], 1024),
                    Some('M') => (&body[..body.len() - 1], 1024 * 1024),
                    Some('G') => (&body[..body.len() - 1], 1024 * 1024 * 1024),
                    _ => (body, 512),
                };
                let n = num.parse().map_err(|_| format!("invalid argument '{a}' to '-size'"))?;
                E::Size(cmp, n, unit)
            }
            "-newer" => {
                let f = self.arg(tok)?;
                let st = util::meta(f, true).map_err(|e| format!("{f}: {}", errstr(&e)))?;
                E::Newer(st.mtime)
            }
            "-empty" => E::Empty,
            "-true" => E::Const(true),
            "-false" => E::Const(false),
            "-print" | "-print0" => {
                self.action = true;
                E::Print(tok == "-print0")
            }
            "-delete" => {
                self.action = true;
                self.depth_first = true;
                E::Delete
            }
            "-prune" => E::Prune,
            "-exec" | "-ok" => {
                self.action = true;
                let mut cmd = Vec::new();
                loop {
                    let Some(a) = self.peek() else {
                        return Err(format!("missing argument to '{tok}'"));
                    };
                    self.i += 1;
                    if a == ";" {
                        break E::Exec(cmd, false);
                    }
                    if a == "+" && cmd.last().map(String::as_str) == Some("{}") {
                        cmd.pop();
                        break E::Exec(cmd, true);
                    }
                    cmd.push(a.to_string());
                }
            }
            other => return Err(format!("unrecognized: {other}")),
        })
    }
}

struct Ctx {
    out: util::Out,
    batch: Vec<(Vec<String>, Vec<String>)>,
    rc: i32,
    prune: bool,
}

fn run_exec(ctx: &mut Ctx, argv: Vec<String>) -> bool {
    let _ = ctx.out.flush();
    match util::run_cmd(&argv, None) {
        Ok(s) => s == 0,
        Err(e) => {
            err!("{}: {}", argv[0], errstr(&e));
            ctx.rc = 1;
            false
        }
    }
}

/// An entry being tested: its type from the listing (or the starting point's stat), the rest
/// of its metadata asked for at most once, when a test needs it.
struct Node<'a> {
    path: &'a str,
    name: &'a str,
    /// The `S_IFMT` bits, when known without a stat.
    kind: Option<u32>,
    follow: bool,
    stat: &'a OnceCell<Option<util::Stat>>,
}

impl<'a> Node<'a> {
    fn new(
        path: &'a str,
        name: &'a str,
        kind: Option<u32>,
        follow: bool,
        stat: &'a OnceCell<Option<util::Stat>>,
    ) -> Self {
        Node { path, name, kind, follow, stat }
    }

    /// The entry's metadata (`None`, reported, if it cannot be read).
    fn stat(&self, ctx: &mut Ctx) -> Option<&util::Stat> {
        self.stat
            .get_or_init(|| match util::meta(self.path, self.follow) {
                Ok(s) => Some(s),
                Err(er) => {
                    err!("{}: {}", self.path, errstr(&er));
                    ctx.rc = 1;
                    None
                }
            })
            .as_ref()
    }

    /// The `S_IFMT` bits (0 if the entry cannot be read).
    fn kind(&self, ctx: &mut Ctx) -> u32 {
        match self.kind {
            Some(k) => k,
            None => self.stat(ctx).map_or(0, |s| s.mode & util::S_IFMT),
        }
    }
}

/// The `S_IFMT` bits of a listed entry's type, if the listing says (else a stat will tell).
fn kind_of(ft: std::fs::FileType) -> Option<u32> {
    if ft.is_dir() {
        Some(util::S_IFDIR)
    } else if ft.is_file() {
        Some(util::S_IFREG)
    } else if ft.is_symlink() {
        Some(util::S_IFLNK)
    } else {
        None
    }
}

fn eval(e: &E, n: &Node, ctx: &mut Ctx) -> bool {
    let (path, name) = (n.path, n.name);
    match e {
        E::And(a, b) => eval(a, n, ctx) && eval(b, n, ctx),
        E::Or(a, b) => eval(a, n, ctx) || eval(b, n, ctx),
        E::Not(a) => !eval(a, n, ctx),
        E::Name(p, icase) => {
            let n: Vec<char> =
                if *icase { name.to_ascii_lowercase().chars().collect() } else { name.chars().collect() };
            glob_match(p, &n)
        }
        E::Path(p) => glob_match(p, &path.chars().collect::<Vec<_>>()),
        E::Type(c) => {
            let t = n.kind(ctx);
            match c {
                'f' => t == util::S_IFREG,
                'd' => t == util::S_IFDIR,
                'l' => t == util::S_IFLNK,
                'p' => t == 0o010000,
                's' => t == 0o140000,
                'b' => t == 0o060000,
                _ => t == 0o020000,
            }
        }
        E::Size(cmp, want, unit) => {
            let Some(st) = n.stat(ctx) else { return false };
            let units = st.size.div_ceil(*unit);
            match cmp {
                '+' => units > *want,
                '-' => units < *want,
                _ => units == *want,
            }
        }
        E::Newer(t) => n.stat(ctx).is_some_and(|st| st.mtime > *t),
        E::Empty => {
            let kind = n.kind(ctx);
            if util::is_dir(kind) {
                std::fs::read_dir(path).map(|mut r| r.next().is_none()).unwrap_or(false)
            } else {
                util::is_reg(kind) && n.stat(ctx).is_some_and(|st| st.size == 0)
            }
        }
        E::Print(zero) => {
            let _ = ctx.out.write_all(path.as_bytes());
            let _ = ctx.out.write_all(if *zero { b"\0" } else { b"\n" });
            true
        }
        E::Exec(cmd, plus) => {
            if *plus {
                match ctx.batch.iter_mut().find(|(c, _)| c == cmd) {
                    Some((_, v)) => v.push(path.to_string()),
                    None => ctx.batch.push((cmd.clone(), vec![path.to_string()])),
                }
                true
            } else {
                let argv: Vec<String> = cmd.iter().map(|a| a.replace("{}", path)).collect();
                run_exec(ctx, argv)
            }
        }
        E::Delete => {
            let r = if util::is_dir(n.kind(ctx)) { std::fs::remove_dir(path) } else { std::fs::remove_file(path) };
            if let Err(e) = r {
                err!("{path}: {}", errstr(&e));
                ctx.rc = 1;
                return false;
            }
            true
        }
        E::Prune => {
            ctx.prune = true;
            true
        }
        E::Const(b) => *b,
    }
}

/// A directory's entries, sorted by name, with their types as listed: the names in one string
/// (no allocation per entry).
#[derive(Default)]
struct Listing {
    names: String,
    /// Where each name is in `names`, and its type if the listing says.
    items: Vec<(usize, usize, Option<u32>)>,
}

impl Listing {
    fn read(path: &str) -> std::io::Result<Listing> {
        let mut l = Listing::default();
        for d in std::fs::read_dir(path)?.flatten() {
            let start = l.names.len();
            l.names.push_str(&d.file_name().to_string_lossy());
            // The listing's type is lstat's; an entry it says nothing about is stat'ed.
            l.items.push((start, l.names.len(), d.file_type().ok().and_then(kind_of)));
        }
        let names = &l.names;
        l.items.sort_unstable_by(|a, b| names[a.0..a.1].cmp(&names[b.0..b.1]));
        Ok(l)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, Option<u32>)> {
        self.items.iter().map(|&(start, end, kind)| (&self.names[start..end], kind))
    }
}

/// Tests `path` and everything below it. `kind`: its type as its directory listed it (`None`
/// for a starting point, which is stat'ed, following a symlink if `follow`). `path` is
/// extended for each entry below and given back as it was.
#[allow(clippy::too_many_arguments)]
fn walk(
    path: &mut String,
    name: &str,
    kind: Option<u32>,
    depth: usize,
    e: &E,
    p: &Parser,
    ctx: &mut Ctx,
    follow: bool,
) {
    let stat = OnceCell::new();
    let node = Node::new(path, name, kind, follow, &stat);
    if kind.is_none() && node.stat(ctx).is_none() {
        return;
    }
    ctx.prune = false;
    let here = depth >= p.mindepth;
    if here && !p.depth_first {
        eval(e, &node, ctx);
    }
    let pruned = ctx.prune;
    if util::is_dir(node.kind(ctx)) && !pruned && p.maxdepth.is_none_or(|m| depth < m) {
        match Listing::read(path) {
            Ok(listing) => {
                let len = path.len();
                for (n, kind) in listing.iter() {
                    if !path.ends_with('/') {
                        path.push('/');
                    }
                    path.push_str(n);
                    walk(path, n, kind, depth + 1, e, p, ctx, false);
                    path.truncate(len);
                }
            }
            Err(er) => {
                err!("{path}: {}", errstr(&er));
                ctx.rc = 1;
            }
        }
    }
    if here && p.depth_first {
        eval(e, &Node::new(path, name, kind, follow, &stat), ctx);
    }
}

pub fn find(args: &[String]) -> i32 {
    let mut i = 1;
    let mut follow = false;
    while i < args.len() && (args[i] == "-L" || args[i] == "-H" || args[i] == "-P") {
        follow = args[i] != "-P";
        i += 1;
    }
    let mut paths = Vec::new();
    while i < args.len() && !args[i].starts_with('-') && args[i] != "(" && args[i] != "!" {
        paths.push(args[i].clone());
        i += 1;
    }
    if paths.is_empty() {
        paths.push(".".into());
    }
    let rest = &args[i..];
    let mut p = Parser { t: rest, i: 0, maxdepth: None, mindepth: 0, action: false, depth_first: false };
    let expr = if rest.is_empty() {
        Ok(E::Const(true))
    } else {
        p.or().and_then(|e| if p.i < rest.len() { Err(format!("unexpected '{}'", rest[p.i])) } else { Ok(e) })
    };
    let mut expr = match expr {
        Ok(e) => e,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    if !p.action {
        expr = E::And(Box::new(expr), Box::new(E::Print(false)));
    }
    let mut ctx = Ctx { out: out(), batch: Vec::new(), rc: 0, prune: false };
    for path in &paths {
        let name = util::base_name(path).to_string();
        walk(&mut path.clone(), &name, None, 0, &expr, &p, &mut ctx, follow);
    }
    for (cmd, files) in std::mem::take(&mut ctx.batch) {
        let mut argv = cmd;
        argv.extend(files);
        if !run_exec(&mut ctx, argv) {
            ctx.rc = 1;
        }
    }
    let rc = ctx.rc;
    util::done(&mut ctx.out, rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str, s: &str) -> bool {
        glob_match(&p.chars().collect::<Vec<_>>(), &s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn globs() {
        assert!(g("*.rs", "main.rs"));
        assert!(!g("*.rs", "main.rsx"));
        assert!(g("a?c", "abc"));
        assert!(g("[a-c]x*", "bxyz"));
        assert!(!g("[!a-c]x", "bx"));
        assert!(g("*", ""));
        assert!(g("a*b*c", "aXXbYYc"));
        assert!(!g("a*b*c", "aXXbYY"));
        assert!(g("\\*", "*"));
        assert!(g("[[:digit:]]*", "1abc"));
    }

    #[test]
    fn expressions() {
        let t: Vec<String> = ["!", "-name", "*.o", "-a", "(", "-type", "f", "-o", "-type", "d", ")", "-maxdepth", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut p = Parser { t: &t, i: 0, maxdepth: None, mindepth: 0, action: false, depth_first: false };
        let e = p.or().unwrap();
        assert_eq!(p.i, t.len());
        assert_eq!(p.maxdepth, Some(2));
        assert!(matches!(e, E::And(..)));
        let t: Vec<String> = ["-exec", "echo", "{}"].iter().map(|s| s.to_string()).collect();
        let mut p = Parser { t: &t, i: 0, maxdepth: None, mindepth: 0, action: false, depth_first: false };
        assert!(p.or().is_err());
    }
}
