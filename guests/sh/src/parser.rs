//! Parsing shell source into commands: tokens, quoting, here-documents and the grammar.

use crate::ast::{Cmd, Redir, RedirOp, Word};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    /// The input ended inside a command: more lines may complete it.
    Incomplete(String),
    Syntax(String),
}

impl ParseError {
    pub fn message(&self) -> String {
        match self {
            ParseError::Incomplete(m) | ParseError::Syntax(m) => format!("syntax error: {m}"),
        }
    }
}

type PResult<T> = Result<T, ParseError>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Op(&'static str),
    IoNum(u32),
    Newline,
    Eof,
}

const OPS: [&str; 17] =
    ["&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", ";", "&", "|", "(", ")", "<", ">"];
const RESERVED: [&str; 14] =
    ["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "{", "}"];

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("unexpected \"{w}\""),
        Tok::Op(o) => format!("unexpected \"{o}\""),
        Tok::IoNum(n) => format!("unexpected \"{n}\""),
        Tok::Newline => "unexpected newline".into(),
        Tok::Eof => "unexpected end of file".into(),
    }
}

pub fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `NAME=value` words, split at the `=`.
pub fn split_assignment(w: &str) -> Option<(String, Word)> {
    let eq = w.find('=')?;
    is_name(&w[..eq]).then(|| (w[..eq].to_string(), w[eq + 1..].to_string()))
}

pub struct Parser {
    s: Vec<char>,
    pos: usize,
    peeked: Option<Tok>,
    heredocs: Vec<(String, bool, Rc<RefCell<String>>)>,
    /// All the input is here: an unterminated here-document simply ends at the end.
    pub complete: bool,
    /// Compound lists open around the cursor (`(`, `{`, `$(`, `if`, loops, `case`).
    depth: usize,
}

/// How deep compound commands may nest: the parser and the evaluator recurse per level, and
/// a guest's stack is small; busybox ash allows far less in practice.
const MAX_DEPTH: usize = 200;

impl Parser {
    pub fn new(src: &str) -> Self {
        Parser { s: src.chars().collect(), pos: 0, peeked: None, heredocs: Vec::new(), complete: true, depth: 0 }
    }

    /// Chars of the input used so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// Parse one complete command (a line's worth of lists); `None` at the end of input.
    pub fn next_command(&mut self) -> PResult<Option<Cmd>> {
        self.skip_newlines()?;
        if self.peek()? == &Tok::Eof {
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            let c = self.and_or()?;
            let bg = match self.peek()? {
                Tok::Op(";") => false,
                Tok::Op("&") => true,
                Tok::Newline | Tok::Eof => {
                    items.push((c, false));
                    break;
                }
                t => return Err(ParseError::Syntax(describe(t))),
            };
            self.next()?;
            items.push((c, bg));
            if matches!(self.peek()?, Tok::Newline | Tok::Eof) {
                break;
            }
        }
        if self.peek()? == &Tok::Newline {
            self.next()?;
        }
        Ok(Some(single(items)))
    }

    // ---- tokens ----

    fn peek(&mut self) -> PResult<&Tok> {
        if self.peeked.is_none() {
            let t = self.lex()?;
            self.peeked = Some(t);
        }
        Ok(self.peeked.as_ref().unwrap())
    }

    fn next(&mut self) -> PResult<Tok> {
        self.peek()?;
        Ok(self.peeked.take().unwrap())
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(self.pos + i).copied()
    }

    fn incomplete<T>(&self, what: &str) -> PResult<T> {
        Err(ParseError::Incomplete(what.to_string()))
    }

