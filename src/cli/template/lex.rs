//! Lexer: turns template source into text and action tokens, lazily (like Go's parse/lex.go).

/// Token kinds. Keywords (`if`, `end`, ...) are plain `Ident`s; the parser tells them apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    Open,
    Close,
    Dot,
    Field(String),
    Var(String),
    Ident(String),
    Str(String),
    /// A number or character constant; the parser decodes its text.
    Num,
    Bool(bool),
    Nil,
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    /// Any other printable ASCII character; the parser reports it as unexpected.
    Char,
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset of the token in the source.
    pub pos: usize,
    /// Source text of the token (empty for text and EOF).
    pub text: String,
    /// Whether whitespace preceded the token inside an action (separates operands).
    pub spaced: bool,
}

/// A lexing or parsing error: byte offset and message.
pub type LexError = (usize, String);

const SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

impl Token {
    fn new(tok: Tok, pos: usize) -> Token {
        Token { tok, pos, text: String::new(), spaced: false }
    }

    /// How Go's parser shows a token in "unexpected X" messages.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "EOF".into(),
            Tok::Dot => "<.>".into(),
            Tok::Ident(w) if ["if", "else", "end", "range", "with"].contains(&w.as_str()) => {
                format!("<{w}>")
            }
            _ => quote(&self.text),
        }
    }
}

/// Go's strconv.Quote (enough of it): escapes quotes, backslashes and control characters.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => out.extend(['\\', c]),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out += &format!("\\x{:02x}", c as u32),
            c if c.is_control() => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out + "\""
}

/// Decodes Go escape sequences (\n, \t, \\, \", \', \xHH, \ooo, \uHHHH, \UHHHHHHHH, ...).
pub fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let (n, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => {
                let pos = "ntrabfv\\\"'".find(e)?;
                out.push(['\n', '\t', '\r', '\x07', '\x08', '\x0c', '\x0b', '\\', '"', '\''][pos]);
                continue;
            }
        };
        let mut digits = if radix == 8 { e.to_string() } else { String::new() };
        for _ in 0..n {
            digits.push(chars.next()?);
        }
        out.push(char::from_u32(u32::from_str_radix(&digits, radix).ok()?)?);
    }
    Some(out)
}

