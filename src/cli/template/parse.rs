//! Parser: builds the template tree from tokens, checking functions and variables like Go's parse.go.

use super::funcs::arity;
use super::lex::{quote, LexError, Lexer, Tok, Token};
use serde_json::Value;
use std::collections::VecDeque;

pub enum Node {
    Text(String),
    /// `{{pipeline}}`: prints the value unless the pipeline declares/assigns variables.
    Action(Pipe),
    If(Box<Control>),
    With(Box<Control>),
    Range(Box<Control>),
    Break,
    Continue,
}

pub struct Control {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Vec<Node>,
}

/// `[$x :=] cmd | cmd ...`; `text` is the source, shown in execution errors as `<text>`.
pub struct Pipe {
    pub pos: usize,
    pub text: String,
    /// Declared or assigned variables (`$x :=`, `$x =`, `$i, $v :=`).
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

pub struct Cmd {
    pub pos: usize,
    pub text: String,
    pub args: Vec<Arg>,
}

pub struct Arg {
    /// Where errors are reported (for `.A.B` Go uses the second element's position).
    pub pos: usize,
    pub text: String,
    pub kind: ArgKind,
}

pub enum ArgKind {
    Dot,
    Nil,
    /// A string, number or bool literal.
    Const(Value),
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B` (`$` alone is the root data).
    Var(String, Vec<String>),
    /// A function name.
    Func(String),
    /// `(pipeline).A.B`
    Paren(Box<Pipe>, Vec<String>),
}

/// What ended a list of nodes, and where.
enum Stop {
    Eof(usize),
    End(usize),
    Else(usize),
}

pub struct Parser<'s> {
    src: &'s str,
    lx: Lexer<'s>,
    buf: VecDeque<Token>,
    /// End offset of the last consumed token (to slice node texts from the source).
    last_end: usize,
    /// Variables in scope, innermost last (Go rejects undefined variables at parse time).
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of parentheses and control structures: parsing (and later executing and
    /// dropping) the tree recurses, so it is bounded, as Go's parser bounds it.
    depth: usize,
}

/// Go stops at 10000 ("max expression depth exceeded"); skiff's recursion is on a smaller
/// stack, and no real template nests more than a few levels.
const MAX_DEPTH: usize = 200;

type PResult<T> = Result<T, LexError>;

fn err<T>(pos: usize, msg: impl Into<String>) -> PResult<T> {
    Err((pos, msg.into()))
}

impl<'s> Parser<'s> {
    pub fn new(src: &'s str) -> Self {
        let (buf, vars) = (VecDeque::new(), vec!["$".into()]);
        Parser { src, lx: Lexer::new(src), buf, last_end: 0, vars, range_depth: 0, depth: 0 }
    }

    fn peek_n(&mut self, n: usize) -> PResult<&Token> {
        while self.buf.len() <= n {
            let t = self.lx.next_token()?;
            self.buf.push_back(t);
        }
        Ok(&self.buf[n])
    }

    fn peek(&mut self) -> PResult<&Token> {
        self.peek_n(0)
    }

    fn next(&mut self) -> PResult<Token> {
        self.peek()?;
        let t = self.buf.pop_front().expect("peeked");
        self.last_end = t.pos + t.text.len();
        Ok(t)
    }

    fn text_from(&self, start: usize) -> String {
        self.src[start..self.last_end.max(start)].to_string()
    }

    /// Enter one more level of nesting at `pos`, or fail like Go when there are too many.
    fn deeper(&mut self, pos: usize) -> PResult<()> {
        self.depth += 1;
        match self.depth > MAX_DEPTH {
            true => err(pos, "max expression depth exceeded"),
            false => Ok(()),
        }
    }

    fn expect_close(&mut self, context: &str) -> PResult<()> {
        let t = self.next()?;
        match t.tok {
            Tok::Close => Ok(()),
            _ => err(t.pos, format!("unexpected {} in {context}", t.describe())),
        }
    }

    pub fn parse_root(&mut self) -> PResult<Vec<Node>> {
        match self.list()? {
            (list, Stop::Eof(_)) => Ok(list),
            (_, Stop::End(pos)) => err(pos, "unexpected {{end}}"),
            (_, Stop::Else(pos)) => err(pos, "unexpected {{else}}"),
        }
    }

    /// Parses nodes until EOF, `{{end}}` or `{{else` (the rest of an else action is left unread).
    fn list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut nodes = Vec::new();
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::Eof => return Ok((nodes, Stop::Eof(t.pos))),
                _ => {
                    let (kw, pos) = match &self.peek()?.tok {
                        Tok::Ident(w) => (w.clone(), self.peek()?.pos),
                        _ => (String::new(), 0),
                    };
                    match kw.as_str() {
                        "end" => {
                            self.next()?;
                            self.expect_close("end")?;
                            return Ok((nodes, Stop::End(pos)));
                        }
                        "else" => {
                            self.next()?;
                            return Ok((nodes, Stop::Else(pos)));
                        }
                        "if" | "with" | "range" => {
                            self.next()?;
                            self.deeper(pos)?;
                            nodes.push(self.control(&kw)?);
                            self.depth -= 1;
                        }
                        "break" | "continue" => {
                            self.next()?;
                            let ctx = format!("{{{{{kw}}}}}");
                            if self.range_depth == 0 {
                                return err(pos, format!("{ctx} outside {{{{range}}}}"));
                            }
                            self.expect_close(&ctx)?;
                            nodes.push(if kw == "break" { Node::Break } else { Node::Continue });
                        }
                        "define" | "template" | "block" => {
                            return err(pos, format!("{{{{{kw}}}}} is not supported"));
                        }
                        _ => nodes.push(Node::Action(self.pipeline("command", Tok::Close)?)),
                    }
                }
            }
        }
    }

    /// `{{if|with|range pipeline}} list [{{else}} list] {{end}}`. `{{else if ...}}` (and
    /// `{{else with ...}}`) nest a control that consumes the single `{{end}}`.
    fn control(&mut self, kw: &str) -> PResult<Node> {
        let mark = self.vars.len();
        let pipe = self.pipeline(kw, Tok::Close)?;
        // break/continue are allowed in the range body only, not in its else branch.
        self.range_depth += usize::from(kw == "range");
        let (list, end) = self.list()?;
        self.range_depth -= usize::from(kw == "range");
        let else_list = match end {
            Stop::End(_) => Vec::new(),
            Stop::Else(pos) if kw != "range" && self.peek()?.tok == Tok::Ident(kw.into()) => {
                self.next()?;
                self.deeper(pos)?;
                let nested = vec![self.control(kw)?];
                self.depth -= 1;
                nested
            }
            Stop::Else(_) => {
                self.expect_close("else")?;
                match self.list()? {
                    (l, Stop::End(_)) => l,
                    (_, Stop::Else(pos)) => return err(pos, "expected end; found {{else}}"),
                    (_, Stop::Eof(pos)) => return err(pos, "unexpected EOF"),
                }
            }
            Stop::Eof(pos) => return err(pos, "unexpected EOF"),
        };
        self.vars.truncate(mark);
        let c = Box::new(Control { pipe, list, else_list });
        Ok(match kw {
            "if" => Node::If(c),
            "with" => Node::With(c),
            _ => Node::Range(c),
        })
    }

    /// `[decls :=] cmd | cmd ...` up to and including the `end` token (`}}` or `)`).
    fn pipeline(&mut self, context: &str, end: Tok) -> PResult<Pipe> {
        let pos = self.peek()?.pos;
        let (mut decl, mut assign) = (Vec::new(), false);
        // `$x :=`, `$x =`, and in range `$i, $v :=`.
        while let Tok::Var(v) = self.peek()?.tok.clone() {
            let op = self.peek_n(1)?.tok.clone();
            if !matches!(op, Tok::Declare | Tok::Assign | Tok::Comma) {
                break;
            }
            if op == Tok::Comma && (context != "range" || !decl.is_empty()) {
                return err(pos, format!("too many declarations in {context}"));
            }
            self.next()?;
            self.next()?;
            decl.push(v);
            assign = op == Tok::Assign;
            if op != Tok::Comma {
                break;
            }
        }
        for v in &decl {
            if assign {
                self.check_var(v, pos)?;
            } else {
                self.vars.push(v.clone());
            }
        }
        let mut cmds = Vec::new();
        loop {
            let t = self.peek()?.clone();
            match t.tok {
                _ if t.tok == end => break,
                Tok::Close => return err(t.pos, "unclosed left paren"),
                Tok::Bool(_)
                | Tok::Num
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Nil
                | Tok::Str(_)
                | Tok::Var(_)
                | Tok::LParen => cmds.push(self.command()?),
                _ => return err(t.pos, format!("unexpected {} in {context}", t.describe())),
            }
        }
        let text = self.text_from(pos);
        self.next()?;
        if cmds.is_empty() {
            return err(pos, format!("missing value for {context}"));
        }
        for (i, c) in cmds.iter().enumerate().skip(1) {
            if matches!(c.args[0].kind, ArgKind::Const(..) | ArgKind::Dot | ArgKind::Nil) {
                return err(c.pos, format!("non executable command in pipeline stage {}", i + 1));
            }
        }
        Ok(Pipe { pos, text, decl, assign, cmds })
    }

    fn check_var(&self, name: &str, pos: usize) -> PResult<()> {
        match self.vars.iter().any(|v| v == name) {
            true => Ok(()),
            false => err(pos, format!("undefined variable {}", quote(name))),
        }
    }

    /// Space-separated operands, ending before `}}`/`)` or after `|`.
    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek()?.pos;
        let mut args = Vec::new();
        let text = loop {
            let operand = self.operand()?;
            let found = operand.is_some();
            args.extend(operand);
            let t = self.peek()?.clone();
            match t.tok {
                Tok::Close | Tok::RParen => break self.text_from(pos),
                Tok::Pipe => {
                    let text = self.text_from(pos);
                    self.next()?;
                    break text;
                }
                _ if found && t.spaced => continue,
                _ => return err(t.pos, format!("unexpected {} in operand", t.describe())),
            }
        };
        match args.is_empty() {
            true => err(pos, "empty command"),
            false => Ok(Cmd { pos, text: text.trim_end().into(), args }),
        }
    }

    /// A term followed by an optional `.Field` chain written directly after it.
    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(mut arg) = self.term()? else {
            return Ok(None);
        };
        let start = arg.pos;
        let mut chain = Vec::new();
        while let Token { tok: Tok::Field(f), spaced: false, pos, .. } = self.peek()?.clone() {
            if chain.is_empty() {
                arg.pos = pos; // Go reports a chain at the position of its second element.
            }
            chain.push(f);
            self.next()?;
        }
        if chain.is_empty() {
            return Ok(Some(arg));
        }
        match &mut arg.kind {
            ArgKind::Field(f) | ArgKind::Var(_, f) | ArgKind::Paren(_, f) => f.extend(chain),
            _ => {
                return err(start, format!("unexpected . after term {}", quote(&arg.text)));
            }
        }
        arg.text = self.text_from(start);
        Ok(Some(arg))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.peek()?.clone();
        let kind = match t.tok {
            Tok::Ident(name) if arity(&name).is_none() => {
                return err(t.pos, format!("function {} not defined", quote(&name)));
            }
            Tok::Ident(name) => ArgKind::Func(name),
            Tok::Dot => ArgKind::Dot,
            Tok::Nil => ArgKind::Nil,
            Tok::Var(v) => {
                self.check_var(&v, t.pos)?;
                ArgKind::Var(v, Vec::new())
            }
            Tok::Field(f) => ArgKind::Field(vec![f]),
            Tok::Bool(b) => ArgKind::Const(Value::Bool(b)),
            Tok::Str(s) => ArgKind::Const(Value::String(s)),
            Tok::Num => ArgKind::Const(parse_number(&t.text).map_err(|m| (t.pos, m))?),
            Tok::LParen => {
                self.next()?;
                self.deeper(t.pos)?;
                let pipe = self.pipeline("parenthesized pipeline", Tok::RParen)?;
                self.depth -= 1;
                let kind = ArgKind::Paren(Box::new(pipe), Vec::new());
                return Ok(Some(Arg { pos: t.pos, text: self.text_from(t.pos), kind }));
            }
            _ => return Ok(None),
        };
        self.next()?;
        Ok(Some(Arg { pos: t.pos, text: t.text, kind }))
    }
}

/// Go number literals: integers (decimal, 0x, 0o, 0b, leading-0 octal, `_` separators), floats
/// and character constants. Anything with `.` or an exponent is a float (Go's ideal constants).
fn parse_number(text: &str) -> Result<Value, String> {
    let bad = || format!("bad number syntax: {}", quote(text));
    if let Some(inner) = text.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        let s = super::lex::unescape(inner).ok_or_else(bad)?;
        let mut chars = s.chars();
        return match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(Value::from(c as i64)),
            _ => Err(bad()),
        };
    }
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let lower = digits.replace('_', "").to_ascii_lowercase();
    let (radix, body) = match lower.get(..2) {
        Some("0x") => (16, &lower[2..]),
        Some("0o") => (8, &lower[2..]),
        Some("0b") => (2, &lower[2..]),
        _ if lower.len() > 1 && lower.starts_with('0') => (8, &lower[1..]),
        _ => (10, &lower[..]),
    };
    if let Ok(i) = i128::from_str_radix(body, radix).map(|i| if neg { -i } else { i }) {
        let int = i64::try_from(i).map(Value::from).or_else(|_| u64::try_from(i).map(Value::from));
        if let Ok(v) = int {
            return Ok(v);
        }
    }
    let float_chars = lower.bytes().all(|c| c.is_ascii_digit() || b".e+-".contains(&c));
    match lower.parse::<f64>() {
        Ok(f) if float_chars && radix != 16 && radix != 2 => {
            serde_json::Number::from_f64(if neg { -f } else { f }).map(Value::Number).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}
