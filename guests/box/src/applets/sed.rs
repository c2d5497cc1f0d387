//! `sed` (subset): -n -e -f -i -E/-r; addresses N, $, /re/, A,B ranges and `!`; commands
//! s (g p N i flags, \1-\9 and &), p d q Q = y a i c n N h H g G x and { }.

use crate::err;
use crate::regex::Regex;
use crate::util::{self, errstr};
use std::io::Write;

#[derive(Debug)]
enum Addr {
    Line(usize),
    Last,
    Re(usize),
}

#[derive(Debug)]
pub enum Repl {
    Lit(String),
    Group(usize),
}

#[derive(Debug)]
enum Kind {
    Block(usize),
    End,
    Subst { re: usize, repl: Vec<Repl>, global: bool, nth: usize, print: bool },
    Print,
    Delete,
    Quit(bool, i32),
    LineNo,
    Trans(Vec<(char, char)>),
    Append(String),
    Insert(String),
    Change(String),
    Next,
    NextAppend,
    Hold(char),
}

#[derive(Debug)]
struct Cmd {
    a1: Option<Addr>,
    a2: Option<Addr>,
    neg: bool,
    kind: Kind,
    active: bool,
}

/// A compiled sed script.
pub struct Script {
    cmds: Vec<Cmd>,
    res: Vec<Regex>,
}

struct P<'a> {
    s: &'a [char],
    i: usize,
    ere: bool,
    res: Vec<Regex>,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
    }
    /// Text up to an unescaped `delim` (`\delim` → delim, `\n` → newline); consumes the delimiter.
    fn delimited(&mut self, delim: char, is_re: bool) -> Result<String, String> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(format!("unterminated '{delim}'"));
            };
            self.i += 1;
            if c == delim {
                return Ok(out);
            }
            if c == '\\' {
                let Some(n) = self.peek() else {
                    return Err("trailing backslash".into());
                };
                self.i += 1;
                if n == delim {
                    out.push(n);
                } else if n == 'n' && is_re {
                    out.push('\n');
                } else {
                    out.push('\\');
                    out.push(n);
                }
            } else if c == '\n' && !is_re {
                out.push('\n');
            } else {
                out.push(c);
            }
        }
    }
    fn regex(&mut self, pat: &str, icase: bool) -> Result<usize, String> {
        if pat.is_empty() {
            return if self.res.is_empty() {
                Err("no previous regular expression".into())
            } else {
                Ok(self.res.len() - 1)
            };
        }
        self.res.push(Regex::new(pat, self.ere, icase)?);
        Ok(self.res.len() - 1)
    }
    fn addr(&mut self) -> Result<Option<Addr>, String> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let st = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let n: String = self.s[st..self.i].iter().collect();
                Ok(Some(Addr::Line(n.parse().map_err(|_| "bad line number")?)))
            }
            Some('$') => {
                self.i += 1;
                Ok(Some(Addr::Last))
            }
            Some(d @ ('/' | '\\')) => {
                self.i += 1;
                let delim = if d == '\\' {
                    let c = self.peek().ok_or("unexpected end")?;
                    self.i += 1;
                    c
                } else {
                    '/'
                };
                let pat = self.delimited(delim, true)?;
                let icase = self.peek() == Some('I');
                if icase {
                    self.i += 1;
                }
                Ok(Some(Addr::Re(self.regex(&pat, icase)?)))
            }
            _ => Ok(None),
        }
    }
    /// Text argument of a/i/c: `a text`, `a\` NEWLINE `text`, with `\` line continuations.
    fn text(&mut self) -> String {
        self.skip_ws();
        if self.peek() == Some('\\') {
            self.i += 1;
            if self.peek() == Some('\n') {
                self.i += 1;
            }
        }
        self.skip_ws();
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == '\\' {
                match self.peek() {
                    Some(n) => {
                        self.i += 1;
                        out.push(if n == 't' { '\t' } else { n });
                    }
                    None => break,
                }
            } else if c == '\n' {
                break;
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn parse_repl(s: &str) -> Vec<Repl> {
    let mut v = Vec::new();
    let mut lit = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '&' => {
                v.push(Repl::Lit(std::mem::take(&mut lit)));
                v.push(Repl::Group(0));
            }
            '\\' => match it.next() {
                Some(d @ '0'..='9') => {
                    v.push(Repl::Lit(std::mem::take(&mut lit)));
                    v.push(Repl::Group(d as usize - '0' as usize));
                }
                Some('n') => lit.push('\n'),
                Some('t') => lit.push('\t'),
                Some(o) => lit.push(o),
                None => lit.push('\\'),
            },
            o => lit.push(o),
        }
    }
    v.push(Repl::Lit(lit));
    v
}

