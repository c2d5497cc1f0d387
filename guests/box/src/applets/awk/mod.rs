//! `awk` (POSIX): patterns and ranges, BEGIN/END, fields and `NF`/`NR`/`FNR`/`FS`/`OFS`/
//! `ORS`/`RS`/`SUBSEP`/`CONVFMT`/`OFMT`/`ENVIRON`/`ARGV`, `-F`, `-v`, `-f`, associative arrays,
//! user functions (arrays by reference), if/while/do/for/for-in, print/printf with `>`, `>>`
//! and `|` redirections, getline (plain, `< file`, `cmd |`), the string and arithmetic
//! built-ins, `system`, `close`, `fflush`. Regular expressions are ERE with leftmost-longest
//! matches (`crate::regex::Regex::awk`). Numbers compare numerically when both sides are
//! numbers or numeric strings from input, else as strings (POSIX).

mod parse;

use crate::regex::Regex;
use crate::util;
use parse::{BinOp, Builtin, Expr, GetSrc, Item, Pattern, Program, Redir, Stmt, Var};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::rc::Rc;

/// An awk value.
#[derive(Debug, Clone)]
pub enum Val {
    Uninit,
    Num(f64),
    Str(Rc<str>),
    /// A string from input that looks like a number: compares as a number.
    StrNum(Rc<str>),
}

impl Val {
    fn str(s: &str) -> Val {
        Val::Str(Rc::from(s))
    }
    /// A value from input: a numeric string when it looks like a number.
    pub fn input(s: &str) -> Val {
        if looks_numeric(s) {
            Val::StrNum(Rc::from(s))
        } else {
            Val::Str(Rc::from(s))
        }
    }
}

/// POSIX's "looks like a number": blanks, sign, decimal digits with a point and exponent.
pub fn looks_numeric(s: &str) -> bool {
    let t = s.trim_matches(|c| c == ' ' || c == '\t' || c == '\n');
    let (n, len) = num_prefix(t);
    let _ = n;
    len > 0 && len == t.len()
}

/// The number at the start of `s` (after blanks) and how many bytes it used (0: none).
fn num_prefix(s: &str) -> (f64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - ds;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - fs;
    }
    if digits == 0 {
        // inf / nan spelled out (gawk's +inf, -nan) are accepted with a sign only
        let rest = s[ds..].to_ascii_lowercase();
        if ds == 1 && (rest.starts_with("inf") || rest.starts_with("nan")) {
            let v = if rest.starts_with("inf") { f64::INFINITY } else { f64::NAN };
            return (if b[0] == b'-' { -v } else { v }, ds + 3);
        }
        return (0.0, 0);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let save = i;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if i < b.len() && b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            i = save;
        }
    }
    (s[..i].parse().unwrap_or(0.0), i)
}

/// A string's numeric value: its leading number, 0 when there is none.
pub fn str_num(s: &str) -> f64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    num_prefix(t).0
}

/// A number as text: integers as `%d`, others with `fmt` (CONVFMT or OFMT).
pub fn num_str(n: f64, fmt: &str) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == n.trunc() && n.abs() < 9.2e18 {
        return format!("{}", n as i64);
    }
    sprintf(fmt, &[Val::Num(n)], "%.6g")
}

/// An insertion-ordered map for awk arrays (`for (k in a)` walks keys in insertion order).
#[derive(Debug, Default)]
pub struct OrdMap {
    idx: HashMap<String, usize>,
    items: Vec<Option<(String, Val)>>,
}

impl OrdMap {
    fn get(&self, k: &str) -> Option<&Val> {
        self.idx.get(k).and_then(|&i| self.items[i].as_ref()).map(|(_, v)| v)
    }
    fn set(&mut self, k: &str, v: Val) {
        match self.idx.get(k) {
            Some(&i) => self.items[i] = Some((k.to_string(), v)),
            None => {
                self.idx.insert(k.to_string(), self.items.len());
                self.items.push(Some((k.to_string(), v)));
            }
        }
    }
    fn remove(&mut self, k: &str) {
        if let Some(i) = self.idx.remove(k) {
            self.items[i] = None;
        }
        if self.items.len() > 32 && self.idx.len() < self.items.len() / 2 {
            self.items.retain(|x| x.is_some());
            self.idx.clear();
            for (i, it) in self.items.iter().enumerate() {
                self.idx.insert(it.as_ref().unwrap().0.clone(), i);
            }
        }
    }
    fn contains(&self, k: &str) -> bool {
        self.idx.contains_key(k)
    }
    fn keys(&self) -> Vec<String> {
        self.items.iter().flatten().map(|(k, _)| k.clone()).collect()
    }
    fn len(&self) -> usize {
        self.idx.len()
    }
    fn clear(&mut self) {
        self.idx.clear();
        self.items.clear();
    }
}

type Arr = Rc<RefCell<OrdMap>>;

#[derive(Debug, Clone)]
enum Cell {
    Val(Val),
    Arr(Arr),
}

enum Flow {
    Normal,
    Break,
    Continue,
    Next,
    NextFile,
    Exit,
    Return(Val),
}

type R<T> = Result<T, String>;

/// A running child with a pipe to or from it.
struct Proc {
    #[cfg(target_os = "wasi")]
    pid: i32,
    #[cfg(not(target_os = "wasi"))]
    child: Option<std::process::Child>,
}

impl Proc {
    fn wait(self) -> i32 {
        #[cfg(target_os = "wasi")]
        {
            skiff_guest::wait(self.pid).unwrap_or(-1)
        }
        #[cfg(not(target_os = "wasi"))]
        {
            match self.child {
                Some(mut c) => c.wait().ok().and_then(|s| s.code()).unwrap_or(-1),
                None => -1,
            }
        }
    }
}

/// Start `/bin/sh -c cmd` with its stdin (`to_child`) or stdout piped to us.
fn popen(cmd: &str, to_child: bool) -> io::Result<(Proc, std::fs::File)> {
    let argv = vec!["/bin/sh".to_string(), "-c".to_string(), cmd.to_string()];
    let env = util::environ();
    let cwd = std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into());
    use skiff_guest::Stdio;
    match skiff_guest::pipe() {
        Ok((r, w)) => {
            let (stdio, mine, theirs) = if to_child {
                ([Stdio::Pipe(r), Stdio::Inherit, Stdio::Inherit], w, r)
            } else {
                ([Stdio::Inherit, Stdio::Pipe(w), Stdio::Inherit], r, w)
            };
            let _ = theirs;
            match skiff_guest::spawn(&argv, &env, &cwd, stdio) {
                Ok(pid) => {
                    let f = skiff_guest::pipe_file(mine)?;
                    #[cfg(target_os = "wasi")]
                    return Ok((Proc { pid }, f));
                    #[cfg(not(target_os = "wasi"))]
                    {
                        let _ = pid;
                        return Ok((Proc { child: None }, f));
                    }
                }
                Err(e) => {
                    let _ = skiff_guest::pipe_close(mine);
                    Err(e)
                }
            }
        }
        #[cfg(not(target_os = "wasi"))]
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            use std::os::fd::{FromRawFd, IntoRawFd};
            use std::process::{Command, Stdio as S};
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(cmd);
            if to_child {
                c.stdin(S::piped());
            } else {
                c.stdout(S::piped());
            }
            let mut child = c.spawn()?;
            let fd = if to_child {
                child.stdin.take().unwrap().into_raw_fd()
            } else {
                child.stdout.take().unwrap().into_raw_fd()
            };
            Ok((Proc { child: Some(child) }, unsafe { std::fs::File::from_raw_fd(fd) }))
        }
        Err(e) => Err(e),
    }
}

