//! SQL tokens, as PostgreSQL's scanner makes them: identifiers fold to lower case unless
//! double-quoted, `'strings'` (with `''`), `E'escapes'`, `$$dollar quotes$$`, numbers,
//! operators, `$n` parameters, and comments.

use super::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword, lowercased.
    Word(String),
    /// A `"quoted identifier"`.
    Quoted(String),
    Str(String),
    Num(String),
    Param(usize),
    Op(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Semi,
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset in the query string.
    pub pos: usize,
    /// The token's source text.
    pub text: String,
}

const OP_CHARS: &str = "+-*/<>=~!@#%^&|`?";

pub fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            if depth != 0 {
                return Err(Error::new("42601", "unterminated /* comment").at(start));
            }
            continue;
        }
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'[' => {
                i += 1;
                Tok::LBracket
            }
            b']' => {
                i += 1;
                Tok::RBracket
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b';' => {
                i += 1;
                Tok::Semi
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                i += 2;
                Tok::Op("::".into())
            }
            b'.' if !b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                i += 1;
                Tok::Dot
            }
            b'\'' => {
                let (s, n) = quoted(src, i, false)?;
                i = n;
                Tok::Str(s)
            }
            b'e' | b'E' if b.get(i + 1) == Some(&b'\'') => {
                let (s, n) = quoted(src, i + 1, true)?;
                i = n;
                Tok::Str(s)
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match src[i..].find('"') {
                        None => return Err(Error::new("42601", "unterminated quoted identifier").at(start)),
                        Some(k) => {
                            s.push_str(&src[i..i + k]);
                            i += k + 1;
                            if b.get(i) == Some(&b'"') {
                                s.push('"');
                                i += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                if s.is_empty() {
                    return Err(Error::new("42601", "zero-length delimited identifier").at(start));
                }
                Tok::Quoted(s)
            }
            b'$' if b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                i += 1;
                let s = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Param(src[s..i].parse().unwrap_or(0))
            }
            b'$' => {
                // $tag$ ... $tag$
                let rest = &src[i + 1..];
                let tag_len =
                    rest.find('$').filter(|&k| rest[..k].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
                let Some(k) = tag_len else {
                    return Err(Error::new("42601", "syntax error at or near \"$\"").at(start));
                };
                let delim = &src[i..i + k + 2];
                let body_start = i + k + 2;
                let Some(end) = src[body_start..].find(delim) else {
                    return Err(Error::new("42601", "unterminated dollar-quoted string").at(start));
                };
                i = body_start + end + delim.len();
                Tok::Str(src[body_start..body_start + end].to_string())
            }
            c if c.is_ascii_digit() || c == b'.' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i < b.len() && b[i] == b'.' && b.get(i + 1) != Some(&b'.') {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                    let mut j = i + 1;
                    if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                        j += 1;
                    }
                    if j < b.len() && b[j].is_ascii_digit() {
                        i = j;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                Tok::Num(src[start..i].to_string())
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                    i += 1;
                }
                Tok::Word(src[start..i].to_ascii_lowercase())
            }
            c if OP_CHARS.as_bytes().contains(&c) => {
                while i < b.len() && OP_CHARS.as_bytes().contains(&b[i]) {
                    // `--` or `/*` ends an operator.
                    if (b[i] == b'-' && b.get(i + 1) == Some(&b'-')) || (b[i] == b'/' && b.get(i + 1) == Some(&b'*')) {
                        break;
                    }
                    i += 1;
                }
                let mut op = &src[start..i];
                // A multi-char operator ending in + or - is split unless it has ~!@#%^&|`?.
                while op.len() > 1
                    && (op.ends_with('+') || op.ends_with('-'))
                    && !op.bytes().any(|c| b"~!@#%^&|`?".contains(&c))
                {
                    op = &op[..op.len() - 1];
                    i -= 1;
                }
                Tok::Op(op.to_string())
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(Error::new("42601", format!("syntax error at or near \"{ch}\"")).at(start));
            }
        };
        out.push(Token { tok, pos: start, text: src[start..i].to_string() });
    }
    out.push(Token { tok: Tok::Eof, pos: src.len(), text: String::new() });
    Ok(out)
}

/// A `'…'` string starting at `b[i] == '\''`; returns it and the offset after it. Adjacent
/// strings separated by a newline are one string (SQL's continuation).
fn quoted(src: &str, i: usize, escapes: bool) -> Result<(String, usize), Error> {
    let b = src.as_bytes();
    let mut s = Vec::new();
    let mut j = i + 1;
    loop {
        if j >= b.len() {
            return Err(
                Error::new("42601", "unterminated quoted string at or near \"".to_string() + &src[i..] + "\"").at(i)
            );
        }
        let c = b[j];
        if c == b'\'' {
            if b.get(j + 1) == Some(&b'\'') {
                s.push(b'\'');
                j += 2;
                continue;
            }
            j += 1;
            break;
        }
        if escapes && c == b'\\' && j + 1 < b.len() {
            j += 1;
            let e = b[j];
            match e {
                b'n' => s.push(b'\n'),
                b't' => s.push(b'\t'),
                b'r' => s.push(b'\r'),
                b'b' => s.push(8),
                b'f' => s.push(12),
                b'0'..=b'7' => {
                    let mut v = 0u32;
                    let mut k = 0;
                    while k < 3 && j < b.len() && (b'0'..=b'7').contains(&b[j]) {
                        v = v * 8 + (b[j] - b'0') as u32;
                        j += 1;
                        k += 1;
                    }
                    s.push(v as u8);
                    continue;
                }
                b'x' => {
                    let mut v = 0u32;
                    let mut k = 0;
                    j += 1;
                    while k < 2 && j < b.len() && b[j].is_ascii_hexdigit() {
                        v = v * 16 + (b[j] as char).to_digit(16).unwrap_or(0);
                        j += 1;
                        k += 1;
                    }
                    s.push(v as u8);
                    continue;
                }
                other => s.push(other),
            }
            j += 1;
            continue;
        }
        s.push(c);
        j += 1;
    }
    Ok((String::from_utf8_lossy(&s).into_owned(), j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks("SELECT \"Name\", 'it''s' FROM t -- c\n WHERE x<>1.5e3;"),
            vec![
                Tok::Word("select".into()),
                Tok::Quoted("Name".into()),
                Tok::Comma,
                Tok::Str("it's".into()),
                Tok::Word("from".into()),
                Tok::Word("t".into()),
                Tok::Word("where".into()),
                Tok::Word("x".into()),
                Tok::Op("<>".into()),
                Tok::Num("1.5e3".into()),
                Tok::Semi,
                Tok::Eof
            ]
        );
        assert_eq!(toks("a::int")[1], Tok::Op("::".into()));
        assert_eq!(toks("E'a\\nb'")[0], Tok::Str("a\nb".into()));
        assert_eq!(toks("$$x'y$$")[0], Tok::Str("x'y".into()));
        assert_eq!(toks("$1")[0], Tok::Param(1));
        assert_eq!(toks("1-2"), vec![Tok::Num("1".into()), Tok::Op("-".into()), Tok::Num("2".into()), Tok::Eof]);
        assert_eq!(toks("a<-1")[1], Tok::Op("<".into()));
        assert!(lex("'open").is_err());
    }
}