/// Compile a script.
pub fn compile(src: &str, ere: bool) -> Result<Script, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut p = P { s: &chars, i: 0, ere, res: Vec::new() };
    let mut cmds: Vec<Cmd> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        while p.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
            p.i += 1;
        }
        if p.peek() == Some('#') {
            while p.peek().is_some_and(|c| c != '\n') {
                p.i += 1;
            }
            continue;
        }
        if p.peek().is_none() {
            break;
        }
        let a1 = p.addr()?;
        let mut a2 = None;
        if a1.is_some() && p.peek() == Some(',') {
            p.i += 1;
            p.skip_ws();
            a2 = Some(p.addr()?.ok_or("unexpected ','")?);
        }
        p.skip_ws();
        let mut neg = false;
        while p.peek() == Some('!') {
            neg = true;
            p.i += 1;
            p.skip_ws();
        }
        let Some(c) = p.peek() else {
            return Err("missing command".into());
        };
        p.i += 1;
        let kind = match c {
            '{' => {
                open.push(cmds.len());
                Kind::Block(0)
            }
            '}' => {
                let Some(st) = open.pop() else {
                    return Err("unexpected '}'".into());
                };
                let here = cmds.len();
                cmds[st].kind = Kind::Block(here);
                Kind::End
            }
            's' => {
                let delim = p.peek().ok_or("unterminated 's' command")?;
                p.i += 1;
                let pat = p.delimited(delim, true)?;
                let rep = p.delimited(delim, false)?;
                let (mut global, mut nth, mut print, mut icase) = (false, 1, false, false);
                while let Some(f) = p.peek() {
                    match f {
                        'g' => global = true,
                        'p' => print = true,
                        'i' | 'I' => icase = true,
                        '0'..='9' => {
                            let st = p.i;
                            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                                p.i += 1;
                            }
                            nth = chars[st..p.i].iter().collect::<String>().parse().unwrap_or(1).max(1);
                            continue;
                        }
                        _ => break,
                    }
                    p.i += 1;
                }
                let re = p.regex(&pat, icase)?;
                Kind::Subst { re, repl: parse_repl(&rep), global, nth, print }
            }
            'y' => {
                let delim = p.peek().ok_or("unterminated 'y' command")?;
                p.i += 1;
                let a: Vec<char> =
                    p.delimited(delim, false)?.replace("\\n", "\n").replace("\\\\", "\\").chars().collect();
                let b: Vec<char> =
                    p.delimited(delim, false)?.replace("\\n", "\n").replace("\\\\", "\\").chars().collect();
                if a.len() != b.len() {
                    return Err("strings for 'y' command are different lengths".into());
                }
                Kind::Trans(a.into_iter().zip(b).collect())
            }
            'p' => Kind::Print,
            'd' => Kind::Delete,
            'q' | 'Q' => {
                p.skip_ws();
                let st = p.i;
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.i += 1;
                }
                let code = chars[st..p.i].iter().collect::<String>().parse().unwrap_or(0);
                Kind::Quit(c == 'q', code)
            }
            '=' => Kind::LineNo,
            'a' => Kind::Append(p.text()),
            'i' => Kind::Insert(p.text()),
            'c' => Kind::Change(p.text()),
            'n' => Kind::Next,
            'N' => Kind::NextAppend,
            'h' | 'H' | 'g' | 'G' | 'x' => Kind::Hold(c),
            other => return Err(format!("unsupported command {other}")),
        };
        cmds.push(Cmd { a1, a2, neg, kind, active: false });
    }
    if !open.is_empty() {
        return Err("unmatched '{'".into());
    }
    Ok(Script { cmds, res: p.res })
}

