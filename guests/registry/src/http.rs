//! HTTP/1.1 for a server that takes big request bodies: the request head alone is parsed
//! (`serve::http::parse` wants the whole request in the buffer, and caps bodies at 1 MB);
//! the body is then framed by [`Body`] (`Content-Length` or `Transfer-Encoding: chunked`)
//! as it arrives.

/// Longest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed request head (owned: the body that follows may take many reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target as sent (`/v2/x/blobs/uploads/?digest=sha256%3A…`).
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    /// `Content-Length` (0 when absent and not chunked).
    pub content_length: u64,
    pub chunked: bool,
    /// The client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a `100 Continue` before the body.
    pub expect_continue: bool,
    /// Bytes the head took in the buffer.
    pub len: usize,
}

/// What [`parse_head`] found at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Partial,
    Head(Head),
    /// Malformed: answer this status and close.
    Bad(u16),
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every header called `name`.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether a body follows the head.
    pub fn has_body(&self) -> bool {
        self.chunked || self.content_length > 0
    }

    /// The framing of the body that follows.
    pub fn body(&self) -> Body {
        if self.chunked {
            Body::chunked()
        } else {
            Body::length(self.content_length)
        }
    }
}

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

/// Parse the request head at the front of `buf`.
pub fn parse_head(buf: &[u8]) -> Parsed {
    // Blank lines before a request are ignored (RFC 9112 2.2).
    let skip = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    let b = &buf[skip..];
    // A request starts with a method (a token) and a space: anything else, such as the TLS
    // handshake of a client that tries https first, is refused at once, not waited on.
    let method_len = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    if method_len > 32 || !b[..method_len].iter().all(|&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
    {
        return Parsed::Bad(400);
    }
    let Some(end) = head_end(b) else {
        return if b.len() > MAX_HEAD { Parsed::Bad(431) } else { Parsed::Partial };
    };
    if end > MAX_HEAD {
        return Parsed::Bad(431);
    }
    let Ok(text) = std::str::from_utf8(&b[..end]) else { return Parsed::Bad(400) };
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Bad(400);
    };
    if !is_token(method) || target.bytes().any(|c| c <= b' ' || c == 0x7f) {
        return Parsed::Bad(400);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/1.") && v.len() == 8 => false,
        v if v.starts_with("HTTP/") && v.len() == 8 => return Parsed::Bad(505),
        _ => return Parsed::Bad(400),
    };
    let mut h = Head {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers: Vec::new(),
        content_length: 0,
        chunked: false,
        keep_alive: !http10,
        expect_continue: false,
        len: skip + end,
    };
    let mut length_seen = false;
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let Some((name, value)) = l.split_once(':') else { return Parsed::Bad(400) };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Parsed::Bad(400);
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<u64>() {
                Ok(n) if value.bytes().all(|c| c.is_ascii_digit()) && (!length_seen || n == h.content_length) => {
                    h.content_length = n
                }
                _ => return Parsed::Bad(400),
            }
            length_seen = true;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Only `chunked` (last) frames a body; anything else cannot be read.
            if value.rsplit(',').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked")) {
                h.chunked = true;
            } else {
                return Parsed::Bad(501);
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for tok in value.split(',').map(str::trim) {
                if tok.eq_ignore_ascii_case("close") {
                    h.keep_alive = false;
                } else if tok.eq_ignore_ascii_case("keep-alive") && http10 {
                    h.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") && value.eq_ignore_ascii_case("100-continue") && !http10 {
            h.expect_continue = true;
        }
        h.headers.push((name.to_string(), value.to_string()));
    }
    if h.chunked {
        h.content_length = 0;
    }
    Parsed::Head(h)
}

/// The framing of a request body, fed as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `Content-Length`: this many bytes are still to come.
    Length(u64),
    Chunked(Chunked),
}

/// A bad chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadChunk;

impl Body {
    pub fn length(n: u64) -> Body {
        Body::Length(n)
    }

    pub fn chunked() -> Body {
        Body::Chunked(Chunked::default())
    }

