//! HTTP/1.1 messages: the request bytes, the response head, and the body by its framing.

use std::io::{self, BufRead, Read};

/// An HTTP/1.1 request: request line, `headers` in order, a blank line, `body`.
pub(super) fn request(method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// A response head: the status line and the header lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Head {
    /// The bytes as received, up to and including the blank line (curl -i prints them).
    pub(super) raw: Vec<u8>,
    /// Each line without its line end; the blank line is not one of them.
    pub(super) lines: Vec<String>,
    /// The status code, 0 when the first line is not `HTTP/x.y NNN …`.
    pub(super) code: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn status_line(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// The value of header `name` (any case), trailing blanks trimmed.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The status code of `HTTP/1.1 200 OK` (0 for anything else).
fn status_code(line: &str) -> u16 {
    if !line.starts_with("HTTP/") {
        return 0;
    }
    line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Split `Name: value` (None without a colon).
pub(super) fn header_line(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim().to_string(), v.trim().to_string()))
}

/// One line without its `\r\n`; None at end of input.
fn read_line(r: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<Option<String>> {
    let start = raw.len();
    let n = r.take(64 * 1024).read_until(b'\n', raw)?;
    if n == 0 {
        return Ok(None);
    }
    let s = String::from_utf8_lossy(&raw[start..]);
    Ok(Some(s.trim_end_matches(['\r', '\n']).to_string()))
}

/// Read a response head up to its blank line. `Ok(None)`: the peer closed before sending a
/// byte; a first line that is not `HTTP/…` comes back alone with code 0 (HTTP/0.9).
pub(super) fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut h = Head::default();
    while let Some(line) = read_line(r, &mut h.raw)? {
        if h.lines.is_empty() {
            h.code = status_code(&line);
            let http = line.starts_with("HTTP/");
            h.lines.push(line);
            if !http {
                return Ok(Some(h));
            }
            continue;
        }
        if line.is_empty() {
            return Ok(Some(h));
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = h.headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some(kv) = header_line(&line) {
            h.headers.push(kv);
        }
        h.lines.push(line);
        if h.raw.len() > 1 << 20 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "header too long"));
        }
    }
    if h.raw.is_empty() {
        Ok(None)
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    ToEof,
}

/// The framing of the body after `h` (`head_request`: the request was HEAD).
/// `Err(value)` for a Content-Length that is not a number.
pub(super) fn framing(h: &Head, head_request: bool) -> Result<Framing, String> {
    if head_request || h.code == 204 || h.code == 304 || (100..200).contains(&h.code) {
        return Ok(Framing::Empty);
    }
    if h.get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return Ok(Framing::Chunked);
    }
    match h.get("content-length") {
        Some(v) => v.parse::<u64>().map(Framing::Length).map_err(|_| v.to_string()),
        None => Ok(Framing::ToEof),
    }
}

/// The size at the start of a chunk-size line: `1a3;ext=1` is 0x1a3.
fn chunk_size(line: &str) -> Option<u64> {
    let hex = line.split(';').next()?.trim();
    u64::from_str_radix(hex, 16).ok()
}

/// A response body: reads give the payload, with chunked encoding undone.
pub(super) struct Body<R> {
    r: R,
    framing: Framing,
    /// Bytes left of the Content-Length body or of the current chunk.
    left: u64,
    done: bool,
}

impl<R: BufRead> Body<R> {
    pub(super) fn new(r: R, framing: Framing) -> Self {
        let left = if let Framing::Length(n) = framing { n } else { 0 };
        let done = framing == Framing::Empty || framing == Framing::Length(0);
        Body { r, framing, left, done }
    }

    /// Bytes still owed by a Content-Length body (non-zero after a premature close).
    pub(super) fn missing(&self) -> u64 {
        if let Framing::Length(_) = self.framing {
            self.left
        } else {
            0
        }
    }

    /// Read the next chunk-size line (and the trailers after the last chunk).
    fn next_chunk(&mut self) -> io::Result<()> {
        let mut raw = Vec::new();
        let line = read_line(&mut self.r, &mut raw)?.ok_or(io::ErrorKind::UnexpectedEof)?;
        let n = chunk_size(&line)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk length '{line}'")))?;
        if n > 0 {
            self.left = n;
            return Ok(());
        }
        while let Some(t) = read_line(&mut self.r, &mut raw)? {
            if t.is_empty() {
                break;
            }
        }
        self.done = true;
        Ok(())
    }