/// Replace matches of `re` in `s` (the `nth` one, or all from it when `global`).
pub fn substitute(re: &Regex, s: &str, repl: &[Repl], global: bool, nth: usize) -> Option<String> {
    let t: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut pos = 0;
    let mut last = 0;
    let mut count = 0;
    let mut changed = false;
    while pos <= t.len() {
        let Some(c) = re.find_at(&t, pos) else { break };
        let (ms, me) = (c[0].unwrap(), c[1].unwrap());
        count += 1;
        if count >= nth {
            out.extend(&t[last..ms]);
            for r in repl {
                match r {
                    Repl::Lit(l) => out.push_str(l),
                    Repl::Group(g) => {
                        if let (Some(Some(a)), Some(Some(b))) = (c.get(2 * g), c.get(2 * g + 1)) {
                            out.extend(&t[*a..*b]);
                        }
                    }
                }
            }
            last = me;
            changed = true;
            if !global {
                break;
            }
        }
        if me == ms {
            if ms < t.len() && count >= nth {
                out.push(t[ms]);
                last = ms + 1;
            }
            pos = ms + 1;
        } else {
            pos = me;
        }
    }
    if !changed {
        return None;
    }
    if last < t.len() {
        out.extend(&t[last..]);
    }
    Some(out)
}

impl Script {
    fn addr_match(&self, a: &Addr, ps: &str, n: usize, last: bool) -> bool {
        match a {
            Addr::Line(l) => n == *l,
            Addr::Last => last,
            Addr::Re(r) => self.res[*r].is_match(ps),
        }
    }

    fn selected(&mut self, k: usize, ps: &str, n: usize, last: bool) -> bool {
        let c = &self.cmds[k];
        let (hit, active) = match (&c.a1, &c.a2) {
            (None, _) => (true, c.active),
            (Some(a1), None) => (self.addr_match(a1, ps, n, last), c.active),
            (Some(a1), Some(a2)) => {
                if !c.active {
                    if self.addr_match(a1, ps, n, last) {
                        let ends_now = matches!(a2, Addr::Line(l) if *l <= n);
                        (true, !ends_now)
                    } else {
                        (false, false)
                    }
                } else {
                    match a2 {
                        // a line number already passed ends the range without selecting this line
                        Addr::Line(l) if n > *l => (false, false),
                        Addr::Line(l) => (true, n < *l),
                        other => (true, !self.addr_match(other, ps, n, last)),
                    }
                }
            }
        };
        let neg = c.neg;
        self.cmds[k].active = active;
        hit != neg
    }