    /// Take what belongs to the body from the front of `input`, handing the payload to
    /// `data` (in pieces); returns the bytes used and whether the body is complete.
    pub fn feed(&mut self, input: &[u8], data: &mut dyn FnMut(&[u8])) -> Result<(usize, bool), BadChunk> {
        match self {
            Body::Length(left) => {
                let n = (*left).min(input.len() as u64) as usize;
                if n > 0 {
                    data(&input[..n]);
                }
                *left -= n as u64;
                Ok((n, *left == 0))
            }
            Body::Chunked(c) => c.feed(input, data),
        }
    }

    /// Whether nothing is left to read.
    #[cfg(test)]
    pub fn done(&self) -> bool {
        match self {
            Body::Length(n) => *n == 0,
            Body::Chunked(c) => c.state == ChunkState::Done,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ChunkState {
    /// Reading a `size[;ext]` line.
    #[default]
    Size,
    /// Reading chunk data: `left` bytes to go.
    Data,
    /// Reading the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines, up to an empty one.
    Trailer,
    Done,
}

/// `Transfer-Encoding: chunked`, decoded incrementally (a line may be split across reads).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunked {
    state: ChunkState,
    left: u64,
    /// The part of a line received so far.
    line: Vec<u8>,
}

const MAX_CHUNK_LINE: usize = 4096;

impl Chunked {
    fn feed(&mut self, input: &[u8], data: &mut dyn FnMut(&[u8])) -> Result<(usize, bool), BadChunk> {
        let mut i = 0;
        while i < input.len() && self.state != ChunkState::Done {
            match self.state {
                ChunkState::Data => {
                    let n = self.left.min((input.len() - i) as u64) as usize;
                    data(&input[i..i + n]);
                    i += n;
                    self.left -= n as u64;
                    if self.left == 0 {
                        self.state = ChunkState::DataEnd;
                    }
                }
                _ => {
                    // A line: up to `\n`.
                    let rest = &input[i..];
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        self.line.extend_from_slice(rest);
                        if self.line.len() > MAX_CHUNK_LINE {
                            return Err(BadChunk);
                        }
                        i = input.len();
                        break;
                    };
                    self.line.extend_from_slice(&rest[..nl]);
                    i += nl + 1;
                    if self.line.len() > MAX_CHUNK_LINE {
                        return Err(BadChunk);
                    }
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    match self.state {
                        ChunkState::Size => {
                            let size = line.split(|&b| b == b';').next().unwrap_or(b"");
                            let size = std::str::from_utf8(size).map_err(|_| BadChunk)?.trim_matches([' ', '\t']);
                            if size.is_empty() || size.len() > 15 {
                                return Err(BadChunk);
                            }
                            self.left = u64::from_str_radix(size, 16).map_err(|_| BadChunk)?;
                            self.state = if self.left == 0 { ChunkState::Trailer } else { ChunkState::Data };
                        }
                        ChunkState::DataEnd => {
                            if !line.is_empty() {
                                return Err(BadChunk);
                            }
                            self.state = ChunkState::Size;
                        }
                        ChunkState::Trailer => {
                            if line.is_empty() {
                                self.state = ChunkState::Done;
                            }
                        }
                        ChunkState::Data | ChunkState::Done => unreachable!(),
                    }
                }
            }
        }
        Ok((i, self.state == ChunkState::Done))
    }
}

/// The reason phrase of `status` (Go's `http.StatusText`).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// `%XX`-decode `s` (and `+` as a space when `plus`); `None` for a bad escape or bad UTF-8.
pub fn unescape(s: &str, plus: bool) -> Option<String> {
    if !s.contains(['%', '+']) {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
                let (Some(x), Some(y)) = (h(b.get(i + 1)), h(b.get(i + 2))) else { return None };
                out.push((x * 16 + y) as u8);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Escape `s` for a query value as Go's `url.QueryEscape` does.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// A request target split into its decoded path and query parameters. An absolute-form
/// target (`http://host/p`) is reduced to its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Target {
    pub fn parse(target: &str) -> Option<Target> {
        let mut t = target;
        if let Some(rest) = t.strip_prefix("http://").or_else(|| t.strip_prefix("https://")) {
            t = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        }
        let t = t.split('#').next().unwrap_or("");
        let (path, query) = t.split_once('?').unwrap_or((t, ""));
        if !path.starts_with('/') {
            return None;
        }
        let path = unescape(path, false)?;
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                Some((unescape(k, true)?, unescape(v, true)?))
            })
            .collect();
        Some(Target { path, query })
    }

