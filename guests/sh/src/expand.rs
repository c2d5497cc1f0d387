//! Word expansion: parameters, command substitution, arithmetic, field splitting, globbing.

use crate::arith;
use crate::glob::{self, PChar};

/// What expansion needs from the shell.
pub trait Ctx {
    /// A variable or special parameter (`?`, `$`, `!`, `#`, `-`, `0`..`9`).
    fn get(&self, name: &str) -> Option<String>;
    fn set(&mut self, name: &str, value: String);
    fn params(&self) -> Vec<String>;
    /// Output of a command substitution, trailing newlines removed.
    fn subst(&mut self, src: &str) -> String;
    fn noglob(&self) -> bool {
        false
    }
}

/// How a char came to be: quoted (never split nor globbed), literal (globbed), or the
/// result of an unquoted expansion (split and globbed).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Q {
    Quoted,
    Lit,
    Exp,
}

type Chars = Vec<(char, Q)>;

#[derive(Default)]
struct Acc {
    /// Fields already closed by `"$@"`, with whether they had quotes.
    done: Vec<(Chars, bool)>,
    cur: Chars,
    hasq: bool,
}

impl Acc {
    fn push(&mut self, s: &str, q: Q) {
        self.cur.extend(s.chars().map(|c| (c, q)));
    }
    fn brk(&mut self) {
        let cur = std::mem::take(&mut self.cur);
        self.done.push((cur, std::mem::replace(&mut self.hasq, false)));
    }
    fn text(self) -> String {
        let mut out = String::new();
        for (f, _) in self.done {
            out.extend(f.iter().map(|p| p.0));
            out.push(' ');
        }
        out.extend(self.cur.iter().map(|p| p.0));
        out
    }
}

struct Ex<'a> {
    ctx: &'a mut dyn Ctx,
    heredoc: bool,
}

/// Expand words into fields (splitting and pathname expansion included).
pub fn words(ctx: &mut dyn Ctx, ws: &[String]) -> Result<Vec<String>, String> {
    let ifs = ctx.get("IFS").unwrap_or_else(|| " \t\n".into());
    let noglob = ctx.noglob();
    let mut out = Vec::new();
    for w in ws {
        let mut acc = Acc::default();
        Ex { ctx, heredoc: false }.word(w, &mut acc)?;
        let mut segs = acc.done;
        segs.push((acc.cur, acc.hasq));
        for (seg, hasq) in segs {
            for f in split(seg, hasq, &ifs) {
                let pat: Vec<PChar> = f.iter().map(|&(c, q)| (c, q == Q::Quoted)).collect();
                let text: String = f.iter().map(|p| p.0).collect();
                if !noglob && glob::has_meta(&pat) {
                    let found = glob::expand(&pat);
                    if !found.is_empty() {
                        out.extend(found);
                        continue;
                    }
                }
                out.push(text);
            }
        }
    }
    Ok(out)
}

/// Expand one word to a single string (assignments, redirection targets, `case` words).
pub fn string(ctx: &mut dyn Ctx, w: &str) -> Result<String, String> {
    let mut acc = Acc::default();
    Ex { ctx, heredoc: false }.word(w, &mut acc)?;
    Ok(acc.text())
}

/// Expand a `case` pattern: quoted chars match literally.
pub fn pattern(ctx: &mut dyn Ctx, w: &str) -> Result<Vec<PChar>, String> {
    let mut acc = Acc::default();
    Ex { ctx, heredoc: false }.word(w, &mut acc)?;
    Ok(acc.cur.iter().map(|&(c, q)| (c, q == Q::Quoted)).collect())
}

/// Expand a here-document body (`$`, backquotes and `\` are special; quotes are not).
pub fn heredoc(ctx: &mut dyn Ctx, body: &str) -> Result<String, String> {
    let mut acc = Acc::default();
    let cs: Vec<char> = body.chars().collect();
    Ex { ctx, heredoc: true }.walk(&cs, &mut acc, true, Q::Quoted)?;
    Ok(acc.text())
}

