//! HTTP/1.x: parsing a request from the front of a buffer (borrowed, no allocation),
//! response-building helpers, request-target decoding and log escaping.

/// Longest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Longest request body accepted (bodies are read and dropped: these servers take none).
pub const MAX_BODY: usize = 1 << 20;

/// One parsed request, borrowing the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The request line, as received (`GET / HTTP/1.1`).
    pub line: &'a str,
    pub method: &'a str,
    /// The request target as sent (`/a%20b?x=1`).
    pub target: &'a str,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: &'a str,
    /// The header lines as received (each ends with `\n`), without the request line.
    pub head: &'a [u8],
    pub content_length: usize,
    /// The body is chunked: it cannot be skipped, so the connection must close after this.
    pub chunked: bool,
    /// The client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// Bytes this request takes in the buffer (leading blank lines, head and body).
    pub len: usize,
}

/// What [`parse`] found at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Not a whole request yet.
    Partial,
    Request(Request<'a>),
    /// Malformed: answer `status` and close the connection. `line` is the request line when
    /// one was found (for the log).
    Bad {
        status: u16,
        line: &'a str,
    },
}

impl<'a> Request<'a> {
    /// `(name, value)` of each header, in order; values trimmed.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let head = self.head;
        head.split(|&b| b == b'\n').filter_map(|l| {
            let l = std::str::from_utf8(l).ok()?;
            let (k, v) = l.split_once(':')?;
            Some((k, v.trim_matches(|c| c == ' ' || c == '\t' || c == '\r')))
        })
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let n = name.len();
        // Only a line with `name:` at its start is decoded.
        let line = self
            .head
            .split(|&b| b == b'\n')
            .find(|l| l.len() > n && l[n] == b':' && l[..n].eq_ignore_ascii_case(name.as_bytes()))?;
        let v = std::str::from_utf8(&line[n + 1..]).ok()?;
        Some(v.trim_matches(|c| c == ' ' || c == '\t' || c == '\r'))
    }

    /// The header lines as received, one `Key: Value` string each (without line ends).
    pub fn header_lines(&self) -> impl Iterator<Item = &'a [u8]> {
        self.head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).filter(|l| !l.is_empty())
    }

    /// `HTTP/1.0`?
    pub fn is_http10(&self) -> bool {
        self.version == "HTTP/1.0"
    }
}

