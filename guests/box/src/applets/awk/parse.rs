//! awk's lexer and parser: program text to the tree the interpreter walks.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Num(f64),
    Str(String),
    Ere(String),
    /// A name followed at once by `(`: a call of a user function.
    FuncName(String),
    Name(String),
    Builtin(Builtin),
    Begin,
    End,
    Function,
    If,
    Else,
    While,
    For,
    Do,
    Break,
    Continue,
    Next,
    NextFile,
    Exit,
    Return,
    Delete,
    In,
    Getline,
    Print,
    Printf,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semi,
    Newline,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Not,
    Gt,
    Lt,
    Pipe,
    Question,
    Colon,
    Tilde,
    NoMatch,
    Dollar,
    Assign,
    AddAssign,
    SubAssign,
    MulAssign,
    DivAssign,
    ModAssign,
    PowAssign,
    Eq,
    Ne,
    Le,
    Ge,
    And,
    Or,
    Incr,
    Decr,
    Append,
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Length,
    Substr,
    Index,
    Split,
    Sub,
    Gsub,
    Match,
    Sprintf,
    Sin,
    Cos,
    Atan2,
    Exp,
    Log,
    Sqrt,
    Int,
    Rand,
    Srand,
    Tolower,
    Toupper,
    System,
    Close,
    Fflush,
}

fn builtin(name: &str) -> Option<Builtin> {
    use Builtin::*;
    Some(match name {
        "length" => Length,
        "substr" => Substr,
        "index" => Index,
        "split" => Split,
        "sub" => Sub,
        "gsub" => Gsub,
        "match" => Match,
        "sprintf" => Sprintf,
        "sin" => Sin,
        "cos" => Cos,
        "atan2" => Atan2,
        "exp" => Exp,
        "log" => Log,
        "sqrt" => Sqrt,
        "int" => Int,
        "rand" => Rand,
        "srand" => Srand,
        "tolower" => Tolower,
        "toupper" => Toupper,
        "system" => System,
        "close" => Close,
        "fflush" => Fflush,
        _ => return None,
    })
}

/// Decode the escapes of an awk string literal (or a `-v` value).
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '/' => out.push('/'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('?'));
            }
            // Kept for regular expressions: "\." is a literal dot there.
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