    /// Run over `lines`; returns (output, exit code).
    pub fn run(&mut self, lines: &[String], quiet: bool) -> (String, i32) {
        let mut out = String::new();
        let mut hold = String::new();
        let mut idx = 0;
        while idx < lines.len() {
            let mut ps = lines[idx].clone();
            idx += 1;
            let mut append = String::new();
            let mut autoprint = !quiet;
            let mut quit: Option<i32> = None;
            let mut pc = 0;
            while pc < self.cmds.len() {
                let last = idx == lines.len();
                if !self.selected(pc, &ps, idx, last) {
                    if let Kind::Block(end) = self.cmds[pc].kind {
                        pc = end + 1;
                        continue;
                    }
                    pc += 1;
                    continue;
                }
                match &self.cmds[pc].kind {
                    Kind::Block(_) | Kind::End => {}
                    Kind::Subst { re, repl, global, nth, print } => {
                        if let Some(r) = substitute(&self.res[*re], &ps, repl, *global, *nth) {
                            ps = r;
                            if *print {
                                out.push_str(&ps);
                                out.push('\n');
                            }
                        }
                    }
                    Kind::Print => {
                        out.push_str(&ps);
                        out.push('\n');
                    }
                    Kind::Delete => {
                        autoprint = false;
                        break;
                    }
                    Kind::Quit(print, code) => {
                        autoprint &= *print;
                        quit = Some(*code);
                        break;
                    }
                    Kind::LineNo => out.push_str(&format!("{idx}\n")),
                    Kind::Trans(map) => {
                        ps = ps.chars().map(|c| map.iter().find(|(a, _)| *a == c).map(|x| x.1).unwrap_or(c)).collect();
                    }
                    Kind::Append(t) => {
                        append.push_str(t);
                        append.push('\n');
                    }
                    Kind::Insert(t) => {
                        out.push_str(t);
                        out.push('\n');
                    }
                    Kind::Change(t) => {
                        let c = &self.cmds[pc];
                        if c.a2.is_none() || !c.active || c.neg {
                            out.push_str(t);
                            out.push('\n');
                        }
                        autoprint = false;
                        break;
                    }
                    Kind::Next => {
                        if idx >= lines.len() {
                            break;
                        }
                        if !quiet {
                            out.push_str(&ps);
                            out.push('\n');
                        }
                        out.push_str(&std::mem::take(&mut append));
                        ps = lines[idx].clone();
                        idx += 1;
                    }
                    Kind::NextAppend => {
                        if idx >= lines.len() {
                            break;
                        }
                        ps.push('\n');
                        ps.push_str(&lines[idx]);
                        idx += 1;
                    }
                    Kind::Hold(c) => match c {
                        'h' => hold = ps.clone(),
                        'H' => {
                            hold.push('\n');
                            hold.push_str(&ps);
                        }
                        'g' => ps = hold.clone(),
                        'G' => {
                            ps.push('\n');
                            ps.push_str(&hold);
                        }
                        _ => std::mem::swap(&mut ps, &mut hold),
                    },
                }
                pc += 1;
            }
            if autoprint {
                out.push_str(&ps);
                out.push('\n');
            }
            out.push_str(&append);
            if let Some(code) = quit {
                return (out, code);
            }
        }
        (out, 0)
    }
}

fn split_lines(data: &[u8]) -> Vec<String> {
    util::lines(data).iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect()
}

