//! RESP2, the Redis protocol: parsing requests (multibulk and inline) and replies, encoding
//! replies, and splitting a typed line into arguments the way redis does.

use std::ops::Range;

use serve::num::{push_i64, push_u64};

/// Longest inline request or multibulk header line.
const MAX_INLINE: usize = 64 * 1024;
/// Most arguments in one request.
const MAX_ARGS: i64 = 1024 * 1024;
/// Longest bulk string.
pub const MAX_BULK: i64 = 512 * 1024 * 1024;

/// What [`parse_request`] found at the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// Not a whole request yet.
    Need,
    /// A request of `used` bytes with nothing to do (a blank line, `*0`).
    Empty { used: usize },
    /// A command of `used` bytes; its arguments are in the ranges, of the input
    /// (`inline` false) or of the inline scratch buffer (`inline` true).
    Command { used: usize, inline: bool },
    /// A protocol error: reply `-ERR Protocol error: <msg>` and close.
    Error(String),
}

/// One command's arguments, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    src: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    pub fn new(src: &'a [u8], ranges: &'a [Range<usize>]) -> Args<'a> {
        Args { src, ranges }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Argument `i` (0 is the command name).
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.src[self.ranges[i].clone()]
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.ranges.iter().map(|r| &self.src[r.clone()])
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// Parse one request. Multibulk arguments become ranges of `buf`; an inline command's
/// arguments are decoded into `inline` and become ranges of it.
pub fn parse_request(buf: &[u8], args: &mut Vec<Range<usize>>, inline: &mut Vec<u8>) -> Request {
    args.clear();
    if buf.is_empty() {
        return Request::Need;
    }
    if buf[0] != b'*' {
        let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
            return if buf.len() > MAX_INLINE {
                Request::Error("too big inline request".into())
            } else {
                Request::Need
            };
        };
        let line = &buf[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(words) = split_args(line) else {
            return Request::Error("unbalanced quotes in request".into());
        };
        if words.is_empty() {
            return Request::Empty { used: nl + 1 };
        }
        inline.clear();
        for w in words {
            let start = inline.len();
            inline.extend_from_slice(&w);
            args.push(start..inline.len());
        }
        return Request::Command { used: nl + 1, inline: true };
    }
    let Some(eol) = find_crlf(buf) else {
        return if buf.len() > MAX_INLINE {
            Request::Error("too big mbulk count string".into())
        } else {
            Request::Need
        };
    };
    let count = match parse_int(&buf[1..eol]) {
        Some(n) if n <= MAX_ARGS => n,
        _ => return Request::Error("invalid multibulk length".into()),
    };
    let mut pos = eol + 2;
    if count <= 0 {
        return Request::Empty { used: pos };
    }
    for _ in 0..count {
        let rest = &buf[pos..];
        if rest.is_empty() {
            return Request::Need;
        }
        if rest[0] != b'$' {
            return Request::Error(format!("expected '$', got '{}'", rest[0] as char));
        }
        let Some(eol) = find_crlf(rest) else {
            return if rest.len() > MAX_INLINE {
                Request::Error("too big bulk count string".into())
            } else {
                Request::Need
            };
        };
        let len = match parse_int(&rest[1..eol]) {
            Some(n) if (0..=MAX_BULK).contains(&n) => n as usize,
            _ => return Request::Error("invalid bulk length".into()),
        };
        let start = pos + eol + 2;
        if buf.len() < start + len + 2 {
            return Request::Need;
        }
        args.push(start..start + len);
        pos = start + len + 2;
    }
    Request::Command { used: pos, inline: false }
}

/// A whole decimal integer the way redis reads one (`string2ll`): an optional `-`, digits,
/// no `+`, no spaces, no leading zeros, within `i64`.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    let mut v: i128 = 0;
    for &d in digits {
        v = v * 10 + (d - b'0') as i128;
    }
    if neg {
        v = -v;
    }
    i64::try_from(v).ok()
}