pub struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    pub line: usize,
    last: Option<Tok>,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { s: src.as_bytes(), i: 0, line: 1, last: None }
    }

    fn regex_allowed(&self) -> bool {
        !matches!(
            self.last,
            Some(
                Tok::Num(_)
                    | Tok::Str(_)
                    | Tok::Ere(_)
                    | Tok::Name(_)
                    | Tok::Builtin(_)
                    | Tok::RParen
                    | Tok::RBracket
                    | Tok::Dollar
                    | Tok::Incr
                    | Tok::Decr
            )
        )
    }

    /// All tokens with their line numbers.
    pub fn tokens(mut self) -> Result<Vec<(Tok, usize)>, String> {
        let mut v = Vec::new();
        loop {
            let t = self.next().map_err(|e| format!("line {}: {e}", self.line))?;
            let line = self.line;
            let end = t == Tok::Eof;
            self.last = Some(t.clone());
            v.push((t, line));
            if end {
                return Ok(v);
            }
        }
    }

    fn peek(&self) -> u8 {
        *self.s.get(self.i).unwrap_or(&0)
    }

    fn next(&mut self) -> Result<Tok, String> {
        loop {
            let c = self.peek();
            if c == b' ' || c == b'\t' || c == b'\r' {
                self.i += 1;
            } else if c == b'\\' && self.s.get(self.i + 1) == Some(&b'\n') {
                self.i += 2;
                self.line += 1;
            } else if c == b'\\' && self.s.get(self.i + 1) == Some(&b'\r') && self.s.get(self.i + 2) == Some(&b'\n') {
                self.i += 3;
                self.line += 1;
            } else if c == b'#' {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
        if self.i >= self.s.len() {
            return Ok(Tok::Eof);
        }
        let c = self.s[self.i];
        self.i += 1;
        let two = |l: &mut Self, next: u8, yes: Tok, no: Tok| -> Tok {
            if l.peek() == next {
                l.i += 1;
                yes
            } else {
                no
            }
        };
        Ok(match c {
            b'\n' => {
                self.line += 1;
                Tok::Newline
            }
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b';' => Tok::Semi,
            b',' => Tok::Comma,
            b'?' => Tok::Question,
            b':' => Tok::Colon,
            b'~' => Tok::Tilde,
            b'$' => Tok::Dollar,
            b'+' => {
                if self.peek() == b'+' {
                    self.i += 1;
                    Tok::Incr
                } else {
                    two(self, b'=', Tok::AddAssign, Tok::Plus)
                }
            }
            b'-' => {
                if self.peek() == b'-' {
                    self.i += 1;
                    Tok::Decr
                } else {
                    two(self, b'=', Tok::SubAssign, Tok::Minus)
                }
            }
            b'*' => {
                if self.peek() == b'*' {
                    self.i += 1;
                    two(self, b'=', Tok::PowAssign, Tok::Caret)
                } else {
                    two(self, b'=', Tok::MulAssign, Tok::Star)
                }
            }
            b'%' => two(self, b'=', Tok::ModAssign, Tok::Percent),
            b'^' => two(self, b'=', Tok::PowAssign, Tok::Caret),
            b'=' => two(self, b'=', Tok::Eq, Tok::Assign),
            b'!' => {
                if self.peek() == b'=' {
                    self.i += 1;
                    Tok::Ne
                } else {
                    two(self, b'~', Tok::NoMatch, Tok::Not)
                }
            }
            b'<' => two(self, b'=', Tok::Le, Tok::Lt),
            b'>' => {
                if self.peek() == b'=' {
                    self.i += 1;
                    Tok::Ge
                } else {
                    two(self, b'>', Tok::Append, Tok::Gt)
                }
            }
            b'&' if self.peek() == b'&' => {
                self.i += 1;
                Tok::And
            }
            b'|' => two(self, b'|', Tok::Or, Tok::Pipe),
            b'/' => {
                if self.regex_allowed() {
                    return self.regex();
                }
                two(self, b'=', Tok::DivAssign, Tok::Slash)
            }
            b'"' => return self.string(),
            b'0'..=b'9' | b'.' => {
                self.i -= 1;
                return self.number();
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let st = self.i - 1;
                while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
                    self.i += 1;
                }
                let w = std::str::from_utf8(&self.s[st..self.i]).unwrap().to_string();
                match w.as_str() {
                    "BEGIN" => Tok::Begin,
                    "END" => Tok::End,
                    "function" | "func" => Tok::Function,
                    "if" => Tok::If,
                    "else" => Tok::Else,
                    "while" => Tok::While,
                    "for" => Tok::For,
                    "do" => Tok::Do,
                    "break" => Tok::Break,
                    "continue" => Tok::Continue,
                    "next" => Tok::Next,
                    "nextfile" => Tok::NextFile,
                    "exit" => Tok::Exit,
                    "return" => Tok::Return,
                    "delete" => Tok::Delete,
                    "in" => Tok::In,
                    "getline" => Tok::Getline,
                    "print" => Tok::Print,
                    "printf" => Tok::Printf,
                    _ => {
                        if let Some(b) = builtin(&w) {
                            Tok::Builtin(b)
                        } else if self.peek() == b'(' {
                            Tok::FuncName(w)
                        } else {
                            Tok::Name(w)
                        }
                    }
                }
            }
            other => {
                let ch = std::str::from_utf8(&self.s[self.i - 1..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .unwrap_or(other as char);
                return Err(format!("unexpected character '{ch}'"));
            }
        })
    }

    fn number(&mut self) -> Result<Tok, String> {
        let st = self.i;
        if self.peek() == b'0' && matches!(self.s.get(self.i + 1), Some(b'x' | b'X')) {
            let mut j = self.i + 2;
            while j < self.s.len() && self.s[j].is_ascii_hexdigit() {
                j += 1;
            }
            if j > self.i + 2 {
                let v = i64::from_str_radix(std::str::from_utf8(&self.s[self.i + 2..j]).unwrap(), 16).unwrap_or(0);
                self.i = j;
                return Ok(Tok::Num(v as f64));
            }
        }
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
        if self.peek() == b'.' {
            self.i += 1;
            while self.peek().is_ascii_digit() {
                self.i += 1;
            }
        }
        if matches!(self.peek(), b'e' | b'E') {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(), b'+' | b'-') {
                self.i += 1;
            }
            if self.peek().is_ascii_digit() {
                while self.peek().is_ascii_digit() {
                    self.i += 1;
                }
            } else {
                self.i = save;
            }
        }
        let text = std::str::from_utf8(&self.s[st..self.i]).unwrap();
        if text == "." {
            return Err("unexpected character '.'".into());
        }
        Ok(Tok::Num(text.parse().unwrap_or(0.0)))
    }

    fn string(&mut self) -> Result<Tok, String> {
        let st = self.i;
        let mut raw = Vec::new();
        loop {
            if self.i >= self.s.len() {
                return Err("non-terminated string".into());
            }
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => break,
                b'\n' => return Err("newline in string".into()),
                b'\\' if self.i < self.s.len() => {
                    if self.s[self.i] == b'\n' {
                        self.i += 1;
                        self.line += 1;
                        continue;
                    }
                    raw.push(b'\\');
                    raw.push(self.s[self.i]);
                    self.i += 1;
                }
                _ => raw.push(c),
            }
        }
        let _ = st;
        Ok(Tok::Str(unescape(&String::from_utf8_lossy(&raw))))
    }

    fn regex(&mut self) -> Result<Tok, String> {
        let mut out = Vec::new();
        let mut in_class = false;
        loop {
            if self.i >= self.s.len() || self.s[self.i] == b'\n' {
                return Err("non-terminated regular expression".into());
            }
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'\\' if self.i < self.s.len() => {
                    let e = self.s[self.i];
                    self.i += 1;
                    if e == b'/' {
                        out.push(b'/');
                    } else {
                        out.push(b'\\');
                        out.push(e);
                    }
                }
                b'[' if !in_class => {
                    in_class = true;
                    out.push(c);
                    // A `]` first in the class (after an optional `^`) is literal.
                    if self.peek() == b'^' {
                        out.push(b'^');
                        self.i += 1;
                    }
                    if self.peek() == b']' {
                        out.push(b']');
                        self.i += 1;
                    }
                }
                b'[' if in_class && self.peek() == b':' => {
                    // [:class:] inside a bracket expression
                    out.push(c);
                    while self.i < self.s.len() && !(self.s[self.i] == b']' && self.s[self.i - 1] == b':') {
                        out.push(self.s[self.i]);
                        self.i += 1;
                    }
                    if self.i < self.s.len() {
                        out.push(b']');
                        self.i += 1;
                    }
                }
                b']' if in_class => {
                    in_class = false;
                    out.push(c);
                }
                b'/' if !in_class => break,
                _ => out.push(c),
            }
        }
        Ok(Tok::Ere(String::from_utf8_lossy(&out).into_owned()))
    }
}

/// A variable: a global slot or a function's local (parameter) slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Global(usize),
    Local(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Concat,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone)]