enum Output {
    Stdout,
    Stderr,
    File(io::BufWriter<std::fs::File>),
    Pipe(io::BufWriter<std::fs::File>, Proc),
}

/// A source of records.
struct Input {
    r: Box<dyn BufRead>,
    /// Regex RS: the rest of the stream.
    rest: Option<String>,
    proc: Option<Proc>,
}

impl Input {
    fn new(r: Box<dyn BufRead>) -> Input {
        Input { r, rest: None, proc: None }
    }

    fn read_record(&mut self, rs: &str, re: Option<&Regex>) -> io::Result<Option<String>> {
        if let Some(re) = re {
            if self.rest.is_none() {
                let mut s = String::new();
                let mut b = Vec::new();
                self.r.read_to_end(&mut b)?;
                s.push_str(&String::from_utf8_lossy(&b));
                self.rest = Some(s);
            }
            let rest = self.rest.as_mut().unwrap();
            if rest.is_empty() {
                return Ok(None);
            }
            let t: Vec<char> = rest.chars().collect();
            let mut from = 0;
            loop {
                match re.find_at(&t, from) {
                    Some(c) if c[1] > c[0] => {
                        let rec: String = t[..c[0].unwrap()].iter().collect();
                        let after: String = t[c[1].unwrap()..].iter().collect();
                        *rest = after;
                        return Ok(Some(rec));
                    }
                    Some(c) if c[0].unwrap() < t.len() => from = c[0].unwrap() + 1,
                    _ => {
                        let mut rec = std::mem::take(rest);
                        if rec.ends_with('\n') {
                            rec.pop();
                        }
                        return Ok(Some(rec));
                    }
                }
            }
        }
        if rs.is_empty() {
            // Paragraph mode: records are separated by blank lines.
            let mut rec = String::new();
            let mut line = Vec::new();
            let mut any = false;
            loop {
                line.clear();
                if self.r.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                let l = String::from_utf8_lossy(&line);
                let l = l.strip_suffix('\n').unwrap_or(&l);
                if l.is_empty() {
                    if any {
                        break;
                    }
                    continue;
                }
                if any {
                    rec.push('\n');
                }
                rec.push_str(l);
                any = true;
            }
            return Ok(any.then_some(rec));
        }
        let sep = rs.as_bytes()[0];
        let mut buf = Vec::new();
        if self.r.read_until(sep, &mut buf)? == 0 {
            return Ok(None);
        }
        if buf.last() == Some(&sep) {
            buf.pop();
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// awk's sprintf over values; `convfmt` converts numbers given to `%s`.
pub fn sprintf(fmt: &str, args: &[Val], convfmt: &str) -> String {
    use super::printf::{fmt_e, fmt_g, pad, Spec};
    let f: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut ai = 0;
    let next = |ai: &mut usize| -> Val {
        let v = args.get(*ai).cloned().unwrap_or(Val::Uninit);
        *ai += 1;
        v
    };
    let num = |v: &Val| -> f64 {
        match v {
            Val::Num(n) => *n,
            Val::Str(s) | Val::StrNum(s) => str_num(s),
            Val::Uninit => 0.0,
        }
    };
    let text = |v: &Val| -> String {
        match v {
            Val::Num(n) if n == &n.trunc() && n.abs() < 9.2e18 => format!("{}", *n as i64),
            Val::Num(n) => {
                if convfmt == "%.6g" {
                    fmt_g(*n, 6, false, false)
                } else {
                    sprintf(convfmt, &[Val::Num(*n)], "%.6g")
                }
            }
            Val::Str(s) | Val::StrNum(s) => s.to_string(),
            Val::Uninit => String::new(),
        }
    };
    let mut i = 0;
    while i < f.len() {
        let c = f[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if i < f.len() && f[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let start = i - 1;
        let mut sp = Spec::default();
        while i < f.len() {
            match f[i] {
                '-' => sp.left = true,
                '0' => sp.zero = true,
                '+' => sp.plus = true,
                ' ' => sp.space = true,
                '#' => sp.alt = true,
                _ => break,
            }
            i += 1;
        }
        let read_num = |i: &mut usize, ai: &mut usize| -> Option<i64> {
            if *i < f.len() && f[*i] == '*' {
                *i += 1;
                return Some(num(&next(ai)) as i64);
            }
            let st = *i;
            while *i < f.len() && f[*i].is_ascii_digit() {
                *i += 1;
            }
            (st != *i).then(|| f[st..*i].iter().collect::<String>().parse().unwrap_or(0))
        };
        if let Some(w) = read_num(&mut i, &mut ai) {
            if w < 0 {
                sp.left = true;
            }
            sp.width = Some(w.unsigned_abs() as usize);
        }
        if i < f.len() && f[i] == '.' {
            i += 1;
            sp.prec = Some(read_num(&mut i, &mut ai).unwrap_or(0).max(0) as usize);
        }
        while i < f.len() && "hlLqjzt".contains(f[i]) {
            i += 1;
        }
        if i >= f.len() {
            out.extend(&f[start..]);
            break;
        }
        let conv = f[i];
        i += 1;
        let piece = match conv {
            'c' => {
                let v = next(&mut ai);
                let s = match v {
                    Val::Num(n) => char::from_u32(n as u32).map(String::from).unwrap_or_default(),
                    other => text(&other).chars().next().map(String::from).unwrap_or_default(),
                };
                pad(&sp, s, false)
            }
            's' => {
                let s = text(&next(&mut ai));
                let s = match sp.prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                };
                pad(&sp, s, false)
            }
            'd' | 'i' => {
                let n = num(&next(&mut ai));
                if n.is_nan() || n.is_infinite() {
                    pad(&sp, num_str(n, "%.6g"), false)
                } else {
                    let v = n.trunc() as i128;
                    let mut digits = v.unsigned_abs().to_string();
                    if let Some(p) = sp.prec {
                        if digits.len() < p {
                            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                        }
                        if p == 0 && v == 0 {
                            digits.clear();
                        }
                    }
                    let sign = if v < 0 {
                        "-"
                    } else if sp.plus {
                        "+"
                    } else if sp.space {
                        " "
                    } else {
                        ""
                    };
                    let mut s2 = sp;
                    if sp.prec.is_some() {
                        s2.zero = false;
                    }
                    pad(&s2, format!("{sign}{digits}"), true)
                }
            }
            'o' | 'u' | 'x' | 'X' => {
                let n = num(&next(&mut ai)).trunc();
                let u = if n < 0.0 { (n as i64) as u64 } else { n as u64 };
                let mut digits = match conv {
                    'o' => format!("{u:o}"),
                    'u' => u.to_string(),
                    'x' => format!("{u:x}"),
                    _ => format!("{u:X}"),
                };
                if let Some(p) = sp.prec {
                    if digits.len() < p {
                        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                    }
                }
                if sp.alt && u != 0 {
                    digits = match conv {
                        'o' => format!("0{digits}"),
                        'x' => format!("0x{digits}"),
                        'X' => format!("0X{digits}"),
                        _ => digits,
                    };
                }
                let mut s2 = sp;
                if sp.prec.is_some() {
                    s2.zero = false;
                }
                pad(&s2, digits, true)
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let v = num(&next(&mut ai));
                let p = sp.prec.unwrap_or(6);
                let body = if v.is_nan() || v.is_infinite() {
                    num_str(v, "%.6g")
                } else {
                    match conv {
                        'e' | 'E' => fmt_e(v, p, conv == 'E'),
                        'g' | 'G' => fmt_g(v, p, sp.alt, conv == 'G'),
                        _ => format!("{v:.p$}"),
                    }
                };
                let body = if v >= 0.0 && sp.plus {
                    format!("+{body}")
                } else if v >= 0.0 && sp.space {
                    format!(" {body}")
                } else {
                    body
                };
                pad(&sp, body, true)
            }
            _ => f[start..i].iter().collect(),
        };
        out.push_str(&piece);
    }
    out
}

struct MainIn {
    argi: usize,
    cur: Option<Input>,
    used_operand: bool,
    done: bool,
}

pub struct Interp {
    prog: Rc<Program>,
    globals: Vec<Cell>,
    frames: Vec<Vec<Cell>>,
    fields: Vec<Val>,
    record: Val,
    regexes: HashMap<String, Rc<Regex>>,
    outputs: HashMap<String, Output>,
    out_order: Vec<String>,
    stdout: Box<dyn Write>,
    /// The main input's stdin (tests give their own).
    stdin: Option<Box<dyn BufRead>>,
    inputs: HashMap<String, Input>,
    main: MainIn,
    ranges: Vec<bool>,
    rand_state: u64,
    seed: f64,
    exit_code: i32,
    /// Exit statement ran (END still runs once, unless exit was in END).
    exiting: bool,
    /// The number of a runtime error's status.
    depth: usize,
}

impl Interp {
    fn new(prog: Program) -> Interp {
        let n = prog.globals.len();
        let ranges = vec![false; prog.items.len()];
        let mut it = Interp {
            prog: Rc::new(prog),
            globals: vec![Cell::Val(Val::Uninit); n],
            frames: Vec::new(),
            fields: Vec::new(),
            record: Val::str(""),
            regexes: HashMap::new(),
            outputs: HashMap::new(),
            out_order: Vec::new(),
            stdout: Box::new(io::BufWriter::with_capacity(32 * 1024, io::stdout())),
            stdin: None,
            inputs: HashMap::new(),
            main: MainIn { argi: 1, cur: None, used_operand: false, done: false },
            ranges,
            rand_state: 0x2545F4914F6CDD1D,
            seed: 0.0,
            exit_code: 0,
            exiting: false,
            depth: 0,
        };
        use parse::*;
        let defaults = [
            (FS, " "),
            (OFS, " "),
            (ORS, "\n"),
            (RS, "\n"),
            (SUBSEP, "\x1c"),
            (CONVFMT, "%.6g"),
            (OFMT, "%.6g"),
            (FILENAME, ""),
        ];
        for (slot, v) in defaults {
            it.globals[slot] = Cell::Val(Val::str(v));
        }
        for slot in [NR, NF, FNR, RSTART] {
            it.globals[slot] = Cell::Val(Val::Num(0.0));
        }
        it.globals[RLENGTH] = Cell::Val(Val::Num(-1.0));
        let mut env = OrdMap::default();
        for (k, v) in std::env::vars_os() {
            env.set(&k.to_string_lossy(), Val::input(&v.to_string_lossy()));
        }
        it.globals[ENVIRON] = Cell::Arr(Rc::new(RefCell::new(env)));
        it
    }

    // ---- variables ----

    fn cell(&mut self, v: Var) -> &mut Cell {
        match v {
            Var::Global(i) => &mut self.globals[i],
            Var::Local(i) => {
                let f = self.frames.last_mut().expect("local outside a function");
                &mut f[i]
            }
        }
    }

    fn get_var(&mut self, v: Var) -> R<Val> {
        match self.cell(v) {
            Cell::Val(x) => Ok(x.clone()),
            Cell::Arr(_) => Err("attempt to use array in a scalar context".into()),
        }
    }

    fn set_var(&mut self, v: Var, val: Val) -> R<()> {
        match self.cell(v) {
            Cell::Arr(_) => return Err("attempt to use array in a scalar context".into()),
            c => *c = Cell::Val(val),
        }
        if v == Var::Global(parse::NF) {
            self.set_nf()?;
        }
        Ok(())
    }

    fn arr(&mut self, v: Var) -> R<Arr> {
        let c = self.cell(v);
        match c {
            Cell::Arr(a) => Ok(a.clone()),
            Cell::Val(Val::Uninit) => {
                let a: Arr = Rc::new(RefCell::new(OrdMap::default()));
                *c = Cell::Arr(a.clone());
                Ok(a)
            }
            Cell::Val(_) => Err("can't use scalar as array".into()),
        }
    }

    fn gstr(&self, slot: usize) -> String {
        match &self.globals[slot] {
            Cell::Val(v) => self.to_str(v),
            Cell::Arr(_) => String::new(),
        }
    }

    fn gnum(&self, slot: usize) -> f64 {
        match &self.globals[slot] {
            Cell::Val(v) => to_num(v),
            Cell::Arr(_) => 0.0,
        }
    }

    fn set_gnum(&mut self, slot: usize, n: f64) {
        self.globals[slot] = Cell::Val(Val::Num(n));
    }

    // ---- conversions ----

    fn to_str(&self, v: &Val) -> String {
        match v {
            Val::Num(n) => {
                let f = match &self.globals[parse::CONVFMT] {
                    Cell::Val(Val::Str(s)) => s.to_string(),
                    _ => "%.6g".into(),
                };
                num_str(*n, &f)
            }
            Val::Str(s) | Val::StrNum(s) => s.to_string(),
            Val::Uninit => String::new(),
        }
    }

    fn to_out_str(&self, v: &Val) -> String {
        match v {
            Val::Num(n) => num_str(*n, &self.gstr(parse::OFMT)),
            other => self.to_str(other),
        }
    }

    fn subscript(&mut self, idx: &[Expr]) -> R<String> {
        if idx.len() == 1 {
            let v = self.eval(&idx[0])?;
            return Ok(self.to_str(&v));
        }
        let sep = self.gstr(parse::SUBSEP);
        let mut parts = Vec::new();
        for e in idx {
            let v = self.eval(e)?;
            parts.push(self.to_str(&v));
        }
        Ok(parts.join(&sep))
    }

    fn regex(&mut self, pat: &str) -> R<Rc<Regex>> {
        if let Some(r) = self.regexes.get(pat) {
            return Ok(r.clone());
        }
        let r = Rc::new(Regex::awk(pat).map_err(|e| format!("bad regex '{pat}': {e}"))?);
        if self.regexes.len() > 500 {
            self.regexes.clear();
        }
        self.regexes.insert(pat.to_string(), r.clone());
        Ok(r)
    }

    /// The regex an operand denotes: a literal, or a dynamic string.
    fn regex_of(&mut self, e: &Expr) -> R<Rc<Regex>> {
        if let Expr::Regex(r) = e {
            return self.regex(r);
        }
        let v = self.eval(e)?;
        let s = self.to_str(&v);
        self.regex(&s)
    }

    // ---- records and fields ----

    fn split_with(&mut self, s: &str, fs: &str, fs_re: Option<Rc<Regex>>) -> R<Vec<String>> {
        if s.is_empty() {
            return Ok(Vec::new());
        }
        if fs_re.is_none() && fs == " " {
            return Ok(s.split([' ', '\t', '\n']).filter(|x| !x.is_empty()).map(String::from).collect());
        }
        let paragraph = matches!(&self.globals[parse::RS], Cell::Val(v) if self.to_str(v).is_empty());
        if fs_re.is_none() && fs.chars().count() == 1 && fs != "\\" {
            let c = fs.chars().next().unwrap();
            if paragraph && c != '\n' {
                return Ok(s.split(|x| x == c || x == '\n').map(String::from).collect());
            }
            return Ok(s.split(c).map(String::from).collect());
        }
        let re = match fs_re {
            Some(r) => r,
            None => self.regex(fs)?,
        };
        let t: Vec<char> = s.chars().collect();
        let mut v = Vec::new();
        let mut start = 0;
        let mut from = 0;
        while from <= t.len() {
            match re.find_at(&t, from) {
                Some(c) => {
                    let (a, b) = (c[0].unwrap(), c[1].unwrap());
                    if b == a {
                        // empty separators do not split
                        from = a + 1;
                        continue;
                    }
                    v.push(t[start..a].iter().collect());
                    start = b;
                    from = b;
                }
                None => break,
            }
        }
        v.push(t[start..].iter().collect());
        if paragraph {
            v = v.into_iter().flat_map(|f: String| f.split('\n').map(String::from).collect::<Vec<_>>()).collect();
        }
        Ok(v)
    }

    fn set_record(&mut self, s: &str) -> R<()> {
        self.record = Val::input(s);
        let fs = self.gstr(parse::FS);
        let f = self.split_with(s, &fs, None)?;
        self.fields = f.iter().map(|x| Val::input(x)).collect();
        self.set_gnum(parse::NF, self.fields.len() as f64);
        Ok(())
    }

    fn rebuild_record(&mut self) {
        let ofs = self.gstr(parse::OFS);
        let parts: Vec<String> = self.fields.iter().map(|v| self.to_out_field(v)).collect();
        self.record = Val::str(&parts.join(&ofs));
    }

    fn to_out_field(&self, v: &Val) -> String {
        self.to_str(v)
    }

    fn set_nf(&mut self) -> R<()> {
        let n = self.gnum(parse::NF);
        if n < 0.0 {
            return Err("NF set to negative value".into());
        }
        self.fields.resize(n as usize, Val::Uninit);
        self.rebuild_record();
        Ok(())
    }

    fn get_field(&mut self, i: f64) -> R<Val> {
        if i < 0.0 {
            return Err(format!("trying to access out of range field {}", i as i64));
        }
        let i = i as usize;
        if i == 0 {
            return Ok(self.record.clone());
        }
        Ok(self.fields.get(i - 1).cloned().unwrap_or(Val::Uninit))
    }

    fn set_field(&mut self, i: f64, v: Val) -> R<()> {
        if i < 0.0 {
            return Err(format!("trying to access out of range field {}", i as i64));
        }
        let i = i as usize;
        if i == 0 {
            let s = self.to_str(&v);
            return self.set_record(&s);
        }
        if self.fields.len() < i {
            self.fields.resize(i, Val::Uninit);
            self.set_gnum(parse::NF, i as f64);
        }
        // Fields keep their string form.
        self.fields[i - 1] = match v {
            Val::Num(_) => Val::StrNum(Rc::from(self.to_str(&v).as_str())),
            other => other,
        };
        self.rebuild_record();
        Ok(())
    }

    // ---- input ----

    fn rs_regex(&mut self) -> R<Option<Rc<Regex>>> {
        let rs = self.gstr(parse::RS);
        if rs.chars().count() > 1 {
            Ok(Some(self.regex(&rs)?))
        } else {
            Ok(None)
        }
    }

    fn argv(&mut self, i: usize) -> String {
        match &self.globals[parse::ARGV] {
            Cell::Arr(a) => a.borrow().get(&i.to_string()).map(|v| self.to_str(v)).unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn take_stdin(&mut self) -> Box<dyn BufRead> {
        self.stdin.take().unwrap_or_else(|| Box::new(BufReader::new(io::stdin())))
    }

    /// Open the next main input file (running `var=value` operands on the way).
    fn open_next_main(&mut self) -> R<bool> {
        loop {
            let argc = self.gnum(parse::ARGC) as usize;
            if self.main.argi >= argc {
                if !self.main.used_operand {
                    self.main.used_operand = true;
                    let r = self.take_stdin();
                    self.main.cur = Some(Input::new(r));
                    self.set_gnum(parse::FNR, 0.0);
                    return Ok(true);
                }
                return Ok(false);
            }
            let a = self.argv(self.main.argi);
            self.main.argi += 1;
            if a.is_empty() {
                continue;
            }
            if let Some((name, value)) = assignment(&a) {
                let v = Val::input(&parse::unescape(value));
                let slot = self.prog.globals.iter().position(|g| g == name);
                if let Some(slot) = slot {
                    self.set_var(Var::Global(slot), v)?;
                }
                continue;
            }
            self.main.used_operand = true;
            let r: Box<dyn BufRead> = if a == "-" || a == "/dev/stdin" {
                self.take_stdin()
            } else {
                match std::fs::File::open(&a) {
                    Ok(f) if f.metadata().map(|m| m.is_dir()).unwrap_or(false) => {
                        crate::err!("warning: command line argument '{a}' is a directory: skipped");
                        continue;
                    }
                    Ok(f) => Box::new(BufReader::with_capacity(64 * 1024, f)),
                    Err(e) => {
                        crate::err!("cannot open \"{a}\" ({})", util::errstr(&e));
                        self.exit_code = 2;
                        continue;
                    }
                }
            };
            self.globals[parse::FILENAME] = Cell::Val(Val::str(&a));
            self.set_gnum(parse::FNR, 0.0);
            self.main.cur = Some(Input::new(r));
            return Ok(true);
        }
    }

    /// The next record of the main input (NR and FNR counted).
    fn next_main(&mut self) -> R<Option<String>> {
        if self.main.done {
            return Ok(None);
        }
        loop {
            if self.main.cur.is_none() && !self.open_next_main()? {
                self.main.done = true;
                return Ok(None);
            }
            let rs = self.gstr(parse::RS);
            let re = self.rs_regex()?;
            let cur = self.main.cur.as_mut().unwrap();
            match cur.read_record(&rs, re.as_deref()) {
                Ok(Some(r)) => {
                    let nr = self.gnum(parse::NR) + 1.0;
                    self.set_gnum(parse::NR, nr);
                    let fnr = self.gnum(parse::FNR) + 1.0;
                    self.set_gnum(parse::FNR, fnr);
                    return Ok(Some(r));
                }
                Ok(None) => self.main.cur = None,
                Err(e) => {
                    self.main.cur = None;
                    crate::err!("read error: {}", util::errstr(&e));
                    self.exit_code = 2;
                }
            }
        }
    }

    // ---- output ----

    fn flush_all(&mut self) {
        let _ = self.stdout.flush();
        for o in self.outputs.values_mut() {
            match o {
                Output::File(w) | Output::Pipe(w, _) => {
                    let _ = w.flush();
                }
                _ => {}
            }
        }
    }

    fn write_out(&mut self, redir: Option<(&Redir, String)>, text: &str) -> R<()> {
        let Some((r, name)) = redir else {
            return self.stdout.write_all(text.as_bytes()).map_err(|e| write_err(&e));
        };
        if !self.outputs.contains_key(&name) {
            let o = match (r, name.as_str()) {
                (Redir::Pipe(_), _) => {
                    self.flush_all();
                    let (p, f) =
                        popen(&name, true).map_err(|e| format!("can't open pipe '{name}': {}", util::errstr(&e)))?;
                    Output::Pipe(io::BufWriter::new(f), p)
                }
                (_, "/dev/stdout" | "-") => Output::Stdout,
                (_, "/dev/stderr") => Output::Stderr,
                (Redir::Append(_), _) => {
                    let f = std::fs::OpenOptions::new().append(true).create(true).open(&name);
                    Output::File(io::BufWriter::new(
                        f.map_err(|e| format!("can't redirect to '{name}': {}", util::errstr(&e)))?,
                    ))
                }
                _ => {
                    let f = std::fs::File::create(&name);
                    Output::File(io::BufWriter::new(
                        f.map_err(|e| format!("can't redirect to '{name}': {}", util::errstr(&e)))?,
                    ))
                }
            };
            self.outputs.insert(name.clone(), o);
            self.out_order.push(name.clone());
        }
        let res = match self.outputs.get_mut(&name).unwrap() {
            Output::Stdout => self.stdout.write_all(text.as_bytes()),
            Output::Stderr => {
                let _ = self.stdout.flush();
                io::stderr().write_all(text.as_bytes())
            }
            Output::File(w) | Output::Pipe(w, _) => w.write_all(text.as_bytes()),
        };
        res.map_err(|e| write_err(&e))
    }

    fn close_stream(&mut self, name: &str) -> f64 {
        let mut rc = -1.0;
        if let Some(o) = self.outputs.remove(name) {
            self.out_order.retain(|n| n != name);
            rc = match o {
                Output::File(mut w) => {
                    if w.flush().is_ok() {
                        0.0
                    } else {
                        -1.0
                    }
                }
                Output::Pipe(mut w, p) => {
                    let _ = w.flush();
                    drop(w);
                    p.wait() as f64
                }
                _ => {
                    let _ = self.stdout.flush();
                    0.0
                }
            };
        }
        if let Some(i) = self.inputs.remove(name) {
            rc = match i.proc {
                Some(p) => {
                    drop(i.r);
                    p.wait() as f64
                }
                None => 0.0,
            };
        }
        rc
    }

    fn close_all(&mut self) {
        let _ = self.stdout.flush();
        let names: Vec<String> = self.out_order.clone();
        for n in names {
            self.close_stream(&n);
        }
        let ins: Vec<String> = self.inputs.keys().cloned().collect();
        for n in ins {
            self.close_stream(&n);
        }
    }

    // ---- expressions ----

    fn assign_to(&mut self, lv: &Expr, v: Val) -> R<()> {
        match lv {
            Expr::Var(var) => self.set_var(*var, v),
            Expr::Index(var, idx) => {
                let k = self.subscript(idx)?;
                let a = self.arr(*var)?;
                a.borrow_mut().set(&k, v);
                Ok(())
            }
            Expr::Field(e) => {
                let i = self.eval(e)?;
                self.set_field(to_num(&i), v)
            }
            Expr::Group(e) => self.assign_to(e, v),
            _ => Err("assignment to a non-variable".into()),
        }
    }

    fn truthy(&mut self, e: &Expr) -> R<bool> {
        let v = self.eval(e)?;
        Ok(truth(&v))
    }

    fn compare(&self, op: BinOp, a: &Val, b: &Val) -> bool {
        use std::cmp::Ordering;
        let numeric = |v: &Val| matches!(v, Val::Num(_) | Val::StrNum(_) | Val::Uninit);
        let ord = if numeric(a) && numeric(b) {
            let (x, y) = (to_num(a), to_num(b));
            match x.partial_cmp(&y) {
                Some(o) => o,
                None => return op == BinOp::Ne,
            }
        } else {
            self.to_str(a).cmp(&self.to_str(b))
        };
        match op {
            BinOp::Lt => ord == Ordering::Less,
            BinOp::Le => ord != Ordering::Greater,
            BinOp::Gt => ord == Ordering::Greater,
            BinOp::Ge => ord != Ordering::Less,
            BinOp::Eq => ord == Ordering::Equal,
            _ => ord != Ordering::Equal,
        }
    }

    fn arith(op: BinOp, x: f64, y: f64) -> R<f64> {
        Ok(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => {
                if y == 0.0 {
                    return Err("division by zero".into());
                }
                x / y
            }
            BinOp::Mod => {
                if y == 0.0 {
                    return Err("division by zero in %".into());
                }
                x % y
            }
            BinOp::Pow => pow(x, y),
            _ => unreachable!(),
        })
    }

    fn eval(&mut self, e: &Expr) -> R<Val> {
        Ok(match e {
            Expr::Num(n) => Val::Num(*n),
            Expr::Str(s) => Val::str(s),
            Expr::Regex(r) => {
                let re = self.regex(r)?;
                let s = self.to_str(&self.record.clone());
                Val::Num(re.is_match(&s) as i32 as f64)
            }
            Expr::Var(v) => self.get_var(*v)?,
            Expr::Group(x) => self.eval(x)?,
            Expr::Index(v, idx) => {
                let k = self.subscript(idx)?;
                let a = self.arr(*v)?;
                let mut m = a.borrow_mut();
                match m.get(&k) {
                    Some(x) => x.clone(),
                    None => {
                        // Referencing an element creates it (POSIX).
                        m.set(&k, Val::Uninit);
                        Val::Uninit
                    }
                }
            }
            Expr::Field(i) => {
                let i = self.eval(i)?;
                self.get_field(to_num(&i))?
            }
            Expr::Assign(op, lv, rhs) => {
                let r = self.eval(rhs)?;
                let v = match op {
                    None => r,
                    Some(op) => {
                        let cur = self.eval(lv)?;
                        Val::Num(Self::arith(*op, to_num(&cur), to_num(&r))?)
                    }
                };
                self.assign_to(lv, v.clone())?;
                v
            }
            Expr::Cond(c, a, b) => {
                if self.truthy(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::And(a, b) => Val::Num((self.truthy(a)? && self.truthy(b)?) as i32 as f64),
            Expr::Or(a, b) => Val::Num((self.truthy(a)? || self.truthy(b)?) as i32 as f64),
            Expr::Not(a) => Val::Num((!self.truthy(a)?) as i32 as f64),
            Expr::Neg(a) => Val::Num(-to_num(&self.eval(a)?)),
            Expr::Plus(a) => Val::Num(to_num(&self.eval(a)?)),
            Expr::Bin(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                match op {
                    BinOp::Concat => {
                        let mut s = self.to_str(&x);
                        s.push_str(&self.to_str(&y));
                        Val::Str(Rc::from(s))
                    }
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                        Val::Num(self.compare(*op, &x, &y) as i32 as f64)
                    }
                    _ => Val::Num(Self::arith(*op, to_num(&x), to_num(&y))?),
                }
            }
            Expr::Match(neg, a, b) => {
                let v = self.eval(a)?;
                let s = self.to_str(&v);
                let re = self.regex_of(b)?;
                Val::Num((re.is_match(&s) != *neg) as i32 as f64)
            }
            Expr::In(idx, v) => {
                let k = self.subscript(idx)?;
                let a = self.arr(*v)?;
                let has = a.borrow().contains(&k);
                Val::Num(has as i32 as f64)
            }
            Expr::IncDec(pre, d, lv) => {
                let cur = to_num(&self.eval(lv)?);
                self.assign_to(lv, Val::Num(cur + d))?;
                Val::Num(if *pre { cur + d } else { cur })
            }
            Expr::Call(name, args) => self.call(name, args)?,
            Expr::Builtin(b, args) => self.builtin(*b, args)?,
            Expr::Getline(src, var) => self.getline(src, var.as_deref())?,
        })
    }

    fn getline(&mut self, src: &GetSrc, var: Option<&Expr>) -> R<Val> {
        let line = match src {
            GetSrc::Main => match self.next_main()? {
                Some(l) => l,
                None => return Ok(Val::Num(0.0)),
            },
            GetSrc::File(f) | GetSrc::Cmd(f) => {
                let v = self.eval(f)?;
                let name = self.to_str(&v);
                let is_cmd = matches!(src, GetSrc::Cmd(_));
                if !self.inputs.contains_key(&name) {
                    let input = if is_cmd {
                        self.flush_all();
                        match popen(&name, false) {
                            Ok((p, f)) => {
                                let mut i = Input::new(Box::new(BufReader::new(f)));
                                i.proc = Some(p);
                                i
                            }
                            Err(_) => return Ok(Val::Num(-1.0)),
                        }
                    } else if name == "-" || name == "/dev/stdin" {
                        Input::new(Box::new(BufReader::new(io::stdin())))
                    } else {
                        match std::fs::File::open(&name) {
                            Ok(f) => Input::new(Box::new(BufReader::new(f))),
                            Err(_) => return Ok(Val::Num(-1.0)),
                        }
                    };
                    self.inputs.insert(name.clone(), input);
                }
                let rs = self.gstr(parse::RS);
                let re = self.rs_regex()?;
                let input = self.inputs.get_mut(&name).unwrap();
                match input.read_record(&rs, re.as_deref()) {
                    Ok(Some(l)) => {
                        if is_cmd {
                            let nr = self.gnum(parse::NR) + 1.0;
                            self.set_gnum(parse::NR, nr);
                        }
                        l
                    }
                    Ok(None) => return Ok(Val::Num(0.0)),
                    Err(_) => return Ok(Val::Num(-1.0)),
                }
            }
        };
        match var {
            Some(lv) => self.assign_to(lv, Val::input(&line))?,
            None => self.set_record(&line)?,
        }
        Ok(Val::Num(1.0))
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> R<Val> {
        let prog = self.prog.clone();
        let f = prog.funcs.get(name).ok_or_else(|| format!("calling undefined function {name}"))?;
        if self.depth > 2000 {
            return Err(format!("function '{name}': call nesting too deep"));
        }
        let mut locals = Vec::with_capacity(f.nparams);
        for (k, a) in args.iter().enumerate() {
            let by_ref = match a {
                Expr::Var(v) => {
                    let wants_array = f.array_params.get(k) == Some(&true);
                    match self.cell(*v).clone() {
                        Cell::Arr(arr) => Some(Cell::Arr(arr)),
                        Cell::Val(Val::Uninit) if wants_array => Some(Cell::Arr(self.arr(*v)?)),
                        _ => None,
                    }
                }
                _ => None,
            };
            match by_ref {
                Some(c) => locals.push(c),
                None => {
                    let v = self.eval(a)?;
                    locals.push(Cell::Val(v));
                }
            }
        }
        while locals.len() < f.nparams {
            locals.push(Cell::Val(Val::Uninit));
        }
        self.frames.push(locals);
        self.depth += 1;
        let r = self.block(&f.body);
        self.depth -= 1;
        self.frames.pop();
        match r? {
            Flow::Return(v) => Ok(v),
            Flow::Exit => {
                self.exiting = true;
                Err(String::new())
            }
            Flow::Next | Flow::NextFile => Err("next used in a function called from BEGIN or END".into()),
            _ => Ok(Val::Uninit),
        }
    }

    fn builtin(&mut self, b: Builtin, args: &[Expr]) -> R<Val> {
        let argc = args.len();
        let nargs = |lo: usize, hi: usize| -> R<()> {
            if argc < lo || argc > hi {
                Err(format!("{b:?}: wrong number of arguments").to_lowercase())
            } else {
                Ok(())
            }
        };
        let num_arg = |s: &mut Self, i: usize| -> R<f64> { Ok(to_num(&s.eval(&args[i])?)) };
        let str_arg = |s: &mut Self, i: usize| -> R<String> {
            let v = s.eval(&args[i])?;
            Ok(s.to_str(&v))
        };
        Ok(match b {
            Builtin::Length => {
                nargs(0, 1)?;
                if argc == 0 {
                    let r = self.record.clone();
                    return Ok(Val::Num(self.to_str(&r).chars().count() as f64));
                }
                if let Expr::Var(v) = &args[0] {
                    if let Cell::Arr(a) = self.cell(*v) {
                        return Ok(Val::Num(a.borrow().len() as f64));
                    }
                }
                Val::Num(str_arg(self, 0)?.chars().count() as f64)
            }
            Builtin::Substr => {
                nargs(2, 3)?;
                let s: Vec<char> = str_arg(self, 0)?.chars().collect();
                let m = num_arg(self, 1)?;
                let n = if argc == 3 { Some(num_arg(self, 2)?) } else { None };
                Val::str(&substr(&s, m, n))
            }
            Builtin::Index => {
                nargs(2, 2)?;
                let s = str_arg(self, 0)?;
                let t = str_arg(self, 1)?;
                Val::Num(match s.find(&t).filter(|_| !t.is_empty()) {
                    Some(i) => (s[..i].chars().count() + 1) as f64,
                    None => 0.0,
                })
            }
            Builtin::Split => {
                nargs(2, 3)?;
                let s = str_arg(self, 0)?;
                let Expr::Var(v) = &args[1] else {
                    return Err("split: second argument is not an array".into());
                };
                let parts = if argc == 3 {
                    if let Expr::Regex(r) = &args[2] {
                        let re = self.regex(r)?;
                        self.split_with(&s, "", Some(re))?
                    } else {
                        let fs = str_arg(self, 2)?;
                        self.split_with(&s, &fs, None)?
                    }
                } else {
                    let fs = self.gstr(parse::FS);
                    self.split_with(&s, &fs, None)?
                };
                let a = self.arr(*v)?;
                let mut m = a.borrow_mut();
                m.clear();
                for (i, p) in parts.iter().enumerate() {
                    m.set(&(i + 1).to_string(), Val::input(p));
                }
                Val::Num(parts.len() as f64)
            }
            Builtin::Sub | Builtin::Gsub => {
                nargs(2, 3)?;
                let re = self.regex_of(&args[0])?;
                let repl = str_arg(self, 1)?;
                let target = if argc == 3 { args[2].clone() } else { Expr::Field(Box::new(Expr::Num(0.0))) };
                let cur = self.eval(&target)?;
                let s = self.to_str(&cur);
                let (out, n) = substitute(&re, &s, &repl, b == Builtin::Gsub);
                if n > 0 {
                    self.assign_to(&target, Val::Str(Rc::from(out)))?;
                }
                Val::Num(n as f64)
            }
            Builtin::Match => {
                nargs(2, 2)?;
                let s = str_arg(self, 0)?;
                let re = self.regex_of(&args[1])?;
                let t: Vec<char> = s.chars().collect();
                let (start, len) = match re.find_at(&t, 0) {
                    Some(c) => (c[0].unwrap() as f64 + 1.0, (c[1].unwrap() - c[0].unwrap()) as f64),
                    None => (0.0, -1.0),
                };
                self.set_gnum(parse::RSTART, start);
                self.set_gnum(parse::RLENGTH, len);
                Val::Num(start)
            }
            Builtin::Sprintf => {
                if argc == 0 {
                    return Err("sprintf: no format".into());
                }
                let f = str_arg(self, 0)?;
                let mut vals = Vec::new();
                for a in &args[1..] {
                    vals.push(self.eval(a)?);
                }
                let conv = self.gstr(parse::CONVFMT);
                Val::str(&sprintf(&f, &vals, &conv))
            }
            Builtin::Sin | Builtin::Cos | Builtin::Exp | Builtin::Log | Builtin::Sqrt | Builtin::Int => {
                nargs(1, 1)?;
                let x = num_arg(self, 0)?;
                Val::Num(match b {
                    Builtin::Sin => x.sin(),
                    Builtin::Cos => x.cos(),
                    Builtin::Exp => x.exp(),
                    Builtin::Log => x.ln(),
                    Builtin::Sqrt => x.sqrt(),
                    _ => x.trunc(),
                })
            }
            Builtin::Atan2 => {
                nargs(2, 2)?;
                let y = num_arg(self, 0)?;
                let x = num_arg(self, 1)?;
                Val::Num(y.atan2(x))
            }
            Builtin::Rand => {
                nargs(0, 0)?;
                // xorshift64*
                let mut x = self.rand_state;
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                self.rand_state = x;
                let r = x.wrapping_mul(0x2545F4914F6CDD1D) >> 11;
                Val::Num(r as f64 / (1u64 << 53) as f64)
            }
            Builtin::Srand => {
                nargs(0, 1)?;
                let prev = self.seed;
                self.seed = if argc == 1 { num_arg(self, 0)? } else { crate::date::now() as f64 };
                self.rand_state = (self.seed as i64 as u64).wrapping_mul(0x9E3779B97F4A7C15) | 1;
                Val::Num(prev)
            }
            Builtin::Tolower | Builtin::Toupper => {
                nargs(1, 1)?;
                let s = str_arg(self, 0)?;
                Val::str(&if b == Builtin::Tolower { s.to_ascii_lowercase() } else { s.to_ascii_uppercase() })
            }
            Builtin::System => {
                nargs(1, 1)?;
                let cmd = str_arg(self, 0)?;
                self.flush_all();
                let argv = vec!["/bin/sh".to_string(), "-c".to_string(), cmd];
                Val::Num(match util::run_cmd(&argv, None) {
                    Ok(s) => s as f64,
                    Err(_) => -1.0,
                })
            }
            Builtin::Close => {
                nargs(1, 2)?;
                let n = str_arg(self, 0)?;
                Val::Num(self.close_stream(&n))
            }
            Builtin::Fflush => {
                nargs(0, 1)?;
                self.flush_all();
                Val::Num(0.0)
            }
        })
    }

    // ---- statements ----

    fn block(&mut self, v: &[Stmt]) -> R<Flow> {
        for s in v {
            match self.stmt(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn redir_target(&mut self, r: &Option<Redir>) -> R<Option<String>> {
        Ok(match r {
            None => None,
            Some(Redir::File(e) | Redir::Append(e) | Redir::Pipe(e)) => {
                let v = self.eval(e)?;
                Some(self.to_str(&v))
            }
        })
    }

    fn stmt(&mut self, s: &Stmt) -> R<Flow> {
        match s {
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::Print(args, redir) => {
                let mut text = String::new();
                if args.is_empty() {
                    let r = self.record.clone();
                    text.push_str(&self.to_str(&r));
                } else {
                    let ofs = self.gstr(parse::OFS);
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            text.push_str(&ofs);
                        }
                        let v = self.eval(a)?;
                        text.push_str(&self.to_out_str(&v));
                    }
                }
                text.push_str(&self.gstr(parse::ORS));
                let target = self.redir_target(redir)?;
                self.write_out(redir.as_ref().zip(target), &text)?;
            }
            Stmt::Printf(args, redir) => {
                let f = self.eval(&args[0])?;
                let f = self.to_str(&f);
                let mut vals = Vec::new();
                for a in &args[1..] {
                    vals.push(self.eval(a)?);
                }
                let conv = self.gstr(parse::CONVFMT);
                let text = sprintf(&f, &vals, &conv);
                let target = self.redir_target(redir)?;
                self.write_out(redir.as_ref().zip(target), &text)?;
            }
            Stmt::If(c, a, b) => {
                if self.truthy(c)? {
                    return self.stmt(a);
                } else if let Some(b) = b {
                    return self.stmt(b);
                }
            }
            Stmt::While(c, body) => {
                while self.truthy(c)? {
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                }
            }
            Stmt::Do(body, c) => loop {
                match self.stmt(body)? {
                    Flow::Break => break,
                    Flow::Normal | Flow::Continue => {}
                    other => return Ok(other),
                }
                if !self.truthy(c)? {
                    break;
                }
            },
            Stmt::For(init, cond, step, body) => {
                if let Some(i) = init {
                    self.stmt(i)?;
                }
                loop {
                    if let Some(c) = cond {
                        if !self.truthy(c)? {
                            break;
                        }
                    }
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                    if let Some(st) = step {
                        self.stmt(st)?;
                    }
                }
            }
            Stmt::ForIn(k, a, body) => {
                let arr = self.arr(*a)?;
                let keys = arr.borrow().keys();
                for key in keys {
                    if !arr.borrow().contains(&key) {
                        continue;
                    }
                    self.set_var(*k, Val::input(&key))?;
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Normal | Flow::Continue => {}
                        other => return Ok(other),
                    }
                }
            }
            Stmt::Block(v) => return self.block(v),
            Stmt::Next => return Ok(Flow::Next),
            Stmt::NextFile => return Ok(Flow::NextFile),
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Exit(e) => {
                if let Some(e) = e {
                    let v = self.eval(e)?;
                    self.exit_code = to_num(&v) as i32;
                }
                return Ok(Flow::Exit);
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Val::Uninit,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Delete(v, idx) => {
                let a = self.arr(*v)?;
                match idx {
                    None => a.borrow_mut().clear(),
                    Some(idx) => {
                        let k = self.subscript(idx)?;
                        a.borrow_mut().remove(&k);
                    }
                }
            }
        }
        Ok(Flow::Normal)
    }

    // ---- the program ----

    fn run_items(&mut self, begin_end: Option<bool>) -> R<Flow> {
        let prog = self.prog.clone();
        for (k, item) in prog.items.iter().enumerate() {
            let Item { pattern, action } = item;
            let hit = match (pattern, begin_end) {
                (Pattern::Begin, Some(true)) | (Pattern::End, Some(false)) => true,
                (_, Some(_)) | (Pattern::Begin | Pattern::End, None) => false,
                (Pattern::All, None) => true,
                (Pattern::Expr(e), None) => self.truthy(e)?,
                (Pattern::Range(a, b), None) => {
                    if self.ranges[k] {
                        if self.truthy(b)? {
                            self.ranges[k] = false;
                        }
                        true
                    } else if self.truthy(a)? {
                        if !self.truthy(b)? {
                            self.ranges[k] = true;
                        }
                        true
                    } else {
                        false
                    }
                }
            };
            if !hit {
                continue;
            }
            let flow = match action {
                Some(a) => self.block(a)?,
                None => {
                    let r = self.record.clone();
                    let text = format!("{}{}", self.to_str(&r), self.gstr(parse::ORS));
                    self.write_out(None, &text)?;
                    Flow::Normal
                }
            };
            match flow {
                Flow::Normal => {}
                Flow::Next | Flow::NextFile | Flow::Exit => return Ok(flow),
                Flow::Break | Flow::Continue => {}
                Flow::Return(_) => {}
            }
        }
        Ok(Flow::Normal)
    }

    /// Run BEGIN, the records, END; returns the exit status.
    fn run(&mut self) -> i32 {
        let r = self.run_inner();
        if let Err(m) = r {
            if !m.is_empty() {
                let _ = self.stdout.flush();
                crate::err!("{m}");
                self.close_all();
                return 2;
            }
        }
        self.close_all();
        self.exit_code
    }

    fn run_inner(&mut self) -> R<()> {
        let has_main = self.prog.items.iter().any(|i| !matches!(i.pattern, Pattern::Begin));
        let begin = self.run_items(Some(true));
        let mut exited = matches!(begin, Ok(Flow::Exit)) || self.exiting;
        if let Err(m) = begin {
            if !self.exiting {
                return Err(m);
            }
            exited = true;
        }
        if !exited && has_main {
            let only_end = !self.prog.items.iter().any(|i| !matches!(i.pattern, Pattern::Begin | Pattern::End));
            loop {
                let Some(rec) = self.next_main()? else { break };
                self.set_record(&rec)?;
                if only_end {
                    continue;
                }
                match self.run_items(None) {
                    Ok(Flow::Exit) => {
                        exited = true;
                        break;
                    }
                    Ok(Flow::NextFile) => self.main.cur = None,
                    Ok(_) => {}
                    Err(m) => {
                        if self.exiting {
                            exited = true;
                            break;
                        }
                        return Err(m);
                    }
                }
            }
        }
        let _ = exited;
        self.exiting = false;
        match self.run_items(Some(false)) {
            Ok(_) => Ok(()),
            Err(m) if self.exiting => {
                let _ = m;
                Ok(())
            }
            Err(m) => Err(m),
        }
    }
}

fn write_err(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::BrokenPipe {
        String::new()
    } else {
        format!("write error: {}", util::errstr(e))
    }
}

fn truth(v: &Val) -> bool {
    match v {
        Val::Num(n) => *n != 0.0,
        Val::Str(s) => !s.is_empty(),
        Val::StrNum(s) => str_num(s) != 0.0,
        Val::Uninit => false,
    }
}

fn to_num(v: &Val) -> f64 {
    match v {
        Val::Num(n) => *n,
        Val::Str(s) | Val::StrNum(s) => str_num(s),
        Val::Uninit => 0.0,
    }
}

fn pow(x: f64, y: f64) -> f64 {
    if y == y.trunc() && y.abs() < 1024.0 {
        x.powi(y as i32)
    } else {
        x.powf(y)
    }
}

/// `substr(s, m, n)` with POSIX's rounding and clamping (1-based positions).
pub fn substr(s: &[char], m: f64, n: Option<f64>) -> String {
    let len = s.len() as f64;
    let m = if m.is_nan() { 1.0 } else { m.round() };
    let end = match n {
        Some(n) if n.is_nan() => return String::new(),
        Some(n) => m + n.round(),
        None => f64::INFINITY,
    };
    let start = m.max(1.0);
    let end = end.min(len + 1.0);
    if end <= start {
        return String::new();
    }
    s[start as usize - 1..end as usize - 1].iter().collect()
}

/// sub/gsub: the new string and how many replacements. In `repl`, `&` is the match, `\&` a
/// literal `&`, `\\` a backslash.
pub fn substitute(re: &Regex, s: &str, repl: &str, global: bool) -> (String, usize) {
    let t: Vec<char> = s.chars().collect();
    let r: Vec<char> = repl.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut n = 0;
    let mut last_end: Option<usize> = None;
    while i <= t.len() {
        let Some(c) = re.find_at(&t, i) else { break };
        let (a, b) = (c[0].unwrap(), c[1].unwrap());
        if a == b && Some(a) == last_end {
            // An empty match right after the previous match: move on one character.
            if a >= t.len() {
                break;
            }
            out.extend(&t[i..=a]);
            i = a + 1;
            continue;
        }
        out.extend(&t[i..a]);
        let mut k = 0;
        while k < r.len() {
            match r[k] {
                '\\' if k + 1 < r.len() && (r[k + 1] == '&' || r[k + 1] == '\\') => {
                    out.push(r[k + 1]);
                    k += 2;
                    continue;
                }
                '&' => out.extend(&t[a..b]),
                ch => out.push(ch),
            }
            k += 1;
        }
        n += 1;
        if b > a {
            i = b;
            last_end = Some(b);
        } else {
            if a < t.len() {
                out.push(t[a]);
            }
            i = a + 1;
            last_end = None;
        }
        if !global {
            break;
        }
    }
    if i < t.len() {
        out.extend(&t[i..]);
    }
    (out, n)
}

/// A `name=value` operand (or `-v` value).
fn assignment(a: &str) -> Option<(&str, &str)> {
    let (n, v) = a.split_once('=')?;
    let mut cs = n.chars();
    let first = cs.next()?;
    ((first.is_ascii_alphabetic() || first == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some((n, v))
}

/// Run an awk program over `operands` (files and `var=value`); `assigns` are `-v` ones.
pub fn run_program(src: &str, fs: Option<&str>, assigns: &[String], operands: &[String]) -> i32 {
    match build(src, fs, assigns, operands) {
        Ok(mut it) => it.run(),
        Err(c) => c,
    }
}

fn build(src: &str, fs: Option<&str>, assigns: &[String], operands: &[String]) -> Result<Interp, i32> {
    let mut prog = match parse::parse(src) {
        Ok(p) => p,
        Err(m) => {
            crate::err!("{m}");
            return Err(2);
        }
    };
    let mut slots = Vec::new();
    for a in assigns {
        let Some((n, v)) = assignment(a) else {
            crate::err!("invalid -v argument '{a}'");
            return Err(2);
        };
        slots.push((parse::global_slot(&mut prog, n), parse::unescape(v)));
    }
    let mut it = Interp::new(prog);
    if let Some(fs) = fs {
        let fs = if fs == "t" { "\t".to_string() } else { parse::unescape(fs) };
        it.globals[parse::FS] = Cell::Val(Val::str(&fs));
    }
    for (slot, v) in slots {
        it.globals[slot] = Cell::Val(Val::input(&v));
    }
    let mut argv = OrdMap::default();
    argv.set("0", Val::str("awk"));
    for (i, a) in operands.iter().enumerate() {
        argv.set(&(i + 1).to_string(), Val::input(a));
    }
    it.globals[parse::ARGV] = Cell::Arr(Rc::new(RefCell::new(argv)));
    it.set_gnum(parse::ARGC, (operands.len() + 1) as f64);
    Ok(it)
}

/// `awk [-F FS] [-v VAR=VALUE]... [-f PROGFILE | 'PROGRAM'] [FILE | VAR=VALUE]...`
pub fn awk(args: &[String]) -> i32 {
    let mut fs: Option<String> = None;
    let mut assigns = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a.len() < 2 {
            break;
        }
        let (opt, rest) = (a.as_bytes()[1], &a[2..]);
        let value = |i: &mut usize| -> Option<String> {
            if !rest.is_empty() {
                Some(rest.to_string())
            } else {
                *i += 1;
                args.get(*i).cloned()
            }
        };
        match opt {
            b'F' => fs = value(&mut i),
            b'v' => match value(&mut i) {
                Some(v) => assigns.push(v),
                None => {
                    crate::err!("option requires an argument -- 'v'");
                    return 2;
                }
            },
            b'f' => match value(&mut i) {
                Some(v) => files.push(v),
                None => {
                    crate::err!("option requires an argument -- 'f'");
                    return 2;
                }
            },
            _ => {
                crate::err!("invalid option -- '{}'", opt as char);
                return 2;
            }
        }
        i += 1;
    }
    let src = if files.is_empty() {
        let Some(p) = args.get(i) else {
            crate::err!("usage: awk [-F FS] [-v VAR=VAL] [-f FILE | 'PROGRAM'] [FILE]...");
            return 2;
        };
        i += 1;
        p.clone()
    } else {
        let mut s = String::new();
        for f in &files {
            match util::read_all(f) {
                Ok(d) => {
                    s.push_str(&String::from_utf8_lossy(&d));
                    s.push('\n');
                }
                Err(e) => {
                    crate::err!("can't open file {f}: {}", util::errstr(&e));
                    return 2;
                }
            }
        }
        s
    };
    run_program(&src, fs.as_deref(), &assigns, &args[i.min(args.len())..])
}

#[cfg(test)]
mod tests;