fn is_alnum(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    in_action: bool,
    /// Set by ` -}}`: strip leading whitespace from the next text.
    trim_next: bool,
    /// Offset of the current action's `{{`.
    action_start: usize,
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str) -> Self {
        Lexer { src, pos: 0, in_action: false, trim_next: false, action_start: 0 }
    }

    pub fn next_token(&mut self) -> Result<Token, LexError> {
        if !self.in_action {
            return self.lex_text();
        }
        self.lex_action().map_err(|(pos, msg)| {
            let line = |p: usize| self.src[..p].matches('\n').count() + 1;
            match line(self.action_start) {
                start if msg == "unclosed action" && start != line(pos) => (pos, format!("{msg} started at :{start}")),
                _ => (pos, msg),
            }
        })
    }

    /// Text up to the next `{{`, honouring trim markers on both sides; skips comments.
    fn lex_text(&mut self) -> Result<Token, LexError> {
        loop {
            let start = self.pos;
            let end = self.src[start..].find("{{").map_or(self.src.len(), |i| start + i);
            let mut text = &self.src[start..end];
            if std::mem::take(&mut self.trim_next) {
                text = text.trim_start_matches(SPACE);
            }
            // `{{- ` (a dash, then whitespace) trims the whitespace before the action.
            let left_trim = self.src[end..].starts_with("{{-") && self.src[end + 3..].starts_with(SPACE);
            if left_trim {
                text = text.trim_end_matches(SPACE);
            }
            let inner = end + if left_trim { 4 } else { 2 };
            self.pos = end;
            if end < self.src.len() && self.src[inner..].starts_with("/*") {
                self.skip_comment(inner)?;
            } else if end < self.src.len() && text.is_empty() {
                (self.pos, self.in_action, self.action_start) = (inner, true, end);
                return Ok(Token { text: "{{".into(), ..Token::new(Tok::Open, end) });
            }
            if !text.is_empty() {
                return Ok(Token::new(Tok::Text(text.into()), start));
            } else if end == self.src.len() {
                return Ok(Token::new(Tok::Eof, end));
            }
        }
    }

    /// A comment must fill its whole action: `{{/* c */}}` or `{{- /* c */ -}}`.
    fn skip_comment(&mut self, inner: usize) -> Result<(), LexError> {
        let unclosed = (inner, "unclosed comment".to_string());
        let close = self.src[inner..].find("*/").ok_or(unclosed)? + inner + 2;
        let tail = &self.src[close..];
        self.trim_next = tail.starts_with(SPACE) && tail[1..].starts_with("-}}");
        if !self.trim_next && !tail.starts_with("}}") {
            return Err((close, "comment ends before closing delimiter".into()));
        }
        self.pos = close + if self.trim_next { 4 } else { 2 };
        Ok(())
    }

    fn lex_action(&mut self) -> Result<Token, LexError> {
        let rest = &self.src[self.pos..];
        let start = self.pos + (rest.len() - rest.trim_start_matches(SPACE).len());
        let spaced = start > self.pos;
        let rest = &self.src[start..];
        let close = |trim: bool| rest.starts_with("}}") || (trim && spaced && rest.starts_with("-}}"));
        if close(true) {
            // ` -}}` trims the whitespace after the action.
            self.trim_next = !close(false);
            self.pos = start + if self.trim_next { 3 } else { 2 };
            self.in_action = false;
            return Ok(Token { text: "}}".into(), spaced, ..Token::new(Tok::Close, start) });
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Err((start, "unclosed action".into()));
        };
        let next = chars.next().unwrap_or(' ');
        self.pos = start + c.len_utf8();
        let tok = match c {
            '|' => Tok::Pipe,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => Tok::Assign,
            ':' if next == '=' => {
                self.pos += 1;
                Tok::Declare
            }
            ':' => return Err((start, "expected :=".into())),
            '"' | '\'' => {
                // Find the closing quote, skipping escapes; a newline ends it too early.
                let b = self.src.as_bytes();
                while self.pos < b.len() && b[self.pos] != c as u8 && b[self.pos] != b'\n' {
                    self.pos += if b[self.pos] == b'\\' { 2 } else { 1 };
                }
                if self.pos >= b.len() || b[self.pos] != c as u8 {
                    let what = if c == '"' { "quoted string" } else { "character constant" };
                    return Err((start, format!("unterminated {what}")));
                }
                self.pos += 1;
                let inner = &self.src[start + 1..self.pos - 1];
                match c {
                    '"' => Tok::Str(unescape(inner).ok_or((start, "invalid syntax".to_string()))?),
                    _ => Tok::Num,
                }
            }
            '`' => {
                let unterminated = (start, "unterminated raw quoted string".to_string());
                self.pos += self.src[self.pos..].find('`').ok_or(unterminated)? + 1;
                Tok::Str(self.src[start + 1..self.pos - 1].to_string())
            }
            '$' => self.word(start, |w| Tok::Var(w.to_string()))?,
            '.' if next.is_ascii_digit() => self.number(),
            '.' if is_alnum(next) => self.word(start, |w| Tok::Field(w[1..].to_string()))?,
            '.' => Tok::Dot,
            '0'..='9' => self.number(),
            '+' | '-' if next.is_ascii_digit() || next == '.' => self.number(),
            c if is_alnum(c) => self.word(start, |w| match w {
                "true" | "false" => Tok::Bool(w == "true"),
                "nil" => Tok::Nil,
                _ => Tok::Ident(w.to_string()),
            })?,
            '+' | '-' => return Err((start, format!("bad character U+{:04X} '{c}'", c as u32))),
            c if c.is_ascii_graphic() => Tok::Char,
            c => {
                let msg = format!("unrecognized character in action: U+{:04X} '{c}'", c as u32);
                return Err((start, msg));
            }
        };
        let text = self.src[start..self.pos].to_string();
        Ok(Token { tok, pos: start, text, spaced })
    }

    /// Scans a name (`$x`, `.Field`, `ident`); like Go, it must be followed by a terminator
    /// (space, `.`, `,`, `|`, `:`, parens or `}}`), else "bad character".
    fn word(&mut self, start: usize, make: impl Fn(&str) -> Tok) -> Result<Tok, LexError> {
        let rest = &self.src[self.pos..];
        self.pos += rest.find(|c: char| !is_alnum(c)).unwrap_or(rest.len());
        let rest = &self.src[self.pos..];
        match rest.chars().next() {
            Some(c) if !(SPACE.contains(&c) || ".,|:()".contains(c) || rest.starts_with("}}")) => {
                Err((self.pos, format!("bad character U+{:04X} '{c}'", c as u32)))
            }
            _ => Ok(make(&self.src[start..self.pos])),
        }
    }

    /// Scans a number loosely (digits, letters, `.`, `_`, a sign after an exponent); the parser
    /// validates it.
    fn number(&mut self) -> Tok {
        let b = self.src.as_bytes();
        while let Some(&c) = b.get(self.pos) {
            let exp_sign = b"+-".contains(&c) && b"eEpP".contains(&b[self.pos - 1]);
            if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign) {
                break;
            }
            self.pos += 1;
        }
        Tok::Num
    }
}