    /// The first value of query parameter `name` ("" when absent, as Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Head {
        match parse_head(s.as_bytes()) {
            Parsed::Head(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn heads() {
        let wire = "PATCH /v2/a/blobs/uploads/x?_state=y HTTP/1.1\r\nHost: localhost:5000\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello";
        let h = head(wire);
        assert_eq!((h.method.as_str(), h.target.as_str()), ("PATCH", "/v2/a/blobs/uploads/x?_state=y"));
        assert!(h.chunked && h.expect_continue && h.keep_alive && h.has_body());
        assert_eq!(h.header("host"), Some("localhost:5000"));
        assert_eq!(h.len, wire.len() - "5\r\nhello".len());
        let h = head("PUT /x HTTP/1.0\r\nContent-Length: 3000000000\r\n\r\n");
        assert_eq!(h.content_length, 3_000_000_000);
        assert!(!h.keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), Parsed::Partial);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), Parsed::Bad(400));
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), Parsed::Bad(400));
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), Parsed::Bad(501));
        assert_eq!(parse_head(b"GET / HTTP/2.0\r\n\r\n"), Parsed::Bad(505));
        assert_eq!(parse_head(b"GET /\r\n\r\n"), Parsed::Bad(400));
        // A TLS ClientHello is refused before its end (it may hold no newline at all).
        assert_eq!(parse_head(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), Parsed::Bad(400));
        assert_eq!(parse_head(b"GE"), Parsed::Partial);
        let accept = head("GET / HTTP/1.1\r\nAccept: a\r\nAccept: b, c\r\n\r\n");
        assert_eq!(accept.headers_named("accept").collect::<Vec<_>>(), ["a", "b, c"]);
    }

    fn feed_all(body: &mut Body, pieces: &[&[u8]]) -> (Vec<u8>, usize, bool) {
        let mut got = Vec::new();
        let (mut used, mut done) = (0, false);
        for p in pieces {
            let (n, d) = body.feed(p, &mut |d| got.extend_from_slice(d)).unwrap();
            used += n;
            done = d;
            if d {
                break;
            }
        }
        (got, used, done)
    }

    #[test]
    fn chunked_bodies_split_anywhere() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for cut1 in 0..wire.len() {
            for cut2 in cut1..wire.len() {
                let mut b = Body::chunked();
                let (got, used, done) = feed_all(&mut b, &[&wire[..cut1], &wire[cut1..cut2], &wire[cut2..]]);
                assert_eq!(got, b"hello world", "{cut1} {cut2}");
                assert!(done && b.done());
                assert_eq!(used, wire.len() - 4);
            }
        }
        let mut b = Body::chunked();
        assert_eq!(b.feed(b"zz\r\n", &mut |_| {}), Err(BadChunk));
        let mut b = Body::chunked();
        assert_eq!(b.feed(b"1\r\nab\r\n", &mut |_| {}), Err(BadChunk));
    }

    #[test]
    fn length_bodies() {
        let mut b = Body::length(4);
        let (got, used, done) = feed_all(&mut b, &[b"ab", b"cdEF"]);
        assert_eq!((got.as_slice(), used, done), (&b"abcd"[..], 4, true));
    }

    #[test]
    fn targets() {
        let t = Target::parse("/v2/a/blobs/uploads/u?_state=ab%3D%3D&digest=sha256%3Aff&x").unwrap();
        assert_eq!(t.path, "/v2/a/blobs/uploads/u");
        assert_eq!((t.get("_state"), t.get("digest"), t.get("nope")), ("ab==", "sha256:ff", ""));
        assert!(t.has("x"));
        assert_eq!(Target::parse("http://h:5000/v2/?n=1").unwrap().path, "/v2/");
        assert_eq!(Target::parse("*"), None);
        assert_eq!(query_escape("ab==/+ x"), "ab%3D%3D%2F%2B+x");
    }
}