/// Split a typed line into arguments like redis' `sdssplitargs`: spaces separate,
/// `"..."` takes `\n \r \t \b \a \\ \" \xHH` escapes, `'...'` takes `\'`. `None` when a
/// quote is not closed, or a closing quote is not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut p = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    loop {
        while p < line.len() && at(p).is_ascii_whitespace() {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let (mut inq, mut insq, mut done) = (false, false, false);
        let mut cur = Vec::new();
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' && at(p + 2).is_ascii_hexdigit() && at(p + 3).is_ascii_hexdigit() {
                    let h = |b: u8| (b as char).to_digit(16).unwrap() as u8;
                    cur.push(h(at(p + 2)) * 16 + h(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && p + 1 < line.len() {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if p + 1 < line.len() && !at(p + 1).is_ascii_whitespace() {
                        return None;
                    }
                    done = true;
                } else if p >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if p + 1 < line.len() && !at(p + 1).is_ascii_whitespace() {
                        return None;
                    }
                    done = true;
                } else if p >= line.len() {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if p >= line.len() {
                done = true;
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if p < line.len() {
                p += 1;
            }
        }
        out.push(cur);
    }
}

// Reply encoding.

pub fn simple(out: &mut Vec<u8>, s: &str) {
    out.push(b'+');
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

/// `-<msg>\r\n`; `msg` starts with the error code (`ERR ...`). Line ends become spaces.
pub fn error(out: &mut Vec<u8>, msg: &str) {
    out.push(b'-');
    out.extend(msg.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

pub fn int(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    push_i64(out, n);
    out.extend_from_slice(b"\r\n");
}

pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    push_u64(out, b.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

pub fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    push_u64(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

/// Encode a command as a multibulk request.
pub fn command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    array(&mut out, args.len());
    for a in args {
        bulk(&mut out, a);
    }
    out
}

/// A reply, as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// Parse one reply at the front of `buf`: `Ok(None)` when incomplete, `Err` when malformed.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(eol) = find_crlf(buf) else {
        return Ok(None);
    };
    let line = &buf[1..eol];
    let next = eol + 2;
    let num = || parse_int(line).ok_or_else(|| format!("bad number in reply: {}", String::from_utf8_lossy(line)));
    match buf[0] {
        b'+' => Ok(Some((Reply::Status(line.to_vec()), next))),
        b'-' => Ok(Some((Reply::Error(line.to_vec()), next))),
        b':' => Ok(Some((Reply::Int(num()?), next))),
        b'$' => {
            let n = num()?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let n = n as usize;
            if buf.len() < next + n + 2 {
                return Ok(None);
            }
            Ok(Some((Reply::Bulk(Some(buf[next..next + n].to_vec())), next + n + 2)))
        }
        b'*' => {
            let n = num()?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            let mut items = Vec::with_capacity(n.min(1024) as usize);
            let mut pos = next;
            for _ in 0..n {
                match parse_reply(&buf[pos..])? {
                    None => return Ok(None),
                    Some((r, used)) => {
                        items.push(r);
                        pos += used;
                    }
                }
            }
            Ok(Some((Reply::Array(Some(items)), pos)))
        }
        c => Err(format!("Protocol error, got \"{}\" as reply type byte", (c as char).escape_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(buf: &[u8]) -> (Request, Vec<Vec<u8>>) {
        let (mut args, mut inline) = (Vec::new(), Vec::new());
        let r = parse_request(buf, &mut args, &mut inline);
        let src = match r {
            Request::Command { inline: true, .. } => &inline[..],
            _ => buf,
        };
        let a = Args::new(src, &args);
        let v = a.iter().map(|x| x.to_vec()).collect();
        (r, v)
    }

    fn v(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk() {
        let req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n*1\r\n";
        let (r, a) = cmd(req);
        assert_eq!(r, Request::Command { used: 31, inline: false });
        assert_eq!(a, v(&["SET", "k", "he\r\no"]));
        for cut in 1..31 {
            assert_eq!(cmd(&req[..cut]).0, Request::Need, "cut at {cut}");
        }
        assert_eq!(cmd(b"*0\r\n").0, Request::Empty { used: 4 });
        assert_eq!(cmd(b"*-1\r\n").0, Request::Empty { used: 5 });
        assert_eq!(cmd(b"*x\r\n").0, Request::Error("invalid multibulk length".into()));
        assert_eq!(cmd(b"*1\r\n:3\r\n").0, Request::Error("expected '$', got ':'".into()));
        assert_eq!(cmd(b"*1\r\n$-3\r\n").0, Request::Error("invalid bulk length".into()));
    }

    #[test]
    fn inline() {
        let (r, a) = cmd(b"PING\r\n");
        assert_eq!((r, a), (Request::Command { used: 6, inline: true }, v(&["PING"])));
        let (r, a) = cmd(b"set  k \"a b\\n\"\nGET");
        assert_eq!((r, a), (Request::Command { used: 15, inline: true }, v(&["set", "k", "a b\n"])));
        assert_eq!(cmd(b"\r\n").0, Request::Empty { used: 2 });
        assert_eq!(cmd(b"PIN").0, Request::Need);
        assert_eq!(cmd(b"set \"a\n").0, Request::Error("unbalanced quotes in request".into()));
    }

    #[test]
    fn splitting() {
        let s = |x: &str| split_args(x.as_bytes());
        assert_eq!(s("  a  b "), Some(v(&["a", "b"])));
        assert_eq!(s("\"\\x41\\tb\" 'it\\'s'"), Some(v(&["A\tb", "it's"])));
        assert_eq!(s("a\"b c\"d"), None);
        assert_eq!(s("a\"b c\" d"), Some(v(&["ab c", "d"])));
        assert_eq!(s("\"unterminated"), None);
        assert_eq!(s("'x"), None);
        assert_eq!(s(""), Some(vec![]));
        assert_eq!(s("\"\""), Some(v(&[""])));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-12"), Some(-12));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b"9223372036854775808"[..], b"+1", b" 1", b"01", b"-0", b"", b"-", b"1.5", b"1a"] {
            assert_eq!(parse_int(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn encoding_and_replies() {
        let mut o = Vec::new();
        ok(&mut o);
        error(&mut o, "ERR a\r\nb");
        int(&mut o, -3);
        bulk(&mut o, b"hi");
        null(&mut o);
        array(&mut o, 2);
        bulk(&mut o, b"a");
        int(&mut o, 1);
        assert_eq!(o, b"+OK\r\n-ERR a  b\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n");
        let mut pos = 0;
        let mut got = Vec::new();
        while let Some((r, n)) = parse_reply(&o[pos..]).unwrap() {
            got.push(r);
            pos += n;
        }
        assert_eq!(
            got,
            vec![
                Reply::Status(b"OK".to_vec()),
                Reply::Error(b"ERR a  b".to_vec()),
                Reply::Int(-3),
                Reply::Bulk(Some(b"hi".to_vec())),
                Reply::Bulk(None),
                Reply::Array(Some(vec![Reply::Bulk(Some(b"a".to_vec())), Reply::Int(1)])),
            ]
        );
        assert_eq!(parse_reply(b"*2\r\n$1\r\na\r\n").unwrap(), None);
        assert_eq!(command(&v(&["GET", "k"])), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