pub enum GetSrc {
    /// Plain `getline`: the main input.
    Main,
    File(Box<Expr>),
    Cmd(Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Expr {
    Num(f64),
    Str(String),
    /// A regex literal: as an expression it means `$0 ~ /re/`.
    Regex(String),
    Var(Var),
    Index(Var, Vec<Expr>),
    Field(Box<Expr>),
    Assign(Option<BinOp>, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Match(bool, Box<Expr>, Box<Expr>),
    In(Vec<Expr>, Var),
    /// `++x` / `x--`: (pre, delta, lvalue)
    IncDec(bool, f64, Box<Expr>),
    Call(String, Vec<Expr>),
    Builtin(Builtin, Vec<Expr>),
    Getline(GetSrc, Option<Box<Expr>>),
    Group(Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Redir {
    File(Expr),
    Append(Expr),
    Pipe(Expr),
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Expr(Expr),
    Print(Vec<Expr>, Option<Redir>),
    Printf(Vec<Expr>, Option<Redir>),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    Do(Box<Stmt>, Expr),
    For(Option<Box<Stmt>>, Option<Expr>, Option<Box<Stmt>>, Box<Stmt>),
    ForIn(Var, Var, Box<Stmt>),
    Block(Vec<Stmt>),
    Next,
    NextFile,
    Exit(Option<Expr>),
    Return(Option<Expr>),
    Break,
    Continue,
    Delete(Var, Option<Vec<Expr>>),
}

#[derive(Debug, Clone)]
pub enum Pattern {
    Begin,
    End,
    All,
    Expr(Expr),
    Range(Expr, Expr),
}

#[derive(Debug, Clone)]
pub struct Item {
    pub pattern: Pattern,
    /// None: `{ print }`.
    pub action: Option<Vec<Stmt>>,
}

#[derive(Debug, Clone)]
pub struct Func {
    pub name: String,
    pub nparams: usize,
    /// Which parameters the body uses as arrays (so an unset argument is passed by reference).
    pub array_params: Vec<bool>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Default)]
pub struct Program {
    pub items: Vec<Item>,
    pub funcs: HashMap<String, Func>,
    /// Global variable names by slot.
    pub globals: Vec<String>,
}

/// Global slots of the special variables (always first, in this order).
pub const SPECIALS: &[&str] = &[
    "NR", "NF", "FNR", "FS", "OFS", "ORS", "RS", "SUBSEP", "RSTART", "RLENGTH", "FILENAME", "CONVFMT", "OFMT",
    "ENVIRON", "ARGC", "ARGV",
];
pub const NR: usize = 0;
pub const NF: usize = 1;
pub const FNR: usize = 2;
pub const FS: usize = 3;
pub const OFS: usize = 4;
pub const ORS: usize = 5;
pub const RS: usize = 6;
pub const SUBSEP: usize = 7;
pub const RSTART: usize = 8;
pub const RLENGTH: usize = 9;
pub const FILENAME: usize = 10;
pub const CONVFMT: usize = 11;
pub const OFMT: usize = 12;
pub const ENVIRON: usize = 13;
pub const ARGC: usize = 14;
pub const ARGV: usize = 15;

pub struct Parser {
    toks: Vec<(Tok, usize)>,
    p: usize,
    globals: HashMap<String, usize>,
    global_names: Vec<String>,
    locals: Option<HashMap<String, usize>>,
    /// In a print's expression list: a bare `>` is a redirection.
    no_gt: bool,
    /// In a `for (...)` header: `in` is not an operator.
    no_in: bool,
    depth_loop: usize,
    in_func: bool,
}

type PResult<T> = Result<T, String>;

impl Parser {
    pub fn new(src: &str) -> PResult<Parser> {
        let toks = Lexer::new(src).tokens()?;
        let mut p = Parser {
            toks,
            p: 0,
            globals: HashMap::new(),
            global_names: Vec::new(),
            locals: None,
            no_gt: false,
            no_in: false,
            depth_loop: 0,
            in_func: false,
        };
        for s in SPECIALS {
            p.global(s);
        }
        Ok(p)
    }

    fn global(&mut self, name: &str) -> usize {
        if let Some(&i) = self.globals.get(name) {
            return i;
        }
        let i = self.global_names.len();
        self.globals.insert(name.to_string(), i);
        self.global_names.push(name.to_string());
        i
    }

    /// The slot of a variable name (a -v assignment uses it too).
    pub fn var(&mut self, name: &str) -> Var {
        if let Some(l) = &self.locals {
            if let Some(&i) = l.get(name) {
                return Var::Local(i);
            }
        }
        Var::Global(self.global(name))
    }

    fn tok(&self) -> &Tok {
        &self.toks[self.p].0
    }
    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.p + k).min(self.toks.len() - 1)].0
    }
    fn advance(&mut self) -> Tok {
        let t = self.toks[self.p].0.clone();
        if self.p + 1 < self.toks.len() {
            self.p += 1;
        }
        t
    }
    fn is(&self, t: &Tok) -> bool {
        self.tok() == t
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.is(t) {
            self.advance();
            true
        } else {
            false
        }
    }
    fn err<T>(&self, what: &str) -> PResult<T> {
        let (t, line) = &self.toks[self.p];
        let near = match t {
            Tok::Eof => "end of file".to_string(),
            Tok::Newline => "newline".to_string(),
            Tok::Name(n) | Tok::FuncName(n) => n.clone(),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Num(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        Err(format!("line {line}: {what} at or near {near}"))
    }
    fn expect(&mut self, t: &Tok, what: &str) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            self.err(&format!("syntax error: expected {what}"))
        }
    }
    fn nls(&mut self) {
        while self.is(&Tok::Newline) {
            self.advance();
        }
    }
    fn terminators(&mut self) {
        while matches!(self.tok(), Tok::Newline | Tok::Semi) {
            self.advance();
        }
    }

    pub fn program(mut self) -> PResult<Program> {
        let mut prog = Program::default();
        self.terminators();
        while !self.is(&Tok::Eof) {
            if self.is(&Tok::Function) {
                let f = self.function()?;
                if prog.funcs.contains_key(&f.name) {
                    return Err(format!("function '{}' redefined", f.name));
                }
                prog.funcs.insert(f.name.clone(), f);
            } else {
                prog.items.push(self.item()?);
            }
            self.terminators();
        }
        // Which parameters are arrays, through calls too (to a fixed point).
        loop {
            let mut changed = false;
            let snapshot: HashMap<String, Vec<bool>> =
                prog.funcs.iter().map(|(k, f)| (k.clone(), f.array_params.clone())).collect();
            for f in prog.funcs.values_mut() {
                let mut arr = f.array_params.clone();
                for s in &f.body {
                    mark_arrays_stmt(s, &mut arr, &snapshot);
                }
                if arr != f.array_params {
                    f.array_params = arr;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for item in &prog.items {
            if let Some(a) = &item.action {
                for s in a {
                    check_calls_stmt(s, &prog.funcs)?;
                }
            }
        }
        for f in prog.funcs.values() {
            for s in &f.body {
                check_calls_stmt(s, &prog.funcs)?;
            }
        }
        prog.globals = self.global_names;
        Ok(prog)
    }

    fn function(&mut self) -> PResult<Func> {
        self.advance();
        let name = match self.advance() {
            Tok::Name(n) | Tok::FuncName(n) => n,
            _ => return self.err("syntax error: function name expected"),
        };
        self.expect(&Tok::LParen, "(")?;
        let mut params = HashMap::new();
        let mut n = 0;
        self.nls();
        while let Tok::Name(p) = self.tok().clone() {
            self.advance();
            params.insert(p, n);
            n += 1;
            self.nls();
            if !self.eat(&Tok::Comma) {
                break;
            }
            self.nls();
        }
        self.expect(&Tok::RParen, ")")?;
        self.nls();
        self.locals = Some(params);
        self.in_func = true;
        let body = self.block()?;
        self.locals = None;
        self.in_func = false;
        Ok(Func { name, nparams: n, array_params: vec![false; n], body })
    }

    fn item(&mut self) -> PResult<Item> {
        let pattern = match self.tok() {
            Tok::Begin => {
                self.advance();
                Pattern::Begin
            }
            Tok::End => {
                self.advance();
                Pattern::End
            }
            Tok::LBrace => Pattern::All,
            _ => {
                let e = self.expr()?;
                if self.eat(&Tok::Comma) {
                    self.nls();
                    Pattern::Range(e, self.expr()?)
                } else {
                    Pattern::Expr(e)
                }
            }
        };
        let action = if self.is(&Tok::LBrace) {
            Some(self.block()?)
        } else {
            if matches!(pattern, Pattern::Begin | Pattern::End) {
                return self.err("syntax error: BEGIN and END need an action");
            }
            None
        };
        Ok(Item { pattern, action })
    }

    fn block(&mut self) -> PResult<Vec<Stmt>> {
        self.expect(&Tok::LBrace, "{")?;
        let mut v = Vec::new();
        self.terminators();
        while !self.is(&Tok::RBrace) {
            if self.is(&Tok::Eof) {
                return self.err("syntax error: missing }");
            }
            v.push(self.stmt()?);
            self.terminators();
        }
        self.advance();
        Ok(v)
    }

    /// End of a simple statement: `;`, newline, or before `}`.
    fn end_simple(&mut self) -> PResult<()> {
        match self.tok() {
            Tok::Semi | Tok::Newline => {
                self.advance();
                Ok(())
            }
            Tok::RBrace | Tok::Eof => Ok(()),
            _ => self.err("syntax error"),
        }
    }

    fn body(&mut self) -> PResult<Stmt> {
        self.nls();
        if self.eat(&Tok::Semi) {
            return Ok(Stmt::Block(Vec::new()));
        }
        self.stmt()
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        let s = match self.tok().clone() {
            Tok::LBrace => return Ok(Stmt::Block(self.block()?)),
            Tok::If => {
                self.advance();
                self.expect(&Tok::LParen, "(")?;
                let c = self.expr()?;
                self.expect(&Tok::RParen, ")")?;
                let then = self.body()?;
                let save = self.p;
                self.terminators();
                let els = if self.eat(&Tok::Else) {
                    Some(Box::new(self.body()?))
                } else {
                    self.p = save;
                    None
                };
                return Ok(Stmt::If(c, Box::new(then), els));
            }
            Tok::While => {
                self.advance();
                self.expect(&Tok::LParen, "(")?;
                let c = self.expr()?;
                self.expect(&Tok::RParen, ")")?;
                if self.is(&Tok::Semi) {
                    self.advance();
                    return Ok(Stmt::While(c, Box::new(Stmt::Block(Vec::new()))));
                }
                self.depth_loop += 1;
                let b = self.body();
                self.depth_loop -= 1;
                return Ok(Stmt::While(c, Box::new(b?)));
            }
            Tok::Do => {
                self.advance();
                self.depth_loop += 1;
                let b = self.body();
                self.depth_loop -= 1;
                let b = b?;
                self.terminators();
                self.expect(&Tok::While, "while")?;
                self.expect(&Tok::LParen, "(")?;
                let c = self.expr()?;
                self.expect(&Tok::RParen, ")")?;
                self.end_simple()?;
                return Ok(Stmt::Do(Box::new(b), c));
            }
            Tok::For => {
                self.advance();
                self.expect(&Tok::LParen, "(")?;
                // for (k in a)
                if let (Tok::Name(k), Tok::In, Tok::Name(a), Tok::RParen) =
                    (self.peek_at(0).clone(), self.peek_at(1).clone(), self.peek_at(2).clone(), self.peek_at(3).clone())
                {
                    self.p += 4;
                    let (kv, av) = (self.var(&k), self.var(&a));
                    self.depth_loop += 1;
                    let b = self.body();
                    self.depth_loop -= 1;
                    return Ok(Stmt::ForIn(kv, av, Box::new(b?)));
                }
                let init = if self.is(&Tok::Semi) { None } else { Some(Box::new(self.simple_stmt()?)) };
                self.expect(&Tok::Semi, ";")?;
                self.nls();
                let cond = if self.is(&Tok::Semi) { None } else { Some(self.expr()?) };
                self.expect(&Tok::Semi, ";")?;
                self.nls();
                let step = if self.is(&Tok::RParen) { None } else { Some(Box::new(self.simple_stmt()?)) };
                self.expect(&Tok::RParen, ")")?;
                if self.is(&Tok::Semi) {
                    self.advance();
                    return Ok(Stmt::For(init, cond, step, Box::new(Stmt::Block(Vec::new()))));
                }
                self.depth_loop += 1;
                let b = self.body();
                self.depth_loop -= 1;
                return Ok(Stmt::For(init, cond, step, Box::new(b?)));
            }
            Tok::Semi => {
                self.advance();
                return Ok(Stmt::Block(Vec::new()));
            }
            _ => self.simple_stmt()?,
        };
        self.end_simple()?;
        Ok(s)
    }

    fn simple_stmt(&mut self) -> PResult<Stmt> {
        Ok(match self.tok().clone() {
            Tok::Print | Tok::Printf => {
                let is_printf = self.advance() == Tok::Printf;
                let args = self.print_args()?;
                if is_printf && args.is_empty() {
                    return self.err("syntax error: printf needs a format");
                }
                let redir = match self.tok() {
                    Tok::Gt => {
                        self.advance();
                        Some(Redir::File(self.concat_no_gt()?))
                    }
                    Tok::Append => {
                        self.advance();
                        Some(Redir::Append(self.concat_no_gt()?))
                    }
                    Tok::Pipe => {
                        self.advance();
                        Some(Redir::Pipe(self.concat_no_gt()?))
                    }
                    _ => None,
                };
                if is_printf {
                    Stmt::Printf(args, redir)
                } else {
                    Stmt::Print(args, redir)
                }
            }
            Tok::Next => {
                self.advance();
                Stmt::Next
            }
            Tok::NextFile => {
                self.advance();
                Stmt::NextFile
            }
            Tok::Break => {
                self.advance();
                Stmt::Break
            }
            Tok::Continue => {
                self.advance();
                Stmt::Continue
            }
            Tok::Exit => {
                self.advance();
                let e = if self.at_end() { None } else { Some(self.expr()?) };
                Stmt::Exit(e)
            }
            Tok::Return => {
                if !self.in_func {
                    return self.err("syntax error: return outside a function");
                }
                self.advance();
                let e = if self.at_end() { None } else { Some(self.expr()?) };
                Stmt::Return(e)
            }
            Tok::Delete => {
                self.advance();
                let name = match self.advance() {
                    Tok::Name(n) => n,
                    _ => return self.err("syntax error: array name expected"),
                };
                let v = self.var(&name);
                if self.eat(&Tok::LBracket) {
                    let idx = self.expr_list()?;
                    self.expect(&Tok::RBracket, "]")?;
                    Stmt::Delete(v, Some(idx))
                } else {
                    Stmt::Delete(v, None)
                }
            }
            _ => Stmt::Expr(self.expr()?),
        })
    }

    fn at_end(&self) -> bool {
        matches!(self.tok(), Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof)
    }

    fn concat_no_gt(&mut self) -> PResult<Expr> {
        let save = self.no_gt;
        self.no_gt = true;
        let r = self.concat();
        self.no_gt = save;
        r
    }

    /// print's arguments: `a, b`, `(a, b)`, or nothing.
    fn print_args(&mut self) -> PResult<Vec<Expr>> {
        if matches!(self.tok(), Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof | Tok::Gt | Tok::Append | Tok::Pipe) {
            return Ok(Vec::new());
        }
        if self.is(&Tok::LParen) {
            // `print (a, b) > "f"`: a parenthesized list when what follows ends the statement.
            let save = self.p;
            self.advance();
            let saved_gt = self.no_gt;
            self.no_gt = false;
            let list = self.expr_list();
            self.no_gt = saved_gt;
            if let Ok(list) = list {
                if self.eat(&Tok::RParen)
                    && matches!(
                        self.tok(),
                        Tok::Semi | Tok::Newline | Tok::RBrace | Tok::Eof | Tok::Gt | Tok::Append | Tok::Pipe
                    )
                {
                    return Ok(list);
                }
            }
            self.p = save;
        }
        let save = self.no_gt;
        self.no_gt = true;
        let mut v = vec![self.expr()];
        while v.last().is_some_and(|r| r.is_ok()) && self.eat(&Tok::Comma) {
            self.nls();
            v.push(self.expr());
        }
        self.no_gt = save;
        v.into_iter().collect()
    }

    fn expr_list(&mut self) -> PResult<Vec<Expr>> {
        let mut v = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            self.nls();
            v.push(self.expr()?);
        }
        Ok(v)
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.ternary()
    }

    fn is_lvalue(e: &Expr) -> bool {
        matches!(e, Expr::Var(_) | Expr::Index(..) | Expr::Field(_))
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let c = self.or()?;
        if self.eat(&Tok::Question) {
            self.nls();
            let a = self.ternary()?;
            self.nls();
            self.expect(&Tok::Colon, ":")?;
            self.nls();
            let b = self.ternary()?;
            return Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        // Assignment (right-associative) when the left side is an lvalue.
        let op = match self.tok() {
            Tok::Assign => Some(None),
            Tok::AddAssign => Some(Some(BinOp::Add)),
            Tok::SubAssign => Some(Some(BinOp::Sub)),
            Tok::MulAssign => Some(Some(BinOp::Mul)),
            Tok::DivAssign => Some(Some(BinOp::Div)),
            Tok::ModAssign => Some(Some(BinOp::Mod)),
            Tok::PowAssign => Some(Some(BinOp::Pow)),
            _ => None,
        };
        if let Some(op) = op {
            if Self::is_lvalue(&c) {
                self.advance();
                self.nls();
                let rhs = self.ternary()?;
                return Ok(Expr::Assign(op, Box::new(c), Box::new(rhs)));
            }
        }
        Ok(c)
    }

    /// `x && y = 2`: an assignment as the right operand of `&&`/`||`.
    fn assign_tail(&mut self, lhs: Expr) -> PResult<Expr> {
        let op = match self.tok() {
            Tok::Assign => None,
            Tok::AddAssign => Some(BinOp::Add),
            Tok::SubAssign => Some(BinOp::Sub),
            Tok::MulAssign => Some(BinOp::Mul),
            Tok::DivAssign => Some(BinOp::Div),
            Tok::ModAssign => Some(BinOp::Mod),
            Tok::PowAssign => Some(BinOp::Pow),
            _ => return Ok(lhs),
        };
        if !Self::is_lvalue(&lhs) {
            return Ok(lhs);
        }
        self.advance();
        self.nls();
        let rhs = self.ternary()?;
        Ok(Expr::Assign(op, Box::new(lhs), Box::new(rhs)))
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut l = self.and()?;
        while self.eat(&Tok::Or) {
            self.nls();
            let r = self.and()?;
            let r = self.assign_tail(r)?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut l = self.in_expr()?;
        while self.eat(&Tok::And) {
            self.nls();
            let r = self.in_expr()?;
            let r = self.assign_tail(r)?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn in_expr(&mut self) -> PResult<Expr> {
        let mut l = self.matching()?;
        while !self.no_in && self.is(&Tok::In) {
            self.advance();
            let name = match self.advance() {
                Tok::Name(n) => n,
                _ => return self.err("syntax error: array name expected"),
            };
            let v = self.var(&name);
            l = Expr::In(vec![l], v);
        }
        Ok(l)
    }

    fn matching(&mut self) -> PResult<Expr> {
        let mut l = self.comparison()?;
        loop {
            let neg = match self.tok() {
                Tok::Tilde => false,
                Tok::NoMatch => true,
                _ => return Ok(l),
            };
            self.advance();
            let r = self.comparison()?;
            l = Expr::Match(neg, Box::new(l), Box::new(r));
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let l = self.pipe_getline()?;
        let op = match self.tok() {
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Ne => BinOp::Ne,
            Tok::Eq => BinOp::Eq,
            Tok::Ge => BinOp::Ge,
            Tok::Gt if !self.no_gt => BinOp::Gt,
            _ => return Ok(l),
        };
        self.advance();
        let r = self.pipe_getline()?;
        Ok(Expr::Bin(op, Box::new(l), Box::new(r)))
    }

    /// `cmd | getline [var]` (left-associative, below concatenation).
    fn pipe_getline(&mut self) -> PResult<Expr> {
        let mut l = self.concat()?;
        while self.is(&Tok::Pipe) && self.peek_at(1) == &Tok::Getline {
            self.p += 2;
            let var = self.opt_lvalue()?;
            l = Expr::Getline(GetSrc::Cmd(Box::new(l)), var.map(Box::new));
        }
        Ok(l)
    }

    fn starts_concat(&self) -> bool {
        match self.tok() {
            Tok::Num(_)
            | Tok::Str(_)
            | Tok::Ere(_)
            | Tok::FuncName(_)
            | Tok::Name(_)
            | Tok::Builtin(_)
            | Tok::Dollar
            | Tok::Not
            | Tok::LParen
            | Tok::Minus
            | Tok::Plus
            | Tok::Incr
            | Tok::Decr => true,
            Tok::In => false,
            _ => false,
        }
    }

    fn concat(&mut self) -> PResult<Expr> {
        let mut l = self.additive()?;
        loop {
            if !self.starts_concat() || matches!(self.tok(), Tok::Minus | Tok::Plus | Tok::Not) {
                return Ok(l);
            }
            // `getline` after an expression is not a concatenation start
            let r = self.additive()?;
            l = Expr::Bin(BinOp::Concat, Box::new(l), Box::new(r));
        }
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut l = self.multiplicative()?;
        loop {
            let op = match self.tok() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(l),
            };
            self.advance();
            let r = self.multiplicative()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = match self.tok() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(l),
            };
            self.advance();
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        match self.tok() {
            Tok::Not => {
                self.advance();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::Minus => {
                self.advance();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Tok::Plus => {
                self.advance();
                Ok(Expr::Plus(Box::new(self.unary()?)))
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.postfix()?;
        if self.eat(&Tok::Caret) {
            // right-associative; the exponent may carry a unary minus
            let exp =
                if matches!(self.tok(), Tok::Minus | Tok::Plus | Tok::Not) { self.unary()? } else { self.power()? };
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> PResult<Expr> {
        match self.tok() {
            Tok::Incr | Tok::Decr => {
                let d = if self.advance() == Tok::Incr { 1.0 } else { -1.0 };
                let e = self.postfix()?;
                if !Self::is_lvalue(&e) {
                    return self.err("syntax error: ++ or -- needs a variable");
                }
                return Ok(Expr::IncDec(true, d, Box::new(e)));
            }
            _ => {}
        }
        let e = self.primary()?;
        if Self::is_lvalue(&e) {
            match self.tok() {
                Tok::Incr => {
                    self.advance();
                    return Ok(Expr::IncDec(false, 1.0, Box::new(e)));
                }
                Tok::Decr => {
                    self.advance();
                    return Ok(Expr::IncDec(false, -1.0, Box::new(e)));
                }
                _ => {}
            }
        }
        Ok(e)
    }

    /// An optional lvalue after `getline`.
    fn opt_lvalue(&mut self) -> PResult<Option<Expr>> {
        match self.tok() {
            Tok::Dollar => {
                self.advance();
                let e = self.field_operand()?;
                Ok(Some(Expr::Field(Box::new(e))))
            }
            Tok::Name(_) => {
                let Tok::Name(n) = self.advance() else { unreachable!() };
                Ok(Some(self.name_ref(&n)?))
            }
            _ => Ok(None),
        }
    }

    /// What follows `$`: a primary with `++`/`--` and unary minus allowed.
    fn field_operand(&mut self) -> PResult<Expr> {
        match self.tok() {
            Tok::Minus => {
                self.advance();
                Ok(Expr::Neg(Box::new(self.field_operand()?)))
            }
            Tok::Incr | Tok::Decr => self.postfix(),
            _ => {
                let e = self.primary()?;
                if Self::is_lvalue(&e) && matches!(self.tok(), Tok::Incr | Tok::Decr) {
                    let d = if self.advance() == Tok::Incr { 1.0 } else { -1.0 };
                    return Ok(Expr::IncDec(false, d, Box::new(e)));
                }
                Ok(e)
            }
        }
    }

    fn name_ref(&mut self, n: &str) -> PResult<Expr> {
        let v = self.var(n);
        if self.eat(&Tok::LBracket) {
            let saved = (self.no_gt, self.no_in);
            self.no_gt = false;
            self.no_in = false;
            let idx = self.expr_list();
            (self.no_gt, self.no_in) = saved;
            let idx = idx?;
            self.expect(&Tok::RBracket, "]")?;
            return Ok(Expr::Index(v, idx));
        }
        Ok(Expr::Var(v))
    }

    fn call_args(&mut self) -> PResult<Vec<Expr>> {
        self.expect(&Tok::LParen, "(")?;
        let saved = (self.no_gt, self.no_in);
        self.no_gt = false;
        self.no_in = false;
        let r = (|| {
            self.nls();
            if self.eat(&Tok::RParen) {
                return Ok(Vec::new());
            }
            let v = self.expr_list()?;
            self.nls();
            self.expect(&Tok::RParen, ")")?;
            Ok(v)
        })();
        (self.no_gt, self.no_in) = saved;
        r
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.advance() {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Ere(r) => Ok(Expr::Regex(r)),
            Tok::Dollar => {
                let e = self.field_operand()?;
                Ok(Expr::Field(Box::new(e)))
            }
            Tok::LParen => {
                let saved = (self.no_gt, self.no_in);
                self.no_gt = false;
                self.no_in = false;
                let r = self.expr_list();
                (self.no_gt, self.no_in) = saved;
                let list = r?;
                self.nls();
                self.expect(&Tok::RParen, ")")?;
                if list.len() > 1 {
                    if !self.is(&Tok::In) {
                        return self.err("syntax error: expression list without 'in'");
                    }
                    self.advance();
                    let name = match self.advance() {
                        Tok::Name(n) => n,
                        _ => return self.err("syntax error: array name expected"),
                    };
                    let v = self.var(&name);
                    return Ok(Expr::In(list, v));
                }
                Ok(Expr::Group(Box::new(list.into_iter().next().unwrap())))
            }
            Tok::Name(n) => self.name_ref(&n),
            Tok::FuncName(n) => {
                let args = self.call_args()?;
                Ok(Expr::Call(n, args))
            }
            Tok::Builtin(b) => {
                if self.is(&Tok::LParen) {
                    let args = self.call_args()?;
                    Ok(Expr::Builtin(b, args))
                } else if b == Builtin::Length {
                    Ok(Expr::Builtin(b, Vec::new()))
                } else {
                    self.p -= 1;
                    self.err("syntax error: ( expected after a function name")
                }
            }
            Tok::Getline => {
                let var = self.opt_lvalue()?;
                if self.eat(&Tok::Lt) {
                    let f = self.primary_for_redirect()?;
                    return Ok(Expr::Getline(GetSrc::File(Box::new(f)), var.map(Box::new)));
                }
                Ok(Expr::Getline(GetSrc::Main, var.map(Box::new)))
            }
            Tok::Minus => Ok(Expr::Neg(Box::new(self.unary()?))),
            Tok::Plus => Ok(Expr::Plus(Box::new(self.unary()?))),
            Tok::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            _ => {
                self.p -= 1;
                self.err("syntax error")
            }
        }
    }

    /// `getline < FILE`: FILE is a primary (`"a" "b"` would be a concatenation after it).
    fn primary_for_redirect(&mut self) -> PResult<Expr> {
        let e = self.primary()?;
        if Self::is_lvalue(&e) && matches!(self.tok(), Tok::Incr | Tok::Decr) {
            let d = if self.advance() == Tok::Incr { 1.0 } else { -1.0 };
            return Ok(Expr::IncDec(false, d, Box::new(e)));
        }
        Ok(e)
    }
}

fn mark_local(e: &Expr, arr: &mut [bool]) {
    if let Expr::Var(Var::Local(i)) = e {
        if let Some(x) = arr.get_mut(*i) {
            *x = true;
        }
    }
}

fn mark_arrays_expr(e: &Expr, arr: &mut Vec<bool>, funcs: &HashMap<String, Vec<bool>>) {
    let sub = |x: &Expr, arr: &mut Vec<bool>| mark_arrays_expr(x, arr, funcs);
    match e {
        Expr::Index(Var::Local(i), idx) => {
            if let Some(x) = arr.get_mut(*i) {
                *x = true;
            }
            idx.iter().for_each(|x| sub(x, arr));
        }
        Expr::In(l, Var::Local(i)) => {
            if let Some(x) = arr.get_mut(*i) {
                *x = true;
            }
            l.iter().for_each(|x| sub(x, arr));
        }
        Expr::Builtin(Builtin::Split, a) => {
            if let Some(x) = a.get(1) {
                mark_local(x, arr);
            }
            a.iter().for_each(|x| sub(x, arr));
        }
        Expr::Call(name, a) => {
            if let Some(params) = funcs.get(name) {
                for (k, x) in a.iter().enumerate() {
                    if params.get(k) == Some(&true) {
                        mark_local(x, arr);
                    }
                }
            }
            a.iter().for_each(|x| sub(x, arr));
        }
        Expr::Index(_, idx) | Expr::Builtin(_, idx) => idx.iter().for_each(|x| sub(x, arr)),
        Expr::In(l, _) => l.iter().for_each(|x| sub(x, arr)),
        Expr::Field(a) | Expr::Not(a) | Expr::Neg(a) | Expr::Plus(a) | Expr::Group(a) | Expr::IncDec(_, _, a) => {
            sub(a, arr)
        }
        Expr::Assign(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) | Expr::Bin(_, a, b) | Expr::Match(_, a, b) => {
            sub(a, arr);
            sub(b, arr);
        }
        Expr::Cond(a, b, c) => {
            sub(a, arr);
            sub(b, arr);
            sub(c, arr);
        }
        Expr::Getline(src, v) => {
            if let GetSrc::File(x) | GetSrc::Cmd(x) = src {
                sub(x, arr);
            }
            if let Some(v) = v {
                sub(v, arr);
            }
        }
        Expr::Num(_) | Expr::Str(_) | Expr::Regex(_) | Expr::Var(_) => {}
    }
}

fn mark_arrays_stmt(s: &Stmt, arr: &mut Vec<bool>, funcs: &HashMap<String, Vec<bool>>) {
    let e = |x: &Expr, arr: &mut Vec<bool>| mark_arrays_expr(x, arr, funcs);
    match s {
        Stmt::Expr(x) => e(x, arr),
        Stmt::Print(a, r) | Stmt::Printf(a, r) => {
            a.iter().for_each(|x| e(x, arr));
            if let Some(Redir::File(x) | Redir::Append(x) | Redir::Pipe(x)) = r {
                e(x, arr);
            }
        }
        Stmt::If(c, a, b) => {
            e(c, arr);
            mark_arrays_stmt(a, arr, funcs);
            if let Some(b) = b {
                mark_arrays_stmt(b, arr, funcs);
            }
        }
        Stmt::While(c, b) | Stmt::Do(b, c) => {
            e(c, arr);
            mark_arrays_stmt(b, arr, funcs);
        }
        Stmt::For(i, c, st, b) => {
            if let Some(i) = i {
                mark_arrays_stmt(i, arr, funcs);
            }
            if let Some(c) = c {
                e(c, arr);
            }
            if let Some(st) = st {
                mark_arrays_stmt(st, arr, funcs);
            }
            mark_arrays_stmt(b, arr, funcs);
        }
        Stmt::ForIn(_, a, b) => {
            if let Var::Local(i) = a {
                if let Some(x) = arr.get_mut(*i) {
                    *x = true;
                }
            }
            mark_arrays_stmt(b, arr, funcs);
        }
        Stmt::Block(v) => v.iter().for_each(|x| mark_arrays_stmt(x, arr, funcs)),
        Stmt::Delete(v, idx) => {
            if let Var::Local(i) = v {
                if let Some(x) = arr.get_mut(*i) {
                    *x = true;
                }
            }
            if let Some(idx) = idx {
                idx.iter().for_each(|x| e(x, arr));
            }
        }
        Stmt::Exit(Some(x)) | Stmt::Return(Some(x)) => e(x, arr),
        _ => {}
    }
}

fn check_calls_expr(e: &Expr, funcs: &HashMap<String, Func>) -> Result<(), String> {
    let mut res = Ok(());
    walk_expr(e, &mut |x| {
        if let Expr::Call(n, a) = x {
            match funcs.get(n) {
                None => res = Err(format!("calling undefined function {n}")),
                Some(f) if a.len() > f.nparams => {
                    res = Err(format!("function '{n}' called with more arguments than declared"))
                }
                _ => {}
            }
        }
    });
    res
}

fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Index(_, v) | Expr::Builtin(_, v) | Expr::Call(_, v) | Expr::In(v, _) => {
            v.iter().for_each(|x| walk_expr(x, f))
        }
        Expr::Field(a) | Expr::Not(a) | Expr::Neg(a) | Expr::Plus(a) | Expr::Group(a) | Expr::IncDec(_, _, a) => {
            walk_expr(a, f)
        }
        Expr::Assign(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) | Expr::Bin(_, a, b) | Expr::Match(_, a, b) => {
            walk_expr(a, f);
            walk_expr(b, f);
        }
        Expr::Cond(a, b, c) => {
            walk_expr(a, f);
            walk_expr(b, f);
            walk_expr(c, f);
        }
        Expr::Getline(src, v) => {
            if let GetSrc::File(x) | GetSrc::Cmd(x) = src {
                walk_expr(x, f);
            }
            if let Some(v) = v {
                walk_expr(v, f);
            }
        }
        _ => {}
    }
}

fn check_calls_stmt(s: &Stmt, funcs: &HashMap<String, Func>) -> Result<(), String> {
    let e = |x: &Expr| check_calls_expr(x, funcs);
    match s {
        Stmt::Expr(x) => e(x),
        Stmt::Print(a, r) | Stmt::Printf(a, r) => {
            for x in a {
                e(x)?;
            }
            if let Some(Redir::File(x) | Redir::Append(x) | Redir::Pipe(x)) = r {
                e(x)?;
            }
            Ok(())
        }
        Stmt::If(c, a, b) => {
            e(c)?;
            check_calls_stmt(a, funcs)?;
            if let Some(b) = b {
                check_calls_stmt(b, funcs)?;
            }
            Ok(())
        }
        Stmt::While(c, b) | Stmt::Do(b, c) => {
            e(c)?;
            check_calls_stmt(b, funcs)
        }
        Stmt::For(i, c, st, b) => {
            if let Some(i) = i {
                check_calls_stmt(i, funcs)?;
            }
            if let Some(c) = c {
                e(c)?;
            }
            if let Some(st) = st {
                check_calls_stmt(st, funcs)?;
            }
            check_calls_stmt(b, funcs)
        }
        Stmt::ForIn(_, _, b) => check_calls_stmt(b, funcs),
        Stmt::Block(v) => v.iter().try_for_each(|x| check_calls_stmt(x, funcs)),
        Stmt::Delete(_, Some(idx)) => idx.iter().try_for_each(e),
        Stmt::Exit(Some(x)) | Stmt::Return(Some(x)) => e(x),
        _ => Ok(()),
    }
}

/// Parse a whole program.
pub fn parse(src: &str) -> Result<Program, String> {
    let p = Parser::new(src)?;
    p.program()
}

/// The slot of a global name in a parsed program, adding it if new.
pub fn global_slot(prog: &mut Program, name: &str) -> usize {
    if let Some(i) = prog.globals.iter().position(|g| g == name) {
        return i;
    }
    prog.globals.push(name.to_string());
    prog.globals.len() - 1
}