    fn read_chunked(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            self.next_chunk()?;
            if self.done {
                return Ok(0);
            }
        }
        let want = (buf.len() as u64).min(self.left) as usize;
        let n = self.r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        if self.left == 0 {
            read_line(&mut self.r, &mut Vec::new())?;
        }
        Ok(n)
    }
}

impl<R: BufRead> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        match self.framing {
            Framing::Empty => Ok(0),
            Framing::Chunked => self.read_chunked(buf),
            Framing::ToEof => self.r.read(buf),
            Framing::Length(_) => {
                let want = (buf.len() as u64).min(self.left) as usize;
                let n = self.r.read(&mut buf[..want])?;
                self.left -= n as u64;
                self.done = self.left == 0;
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn heads() {
        let mut r = Cursor::new(
            &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: a\r\n  b\r\n\r\nhello"[..],
        );
        let h = read_head(&mut r).unwrap().unwrap();
        assert_eq!(h.code, 100);
        let h = read_head(&mut r).unwrap().unwrap();
        assert_eq!((h.code, h.status_line()), (200, "HTTP/1.1 200 OK"));
        assert_eq!(h.get("content-length"), Some("5"));
        assert_eq!(h.get("x-long"), Some("a b"));
        assert!(h.raw.ends_with(b"\r\n\r\n"));
        assert_eq!(framing(&h, false), Ok(Framing::Length(5)));
        assert_eq!(framing(&h, true), Ok(Framing::Empty));
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "hello");
        // No reply at all, HTTP/0.9, a cut-off head.
        assert_eq!(read_head(&mut Cursor::new(&b""[..])).unwrap(), None);
        let h = read_head(&mut Cursor::new(&b"hi\n"[..])).unwrap().unwrap();
        assert_eq!((h.code, h.lines.len()), (0, 1));
        let e = read_head(&mut Cursor::new(&b"HTTP/1.0 200 OK\r\nA: b\r\n"[..])).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(status_code("HTTP/1.0 404 Not Found"), 404);
        assert_eq!(status_code("SSH-2.0"), 0);
    }

    #[test]
    fn framings() {
        let head = |t: &str| read_head(&mut Cursor::new(t.as_bytes())).unwrap().unwrap();
        assert_eq!(
            framing(&head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), false),
            Ok(Framing::Chunked)
        );
        assert_eq!(framing(&head("HTTP/1.1 200 OK\r\n\r\n"), false), Ok(Framing::ToEof));
        assert_eq!(framing(&head("HTTP/1.1 204 No Content\r\n\r\n"), false), Ok(Framing::Empty));
        assert_eq!(framing(&head("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), false), Err("x".into()));
    }

    fn body(data: &[u8], fr: Framing) -> (io::Result<Vec<u8>>, u64) {
        let mut b = Body::new(Cursor::new(data), fr);
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            match b.read(&mut buf) {
                Ok(0) => return (Ok(out), b.missing()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (Err(e), b.missing()),
            }
        }
    }

    #[test]
    fn bodies() {
        let (r, _) = body(
            b"5\r\nhello\r\n9;ext=1
, world!!
0\r\nTrailer: x\r\n\r\nGARBAGE",
            Framing::Chunked,
        );
        assert_eq!(r.unwrap(), b"hello, world!!");
        let (r, _) = body(b"5\r\nhel", Framing::Chunked);
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        let (r, _) = body(b"zz\r\n", Framing::Chunked);
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let (r, missing) = body(b"hello world", Framing::Length(5));
        assert_eq!((r.unwrap(), missing), (b"hello".to_vec(), 0));
        let (r, missing) = body(b"hel", Framing::Length(5));
        assert_eq!((r.unwrap(), missing), (b"hel".to_vec(), 2));
        assert_eq!(body(b"all of it", Framing::ToEof).0.unwrap(), b"all of it");
        assert_eq!(body(b"ignored", Framing::Empty).0.unwrap(), b"");
        assert_eq!(chunk_size("1A3 ; x"), Some(0x1a3));
    }
}