    fn lex(&mut self) -> PResult<Tok> {
        loop {
            match self.at(0) {
                Some(' ') | Some('\t') | Some('\r') => self.pos += 1,
                Some('\\') if self.at(1) == Some('\n') => self.pos += 2,
                Some('#') => {
                    while !matches!(self.at(0), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let Some(c) = self.at(0) else {
            if !self.heredocs.is_empty() && !self.complete {
                return self.incomplete("unexpected end of file");
            }
            self.heredocs.clear();
            return Ok(Tok::Eof);
        };
        if c == '\n' {
            self.pos += 1;
            self.read_heredocs()?;
            return Ok(Tok::Newline);
        }
        for op in OPS {
            if op.chars().enumerate().all(|(i, oc)| self.at(i) == Some(oc)) {
                self.pos += op.chars().count();
                return Ok(Tok::Op(op));
            }
        }
        if c.is_ascii_digit() {
            let mut n = 0;
            while self.at(n).is_some_and(|c| c.is_ascii_digit()) {
                n += 1;
            }
            if matches!(self.at(n), Some('<') | Some('>')) {
                let num: String = self.s[self.pos..self.pos + n].iter().collect();
                self.pos += n;
                return Ok(Tok::IoNum(num.parse().unwrap_or(u32::MAX)));
            }
        }
        let mut out = String::new();
        self.word(&mut out)?;
        Ok(Tok::Word(out))
    }

    fn read_heredocs(&mut self) -> PResult<()> {
        for (delim, strip, body) in std::mem::take(&mut self.heredocs) {
            let mut text = String::new();
            loop {
                if self.pos >= self.s.len() {
                    if self.complete {
                        break;
                    }
                    return self.incomplete("unexpected end of file");
                }
                let mut line = String::new();
                while let Some(c) = self.at(0) {
                    self.pos += 1;
                    if c == '\n' {
                        break;
                    }
                    line.push(c);
                }
                let line = if strip { line.trim_start_matches('\t').to_string() } else { line };
                if line == delim {
                    break;
                }
                text.push_str(&line);
                text.push('\n');
            }
            *body.borrow_mut() = text;
        }
        Ok(())
    }

    fn word(&mut self, out: &mut String) -> PResult<()> {
        while let Some(c) = self.at(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                _ => self.word_char(out, false)?,
            }
        }
        Ok(())
    }

    /// One quoting unit at the cursor (a char, an escape, a quote, an expansion), copied raw.
    fn word_char(&mut self, out: &mut String, in_dq: bool) -> PResult<()> {
        let c = self.at(0).unwrap();
        match c {
            '\\' => {
                if self.at(1) == Some('\n') {
                    self.pos += 2;
                } else {
                    out.push('\\');
                    self.pos += 1;
                    if let Some(n) = self.at(0) {
                        out.push(n);
                        self.pos += 1;
                    }
                }
            }
            '\'' if !in_dq => {
                out.push('\'');
                self.pos += 1;
                loop {
                    match self.at(0) {
                        None => return self.incomplete("unterminated quoted string"),
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                            if c == '\'' {
                                break;
                            }
                        }
                    }
                }
            }
            '"' if !in_dq => {
                out.push('"');
                self.pos += 1;
                loop {
                    match self.at(0) {
                        None => return self.incomplete("unterminated quoted string"),
                        Some('"') => {
                            out.push('"');
                            self.pos += 1;
                            break;
                        }
                        Some(_) => self.word_char(out, true)?,
                    }
                }
            }
            '`' => {
                out.push('`');
                self.pos += 1;
                loop {
                    match self.at(0) {
                        None => return self.incomplete("unterminated quoted string"),
                        Some('\\') => {
                            out.push('\\');
                            if let Some(n) = self.at(1) {
                                out.push(n);
                            }
                            self.pos += 2;
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                            if c == '`' {
                                break;
                            }
                        }
                    }
                }
            }
            '$' if self.at(1) == Some('(') && self.at(2) == Some('(') => {
                out.push_str("$((");
                self.pos += 3;
                let mut depth = 0;
                loop {
                    match self.at(0) {
                        None => return self.incomplete("unexpected end of file"),
                        Some('(') => depth += 1,
                        Some(')') if depth == 0 && self.at(1) == Some(')') => {
                            out.push_str("))");
                            self.pos += 2;
                            break;
                        }
                        Some(')') => depth -= 1,
                        _ => {}
                    }
                    out.push(self.at(0).unwrap());
                    self.pos += 1;
                }
            }
            '$' if self.at(1) == Some('(') => {
                self.pos += 2;
                let start = self.pos;
                let saved = std::mem::take(&mut self.heredocs);
                let peeked = self.peeked.take();
                let inner = self.compound_list(&[")"]);
                self.heredocs = saved;
                inner?;
                match self.next()? {
                    Tok::Op(")") => {}
                    t => return Err(ParseError::Syntax(describe(&t))),
                }
                self.peeked = peeked;
                out.push_str("$(");
                out.extend(&self.s[start..self.pos - 1]);
                out.push(')');
            }
            '$' if self.at(1) == Some('{') => {
                out.push_str("${");
                self.pos += 2;
                loop {
                    match self.at(0) {
                        None => return self.incomplete("unexpected end of file"),
                        Some('}') => {
                            out.push('}');
                            self.pos += 1;
                            break;
                        }
                        Some(_) => self.word_char(out, false)?,
                    }
                }
            }
            _ => {
                out.push(c);
                self.pos += 1;
            }
        }
        Ok(())
    }

    // ---- grammar ----

    fn skip_newlines(&mut self) -> PResult<()> {
        while self.peek()? == &Tok::Newline {
            self.next()?;
        }
        Ok(())
    }

    fn is_term(&mut self, terms: &[&str]) -> PResult<bool> {
        Ok(match self.peek()? {
            Tok::Word(w) => terms.contains(&w.as_str()),
            Tok::Op(o) => terms.contains(o),
            _ => false,
        })
    }

    fn compound_list(&mut self, terms: &[&str]) -> PResult<Cmd> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::Syntax(format!("commands nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let list = self.compound_list_inner(terms);
        self.depth -= 1;
        list
    }

    fn compound_list_inner(&mut self, terms: &[&str]) -> PResult<Cmd> {
        let mut items = Vec::new();
        self.skip_newlines()?;
        loop {
            if self.peek()? == &Tok::Eof {
                return self.incomplete("unexpected end of file");
            }
            if self.is_term(terms)? {
                break;
            }
            let c = self.and_or()?;
            let bg = match self.peek()? {
                Tok::Op(";") | Tok::Newline => false,
                Tok::Op("&") => true,
                _ => {
                    items.push((c, false));
                    break;
                }
            };
            self.next()?;
            self.skip_newlines()?;
            items.push((c, bg));
        }
        Ok(single(items))
    }

    fn expect(&mut self, what: &str) -> PResult<()> {
        match self.next()? {
            Tok::Word(w) if w == what => Ok(()),
            Tok::Op(o) if o == what => Ok(()),
            Tok::Eof => self.incomplete("unexpected end of file"),
            t => Err(ParseError::Syntax(describe(&t))),
        }
    }

    fn and_or(&mut self) -> PResult<Cmd> {
        let mut left = self.pipeline()?;
        loop {
            let and = match self.peek()? {
                Tok::Op("&&") => true,
                Tok::Op("||") => false,
                _ => return Ok(left),
            };
            self.next()?;
            self.skip_newlines()?;
            let right = self.pipeline()?;
            left = if and { Cmd::And(left.into(), right.into()) } else { Cmd::Or(left.into(), right.into()) };
        }
    }

    fn pipeline(&mut self) -> PResult<Cmd> {
        let neg = self.peek()? == &Tok::Word("!".into());
        if neg {
            self.next()?;
        }
        let mut cmds = vec![self.command()?];
        while self.peek()? == &Tok::Op("|") {
            self.next()?;
            self.skip_newlines()?;
            cmds.push(self.command()?);
        }
        if cmds.len() == 1 && !neg {
            return Ok(cmds.pop().unwrap());
        }
        Ok(Cmd::Pipeline { neg, cmds })
    }

    fn command(&mut self) -> PResult<Cmd> {
        let kw = match self.peek()? {
            Tok::Word(w) if RESERVED.contains(&w.as_str()) => w.clone(),
            Tok::Op("(") => "(".into(),
            Tok::Eof => return self.incomplete("unexpected end of file"),
            _ => return self.simple(),
        };
        let c = match kw.as_str() {
            "if" => self.if_cmd()?,
            "for" => self.for_cmd()?,
            "while" | "until" => {
                self.next()?;
                let cond = self.compound_list(&["do"])?;
                self.expect("do")?;
                let body = self.compound_list(&["done"])?;
                self.expect("done")?;
                Cmd::While { until: kw == "until", cond: cond.into(), body: body.into() }
            }
            "case" => self.case_cmd()?,
            "{" => {
                self.next()?;
                let body = self.compound_list(&["}"])?;
                self.expect("}")?;
                Cmd::Group(body.into())
            }
            "(" => {
                self.next()?;
                let body = self.compound_list(&[")"])?;
                self.expect(")")?;
                Cmd::Subshell(body.into())
            }
            _ => return Err(ParseError::Syntax(format!("unexpected \"{kw}\""))),
        };
        let mut redirs = Vec::new();
        while let Some(fd) = self.redir_start()? {
            redirs.push(self.redirect(fd)?);
        }
        Ok(if redirs.is_empty() { c } else { Cmd::Redirected(c.into(), redirs) })
    }

    fn if_cmd(&mut self) -> PResult<Cmd> {
        self.next()?;
        let mut arms = Vec::new();
        let mut els = None;
        loop {
            let cond = self.compound_list(&["then"])?;
            self.expect("then")?;
            let body = self.compound_list(&["elif", "else", "fi"])?;
            arms.push((cond, body));
            match self.next()? {
                Tok::Word(w) if w == "elif" => continue,
                Tok::Word(w) if w == "else" => {
                    els = Some(Box::new(self.compound_list(&["fi"])?));
                    self.expect("fi")?;
                }
                Tok::Word(w) if w == "fi" => {}
                t => return Err(ParseError::Syntax(describe(&t))),
            }
            return Ok(Cmd::If { arms, els });
        }
    }

    fn for_cmd(&mut self) -> PResult<Cmd> {
        self.next()?;
        let var = match self.next()? {
            Tok::Word(w) if is_name(&w) => w,
            t => return Err(ParseError::Syntax(describe(&t))),
        };
        self.skip_newlines()?;
        let mut items = None;
        if self.peek()? == &Tok::Word("in".into()) {
            self.next()?;
            let mut ws = Vec::new();
            loop {
                match self.next()? {
                    Tok::Word(w) => ws.push(w),
                    Tok::Op(";") | Tok::Newline => break,
                    t => return Err(ParseError::Syntax(describe(&t))),
                }
            }
            items = Some(ws);
        } else if self.peek()? == &Tok::Op(";") {
            self.next()?;
        }
        self.skip_newlines()?;
        self.expect("do")?;
        let body = self.compound_list(&["done"])?;
        self.expect("done")?;
        Ok(Cmd::For { var, items, body: body.into() })
    }

    fn case_cmd(&mut self) -> PResult<Cmd> {
        self.next()?;
        let word = match self.next()? {
            Tok::Word(w) => w,
            t => return Err(ParseError::Syntax(describe(&t))),
        };
        self.skip_newlines()?;
        self.expect("in")?;
        self.skip_newlines()?;
        let mut arms = Vec::new();
        loop {
            if self.peek()? == &Tok::Word("esac".into()) {
                self.next()?;
                return Ok(Cmd::Case { word, arms });
            }
            if self.peek()? == &Tok::Op("(") {
                self.next()?;
            }
            let mut pats = Vec::new();
            loop {
                match self.next()? {
                    Tok::Word(w) => pats.push(w),
                    Tok::Eof => return self.incomplete("unexpected end of file"),
                    t => return Err(ParseError::Syntax(describe(&t))),
                }
                match self.next()? {
                    Tok::Op("|") => continue,
                    Tok::Op(")") => break,
                    Tok::Eof => return self.incomplete("unexpected end of file"),
                    t => return Err(ParseError::Syntax(describe(&t))),
                }
            }
            let body = self.compound_list(&[";;", "esac"])?;
            arms.push((pats, body));
            if self.peek()? == &Tok::Op(";;") {
                self.next()?;
                self.skip_newlines()?;
            }
        }
    }

    /// The fd of a redirection starting at the next token, if one does.
    fn redir_start(&mut self) -> PResult<Option<Option<u32>>> {
        Ok(match self.peek()? {
            Tok::IoNum(n) => {
                let n = *n;
                self.next()?;
                Some(Some(n))
            }
            Tok::Op(o) if o.starts_with('<') || o.starts_with('>') => Some(None),
            _ => None,
        })
    }

    fn redirect(&mut self, fd: Option<u32>) -> PResult<Redir> {
        let op = match self.next()? {
            Tok::Op(o) if o.starts_with('<') || o.starts_with('>') => o,
            t => return Err(ParseError::Syntax(describe(&t))),
        };
        let target = match self.next()? {
            Tok::Word(w) => w,
            Tok::Eof => return self.incomplete("unexpected end of file"),
            t => return Err(ParseError::Syntax(describe(&t))),
        };
        let (rop, dfd) = match op {
            "<" => (RedirOp::In, 0),
            ">" | ">|" => (RedirOp::Out, 1),
            ">>" => (RedirOp::Append, 1),
            "<>" => (RedirOp::ReadWrite, 0),
            "<&" => (RedirOp::Dup, 0),
            ">&" => (RedirOp::Dup, 1),
            _ => {
                let quoted = target.contains(['\'', '"', '\\']);
                let delim: String = target.chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
                let body = Rc::new(RefCell::new(String::new()));
                self.heredocs.push((delim.clone(), op == "<<-", body.clone()));
                return Ok(Redir { fd: fd.unwrap_or(0), op: RedirOp::Heredoc { quoted }, target: delim, body });
            }
        };
        Ok(Redir { fd: fd.unwrap_or(dfd), op: rop, target, body: Default::default() })
    }

    fn simple(&mut self) -> PResult<Cmd> {
        let (mut assigns, mut words, mut redirs) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            if let Some(fd) = self.redir_start()? {
                redirs.push(self.redirect(fd)?);
                continue;
            }
            let Tok::Word(w) = self.peek()? else { break };
            let w = w.clone();
            self.next()?;
            if words.is_empty() {
                if let Some(a) = split_assignment(&w) {
                    assigns.push(a);
                    continue;
                }
            }
            words.push(w);
            if words.len() == 1 && assigns.is_empty() && redirs.is_empty() && self.peek()? == &Tok::Op("(") {
                self.next()?;
                self.expect(")")?;
                let name = words.pop().unwrap();
                if !is_name(&name) {
                    return Err(ParseError::Syntax(format!("bad function name \"{name}\"")));
                }
                self.skip_newlines()?;
                let body = self.command()?;
                return Ok(Cmd::Func { name, body: Rc::new(body) });
            }
        }
        if assigns.is_empty() && words.is_empty() && redirs.is_empty() {
            let t = self.peek()?.clone();
            if t == Tok::Eof {
                return self.incomplete("unexpected end of file");
            }
            return Err(ParseError::Syntax(describe(&t)));
        }
        Ok(Cmd::Simple { assigns, words, redirs })
    }
}

fn single(mut items: Vec<(Cmd, bool)>) -> Cmd {
    if items.len() == 1 && !items[0].1 {
        return items.pop().unwrap().0;
    }
    Cmd::List(items)
}

/// Length of the command substitution body at the start of `s` (just after `$(`),
/// including the closing `)`.
pub fn subst_len(s: &[char]) -> Option<usize> {
    let mut p = Parser { s: s.to_vec(), pos: 0, peeked: None, heredocs: Vec::new(), complete: true, depth: 0 };
    p.compound_list(&[")"]).ok()?;
    match p.next().ok()? {
        Tok::Op(")") => Some(p.pos),
        _ => None,
    }
}

/// Parse a whole text (tests and `eval`-like callers).
#[cfg(test)]
pub fn parse_all(src: &str) -> PResult<Vec<Cmd>> {
    let mut p = Parser::new(src);
    let mut out = Vec::new();
    while let Some(c) = p.next_command()? {
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::to_source;

    fn simple(words: &[&str]) -> Cmd {
        Cmd::Simple { assigns: vec![], words: words.iter().map(|s| s.to_string()).collect(), redirs: vec![] }
    }

    #[test]
    fn words_keep_their_quotes() {
        let cases: &[(&str, &[&str])] = &[
            ("echo a  b", &["echo", "a", "b"]),
            ("echo 'a b' \"c $d\" e\\ f", &["echo", "'a b'", "\"c $d\"", "e\\ f"]),
            ("echo $(echo a; echo b) `x` ${a:-b c}", &["echo", "$(echo a; echo b)", "`x`", "${a:-b c}"]),
            ("echo $((1 + (2*3)))x", &["echo", "$((1 + (2*3)))x"]),
            ("echo a\\\nb", &["echo", "ab"]),
            ("echo a # comment", &["echo", "a"]),
            ("echo \"$(echo \")\")\"", &["echo", "\"$(echo \")\")\""]),
            ("echo $(case x in x) echo y;; esac)", &["echo", "$(case x in x) echo y;; esac)"]),
        ];
        for (src, want) in cases {
            assert_eq!(parse_all(src).unwrap(), vec![simple(want)], "{src}");
        }
    }

    #[test]
    fn structure() {
        let c = &parse_all("a && b || c; d &\n").unwrap();
        assert_eq!(to_source(&c[0]), "a && b || c; d &");
        let cases = [
            ("if a; then b; elif c; then d; else e; fi", "if a; then b; elif c; then d; else e; fi"),
            ("for i in 1 2\ndo\n echo $i\ndone", "for i in 1 2; do echo $i; done"),
            ("while true; do break; done", "while true; do break; done"),
            ("case $x in a|b) echo 1;; *) ;; esac", "case $x in a | b) echo 1; ;; *) ;; esac"),
            ("f() { echo hi; }", "f() { echo hi; }"),
            ("! a | b | c", "! a | b | c"),
            ("(cd /; ls) >out 2>&1", "( cd /; ls ) >out 2>&1"),
            ("A=1 B=\"2 3\" cmd <in", "A=1 B=\"2 3\" cmd <in"),
        ];
        for (src, want) in cases {
            let c = parse_all(src).unwrap();
            assert_eq!(c.len(), 1, "{src}");
            assert_eq!(to_source(&c[0]), want, "{src}");
            assert_eq!(parse_all(&to_source(&c[0])).unwrap(), c, "round trip {src}");
        }
    }

    #[test]
    fn heredocs() {
        let c = parse_all("cat <<EOF; echo x\nhello $USER\nEOF\necho after").unwrap();
        assert_eq!(c.len(), 2);
        let src = to_source(&c[0]);
        assert_eq!(src, "cat <<EOF\nhello $USER\nEOF\necho x");
        assert_eq!(parse_all(&src).unwrap().len(), 2);
        let c = parse_all("cat <<-'E'\n\tx\n\tE\n").unwrap();
        let Cmd::Simple { redirs, .. } = &c[0] else { panic!() };
        assert_eq!(redirs[0].op, RedirOp::Heredoc { quoted: true });
        assert_eq!(*redirs[0].body.borrow(), "x\n");
    }

    #[test]
    fn errors() {
        let cases = [
            ("fi", ParseError::Syntax("unexpected \"fi\"".into())),
            ("if true; then", ParseError::Incomplete("unexpected end of file".into())),
            ("echo 'abc", ParseError::Incomplete("unterminated quoted string".into())),
            ("echo a |", ParseError::Incomplete("unexpected end of file".into())),
            ("a ;; b", ParseError::Syntax("unexpected \";;\"".into())),
            ("echo )", ParseError::Syntax("unexpected \")\"".into())),
        ];
        for (src, want) in cases {
            assert_eq!(parse_all(src).unwrap_err(), want, "{src}");
        }
    }
}