/// `sed [-nEr] [-i[SUF]] (-e SCRIPT | -f FILE | SCRIPT) [FILE]...`
pub fn sed(args: &[String]) -> i32 {
    // -i takes an optional attached suffix: split it off before getopt
    let mut in_place: Option<String> = None;
    let mut a: Vec<String> = Vec::new();
    for (k, x) in args.iter().enumerate() {
        if k > 0 && x.starts_with("-i") && !x.starts_with("--") {
            in_place = Some(x[2..].to_string());
        } else if k > 0
            && x.starts_with('-')
            && x.len() > 2
            && x[1..].contains('i')
            && x[1..].chars().all(|c| "nEri".contains(c))
        {
            in_place = Some(String::new());
            a.push(x.replace('i', ""));
        } else {
            a.push(x.clone());
        }
    }
    let o = match util::getopt_long(&a, "nErse:f:", &[("quiet", 'n'), ("expression", 'e')]) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut files = o.args.clone();
    let mut src = Vec::new();
    for e in o.vals('e') {
        src.push(e.to_string());
    }
    for f in o.vals('f') {
        match std::fs::read_to_string(f) {
            Ok(t) => src.push(t),
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                return 1;
            }
        }
    }
    if src.is_empty() {
        if files.is_empty() {
            err!("no script specified");
            return 1;
        }
        src.push(files.remove(0));
    }
    let mut script = match compile(&src.join("\n"), o.has('E') || o.has('r')) {
        Ok(s) => s,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let quiet = o.has('n');
    if let Some(suffix) = in_place {
        if files.is_empty() {
            err!("no input files");
            return 1;
        }
        let mut rc = 0;
        for f in &files {
            let data = match std::fs::read(f) {
                Ok(d) => d,
                Err(e) => {
                    err!("{f}: {}", errstr(&e));
                    rc = 1;
                    continue;
                }
            };
            for c in script.cmds.iter_mut() {
                c.active = false;
            }
            let (text, code) = script.run(&split_lines(&data), quiet);
            if !suffix.is_empty() {
                let _ = std::fs::write(format!("{f}{suffix}"), &data);
            }
            if let Err(e) = std::fs::write(f, text) {
                err!("{f}: {}", errstr(&e));
                rc = 1;
            }
            if code != 0 {
                return code;
            }
        }
        return rc;
    }
    if files.is_empty() {
        files.push("-".into());
    }
    let mut data = Vec::new();
    let mut rc = 0;
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
                rc = 2;
            }
        }
    }
    let (text, code) = script.run(&split_lines(&data), quiet);
    let mut w = util::out();
    let _ = w.write_all(text.as_bytes());
    util::done(&mut w, if code != 0 { code } else { rc })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str, input: &str, quiet: bool, ere: bool) -> String {
        let mut s = compile(script, ere).unwrap();
        let lines: Vec<String> = input.lines().map(String::from).collect();
        s.run(&lines, quiet).0
    }

    #[test]
    fn scripts() {
        assert_eq!(run("s/a/b/", "aaa\nxa\n", false, false), "baa\nxb\n");
        assert_eq!(run("s/a/b/g", "aaa\n", false, false), "bbb\n");
        assert_eq!(run("s/a/b/2", "aaa\n", false, false), "aba\n");
        assert_eq!(run("s/\\(h\\)\\(i\\)/\\2\\1[&]/", "hi\n", false, false), "ih[hi]\n");
        assert_eq!(run("s/(x+)/<\\1>/g", "axxbx\n", false, true), "a<xx>b<x>\n");
        assert_eq!(run("s/x*/-/g", "abc\n", false, false), "-a-b-c-\n");
        assert_eq!(run("s|/|_|g", "/a/b\n", false, false), "_a_b\n");
        assert_eq!(run("2p", "1\n2\n3\n", true, false), "2\n");
        assert_eq!(run("$!d", "1\n2\n3\n", false, false), "3\n");
        assert_eq!(run("/b/,/d/d", "a\nb\nc\nd\ne\n", false, false), "a\ne\n");
        assert_eq!(run("2,3!d", "1\n2\n3\n4\n", false, false), "2\n3\n");
        assert_eq!(run("2q", "1\n2\n3\n", false, false), "1\n2\n");
        assert_eq!(run("=", "a\nb\n", false, false), "1\na\n2\nb\n");
        assert_eq!(run("y/abc/xyz/", "aabbcc\n", false, false), "xxyyzz\n");
        assert_eq!(run("1i\\\nhead\n$a tail", "x\ny\n", false, false), "head\nx\ny\ntail\n");
        assert_eq!(run("/x/c\\\nchanged", "x\ny\n", false, false), "changed\ny\n");
        assert_eq!(run("/a/{s/a/b/;p}", "a\nc\n", true, false), "b\n");
        assert_eq!(run("N;s/\\n/ /", "1\n2\n3\n", false, false), "1 2\n3\n");
        assert_eq!(run("1!G;h;$!d", "1\n2\n3\n", false, false), "3\n2\n1\n");
        assert_eq!(run("s/A/x/Ig", "aA\n", false, false), "xx\n");
        assert!(compile("s/a/b", false).is_err());
        assert!(compile("{p", false).is_err());
    }
}