fn split(seg: Chars, hasq: bool, ifs: &str) -> Vec<Chars> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut just_split = false;
    for (c, q) in seg {
        if q == Q::Exp && ifs.contains(c) {
            if c == ' ' || c == '\t' || c == '\n' {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    just_split = true;
                }
            } else if just_split {
                just_split = false;
            } else {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push((c, q));
            just_split = false;
        }
    }
    if !cur.is_empty() || (out.is_empty() && hasq) {
        out.push(cur);
    }
    out
}

/// Index just past the quoting unit starting at `s[i]` (mirrors the parser's word scan).
fn skip_unit(s: &[char], i: usize, in_dq: bool) -> usize {
    let at = |k: usize| s.get(k).copied();
    match s[i] {
        '\\' => (i + 2).min(s.len()),
        '\'' if !in_dq => s[i + 1..].iter().position(|&c| c == '\'').map_or(s.len(), |p| i + p + 2),
        '"' if !in_dq => {
            let mut j = i + 1;
            while j < s.len() && s[j] != '"' {
                j = skip_unit(s, j, true);
            }
            (j + 1).min(s.len())
        }
        '`' => {
            let mut j = i + 1;
            while j < s.len() && s[j] != '`' {
                j += if s[j] == '\\' { 2 } else { 1 };
            }
            (j + 1).min(s.len())
        }
        '$' if at(i + 1) == Some('(') && at(i + 2) == Some('(') => {
            let mut depth = 0;
            let mut j = i + 3;
            while j < s.len() {
                match s[j] {
                    ')' if depth == 0 && at(j + 1) == Some(')') => return j + 2,
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            s.len()
        }
        '$' if at(i + 1) == Some('(') => crate::parser::subst_len(&s[i + 2..]).map_or(s.len(), |n| i + 2 + n),
        '$' if at(i + 1) == Some('{') => {
            let mut j = i + 2;
            while j < s.len() && s[j] != '}' {
                j = skip_unit(s, j, false);
            }
            (j + 1).min(s.len())
        }
        _ => i + 1,
    }
}

impl Ex<'_> {
    fn word(&mut self, w: &str, acc: &mut Acc) -> Result<(), String> {
        let cs: Vec<char> = w.chars().collect();
        let mut start = 0;
        if cs.first() == Some(&'~') {
            let end = cs.iter().position(|&c| c == '/').unwrap_or(cs.len());
            let user: String = cs[1..end].iter().collect();
            let home = match user.as_str() {
                "" => self.ctx.get("HOME"),
                "root" => Some("/root".into()),
                _ => None,
            };
            if let Some(h) = home {
                acc.push(&h, Q::Quoted);
                start = end;
            }
        }
        self.walk(&cs[start..], acc, false, Q::Lit)
    }

    fn walk(&mut self, s: &[char], acc: &mut Acc, in_dq: bool, lit: Q) -> Result<(), String> {
        let exp_q = if in_dq { Q::Quoted } else { Q::Exp };
        let mut i = 0;
        while i < s.len() {
            let c = s[i];
            match c {
                '\'' if !in_dq => {
                    let end = skip_unit(s, i, false);
                    let inner: String = s[i + 1..end.saturating_sub(1).max(i + 1)].iter().collect();
                    acc.push(&inner, Q::Quoted);
                    acc.hasq = true;
                    i = end;
                }
                '"' if !in_dq => {
                    let end = skip_unit(s, i, false);
                    let inner = &s[i + 1..end.saturating_sub(1).max(i + 1)];
                    let only_at = matches!(inner.iter().collect::<String>().as_str(), "$@" | "${@}");
                    if !(only_at && self.ctx.params().is_empty()) {
                        acc.hasq = true;
                    }
                    self.walk(inner, acc, true, Q::Quoted)?;
                    i = end;
                }
                '\\' => {
                    let next = s.get(i + 1).copied();
                    match next {
                        None => acc.push("\\", Q::Quoted),
                        Some(n) if !in_dq => acc.push(&n.to_string(), Q::Quoted),
                        Some(n) if matches!(n, '$' | '`' | '\\' | '\n') || (n == '"' && !self.heredoc) => {
                            if n != '\n' {
                                acc.push(&n.to_string(), Q::Quoted)
                            }
                        }
                        Some(n) => acc.push(&format!("\\{n}"), Q::Quoted),
                    }
                    i += 2;
                }
                '`' => {
                    let end = skip_unit(s, i, in_dq);
                    let mut inner = String::new();
                    let mut j = i + 1;
                    while j < end.saturating_sub(1) {
                        if s[j] == '\\' && matches!(s.get(j + 1), Some('$' | '`' | '\\')) {
                            j += 1;
                        }
                        inner.push(s[j]);
                        j += 1;
                    }
                    let out = self.ctx.subst(&inner);
                    acc.push(&out, exp_q);
                    i = end;
                }
                '$' => i = self.dollar(s, i, acc, in_dq)?,
                _ => {
                    acc.cur.push((c, if in_dq { Q::Quoted } else { lit }));
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// Expand `$...` at `s[i]`; returns the index after it.
    fn dollar(&mut self, s: &[char], i: usize, acc: &mut Acc, in_dq: bool) -> Result<usize, String> {
        let exp_q = if in_dq { Q::Quoted } else { Q::Exp };
        let Some(&n) = s.get(i + 1) else {
            acc.push("$", if in_dq { Q::Quoted } else { Q::Lit });
            return Ok(i + 1);
        };
        if n == '(' {
            let end = skip_unit(s, i, in_dq);
            if s.get(i + 2) == Some(&'(') {
                let inner: Vec<char> = s[i + 3..end.saturating_sub(2).max(i + 3)].to_vec();
                let mut a = Acc::default();
                self.walk(&inner, &mut a, true, Q::Quoted)?;
                let v = arith::eval(&a.text(), &mut ArithVars(&mut *self.ctx)).map_err(|e| e.to_string())?;
                acc.push(&v.to_string(), exp_q);
            } else {
                let inner: String = s[i + 2..end.saturating_sub(1).max(i + 2)].iter().collect();
                let out = self.ctx.subst(&inner);
                acc.push(&out, exp_q);
            }
            return Ok(end);
        }
        if n == '{' {
            let end = skip_unit(s, i, in_dq);
            let inner = &s[i + 2..end.saturating_sub(1).max(i + 2)];
            self.braced(inner, acc, in_dq)?;
            return Ok(end);
        }
        let (name, end) = if n == '_' || n.is_ascii_alphabetic() {
            let mut j = i + 1;
            while j < s.len() && (s[j] == '_' || s[j].is_ascii_alphanumeric()) {
                j += 1;
            }
            (s[i + 1..j].iter().collect::<String>(), j)
        } else if n.is_ascii_digit() || "?$!#@*-".contains(n) {
            (n.to_string(), i + 2)
        } else {
            acc.push("$", if in_dq { Q::Quoted } else { Q::Lit });
            return Ok(i + 1);
        };
        self.param(&name, acc, in_dq);
        let _ = exp_q;
        Ok(end)
    }

    fn param(&mut self, name: &str, acc: &mut Acc, in_dq: bool) {
        let exp_q = if in_dq { Q::Quoted } else { Q::Exp };
        match name {
            "@" | "*" => {
                let ps = self.ctx.params();
                if in_dq && name == "*" {
                    let ifs = self.ctx.get("IFS");
                    let sep = match &ifs {
                        None => " ".to_string(),
                        Some(s) => s.chars().next().map(String::from).unwrap_or_default(),
                    };
                    acc.push(&ps.join(&sep), Q::Quoted);
                    return;
                }
                for (k, p) in ps.iter().enumerate() {
                    if k > 0 {
                        if in_dq {
                            acc.hasq = true;
                        }
                        acc.brk();
                    }
                    acc.push(p, exp_q);
                }
                if in_dq && !ps.is_empty() {
                    acc.hasq = true;
                }
            }
            _ => {
                if let Some(v) = self.ctx.get(name) {
                    acc.push(&v, exp_q);
                }
            }
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        match name {
            "@" | "*" => {
                let ps = self.ctx.params();
                (!ps.is_empty()).then(|| ps.join(" "))
            }
            _ => self.ctx.get(name),
        }
    }

    fn braced(&mut self, s: &[char], acc: &mut Acc, in_dq: bool) -> Result<(), String> {
        let exp_q = if in_dq { Q::Quoted } else { Q::Exp };
        let text: String = s.iter().collect();
        if let Some(rest) = text.strip_prefix('#') {
            if !rest.is_empty() {
                let n = match rest {
                    "@" | "*" => self.ctx.params().len(),
                    _ => self.ctx.get(rest).unwrap_or_default().chars().count(),
                };
                acc.push(&n.to_string(), exp_q);
                return Ok(());
            }
        }
        let mut j = 0;
        if s.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == '_') {
            while j < s.len() && (s[j] == '_' || s[j].is_ascii_alphanumeric()) {
                j += 1;
            }
        } else if s.first().is_some_and(|c| c.is_ascii_digit()) {
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
        } else if s.first().is_some_and(|c| "?$!#@*-".contains(*c)) {
            j = 1;
        }
        if j == 0 {
            return Err(format!("syntax error: bad substitution"));
        }
        let name: String = s[..j].iter().collect();
        let rest = &s[j..];
        if rest.is_empty() {
            self.param(&name, acc, in_dq);
            return Ok(());
        }
        let val = self.value(&name);
        let colon = rest[0] == ':';
        let (op, word) = if colon && rest.len() > 1 && "-=+?".contains(rest[1]) {
            (rest[1], &rest[2..])
        } else if colon {
            return self.substring(&name, val, &rest[1..], acc, exp_q);
        } else {
            (rest[0], &rest[1..])
        };
        let unset = val.is_none() || (colon && val.as_deref() == Some(""));
        let word_q = if in_dq { Q::Quoted } else { Q::Exp };
        match op {
            '-' | '=' | '+' | '?' if matches!(op, '-' | '=' | '?') == unset => match op {
                '-' | '+' => self.walk(word, acc, in_dq, word_q)?,
                '=' => {
                    let mut a = Acc::default();
                    self.walk(word, &mut a, in_dq, Q::Quoted)?;
                    let v = a.text();
                    self.ctx.set(&name, v.clone());
                    acc.push(&v, exp_q);
                }
                _ => {
                    let mut a = Acc::default();
                    self.walk(word, &mut a, in_dq, Q::Quoted)?;
                    let msg = a.text();
                    return Err(format!("{name}: {}", if msg.is_empty() { "parameter not set" } else { &msg }));
                }
            },
            '-' | '=' | '?' => self.param(&name, acc, in_dq),
            '+' => {}
            '#' | '%' => {
                let long = word.first() == Some(&op);
                let pw = if long { &word[1..] } else { word };
                let pat = self.pat(pw)?;
                let v: Vec<char> = val.unwrap_or_default().chars().collect();
                let n = v.len();
                let res: String = if op == '#' {
                    let mut ks: Vec<usize> = (0..=n).collect();
                    if long {
                        ks.reverse();
                    }
                    match ks.into_iter().find(|&k| glob::matches(&pat, &v[..k])) {
                        Some(k) => v[k..].iter().collect(),
                        None => v.iter().collect(),
                    }
                } else {
                    let mut ks: Vec<usize> = (0..=n).rev().collect();
                    if long {
                        ks.reverse();
                    }
                    match ks.into_iter().find(|&k| glob::matches(&pat, &v[k..])) {
                        Some(k) => v[..k].iter().collect(),
                        None => v.iter().collect(),
                    }
                };
                acc.push(&res, exp_q);
            }
            '/' => {
                let all = word.first() == Some(&'/');
                let word = if all { &word[1..] } else { word };
                let mut k = 0;
                while k < word.len() && word[k] != '/' {
                    k = skip_unit(word, k, false);
                }
                let (pw, rw) = (&word[..k.min(word.len())], if k < word.len() { &word[k + 1..] } else { &[][..] });
                let (anchor, pw) = match pw.first() {
                    Some('#') => (Some('#'), &pw[1..]),
                    Some('%') => (Some('%'), &pw[1..]),
                    _ => (None, pw),
                };
                let pat = self.pat(pw)?;
                let mut a = Acc::default();
                self.walk(rw, &mut a, in_dq, Q::Quoted)?;
                let rep = a.text();
                let v: Vec<char> = val.unwrap_or_default().chars().collect();
                acc.push(&replace(&v, &pat, &rep, all, anchor), exp_q);
            }
            _ => return Err("syntax error: bad substitution".into()),
        }
        Ok(())
    }

    fn substring(
        &mut self,
        _name: &str,
        val: Option<String>,
        spec: &[char],
        acc: &mut Acc,
        q: Q,
    ) -> Result<(), String> {
        let spec: String = spec.iter().collect();
        let (off, len) = match spec.split_once(':') {
            Some((o, l)) => (o.to_string(), Some(l.to_string())),
            None => (spec, None),
        };
        let v: Vec<char> = val.unwrap_or_default().chars().collect();
        let n = v.len() as i64;
        let mut o = arith::eval(&off, &mut ArithVars(&mut *self.ctx))?;
        if o < 0 {
            o = (n + o).max(0);
        }
        let o = o.min(n);
        let l = match len {
            Some(l) => {
                let l = arith::eval(&l, &mut ArithVars(&mut *self.ctx))?;
                if l < 0 {
                    (n - o + l).max(0)
                } else {
                    l.min(n - o)
                }
            }
            None => n - o,
        };
        acc.push(&v[o as usize..(o + l) as usize].iter().collect::<String>(), q);
        Ok(())
    }

    fn pat(&mut self, w: &[char]) -> Result<Vec<PChar>, String> {
        let mut a = Acc::default();
        self.walk(w, &mut a, false, Q::Lit)?;
        Ok(a.cur.iter().map(|&(c, q)| (c, q == Q::Quoted)).collect())
    }
}

fn replace(v: &[char], pat: &[PChar], rep: &str, all: bool, anchor: Option<char>) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    while i <= v.len() {
        let may = !(replaced && !all) && (anchor != Some('#') || i == 0);
        let found = if may {
            (i..=v.len()).rev().find(|&e| {
                (anchor != Some('%') || e == v.len()) && glob::matches(pat, &v[i..e]) && (e > i || pat.is_empty())
            })
        } else {
            None
        };
        match found {
            Some(e) if e > i || !pat.is_empty() => {
                out.push_str(rep);
                replaced = true;
                i = e;
                if e == v.len() {
                    break;
                }
            }
            _ => {
                if i < v.len() {
                    out.push(v[i]);
                }
                i += 1;
            }
        }
    }
    out
}

struct ArithVars<'a>(&'a mut dyn Ctx);

impl arith::Vars for ArithVars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name)
    }
    fn set(&mut self, name: &str, value: String) {
        self.0.set(name, value)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::collections::HashMap;

    pub struct Fake {
        pub vars: HashMap<String, String>,
        pub params: Vec<String>,
    }

    impl Ctx for Fake {
        fn get(&self, name: &str) -> Option<String> {
            if name == "#" {
                return Some(self.params.len().to_string());
            }
            if let Ok(n) = name.parse::<usize>() {
                return if n == 0 { Some("sh".into()) } else { self.params.get(n - 1).cloned() };
            }
            self.vars.get(name).cloned()
        }
        fn set(&mut self, name: &str, value: String) {
            self.vars.insert(name.into(), value);
        }
        fn params(&self) -> Vec<String> {
            self.params.clone()
        }
        fn subst(&mut self, src: &str) -> String {
            format!("<{src}>")
        }
    }

    fn fake() -> Fake {
        let vars = [
            ("A", "hello"),
            ("SP", " a  b "),
            ("E", ""),
            ("HOME", "/root"),
            ("F", "x.tar.gz"),
            ("P", "/usr/local/bin"),
        ];
        Fake {
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            params: vec!["p 1".into(), "p2".into()],
        }
    }

    #[test]
    fn fields() {
        let cases: &[(&str, &[&str])] = &[
            ("plain", &["plain"]),
            ("'a b'", &["a b"]),
            ("\"$A world\"", &["hello world"]),
            ("$A", &["hello"]),
            ("${A}x", &["hellox"]),
            ("$SP", &["a", "b"]),
            ("\"$SP\"", &[" a  b "]),
            ("$E", &[]),
            ("\"$E\"", &[""]),
            ("''", &[""]),
            ("$NOPE", &[]),
            ("a\\ b", &["a b"]),
            ("\"a\\$b\\\\\"", &["a$b\\"]),
            ("'$A'", &["$A"]),
            ("$@", &["p", "1", "p2"]),
            ("\"$@\"", &["p 1", "p2"]),
            ("\"x$@y\"", &["xp 1", "p2y"]),
            ("\"$*\"", &["p 1 p2"]),
            ("$#", &["2"]),
            ("$1", &["p", "1"]),
            ("${#A}", &["5"]),
            ("${NOPE:-def ault}", &["def", "ault"]),
            ("\"${NOPE:-def ault}\"", &["def ault"]),
            ("${E:-x}", &["x"]),
            ("${E-x}", &[]),
            ("${A:+set}", &["set"]),
            ("${NOPE:+set}", &[]),
            ("${F%.gz}", &["x.tar"]),
            ("${F%%.*}", &["x"]),
            ("${F#*.}", &["tar.gz"]),
            ("${F##*.}", &["gz"]),
            ("${P##*/}", &["bin"]),
            ("${P%/*}", &["/usr/local"]),
            ("${A/l/L}", &["heLlo"]),
            ("${A//l/L}", &["heLLo"]),
            ("${A:1:3}", &["ell"]),
            ("$((1+2*3))", &["7"]),
            ("$(( ${#A} * 2 ))", &["10"]),
            ("$(echo hi)", &["<echo", "hi>"]),
            ("\"$(echo hi)\"", &["<echo hi>"]),
            ("`echo \\$A`", &["<echo", "$A>"]),
            ("~/x", &["/root/x"]),
            ("\"~\"", &["~"]),
            ("a$", &["a$"]),
            ("\\*", &["*"]),
            ("/nonexistent*", &["/nonexistent*"]),
        ];
        for (w, want) in cases {
            let mut f = fake();
            assert_eq!(words(&mut f, &[w.to_string()]).unwrap(), want.to_vec(), "{w}");
        }
        let mut f = fake();
        f.params.clear();
        assert_eq!(words(&mut f, &["\"$@\"".into()]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn assigns_and_ifs() {
        let mut f = fake();
        assert_eq!(words(&mut f, &["${N:=v w}".into()]).unwrap(), vec!["v", "w"]);
        assert_eq!(f.vars["N"], "v w");
        f.vars.insert("IFS".into(), ":".into());
        f.vars.insert("L".into(), "a:b::c".into());
        assert_eq!(words(&mut f, &["$L".into()]).unwrap(), vec!["a", "b", "", "c"]);
        assert_eq!(string(&mut f, "$SP").unwrap(), " a  b ");
        assert!(words(&mut f, &["${NOPE?oops}".into()]).unwrap_err().contains("oops"));
        assert_eq!(heredoc(&mut f, "a \"$A\" \\$x `b`\n").unwrap(), "a \"hello\" $x <b>\n");
    }
}