/// Find the end of the head: the index just past the blank line.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let i = from + i;
        match buf.get(i + 1) {
            Some(b'\n') => return Some(i + 2),
            Some(b'\r') if buf.get(i + 2) == Some(&b'\n') => return Some(i + 3),
            _ => {}
        }
        from = i + 1;
    }
    None
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parse one request at the front of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    // Blank lines before a request are ignored (RFC 9112 2.2).
    let skip = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    let b = &buf[skip..];
    let Some(end) = head_end(b) else {
        if b.len() > MAX_HEAD {
            return Parsed::Bad { status: 400, line: first_line(b) };
        }
        // A request line alone may already be known bad.
        return Parsed::Partial;
    };
    if end > MAX_HEAD {
        return Parsed::Bad { status: 400, line: first_line(b) };
    }
    let line_end = b.iter().position(|&c| c == b'\n').unwrap_or(0);
    let Ok(line) = std::str::from_utf8(&b[..line_end]) else {
        return Parsed::Bad { status: 400, line: "" };
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    let bad = |status| Parsed::Bad { status, line };
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return bad(400);
    };
    if !is_token(method) || target.bytes().any(|c| c <= b' ' || c == 0x7f) {
        return bad(400);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/1.") && v.len() == 8 && v.as_bytes()[7].is_ascii_digit() => false,
        v if v.starts_with("HTTP/") && v.len() == 8 => return bad(505),
        _ => return bad(400),
    };
    let head = &b[line_end + 1..end];
    let (mut content_length, mut chunked, mut close, mut keep) = (0usize, false, false, false);
    for l in head.split(|&c| c == b'\n') {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            continue;
        }
        let Some(colon) = l.iter().position(|&c| c == b':') else {
            return bad(400);
        };
        let (name, value) = (&l[..colon], trim(&l[colon + 1..]));
        if name.is_empty() || name.iter().any(|&c| c == b' ' || c == b'\t') {
            return bad(400);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            match std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|v| v.parse::<usize>().ok())
            {
                Some(n) => content_length = n,
                None => return bad(400),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for tok in value.split(|&c| c == b',') {
                let tok = trim(tok);
                close |= tok.eq_ignore_ascii_case(b"close");
                keep |= tok.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    if content_length > MAX_BODY {
        return bad(413);
    }
    let head_len = skip + end;
    let len = if chunked { head_len } else { head_len + content_length };
    if buf.len() < len {
        return Parsed::Partial;
    }
    let head = &buf[skip + line_end + 1..head_len];
    // `head` ends with the blank line: keep only the header lines.
    let head = &head[..head.len() - if head.ends_with(b"\r\n") { 2 } else { 1 }];
    Parsed::Request(Request {
        line,
        method,
        target,
        version,
        head,
        content_length,
        chunked,
        keep_alive: !chunked && !close && (!http10 || keep),
        len,
    })
}

fn first_line(b: &[u8]) -> &str {
    let end = b.iter().position(|&c| c == b'\n').unwrap_or(b.len()).min(1024);
    let l = std::str::from_utf8(&b[..end]).unwrap_or("");
    l.strip_suffix('\r').unwrap_or(l)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Append `HTTP/1.1 <status> <reason>\r\n`.
pub fn push_status(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(b"HTTP/1.1 ");
    crate::num::push_u64(out, status as u64);
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Append `name: value\r\n`.
pub fn push_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Append `name: <n>\r\n`.
pub fn push_header_num(out: &mut Vec<u8>, name: &str, n: u64) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    crate::num::push_u64(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Why a request target has no file path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Not an origin-form path, a bad `%` escape, a NUL or not UTF-8.
    Bad,
    /// `..` climbs above the root.
    Escapes,
}

/// The normalised path of a request target, into `out`: the query and fragment dropped,
/// `%XX` decoded, `.`/empty segments removed and `..` applied; always starts with `/`, and
/// keeps a final `/` (a directory was asked for). An absolute-form target
/// (`http://host/p`) is reduced to its path.
pub fn decode_path(target: &str, out: &mut String) -> Result<(), PathError> {
    out.clear();
    let mut t = target;
    if let Some(rest) = t.strip_prefix("http://").or_else(|| t.strip_prefix("https://")) {
        t = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    }
    let t = t.split(['?', '#']).next().unwrap_or("");
    if !t.starts_with('/') {
        return Err(PathError::Bad);
    }
    // The common case needs no decoding nor normalising: copy it.
    if !t.contains(['%', '\0']) && !t.contains("//") && !t.contains("/.") {
        out.push_str(t);
        return Ok(());
    }
    let raw = t.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let h = |c: u8| (c as char).to_digit(16);
            match (raw.get(i + 1).and_then(|&c| h(c)), raw.get(i + 2).and_then(|&c| h(c))) {
                (Some(a), Some(b)) => bytes.push((a * 16 + b) as u8),
                _ => return Err(PathError::Bad),
            }
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    if bytes.contains(&0) {
        return Err(PathError::Bad);
    }
    let decoded = String::from_utf8(bytes).map_err(|_| PathError::Bad)?;
    let dir = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    let mut segs: Vec<&str> = Vec::new();
    for s in decoded.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                if segs.pop().is_none() {
                    return Err(PathError::Escapes);
                }
            }
            s => segs.push(s),
        }
    }
    for s in &segs {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || dir {
        out.push('/');
    }
    Ok(())
}

/// Append `s` for a quoted log field the way nginx does: `"`, `\`, control and non-ASCII
/// bytes as `\xHH`.
pub fn push_log_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let plain = |c: u8| c != b'"' && c != b'\\' && (0x20..0x7f).contains(&c);
    if s.iter().all(|&c| plain(c)) {
        out.extend_from_slice(s);
        return;
    }
    for &c in s {
        if c == b'"' || c == b'\\' || c < 0x20 || c >= 0x7f {
            out.extend_from_slice(b"\\x");
            out.push(b"0123456789ABCDEF"[(c >> 4) as usize]);
            out.push(b"0123456789ABCDEF"[(c & 15) as usize]);
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request<'_> {
        match parse(s.as_bytes()) {
            Parsed::Request(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn simple_get() {
        let r = req("GET /index.html?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\nGET / HTTP/1.1\r\n");
        assert_eq!((r.method, r.target, r.version), ("GET", "/index.html?x=1", "HTTP/1.1"));
        assert_eq!(r.line, "GET /index.html?x=1 HTTP/1.1");
        assert_eq!(r.header("user-agent"), Some("curl/7.88.1"));
        assert_eq!(r.header("Referer"), None);
        assert!(r.keep_alive);
        assert_eq!(r.len, 92);
        let lines: Vec<&[u8]> = r.header_lines().collect();
        assert_eq!(lines, vec![&b"Host: localhost:8080"[..], b"User-Agent: curl/7.88.1", b"Accept: */*"]);
    }

    #[test]
    fn partial_and_body() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Parsed::Partial);
        assert_eq!(parse(b""), Parsed::Partial);
        assert_eq!(parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"), Parsed::Partial);
        let r = req("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcdeGET");
        assert_eq!((r.len, r.content_length), (43, 5));
    }

    #[test]
    fn keep_alive_rules() {
        assert!(!req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!req("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(!req("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
        let r = req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello");
        assert!(r.chunked && !r.keep_alive);
    }

    #[test]
    fn bare_newlines_and_leading_blank_lines() {
        let r = req("\r\n\nGET /a HTTP/1.1\nHost: h\n\n");
        assert_eq!((r.target, r.header("host"), r.len), ("/a", Some("h"), 28));
        assert_eq!(r.header_lines().count(), 1);
    }

    #[test]
    fn malformed() {
        let bad = |s: &str| match parse(s.as_bytes()) {
            Parsed::Bad { status, .. } => status,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad("GET /\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(bad("GET / FOO\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(bad("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"), 413);
        let huge = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(bad(&huge), 400);
        match parse(b"GET / HTTP/2.0\r\n\r\n") {
            Parsed::Bad { line, .. } => assert_eq!(line, "GET / HTTP/2.0"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn responses() {
        let mut v = Vec::new();
        push_status(&mut v, 404);
        push_header(&mut v, "Server", b"nginx/1.23.1");
        push_header_num(&mut v, "Content-Length", 153);
        assert_eq!(v, b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.23.1\r\nContent-Length: 153\r\n");
    }

    #[test]
    fn paths() {
        let p = |t: &str| {
            let mut s = String::new();
            decode_path(t, &mut s).map(|_| s)
        };
        assert_eq!(p("/").unwrap(), "/");
        assert_eq!(p("/index.html?x=/../..").unwrap(), "/index.html");
        assert_eq!(p("/a%20b/c.txt").unwrap(), "/a b/c.txt");
        assert_eq!(p("//a/./b/../c/").unwrap(), "/a/c/");
        assert_eq!(p("/a/..").unwrap(), "/");
        assert_eq!(p("/a/b/..").unwrap(), "/a/");
        assert_eq!(p("http://host:80/x").unwrap(), "/x");
        assert_eq!(p("/%2e%2e/etc/passwd"), Err(PathError::Escapes));
        assert_eq!(p("/../x"), Err(PathError::Escapes));
        assert_eq!(p("/a/../../x"), Err(PathError::Escapes));
        assert_eq!(p("/a%2"), Err(PathError::Bad));
        assert_eq!(p("/a%00"), Err(PathError::Bad));
        assert_eq!(p("/%ff"), Err(PathError::Bad));
        assert_eq!(p("*"), Err(PathError::Bad));
        assert_eq!(p("/caf%C3%A9").unwrap(), "/café");
    }

    #[test]
    fn log_escaping() {
        let mut v = Vec::new();
        push_log_escaped(&mut v, b"a\"b\\c\x01\xff");
        assert_eq!(v, b"a\\x22b\\x5Cc\\x01\\xFF");
    }
}
