//! Network clients: wget, curl, nc, ping, nslookup, ip (and `hostname -i` in basic.rs).
//!
//! WASI preview 1 has no sockets of its own: `skiff_guest::net` resolves, connects, listens
//! and "pings" through the host (docs/guest-abi.md, "Network"). Output and error texts follow
//! busybox 1.36 (curl follows curl 8). The pure parts (URLs, HTTP heads and bodies, progress
//! and statistics lines, `ip` output) are separate from the I/O so they unit-test natively.

use crate::err;
use crate::util::{self, errstr, getopt, getopt_long, Opts};
use skiff_guest::net::{self as snet, Interface, PollFd, POLLERR, POLLHUP, POLLIN};
use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// wasi-libc's `POLLNVAL`: the fd cannot be polled.
const POLLNVAL: i16 = 0x4000;
const BUF: usize = 32 * 1024;

// ----------------------------------------------------------------------------------------
// Shared: errors, name lookup, timed reads

/// The glibc wording of a network error, as busybox and curl images print it.
pub fn net_errstr(e: &io::Error) -> String {
    #[cfg(target_os = "wasi")]
    {
        use snet::errno::*;
        let s = match e.raw_os_error() {
            Some(ECONNREFUSED) => "Connection refused",
            Some(ENETUNREACH) => "Network is unreachable",
            Some(EHOSTUNREACH) => "No route to host",
            Some(ETIMEDOUT) => "Connection timed out",
            Some(EADDRINUSE) => "Address already in use",
            _ => "",
        };
        if !s.is_empty() {
            return s.into();
        }
    }
    use io::ErrorKind::*;
    let s = match e.kind() {
        ConnectionRefused => "Connection refused",
        NetworkUnreachable => "Network is unreachable",
        HostUnreachable => "No route to host",
        TimedOut => "Connection timed out",
        AddrInUse => "Address already in use",
        ConnectionReset => "Connection reset by peer",
        _ => return errstr(e),
    };
    s.into()
}

/// Whether `e` is `ENETUNREACH` (ping stops at once on it).
fn is_net_unreachable(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NetworkUnreachable
        || (cfg!(target_os = "wasi") && e.raw_os_error() == Some(snet::errno::ENETUNREACH))
}

/// The first address of `host` as this container sees it (None: `bad address`).
fn lookup(host: &str) -> Option<Ipv4Addr> {
    snet::resolve(host).ok()?.first().copied()
}

/// Wait until `fd` is readable, at most `t`; true when it is (or when poll is unsupported).
fn readable(fd: i32, t: Duration) -> io::Result<bool> {
    let mut p = [PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    }];
    let ms = t.as_millis().min(i32::MAX as u128) as i32;
    match snet::poll(&mut p, ms) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(true),
        Err(e) => Err(e),
    }
}

/// A connection whose reads fail with `TimedOut` after `idle` without data or at `deadline`.
pub struct Conn {
    s: TcpStream,
    idle: Option<Duration>,
    deadline: Option<Instant>,
}

impl Conn {
    fn wait(&self) -> io::Result<()> {
        let mut left = self.idle;
        if let Some(d) = self.deadline {
            let rest = d.saturating_duration_since(Instant::now());
            left = Some(left.map_or(rest, |l| l.min(rest)));
        }
        match left {
            Some(t) if !readable(self.s.as_raw_fd(), t)? => Err(io::ErrorKind::TimedOut.into()),
            _ => Ok(()),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait()?;
        self.s.read(buf)
    }
}

/// A number of seconds (`1`, `0.5`) as a duration.
fn secs_arg(s: &str) -> Option<Duration> {
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v))
}

/// Open `path` for a download: `-` and `/dev/null` are special; `excl` refuses to overwrite.
fn open_output(path: &str, excl: bool) -> io::Result<Box<dyn Write>> {
    match path {
        "-" => Ok(Box::new(util::out())),
        "/dev/null" => Ok(Box::new(io::sink())),
        _ => {
            let mut o = OpenOptions::new();
            o.write(true);
            if excl {
                o.create_new(true);
            } else {
                o.create(true).truncate(true);
            }
            Ok(Box::new(io::BufWriter::new(o.open(path)?)))
        }
    }
}

// ----------------------------------------------------------------------------------------
// URLs

/// An `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `host[:port]` as written: wget prints it and sends it as `Host`.
    pub authority: String,
    pub host: String,
    pub port: u16,
    /// Whether the URL spelled out a port.
    pub explicit_port: bool,
    /// `/path?query` (at least `/`), without any `#fragment`.
    pub path: String,
    /// `user:password` (percent-decoded) from `user:password@host`.
    pub user: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum UrlError {
    /// Another scheme than http (`https`, `ftp`, …), lower-cased.
    Scheme(String),
    /// No host, or a bad port.
    Malformed,
}

/// The scheme of `s` when it starts with `scheme://`.
fn scheme_of(s: &str) -> Option<(&str, &str)> {
    let i = s.find("://")?;
    let sc = &s[..i];
    let ok = !sc.is_empty()
        && sc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then(|| (sc, &s[i + 3..]))
}

/// Parse `[http://][user:pass@]host[:port][/path][?query][#fragment]`.
pub fn parse_url(s: &str) -> Result<Url, UrlError> {
    let rest = match scheme_of(s) {
        Some((sc, rest)) if sc.eq_ignore_ascii_case("http") => rest,
        Some((sc, _)) => return Err(UrlError::Scheme(sc.to_ascii_lowercase())),
        None => s,
    };
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, path) = rest.split_at(end);
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let (user, auth) = match auth.rfind('@') {
        Some(i) => (Some(percent_decode(&auth[..i])), &auth[i + 1..]),
        None => (None, auth),
    };
    let (host, port) = match auth.rsplit_once(':') {
        Some((h, "")) => (h, None),
        Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| UrlError::Malformed)?)),
        None => (auth, None),
    };
    if host.is_empty() || host.contains(['/', ' ']) {
        return Err(UrlError::Malformed);
    }
    Ok(Url {
        authority: auth.to_string(),
        host: host.to_string(),
        port: port.unwrap_or(80),
        explicit_port: port.is_some(),
        path,
        user,
    })
}

impl Url {
    /// The URL a `Location:` value points to, relative to this one.
    pub fn join(&self, loc: &str) -> Result<Url, UrlError> {
        if scheme_of(loc).is_some() {
            return parse_url(loc);
        }
        if let Some(r) = loc.strip_prefix("//") {
            return parse_url(r);
        }
        let loc = loc.split('#').next().unwrap_or("");
        let path = if loc.starts_with('/') {
            loc.to_string()
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            format!("{}{loc}", &base[..base.rfind('/').map_or(0, |i| i + 1)])
        };
        Ok(Url {
            path,
            ..self.clone()
        })
    }

    /// The name wget saves to: the last path component (query included), or `index.html`.
    pub fn file_name(&self) -> String {
        let p = &self.path[1..];
        let last = &p[p.rfind('/').map_or(0, |i| i + 1)..];
        let last = last.strip_prefix('?').unwrap_or(last);
        if last.is_empty() {
            "index.html".into()
        } else {
            last.into()
        }
    }

    /// `http://host[:port]/path`, as curl's `%{url_effective}` shows it.
    pub fn to_text(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Decode `%XX` escapes.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard padded base64 (for `Authorization: Basic`).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            s.push(if i <= c.len() {
                T[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    s
}

// ----------------------------------------------------------------------------------------
// HTTP messages

/// An HTTP/1.1 request: request line, `headers` in order, a blank line, `body`.
pub fn request(method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
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
pub struct Head {
    /// The bytes as received, up to and including the blank line (curl -i prints them).
    pub raw: Vec<u8>,
    /// Each line without its line end; the blank line is not one of them.
    pub lines: Vec<String>,
    /// The status code, 0 when the first line is not `HTTP/x.y NNN …`.
    pub code: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn status_line(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// The value of header `name` (any case), trailing blanks trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The status code of `HTTP/1.1 200 OK` (0 for anything else).
pub fn status_code(line: &str) -> u16 {
    if !line.starts_with("HTTP/") {
        return 0;
    }
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Split `Name: value` (None without a colon).
pub fn header_line(line: &str) -> Option<(String, String)> {
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
pub fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
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
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "header too long",
            ));
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
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    ToEof,
}

/// The framing of the body after `h` (`head_request`: the request was HEAD).
/// `Err(value)` for a Content-Length that is not a number.
pub fn framing(h: &Head, head_request: bool) -> Result<Framing, String> {
    if head_request || h.code == 204 || h.code == 304 || (100..200).contains(&h.code) {
        return Ok(Framing::Empty);
    }
    if h.get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Ok(Framing::Chunked);
    }
    match h.get("content-length") {
        Some(v) => v
            .parse::<u64>()
            .map(Framing::Length)
            .map_err(|_| v.to_string()),
        None => Ok(Framing::ToEof),
    }
}

/// The size at the start of a chunk-size line: `1a3;ext=1` is 0x1a3.
pub fn chunk_size(line: &str) -> Option<u64> {
    let hex = line.split(';').next()?.trim();
    u64::from_str_radix(hex, 16).ok()
}

/// A response body: reads give the payload, with chunked encoding undone.
pub struct Body<R> {
    r: R,
    framing: Framing,
    /// Bytes left of the Content-Length body or of the current chunk.
    left: u64,
    done: bool,
}

impl<R: BufRead> Body<R> {
    pub fn new(r: R, framing: Framing) -> Self {
        let left = if let Framing::Length(n) = framing {
            n
        } else {
            0
        };
        let done = framing == Framing::Empty || framing == Framing::Length(0);
        Body {
            r,
            framing,
            left,
            done,
        }
    }

    /// Bytes still owed by a Content-Length body (non-zero after a premature close).
    pub fn missing(&self) -> u64 {
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
        let n = chunk_size(&line).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk length '{line}'"),
            )
        })?;
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

// ----------------------------------------------------------------------------------------
// wget

const W_SPIDER: char = '\u{e000}';
const W_HEADER: char = '\u{e001}';
const W_POST: char = '\u{e002}';
const W_IGNORED: char = '\u{e003}';

/// busybox's `smart_ulltoa5`: a size in 5 columns, scaled with `kMGT…` above 99999.
pub fn smart5(n: u64) -> String {
    if n <= 99999 {
        return format!("{n:5}");
    }
    let mut v = n as u128 * 10;
    let mut idx = 0;
    loop {
        v /= 1024;
        idx += 1;
        if v < 100000 {
            break;
        }
    }
    let unit = b" kMGTPEZY"[idx.min(8)] as char;
    let (u, tenth) = (v / 10, v % 10);
    if u >= 100 {
        format!("{u:4}{unit}")
    } else {
        format!("{u:2}.{tenth}{unit}")
    }
}

/// busybox's progress meter (libbb/progress.c): at most a line a second, and the last one.
pub struct Meter {
    name: String,
    start: u64,
    last_update: u64,
    last_change: u64,
    last_size: u64,
    tty: bool,
    width: usize,
}

impl Meter {
    pub fn new(name: &str, now: u64, tty: bool, width: usize) -> Self {
        Meter {
            name: name.to_string(),
            start: now,
            last_update: now,
            last_change: now,
            last_size: 0,
            tty,
            width,
        }
    }

    /// The text to print at second `now` with `got` of `total` (0: unknown) bytes, if due.
    pub fn update(&mut self, now: u64, got: u64, total: u64) -> Option<String> {
        let since = now.saturating_sub(self.last_update);
        self.last_update = now;
        let got = if total != 0 && got >= total {
            total
        } else if since == 0 {
            return None;
        } else {
            got
        };
        let mut s = if self.tty {
            "\r".to_string()
        } else {
            String::new()
        };
        s.push_str(&format!("{:<20.20} ", self.name));
        if total != 0 {
            s.push_str(&self.bar(got, total));
        }
        s.push_str(&smart5(got));
        s.push_str(&self.eta(now, got, total));
        if !self.tty {
            s.push('\n');
        }
        Some(s)
    }

    /// ` 42% |*****     | ` for a known size.
    fn bar(&self, got: u64, total: u64) -> String {
        let ratio = 100 * got as u128 / total as u128;
        let mut s = format!("{ratio:3}% ");
        let len = self.width as i64 - 48;
        if len > 2 {
            let len = len.min(999) as usize;
            let stars = (len as u128 * got as u128 / total as u128) as usize;
            s.push_str(&format!(
                "|{}{}| ",
                "*".repeat(stars),
                " ".repeat(len - stars)
            ));
        }
        s
    }

    /// `  0:00:03 ETA`, ` --:--:-- ETA` or `  - stalled -`.
    fn eta(&mut self, now: u64, got: u64, total: u64) -> String {
        let mut stalled = now.saturating_sub(self.last_change);
        if got != self.last_size {
            self.last_change = now;
            self.last_size = got;
            if stalled >= 5 {
                self.start += stalled;
            }
            stalled = 0;
        }
        let elapsed = now.saturating_sub(self.start);
        if stalled >= 5 {
            return "  - stalled -".into();
        }
        if total == 0 || got == 0 {
            return " --:--:-- ETA".into();
        }
        let eta = ((total as u128 * elapsed as u128 / got as u128) as u64)
            .saturating_sub(elapsed)
            .min(1000 * 3600 - 1);
        format!(
            "{:3}:{:02}:{:02} ETA",
            eta / 3600,
            eta % 3600 / 60,
            eta % 60
        )
    }
}

/// A header line as busybox shows it: cut at the first control character, tabs as spaces.
pub fn sanitize(s: &str) -> String {
    let s = s.replace('\t', " ");
    let end = s.find(|c: char| (c as u32) < 0x20).unwrap_or(s.len());
    s[..end].to_string()
}

/// wget's options.
struct Wget {
    quiet: bool,
    show: bool,
    spider: bool,
    out: Option<String>,
    prefix: Option<String>,
    agent: String,
    timeout: Duration,
    headers: Vec<String>,
    post: Option<String>,
    start: Instant,
}

/// `wget [-qS] [-O FILE] [-T SECS] [-U AGENT] [-P DIR] [--spider] [--header H] URL...`
pub fn wget(args: &[String]) -> i32 {
    let longs = [
        ("quiet", 'q'),
        ("output-document", 'O'),
        ("server-response", 'S'),
        ("timeout", 'T'),
        ("user-agent", 'U'),
        ("directory-prefix", 'P'),
        ("proxy", 'Y'),
        ("tries", 't'),
        ("spider", W_SPIDER),
        ("header", W_HEADER),
        ("post-data", W_POST),
        ("no-check-certificate", W_IGNORED),
        ("no-cache", W_IGNORED),
        ("no-verbose", W_IGNORED),
        ("passive-ftp", W_IGNORED),
    ];
    let spec = format!("qO:ST:U:P:Y:t:n:{W_SPIDER}{W_HEADER}:{W_POST}:{W_IGNORED}");
    let o = match getopt_long(args, &spec, &longs) {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing URL");
        return 1;
    }
    let timeout = match o.val('T').map(secs_arg) {
        None => Duration::from_secs(900),
        Some(Some(t)) => t,
        Some(None) => {
            err!("invalid number '{}'", o.val('T').unwrap_or(""));
            return 1;
        }
    };
    let w = Wget {
        quiet: o.has('q'),
        show: o.has('S'),
        spider: o.has(W_SPIDER),
        out: o.val('O').map(String::from),
        prefix: o.val('P').map(String::from),
        agent: o.val('U').unwrap_or("Wget").to_string(),
        timeout,
        headers: o.vals(W_HEADER).iter().map(|s| s.to_string()).collect(),
        post: o.val(W_POST).map(String::from),
        start: Instant::now(),
    };
    let mut sink = None;
    for u in &o.args {
        if let Err(m) = w.one(u, &mut sink) {
            drop(sink);
            err!("{m}");
            return 1;
        }
    }
    match sink.map(|mut s| s.flush()) {
        Some(Err(e)) => {
            err!("write error: {}", errstr(&e));
            1
        }
        _ => 0,
    }
}

impl Wget {
    /// Download one URL; `sink` is the `-O` output, kept open across URLs.
    fn one(&self, src: &str, sink: &mut Option<Box<dyn Write>>) -> Result<(), String> {
        let mut url = parse_url(src).map_err(|_| format!("not an http or ftp url: {src}"))?;
        let fname = self.file_name(&url);
        let mut ip = self.resolve(&url)?;
        let mut redirects = 5;
        let (mut rd, head) = loop {
            let mut rd = self.connect(&url, ip)?;
            let head = self.response(&mut rd)?;
            let loc = head
                .get("location")
                .filter(|_| head.code >= 300)
                .map(str::to_string);
            let Some(loc) = loc else { break (rd, head) };
            redirects -= 1;
            if redirects == 0 {
                return Err("too many redirections".into());
            }
            url = url
                .join(&loc)
                .map_err(|_| format!("not an http or ftp url: {loc}"))?;
            if scheme_of(&loc).is_some() || loc.starts_with("//") {
                ip = self.resolve(&url)?;
            }
        };
        let fr = framing(&head, false).map_err(|v| format!("content-length {v} is garbage"))?;
        if let Some(te) = head
            .get("transfer-encoding")
            .filter(|_| fr != Framing::Chunked)
        {
            return Err(format!("transfer encoding '{te}' is not supported"));
        }
        if self.spider {
            return Ok(());
        }
        if self.out.is_none() || sink.is_none() {
            let excl = self.out.is_none();
            let f = open_output(&fname, excl)
                .map_err(|e| format!("can't open '{fname}': {}", errstr(&e)))?;
            *sink = Some(f);
        }
        let out = sink.as_mut().expect("opened above");
        self.retrieve(&mut rd, fr, out, &fname)?;
        if self.out.is_none() {
            let mut f = sink.take().expect("opened above");
            f.flush()
                .map_err(|e| format!("write error: {}", errstr(&e)))?;
        }
        Ok(())
    }

    /// The output name: `-O FILE`, else the URL's file name under `-P DIR`.
    fn file_name(&self, url: &Url) -> String {
        match (&self.out, &self.prefix) {
            (Some(o), _) => o.clone(),
            (None, Some(p)) => util::join(p, &url.file_name()),
            (None, None) => url.file_name(),
        }
    }

    /// Resolve the URL's host; print `Connecting to …` unless quiet.
    fn resolve(&self, url: &Url) -> Result<Ipv4Addr, String> {
        let ip = lookup(&url.host).ok_or_else(|| format!("bad address '{}'", url.authority))?;
        if !self.quiet {
            eprintln!("Connecting to {} ({ip}:{})", url.authority, url.port);
        }
        Ok(ip)
    }

    /// Connect and send the request.
    fn connect(&self, url: &Url, ip: Ipv4Addr) -> Result<BufReader<Conn>, String> {
        let s = snet::connect(SocketAddrV4::new(ip, url.port))
            .map_err(|e| format!("can't connect to remote host ({ip}): {}", net_errstr(&e)))?;
        let req = self.request(url);
        (&s).write_all(&req)
            .map_err(|e| format!("error sending request: {}", net_errstr(&e)))?;
        Ok(BufReader::new(Conn {
            s,
            idle: Some(self.timeout),
            deadline: None,
        }))
    }

    /// The request bytes: busybox's headers, the user's `--header`s, the post data.
    fn request(&self, url: &Url) -> Vec<u8> {
        let user_has = |name: &str| {
            self.headers.iter().any(|h| {
                h.split(':')
                    .next()
                    .is_some_and(|k| k.trim().eq_ignore_ascii_case(name))
            })
        };
        let mut h: Vec<(String, String)> = Vec::new();
        if !user_has("host") {
            h.push(("Host".into(), url.authority.clone()));
        }
        if !user_has("user-agent") {
            h.push(("User-Agent".into(), self.agent.clone()));
        }
        h.push(("Connection".into(), "close".into()));
        if let Some(u) = url.user.as_ref().filter(|_| !user_has("authorization")) {
            h.push((
                "Authorization".into(),
                format!("Basic {}", base64(u.as_bytes())),
            ));
        }
        h.extend(self.headers.iter().filter_map(|x| header_line(x)));
        let (method, body) = match &self.post {
            Some(p) => {
                h.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                h.push(("Content-Length".into(), p.len().to_string()));
                ("POST", p.as_bytes())
            }
            None => ("GET", &b""[..]),
        };
        request(method, &url.path, &h, body)
    }

    /// Read the response head (skipping `100 Continue`), check its status, print it for -S.
    fn response(&self, rd: &mut BufReader<Conn>) -> Result<Head, String> {
        loop {
            let head = match read_head(rd) {
                Ok(Some(h)) => h,
                Ok(None) => return Err("error getting response".into()),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err("download timed out".into())
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err("error getting response".into())
                }
                Err(e) => return Err(format!("error getting response: {}", net_errstr(&e))),
            };
            let status = sanitize(head.status_line());
            if self.show {
                eprintln!("  {status}");
            }
            match head.code {
                0 | 100 => continue,
                200..=204 | 300..=303 => {}
                _ => return Err(format!("server returned error: {status}")),
            }
            self.show_headers(&head);
            return Ok(head);
        }
    }

    /// -S: the header lines (up to a redirect's `Location`), then the blank line.
    fn show_headers(&self, head: &Head) {
        if !self.show {
            return;
        }
        for l in &head.lines[1..] {
            eprintln!("  {}", sanitize(l));
            if head.code >= 300 && l.to_ascii_lowercase().starts_with("location:") {
                return;
            }
        }
        eprintln!("  ");
    }

    /// Copy the body to `out` with the progress meter; the `saving`/`saved` messages.
    fn retrieve(
        &self,
        rd: &mut BufReader<Conn>,
        fr: Framing,
        out: &mut Box<dyn Write>,
        fname: &str,
    ) -> Result<(), String> {
        let stdout = self.out.as_deref() == Some("-");
        if !self.quiet {
            if stdout {
                eprintln!("writing to stdout");
            } else {
                eprintln!("saving to '{fname}'");
            }
        }
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(80);
        let tty = io::stderr().is_terminal();
        let now = || self.start.elapsed().as_secs();
        let mut meter = Meter::new(util::base_name(fname), now(), tty, width);
        let mut body = Body::new(rd, fr);
        let mut buf = vec![0u8; BUF];
        let mut got = 0u64;
        let res = loop {
            match body.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    if let Err(e) = out.write_all(&buf[..n]).and_then(|_| out.flush()) {
                        break Err(format!("write error: {}", errstr(&e)));
                    }
                    got += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    break Err("download timed out".into())
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => break Err(e.to_string()),
                Err(e) => break Err(format!("read error: {}", net_errstr(&e))),
            }
            let total = match fr {
                Framing::Length(_) if body.missing() == 0 => break Ok(()),
                Framing::Length(_) => got + body.missing(),
                _ => 0,
            };
            self.meter(&mut meter, now(), got, total);
        };
        self.meter(&mut meter, now(), got, got + body.missing());
        if tty && !self.quiet {
            eprintln!();
        }
        res?;
        if body.missing() != 0 {
            return Err("connection closed prematurely".into());
        }
        out.flush()
            .map_err(|e| format!("write error: {}", errstr(&e)))?;
        if !self.quiet {
            if stdout {
                eprintln!("written to stdout");
            } else {
                eprintln!("'{fname}' saved");
            }
        }
        Ok(())
    }

    fn meter(&self, m: &mut Meter, now: u64, got: u64, total: u64) {
        if self.quiet {
            return;
        }
        if let Some(line) = m.update(now, got, total) {
            eprint!("{line}");
        }
    }
}

// ----------------------------------------------------------------------------------------
// curl

const C_DATA_RAW: char = '\u{e010}';
const C_DATA_BIN: char = '\u{e011}';
const C_URL: char = '\u{e012}';
const C_IGNORED_ARG: char = '\u{e013}';
const C_IGNORED: char = '\u{e014}';
const CURL_UA: &str = "curl/8.5.0";
const CURL_TRY: &str = "curl: try 'curl --help' or 'curl --manual' for more information";

/// curl's options.
#[derive(Default)]
struct Curl {
    silent: bool,
    show_error: bool,
    verbose: bool,
    fail: bool,
    head: bool,
    include: bool,
    location: bool,
    output: Option<String>,
    remote_name: bool,
    method: Option<String>,
    headers: Vec<String>,
    data: Option<Vec<u8>>,
    max_time: Option<Duration>,
    write_out: Option<String>,
    agent: String,
    user: Option<String>,
    url: String,
}

/// A failed transfer: curl's exit code and message.
#[derive(Debug)]
struct CurlErr(i32, String);

/// What a transfer got, for `-w`.
#[derive(Default)]
struct Got {
    code: u16,
    body: u64,
    header: u64,
    content_type: String,
    url: String,
    ip: String,
    port: u16,
    redirects: u32,
    error: String,
}

/// `curl [-sSfiIvLO] [-o FILE] [-X METHOD] [-H 'K: V'] [-d DATA] [-m SECS] [-w FMT] URL`
pub fn curl(args: &[String]) -> i32 {
    let c = match Curl::parse(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let start = Instant::now();
    let mut got = Got {
        url: c.url.clone(),
        ..Got::default()
    };
    let code = match c.run(start, &mut got) {
        Ok(()) => 0,
        Err(CurlErr(code, msg)) => {
            if !c.silent || c.show_error {
                eprintln!("curl: ({code}) {msg}");
            }
            got.error = msg;
            code
        }
    };
    if let Some(w) = &c.write_out {
        let secs = start.elapsed().as_secs_f64();
        let text = write_out(w, |v| got.var(v, code, secs));
        let mut o = util::out();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
    code
}

impl Got {
    /// The value of `%{name}` for `-w`.
    fn var(&self, name: &str, exit: i32, secs: f64) -> Option<String> {
        Some(match name {
            "http_code" | "response_code" => format!("{:03}", self.code),
            "size_download" => self.body.to_string(),
            "size_header" => self.header.to_string(),
            "content_type" => self.content_type.clone(),
            "url_effective" | "url" => self.url.clone(),
            "time_total" => format!("{secs:.6}"),
            "remote_ip" => self.ip.clone(),
            "remote_port" => {
                if self.port == 0 {
                    String::new()
                } else {
                    self.port.to_string()
                }
            }
            "exitcode" => exit.to_string(),
            "num_redirects" => self.redirects.to_string(),
            "http_version" => {
                if self.code == 0 {
                    "0".into()
                } else {
                    "1.1".into()
                }
            }
            "errormsg" => self.error.clone(),
            _ => return None,
        })
    }
}

/// Expand a `-w` format: `%{var}`, `%%`, `\n`, `\r`, `\t`, `\\`.
pub fn write_out(fmt: &str, var: impl Fn(&str) -> Option<String>) -> String {
    let mut s = String::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("%{") {
            if let Some(end) = r.find('}') {
                s.push_str(&var(&r[..end]).unwrap_or_default());
                rest = &r[end + 1..];
                continue;
            }
        }
        let esc = match (c, rest[1..].chars().next()) {
            ('%', Some('%')) => Some('%'),
            ('\\', Some('n')) => Some('\n'),
            ('\\', Some('r')) => Some('\r'),
            ('\\', Some('t')) => Some('\t'),
            ('\\', Some('\\')) => Some('\\'),
            _ => None,
        };
        match esc {
            Some(e) => {
                s.push(e);
                rest = &rest[2..];
            }
            None => {
                s.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    s
}

/// Apply curl's `-H` rules to the default headers: `K: V` replaces or adds, `K:` removes,
/// `K;` adds an empty one.
pub fn merge_headers(defaults: Vec<(String, String)>, user: &[String]) -> Vec<(String, String)> {
    let mut h = defaults;
    for u in user {
        if let Some(name) = u.strip_suffix(';').filter(|n| !n.contains(':')) {
            h.push((name.trim().to_string(), String::new()));
            continue;
        }
        let Some((k, v)) = header_line(u) else {
            continue;
        };
        let pos = h.iter().position(|(n, _)| n.eq_ignore_ascii_case(&k));
        match (pos, v.is_empty()) {
            (Some(i), true) => {
                h.remove(i);
            }
            (Some(i), false) => h[i] = (k, v),
            (None, true) => {}
            (None, false) => h.push((k, v)),
        }
    }
    h
}

/// The bytes of a `-d` value: `@FILE` (`@-`: stdin) is read, newlines dropped unless `binary`.
fn curl_data(v: &str, binary: bool) -> Vec<u8> {
    let Some(f) = v.strip_prefix('@') else {
        return v.as_bytes().to_vec();
    };
    let r = if f == "-" {
        util::read_all("-")
    } else {
        std::fs::read(f)
    };
    let d = r.unwrap_or_else(|_| {
        eprintln!("Warning: Couldn't read data from file \"{f}\", this makes an empty POST.");
        Vec::new()
    });
    if binary {
        d
    } else {
        d.into_iter()
            .filter(|&b| b != b'\n' && b != b'\r')
            .collect()
    }
}

impl Curl {
    fn parse(args: &[String]) -> Result<Curl, i32> {
        let longs = [
            ("silent", 's'),
            ("show-error", 'S'),
            ("output", 'o'),
            ("remote-name", 'O'),
            ("head", 'I'),
            ("include", 'i'),
            ("fail", 'f'),
            ("verbose", 'v'),
            ("location", 'L'),
            ("insecure", 'k'),
            ("request", 'X'),
            ("header", 'H'),
            ("data", 'd'),
            ("data-ascii", 'd'),
            ("data-raw", C_DATA_RAW),
            ("data-binary", C_DATA_BIN),
            ("max-time", 'm'),
            ("write-out", 'w'),
            ("user-agent", 'A'),
            ("user", 'u'),
            ("url", C_URL),
            ("ipv4", '4'),
            ("connect-timeout", C_IGNORED_ARG),
            ("retry", C_IGNORED_ARG),
            ("retry-delay", C_IGNORED_ARG),
            ("compressed", C_IGNORED),
            ("http1.1", C_IGNORED),
            ("no-progress-meter", C_IGNORED),
            ("fail-early", C_IGNORED),
        ];
        let spec = format!("sSo:OIifvLkX:H:d:m:w:A:u:4{C_DATA_RAW}:{C_DATA_BIN}:{C_URL}:{C_IGNORED_ARG}:{C_IGNORED}");
        let o = getopt_long(args, &spec, &longs).map_err(|_| {
            eprintln!("{CURL_TRY}");
            2
        })?;
        let Some(url) = o.val(C_URL).or(o.args.first().map(String::as_str)) else {
            eprintln!("curl: no URL specified!\n{CURL_TRY}");
            return Err(2);
        };
        let max_time = match o.val('m') {
            None => None,
            Some(m) => Some(secs_arg(m).ok_or_else(|| {
                eprintln!(
                    "curl: option --max-time: expected a proper numerical parameter\n{CURL_TRY}"
                );
                2
            })?),
        };
        Ok(Curl {
            silent: o.has('s'),
            show_error: o.has('S'),
            verbose: o.has('v'),
            fail: o.has('f'),
            head: o.has('I'),
            include: o.has('i'),
            location: o.has('L'),
            output: o.val('o').map(String::from),
            remote_name: o.has('O'),
            method: o.val('X').map(String::from),
            headers: o.vals('H').iter().map(|s| s.to_string()).collect(),
            data: Self::data(&o),
            max_time,
            write_out: o.val('w').map(String::from),
            agent: o.val('A').unwrap_or(CURL_UA).to_string(),
            user: o.val('u').map(String::from),
            url: url.to_string(),
        })
    }

    /// All `-d`/`--data-*` values joined with `&` (None when there are none).
    fn data(o: &Opts) -> Option<Vec<u8>> {
        let mut parts: Vec<Vec<u8>> = o.vals('d').iter().map(|v| curl_data(v, false)).collect();
        parts.extend(o.vals(C_DATA_BIN).iter().map(|v| curl_data(v, true)));
        parts.extend(o.vals(C_DATA_RAW).iter().map(|v| v.as_bytes().to_vec()));
        (!parts.is_empty()).then(|| parts.join(&b'&'))
    }

    /// The method to send: `-X`, else HEAD for -I, POST with data, GET.
    fn initial_method(&self) -> String {
        match (&self.method, self.head, &self.data) {
            (Some(m), _, _) => m.clone(),
            (None, true, _) => "HEAD".into(),
            (None, false, Some(_)) => "POST".into(),
            _ => "GET".into(),
        }
    }

    fn run(&self, start: Instant, got: &mut Got) -> Result<(), CurlErr> {
        let mut url = parse_url(&self.url).map_err(url_err)?;
        let mut method = self.initial_method();
        let mut body = self.data.clone();
        let mut sink: Option<Box<dyn Write>> = None;
        loop {
            got.url = url.to_text();
            let mut rd = self.connect(&url, start, got)?;
            let req = self.request(&url, &method, body.as_deref());
            self.trace_request(&req);
            (&rd.get_ref().s)
                .write_all(&req)
                .map_err(|e| CurlErr(55, format!("Send failure: {}", net_errstr(&e))))?;
            let head = self.head(&mut rd, start, got)?;
            got.code = head.code;
            got.header += head.raw.len() as u64;
            got.content_type = head.get("content-type").unwrap_or("").to_string();
            let loc = head
                .get("location")
                .filter(|_| self.location && (300..400).contains(&head.code));
            if let Some(loc) = loc {
                self.write_head(&head, &url, &mut sink)?;
                got.redirects += 1;
                if got.redirects > 50 {
                    return Err(CurlErr(47, "Maximum (50) redirects followed".into()));
                }
                url = url.join(loc).map_err(url_err)?;
                if head.code == 303
                    || (matches!(head.code, 301 | 302) && method == "POST" && self.method.is_none())
                {
                    method = "GET".into();
                    body = None;
                }
                continue;
            }
            if self.fail && head.code >= 400 {
                return Err(CurlErr(
                    22,
                    format!("The requested URL returned error: {}", head.code),
                ));
            }
            self.write_head(&head, &url, &mut sink)?;
            let fr = framing(&head, method == "HEAD")
                .map_err(|v| CurlErr(8, format!("Invalid Content-Length: {v}")))?;
            let out = self.sink(&url, &mut sink)?;
            self.copy_body(&mut rd, fr, out, start, got)?;
            out.flush()
                .map_err(|_| CurlErr(23, "Failure writing output to destination".into()))?;
            if self.verbose {
                eprintln!("* Connection #0 to host {} left intact", url.host);
            }
            return Ok(());
        }
    }

    /// Resolve and connect (with -v's `Trying`/`Connected` lines).
    fn connect(
        &self,
        url: &Url,
        start: Instant,
        got: &mut Got,
    ) -> Result<BufReader<Conn>, CurlErr> {
        let ip = lookup(&url.host)
            .ok_or_else(|| CurlErr(6, format!("Could not resolve host: {}", url.host)))?;
        got.ip = ip.to_string();
        got.port = url.port;
        if self.verbose {
            eprintln!("*   Trying {ip}:{}...", url.port);
        }
        let s = snet::connect(SocketAddrV4::new(ip, url.port)).map_err(|e| {
            let ms = start.elapsed().as_millis();
            CurlErr(
                7,
                format!(
                    "Failed to connect to {} port {} after {ms} ms: {}",
                    url.host,
                    url.port,
                    net_errstr(&e)
                ),
            )
        })?;
        if self.verbose {
            eprintln!("* Connected to {} ({ip}) port {}", url.host, url.port);
        }
        let deadline = self.max_time.map(|d| start + d);
        Ok(BufReader::new(Conn {
            s,
            idle: None,
            deadline,
        }))
    }

    /// The request bytes: curl's default headers merged with `-H`, then the data.
    fn request(&self, url: &Url, method: &str, body: Option<&[u8]>) -> Vec<u8> {
        let host = if url.explicit_port && url.port != 80 {
            url.authority.clone()
        } else {
            url.host.clone()
        };
        let mut h = vec![("Host".to_string(), host)];
        if let Some(u) = self.user.as_ref().or(url.user.as_ref()) {
            h.push((
                "Authorization".into(),
                format!("Basic {}", base64(u.as_bytes())),
            ));
        }
        h.push(("User-Agent".into(), self.agent.clone()));
        h.push(("Accept".into(), "*/*".into()));
        let mut h = merge_headers(h, &self.headers);
        if let Some(b) = body {
            let has =
                |h: &[(String, String)], n: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
            if !has(&h, "content-length") {
                h.push(("Content-Length".into(), b.len().to_string()));
            }
            if !has(&h, "content-type") {
                let form = "application/x-www-form-urlencoded";
                h.push(("Content-Type".into(), form.into()));
            }
        }
        request(method, &url.path, &h, body.unwrap_or(b""))
    }

    /// -v: `> ` before each line of the request head.
    fn trace_request(&self, req: &[u8]) {
        if !self.verbose {
            return;
        }
        let text = String::from_utf8_lossy(req);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        for l in head.split("\r\n") {
            eprintln!("> {l}");
        }
        eprintln!("> ");
    }

    /// Read the response head, skipping `1xx` ones; -v shows it with `< `.
    fn head(&self, rd: &mut BufReader<Conn>, start: Instant, got: &Got) -> Result<Head, CurlErr> {
        loop {
            let h = match read_head(rd) {
                Ok(Some(h)) => h,
                Ok(None) => return Err(CurlErr(52, "Empty reply from server".into())),
                Err(e) => return Err(recv_err(&e, start, got.body)),
            };
            if h.code == 0 {
                return Err(CurlErr(1, "Received HTTP/0.9 when not allowed".into()));
            }
            if self.verbose {
                for l in &h.lines {
                    eprintln!("< {l}");
                }
                eprintln!("< ");
            }
            if !(100..200).contains(&h.code) || h.code == 101 {
                return Ok(h);
            }
        }
    }

    /// -i / -I: the head as received goes to the output first.
    fn write_head(
        &self,
        head: &Head,
        url: &Url,
        sink: &mut Option<Box<dyn Write>>,
    ) -> Result<(), CurlErr> {
        if !(self.include || self.head) {
            return Ok(());
        }
        let out = self.sink(url, sink)?;
        out.write_all(&head.raw)
            .map_err(|_| CurlErr(23, "Failure writing output to destination".into()))
    }

    /// The output (opened on first use): `-o FILE`, `-O` (the URL's file name) or stdout.
    fn sink<'a>(
        &self,
        url: &Url,
        sink: &'a mut Option<Box<dyn Write>>,
    ) -> Result<&'a mut Box<dyn Write>, CurlErr> {
        if sink.is_none() {
            let path = match (&self.output, self.remote_name) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let p = &url.path.split('?').next().unwrap_or("/")[1..];
                    let name = &p[p.rfind('/').map_or(0, |i| i + 1)..];
                    if name.is_empty() {
                        return Err(CurlErr(23, "Remote file name has no length".into()));
                    }
                    name.to_string()
                }
                (None, false) => "-".into(),
            };
            let f = open_output(&path, false).map_err(|e| {
                if !self.silent {
                    eprintln!("Warning: Failed to open the file {path}: {}", errstr(&e));
                }
                CurlErr(23, "Failure writing output to destination".into())
            })?;
            *sink = Some(f);
        }
        Ok(sink.as_mut().expect("opened above"))
    }

    /// Copy the body to `out`, counting it.
    fn copy_body(
        &self,
        rd: &mut BufReader<Conn>,
        fr: Framing,
        out: &mut Box<dyn Write>,
        start: Instant,
        got: &mut Got,
    ) -> Result<(), CurlErr> {
        let mut body = Body::new(rd, fr);
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(CurlErr(
                        18,
                        "transfer closed with outstanding read data remaining".into(),
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(CurlErr(
                        56,
                        "Illegal or missing hexadecimal sequence in chunked-encoding".into(),
                    ))
                }
                Err(e) => return Err(recv_err(&e, start, got.body)),
            };
            got.body += n as u64;
            out.write_all(&buf[..n])
                .map_err(|_| CurlErr(23, "Failure writing output to destination".into()))?;
        }
        match body.missing() {
            0 => Ok(()),
            m => Err(CurlErr(
                18,
                format!("transfer closed with {m} bytes remaining to read"),
            )),
        }
    }
}

/// curl's error for a bad URL.
fn url_err(e: UrlError) -> CurlErr {
    match e {
        UrlError::Scheme(s) => CurlErr(1, format!("Protocol \"{s}\" not supported")),
        UrlError::Malformed => CurlErr(3, "URL rejected: Malformed input to a URL function".into()),
    }
}

/// curl's error for a failed read: a timeout (28) or a receive failure (56).
fn recv_err(e: &io::Error, start: Instant, n: u64) -> CurlErr {
    if e.kind() == io::ErrorKind::TimedOut {
        let ms = start.elapsed().as_millis();
        return CurlErr(
            28,
            format!("Operation timed out after {ms} milliseconds with {n} bytes received"),
        );
    }
    if matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
    ) {
        return CurlErr(8, "Weird server reply".into());
    }
    CurlErr(56, format!("Recv failure: {}", net_errstr(e)))
}

// ----------------------------------------------------------------------------------------
// nc

/// `nc [-vz] [-w SECS] HOST PORT` | `nc -l [-kv] [-w SECS] [-p] PORT`: stdio over TCP.
pub fn nc(args: &[String]) -> i32 {
    let o = match getopt(args, "lkp:w:zvni:s:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let wait = match o.val('w').map(|w| w.parse::<u32>().ok()) {
        None => None,
        Some(Some(w)) => Some(w),
        Some(None) => {
            err!("invalid number '{}'", o.val('w').unwrap_or(""));
            return 1;
        }
    };
    let verbose = o.count('v');
    if o.has('l') {
        let Some(p) = o.val('p').or(o.args.first().map(String::as_str)) else {
            return nc_usage();
        };
        let Ok(port) = p.parse::<u16>() else {
            err!("bad port '{p}'");
            return 1;
        };
        return nc_listen(port, o.has('k'), verbose, wait);
    }
    let [host, p] = &o.args[..] else {
        return nc_usage();
    };
    let Ok(port) = p.parse::<u16>() else {
        err!("bad port '{p}'");
        return 1;
    };
    nc_connect(host, port, o.has('z'), verbose, wait)
}

fn nc_usage() -> i32 {
    eprintln!(
        "Usage: nc [-v] [-w SECS] [-z] HOST PORT\n   or: nc -l [-k] [-v] [-w SECS] [-p] PORT"
    );
    1
}

/// Connect to `host:port`: -z only checks it connects.
fn nc_connect(host: &str, port: u16, zero: bool, verbose: usize, wait: Option<u32>) -> i32 {
    let Some(ip) = lookup(host) else {
        err!("bad address '{host}'");
        return 1;
    };
    match snet::connect(SocketAddrV4::new(ip, port)) {
        Ok(s) => {
            if verbose > 0 {
                eprintln!("{host} ({ip}:{port}) open");
            }
            if zero {
                0
            } else {
                pump(&s, wait)
            }
        }
        Err(e) if zero => {
            if verbose > 1 || (verbose > 0 && e.kind() != io::ErrorKind::ConnectionRefused) {
                err!("{host} ({ip}:{port}): {}", net_errstr(&e));
            }
            1
        }
        Err(e) => {
            err!("can't connect to remote host ({ip}): {}", net_errstr(&e));
            1
        }
    }
}

/// Listen on `port`, take a connection (one after the other with -k) and pump it.
fn nc_listen(port: u16, keep: bool, verbose: usize, wait: Option<u32>) -> i32 {
    let l = match snet::listen(port) {
        Ok(l) => l,
        Err(e) => {
            err!("bind: {}", net_errstr(&e));
            return 1;
        }
    };
    if verbose > 0 {
        eprintln!("listening on [::]:{port} ...");
    }
    loop {
        if let Some(w) = wait {
            if !readable(l.as_raw_fd(), Duration::from_secs(w as u64)).unwrap_or(true) {
                err!("timed out");
                return 1;
            }
        }
        let (s, peer) = match snet::accept(&l) {
            Ok(x) => x,
            Err(e) => {
                err!("accept: {}", net_errstr(&e));
                return 1;
            }
        };
        if verbose > 0 {
            let me = own_ip().map_or("0.0.0.0".to_string(), |i| i.to_string());
            let from = format!("[::ffff:{}]:{}", peer.ip(), peer.port());
            eprintln!("connect to [::ffff:{me}]:{port} from {from} ({from})");
        }
        let rc = pump(&s, wait);
        if !keep {
            return rc;
        }
    }
}

/// This container's first non-loopback address.
fn own_ip() -> Option<Ipv4Addr> {
    snet::interfaces()
        .ok()?
        .into_iter()
        .map(|i| i.ip)
        .find(|ip| !ip.is_loopback())
}

/// Copy stdin to `s` (then shut its write side) and `s` to stdout, in one thread with poll,
/// until the peer closes. `wait`: after stdin's end, give up when the peer stays silent.
fn pump(s: &TcpStream, wait: Option<u32>) -> i32 {
    let mut stdin_open = true;
    let mut silent = 0;
    let mut buf = vec![0u8; BUF];
    let timeout = wait.map_or(-1, |w| w.saturating_mul(1000).min(i32::MAX as u32) as i32);
    loop {
        let mut fds = vec![PollFd {
            fd: s.as_raw_fd(),
            events: POLLIN,
            revents: 0,
        }];
        if stdin_open {
            fds.push(PollFd {
                fd: 0,
                events: POLLIN,
                revents: 0,
            });
        }
        let n = match snet::poll(&mut fds, timeout) {
            Ok(n) => n,
            Err(_) => return pump_serial(s, stdin_open),
        };
        if n == 0 {
            silent += 1;
            if !stdin_open && silent >= 2 {
                return 0;
            }
            continue;
        }
        silent = 0;
        if fds[0].revents != 0 {
            match net_to_stdout(s, &mut buf) {
                Some(rc) => return rc,
                None => continue,
            }
        }
        if stdin_open && fds[1].revents != 0 {
            let ev = fds[1].revents;
            if ev & (POLLIN | POLLHUP) == 0 && ev & (POLLERR | POLLNVAL) != 0 {
                return pump_serial(s, true);
            }
            stdin_open = stdin_to_net(s, &mut buf);
        }
    }
}

/// One read from the socket to stdout; `Some(status)` when nc is done.
fn net_to_stdout(s: &TcpStream, buf: &mut [u8]) -> Option<i32> {
    let mut r = s;
    match r.read(buf) {
        Ok(0) | Err(_) => Some(0),
        Ok(n) => {
            let mut o = io::stdout().lock();
            match o.write_all(&buf[..n]).and_then(|_| o.flush()) {
                Ok(()) => None,
                Err(_) => Some(1),
            }
        }
    }
}

/// One read from stdin to the socket; false once stdin ended (the write side is shut).
fn stdin_to_net(s: &TcpStream, buf: &mut [u8]) -> bool {
    let mut w = s;
    match io::stdin().read(buf) {
        Ok(n) if n > 0 && w.write_all(&buf[..n]).is_ok() => true,
        _ => {
            let _ = s.shutdown(Shutdown::Write);
            false
        }
    }
}

/// The fallback when stdin cannot be polled: all of stdin first, then the socket.
fn pump_serial(s: &TcpStream, stdin_open: bool) -> i32 {
    let mut buf = vec![0u8; BUF];
    if stdin_open {
        while stdin_to_net(s, &mut buf) {}
    }
    loop {
        if let Some(rc) = net_to_stdout(s, &mut buf) {
            return rc;
        }
    }
}

// ----------------------------------------------------------------------------------------
// ping

/// The replies counted for ping's statistics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PingStats {
    pub sent: u64,
    pub received: u64,
    pub min_us: u64,
    pub max_us: u64,
    pub sum_us: u64,
}

impl PingStats {
    pub fn reply(&mut self, us: u64) {
        if self.received == 0 || us < self.min_us {
            self.min_us = us;
        }
        self.max_us = self.max_us.max(us);
        self.sum_us += us;
        self.received += 1;
    }
}

/// Microseconds as busybox prints milliseconds: `0.209`.
pub fn fmt_ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// The statistics block printed when ping ends.
pub fn ping_summary(host: &str, st: &PingStats) -> String {
    let loss = ((st.sent - st.received) * 100)
        .checked_div(st.sent)
        .unwrap_or(0);
    let mut s = format!(
        "\n--- {host} ping statistics ---\n{} packets transmitted, {} packets received, {loss}% packet loss\n",
        st.sent, st.received
    );
    if let Some(avg) = st.sum_us.checked_div(st.received) {
        s.push_str(&format!(
            "round-trip min/avg/max = {}/{}/{} ms\n",
            fmt_ms(st.min_us),
            fmt_ms(avg),
            fmt_ms(st.max_us)
        ));
    }
    s
}

/// `ping [-q] [-c N] [-i SECS] [-W SECS] [-w SECS] [-s SIZE] HOST`, via `net::ping` (no ICMP).
pub fn ping(args: &[String]) -> i32 {
    let o = match getopt(args, "c:i:W:w:s:qt:I:46") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let Some(host) = o.args.first() else {
        eprintln!("Usage: ping [-c COUNT] [-i SECS] [-W SECS] [-w SECS] [-s SIZE] [-q] HOST");
        return 1;
    };
    let num = |c: char, d: &str| o.val(c).unwrap_or(d).to_string();
    let (Ok(count), Some(interval), Some(linger), Ok(size)) = (
        num('c', "0").parse::<u64>(),
        secs_arg(&num('i', "1")),
        secs_arg(&num('W', "1")),
        num('s', "56").parse::<u64>(),
    ) else {
        err!("invalid number");
        return 1;
    };
    let deadline = match o.val('w').map(secs_arg) {
        None => None,
        Some(Some(d)) => Some(Instant::now() + d),
        Some(None) => {
            err!("invalid number '{}'", o.val('w').unwrap_or(""));
            return 1;
        }
    };
    let Some(ip) = lookup(host) else {
        err!("bad address '{host}'");
        return 1;
    };
    println!("PING {host} ({ip}): {size} data bytes");
    let p = Pinger {
        ip,
        size,
        quiet: o.has('q'),
        count,
        interval,
        linger,
        deadline,
    };
    match p.run() {
        Some(st) => {
            print!("{}", ping_summary(host, &st));
            let _ = io::stdout().flush();
            if st.received > 0 {
                0
            } else {
                1
            }
        }
        None => {
            err!("sendto: Network is unreachable");
            1
        }
    }
}

/// One ping run's settings.
struct Pinger {
    ip: Ipv4Addr,
    size: u64,
    quiet: bool,
    /// 0: until killed.
    count: u64,
    interval: Duration,
    linger: Duration,
    deadline: Option<Instant>,
}

impl Pinger {
    /// Send the packets; None when the network is unreachable (busybox stops at once).
    fn run(&self) -> Option<PingStats> {
        let mut st = PingStats::default();
        for seq in 0.. {
            if (self.count != 0 && seq >= self.count) || self.past_deadline() {
                break;
            }
            let t0 = Instant::now();
            let r = snet::ping(self.ip);
            let us = t0.elapsed().as_micros() as u64;
            let answered = r.is_ok();
            st.sent += 1;
            match r {
                Ok(()) => {
                    st.reply(us);
                    if !self.quiet {
                        println!(
                            "{} bytes from {}: seq={seq} ttl=64 time={} ms",
                            self.size + 8,
                            self.ip,
                            fmt_ms(us)
                        );
                    }
                }
                Err(e) if is_net_unreachable(&e) => return None,
                Err(_) => {}
            }
            let last = self.count != 0 && seq + 1 >= self.count;
            match (last, answered) {
                (true, true) => break,
                (true, false) => self.sleep(self.linger),
                (false, _) => self.sleep(self.interval.saturating_sub(t0.elapsed())),
            }
        }
        Some(st)
    }

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Sleep `d`, but not past the -w deadline.
    fn sleep(&self, d: Duration) {
        let d = match self.deadline {
            Some(end) => d.min(end.saturating_duration_since(Instant::now())),
            None => d,
        };
        std::thread::sleep(d);
    }
}

// ----------------------------------------------------------------------------------------
// nslookup

/// What nslookup prints for `name` asked of `server`; `addrs` None: the name does not exist.
pub fn nslookup_text(name: &str, server: &str, addrs: Option<&[Ipv4Addr]>) -> String {
    let mut s = format!("Server:\t\t{server}\nAddress:\t{server}:53\n\n");
    match addrs {
        Some(v) => {
            s.push_str("Non-authoritative answer:\n");
            for ip in v {
                s.push_str(&format!("Name:\t{name}\nAddress: {ip}\n"));
            }
        }
        None => s.push_str(&format!("** server can't find {name}: NXDOMAIN\n")),
    }
    s.push('\n');
    s
}

/// The first `nameserver` of /etc/resolv.conf (Docker's embedded DNS when there is none).
fn name_server() -> String {
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("127.0.0.11")
        .to_string()
}

/// `nslookup NAME [SERVER]`: the addresses of NAME as this container resolves them.
pub fn nslookup(args: &[String]) -> i32 {
    let ops: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let Some(name) = ops.first() else {
        eprintln!("Usage: nslookup HOST [DNS_SERVER]");
        return 1;
    };
    let server = ops.get(1).map_or_else(name_server, |s| s.to_string());
    let addrs = snet::resolve(name).ok().filter(|v| !v.is_empty());
    let mut w = util::out();
    let _ = w.write_all(nslookup_text(name, &server, addrs.as_deref()).as_bytes());
    util::done(&mut w, if addrs.is_some() { 0 } else { 1 })
}

// ----------------------------------------------------------------------------------------
// ip

/// What `ip … show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpObject {
    Addr,
    Link,
    Route,
}

fn is_lo(f: &Interface) -> bool {
    f.name == "lo" || f.ip.is_loopback()
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32) as u32)
    }
}

/// The first line of an interface: `2: eth0@if3: <…> mtu 1500 qdisc noqueue `.
pub fn ip_head_line(i: usize, f: &Interface) -> String {
    if is_lo(f) {
        format!(
            "{}: {}: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n",
            i + 1,
            f.name
        )
    } else {
        format!(
            "{}: {}@if{}: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n",
            i + 1,
            f.name,
            2 * i + 1
        )
    }
}

/// The `link/…` line.
pub fn ip_link_line(f: &Interface) -> String {
    if is_lo(f) {
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n".into()
    } else {
        format!("    link/ether {} brd ff:ff:ff:ff:ff:ff\n", f.mac)
    }
}

/// The `inet` line and its lifetimes.
pub fn ip_inet_lines(f: &Interface) -> String {
    let inet = if is_lo(f) {
        format!("    inet {}/{} scope host {}\n", f.ip, f.prefix, f.name)
    } else {
        let brd = Ipv4Addr::from(u32::from(f.ip) | !mask(f.prefix));
        format!(
            "    inet {}/{} brd {brd} scope global {}\n",
            f.ip, f.prefix, f.name
        )
    };
    inet + "       valid_lft forever preferred_lft forever\n"
}

/// `ip addr` / `ip link` for the interfaces (all, or only `dev`); `v4`: `-4` (no link lines).
/// Err(dev) when there is no such interface.
pub fn ip_show_text(
    ifs: &[Interface],
    obj: IpObject,
    dev: Option<&str>,
    v4: bool,
) -> Result<String, String> {
    if let Some(d) = dev {
        if !ifs.iter().any(|f| f.name == d) {
            return Err(d.to_string());
        }
    }
    if obj == IpObject::Route {
        return Ok(ip_route_text(ifs, dev));
    }
    let mut s = String::new();
    for (i, f) in ifs
        .iter()
        .enumerate()
        .filter(|(_, f)| dev.is_none_or(|d| f.name == d))
    {
        s.push_str(&ip_head_line(i, f));
        if !v4 || obj == IpObject::Link {
            s.push_str(&ip_link_line(f));
        }
        if obj == IpObject::Addr {
            s.push_str(&ip_inet_lines(f));
        }
    }
    Ok(s)
}

/// `ip route`: the default route through the first network's gateway, then one route per
/// network (Docker gives a network's first host address to its gateway).
pub fn ip_route_text(ifs: &[Interface], dev: Option<&str>) -> String {
    let nets: Vec<&Interface> = ifs.iter().filter(|f| !is_lo(f)).collect();
    let mut s = String::new();
    if let Some(f) = nets.first().filter(|f| dev.is_none_or(|d| f.name == d)) {
        let gw = Ipv4Addr::from((u32::from(f.ip) & mask(f.prefix)) + 1);
        s.push_str(&format!("default via {gw} dev {} \n", f.name));
    }
    for f in nets.iter().filter(|f| dev.is_none_or(|d| f.name == d)) {
        let net = Ipv4Addr::from(u32::from(f.ip) & mask(f.prefix));
        s.push_str(&format!(
            "{net}/{} dev {} scope link  src {} \n",
            f.prefix, f.name, f.ip
        ));
    }
    s
}

/// Parse `ip`'s words after the options: OBJECT [show|list] [dev] [IFACE].
pub fn ip_parse(words: &[&str]) -> Result<(IpObject, Option<String>), String> {
    let is = |w: &str, full: &str| !w.is_empty() && full.starts_with(w);
    let Some(obj) = words.first() else {
        return Err("usage".into());
    };
    let obj = if is(obj, "address") {
        IpObject::Addr
    } else if is(obj, "route") {
        IpObject::Route
    } else if is(obj, "link") {
        IpObject::Link
    } else {
        return Err(format!("object \"{obj}\" is unknown, try \"ip help\""));
    };
    let mut rest = &words[1..];
    if let Some(cmd) = rest.first() {
        if is(cmd, "show") || is(cmd, "list") || is(cmd, "lst") {
            rest = &rest[1..];
        } else if *cmd != "dev"
            && ["add", "del", "delete", "change", "replace", "set", "flush"].contains(cmd)
        {
            return Err("RTNETLINK answers: Operation not permitted".into());
        }
    }
    let dev = rest
        .iter()
        .find(|w| !["dev", "up", "scope", "global", "host", "link"].contains(w));
    Ok((obj, dev.map(|d| d.to_string())))
}

/// `ip [-4|-6] addr|link|route [show] [dev IFACE]`: this container's interfaces and routes.
pub fn ip(args: &[String]) -> i32 {
    let mut v4 = false;
    let mut v6 = false;
    let mut words: Vec<&str> = Vec::new();
    for a in &args[1..] {
        match a.as_str() {
            "-4" => v4 = true,
            "-6" => v6 = true,
            "-f" | "-family" | "-o" | "-oneline" | "-s" | "-d" => {}
            "inet" if words.is_empty() => v4 = true,
            "inet6" if words.is_empty() => v6 = true,
            w => words.push(w),
        }
    }
    let (obj, dev) = match ip_parse(&words) {
        Ok(x) => x,
        Err(m) if m == "usage" => {
            eprintln!("Usage: ip [-4|-6] addr|link|route [show] [dev IFACE]");
            return 1;
        }
        Err(m) => {
            err!("{m}");
            return if m.starts_with("RTNETLINK") { 2 } else { 1 };
        }
    };
    let ifs = snet::interfaces().unwrap_or_default();
    match ip_show_text(&ifs, obj, dev.as_deref(), v4) {
        Ok(_) if v6 && obj != IpObject::Link => 0,
        Ok(text) => {
            let mut w = util::out();
            let _ = w.write_all(text.as_bytes());
            util::done(&mut w, 0)
        }
        Err(d) => {
            err!("can't find device '{d}'");
            1
        }
    }
}

// ----------------------------------------------------------------------------------------
// hostname -i

/// The addresses of the host name `h`, for `hostname -i` (None: it does not resolve).
pub fn host_addresses(h: &str) -> Option<Vec<Ipv4Addr>> {
    match snet::resolve(h) {
        Ok(v) if !v.is_empty() => Some(v),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => hosts_file_addresses(h),
        _ => None,
    }
}

/// The /etc/hosts addresses of `h` (where the network import is missing).
fn hosts_file_addresses(h: &str) -> Option<Vec<Ipv4Addr>> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let v: Vec<Ipv4Addr> = hosts
        .lines()
        .filter_map(|l| {
            let mut f = l.split('#').next().unwrap_or("").split_whitespace();
            let ip = f.next()?.parse().ok()?;
            f.any(|n| n == h).then_some(ip)
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn url(s: &str) -> Url {
        parse_url(s).unwrap()
    }

    #[test]
    fn urls() {
        let u = url("http://c2:3000/a/b.txt?x=1#frag");
        assert_eq!(
            (u.authority.as_str(), u.host.as_str(), u.port),
            ("c2:3000", "c2", 3000)
        );
        assert_eq!(u.path, "/a/b.txt?x=1");
        assert!(u.explicit_port);
        let u = url("srv");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str(), u.explicit_port),
            ("srv", 80, "/", false)
        );
        let u = url("HTTP://u:p%20w@h/?q");
        assert_eq!(
            (u.user.as_deref(), u.authority.as_str(), u.path.as_str()),
            (Some("u:p w"), "h", "/?q")
        );
        assert_eq!(url("h?x=a/b").path, "/?x=a/b");
        assert_eq!(
            parse_url("https://h/"),
            Err(UrlError::Scheme("https".into()))
        );
        assert_eq!(parse_url("http://h:99999/"), Err(UrlError::Malformed));
        assert_eq!(parse_url("http:///x"), Err(UrlError::Malformed));
        assert_eq!(url("h/x?u=http://y").host, "h");
    }

    #[test]
    fn file_names_and_redirects() {
        assert_eq!(url("c2:3000").file_name(), "index.html");
        assert_eq!(url("h/dir/").file_name(), "index.html");
        assert_eq!(url("h/dir/f.tgz").file_name(), "f.tgz");
        assert_eq!(url("h/f?a=b").file_name(), "f?a=b");
        let u = url("h:8080/a/b?x");
        assert_eq!(u.join("/new").unwrap().to_text(), "http://h:8080/new");
        assert_eq!(u.join("c").unwrap().path, "/a/c");
        assert_eq!(u.join("http://o/p").unwrap().authority, "o");
        assert_eq!(u.join("//o2:81/p").unwrap().port, 81);
    }

    #[test]
    fn encodings() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(percent_decode("a%41%zz%"), "aA%zz%");
    }

    #[test]
    fn requests() {
        let h = vec![("Host".to_string(), "c2".to_string())];
        assert_eq!(
            request("GET", "/", &h, b""),
            b"GET / HTTP/1.1\r\nHost: c2\r\n\r\n"
        );
        let m = merge_headers(
            vec![("Host".into(), "a".into()), ("Accept".into(), "*/*".into())],
            &[
                "host: b".into(),
                "Accept:".into(),
                "X-A: 1".into(),
                "X-E;".into(),
            ],
        );
        let names: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(names, ["host=b", "X-A=1", "X-E="]);
    }

    #[test]
    fn heads() {
        let mut r = Cursor::new(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: a\r\n  b\r\n\r\nhello"[..]);
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
            framing(
                &head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                false
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing(&head("HTTP/1.1 200 OK\r\n\r\n"), false),
            Ok(Framing::ToEof)
        );
        assert_eq!(
            framing(&head("HTTP/1.1 204 No Content\r\n\r\n"), false),
            Ok(Framing::Empty)
        );
        assert_eq!(
            framing(&head("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), false),
            Err("x".into())
        );
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

    #[test]
    fn progress() {
        assert_eq!(smart5(615), "  615");
        assert_eq!(smart5(99999), "99999");
        assert_eq!(smart5(100000), "97.6k");
        assert_eq!(smart5(5_000_000), "4882k");
        assert_eq!(smart5(500_000), " 488k");
        assert_eq!(smart5(50_000_000), "47.6M");
        let mut m = Meter::new("index.html", 7, false, 80);
        assert_eq!(m.update(7, 100, 615), None);
        assert_eq!(
            m.update(7, 615, 615).unwrap(),
            "index.html           100% |********************************|   615  0:00:00 ETA\n"
        );
        let mut m = Meter::new("a-very-long-file-name.tar.gz", 0, false, 80);
        assert_eq!(
            m.update(2, 1000, 4000).unwrap(),
            "a-very-long-file-nam  25% |********                        |  1000  0:00:06 ETA\n"
        );
        assert_eq!(
            m.update(4, 1000, 0).unwrap(),
            "a-very-long-file-nam  1000 --:--:-- ETA\n"
        );
        assert_eq!(
            m.update(9, 1000, 0).unwrap(),
            "a-very-long-file-nam  1000  - stalled -\n"
        );
        let mut m = Meter::new("-", 0, true, 80);
        assert!(m
            .update(0, 3, 3)
            .unwrap()
            .starts_with("\r-                    100% |"));
        assert_eq!(sanitize("Server:\tx\r"), "Server: x");
    }

    #[test]
    fn write_outs() {
        let v = |n: &str| (n == "http_code").then(|| "200".to_string());
        assert_eq!(write_out("%{http_code}\\n", v), "200\n");
        assert_eq!(
            write_out("a%%b %{nope}\\t%{http_code", v),
            "a%b \t%{http_code"
        );
    }

    #[test]
    fn ping_stats() {
        let mut st = PingStats {
            sent: 2,
            ..Default::default()
        };
        st.reply(209);
        st.reply(97);
        assert_eq!(
            ping_summary("c2", &st),
            "\n--- c2 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\n\
             round-trip min/avg/max = 0.097/0.153/0.209 ms\n"
        );
        let st = PingStats {
            sent: 3,
            ..Default::default()
        };
        assert_eq!(
            ping_summary("x", &st),
            "\n--- x ping statistics ---\n3 packets transmitted, 0 packets received, 100% packet loss\n"
        );
        assert_eq!(fmt_ms(12345), "12.345");
    }

    #[test]
    fn nslookups() {
        let ip = [Ipv4Addr::new(172, 20, 0, 3)];
        assert_eq!(
            nslookup_text("c2", "127.0.0.11", Some(&ip)),
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\tc2\nAddress: 172.20.0.3\n\n"
        );
        assert_eq!(
            nslookup_text("nosuch", "127.0.0.11", None),
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find nosuch: NXDOMAIN\n\n"
        );
    }

    fn ifaces() -> Vec<Interface> {
        snet::parse_interfaces("lo 127.0.0.1/8 00:00:00:00:00:00\neth0 172.20.0.4/16 02:42:ac:14:00:04\neth1 10.1.2.3/24 02:42:0a:01:02:03\n")
    }

    #[test]
    fn ip_addr() {
        let v4 = ip_show_text(&ifaces()[..2], IpObject::Addr, None, true).unwrap();
        assert_eq!(
            v4,
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n\
             \x20   inet 127.0.0.1/8 scope host lo\n\
             \x20      valid_lft forever preferred_lft forever\n\
             2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n\
             \x20   inet 172.20.0.4/16 brd 172.20.255.255 scope global eth0\n\
             \x20      valid_lft forever preferred_lft forever\n"
        );
        let one = ip_show_text(&ifaces(), IpObject::Addr, Some("eth1"), false).unwrap();
        assert_eq!(
            one,
            "3: eth1@if5: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n\
             \x20   link/ether 02:42:0a:01:02:03 brd ff:ff:ff:ff:ff:ff\n\
             \x20   inet 10.1.2.3/24 brd 10.1.2.255 scope global eth1\n\
             \x20      valid_lft forever preferred_lft forever\n"
        );
        let link = ip_show_text(&ifaces()[..1], IpObject::Link, None, false).unwrap();
        assert!(link
            .ends_with("qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"));
        assert_eq!(
            ip_show_text(&ifaces(), IpObject::Addr, Some("eth9"), false),
            Err("eth9".into())
        );
        assert_eq!(
            ip_route_text(&ifaces(), None),
            "default via 172.20.0.1 dev eth0 \n172.20.0.0/16 dev eth0 scope link  src 172.20.0.4 \n\
             10.1.2.0/24 dev eth1 scope link  src 10.1.2.3 \n"
        );
    }

    #[test]
    fn ip_words() {
        assert_eq!(ip_parse(&["a"]), Ok((IpObject::Addr, None)));
        assert_eq!(
            ip_parse(&["addr", "show", "eth0"]),
            Ok((IpObject::Addr, Some("eth0".into())))
        );
        assert_eq!(
            ip_parse(&["address", "show", "dev", "eth0"]),
            Ok((IpObject::Addr, Some("eth0".into())))
        );
        assert_eq!(ip_parse(&["r"]), Ok((IpObject::Route, None)));
        assert_eq!(ip_parse(&["link", "ls"]), Ok((IpObject::Link, None)));
        assert!(ip_parse(&["addr", "add", "1.2.3.4/8", "dev", "eth0"])
            .unwrap_err()
            .starts_with("RTNETLINK"));
        assert!(ip_parse(&["bogus"]).is_err());
    }

    #[test]
    fn offline_clients_fail_cleanly() {
        // Off wasm the network imports are missing: names do not resolve.
        let v = crate::util::testutil::argv;
        assert_eq!(nc(&v(&["nc", "nosuchhost", "80"])), 1);
        assert_eq!(ping(&v(&["ping", "-c", "1", "nosuchhost"])), 1);
        assert_eq!(curl(&v(&["curl", "-s", "http://nosuchhost/"])), 6);
        assert_eq!(curl(&v(&["curl", "-s", "https://x/"])), 1);
        assert_eq!(curl(&v(&["curl", "-s"])), 2);
        assert_eq!(wget(&v(&["wget", "-q", "http://nosuchhost:3000/"])), 1);
        assert_eq!(nc(&v(&["nc", "-z", "127.0.0.1", "80"])), 1);
        assert_eq!(ip(&v(&["ip", "addr", "show", "eth9"])), 1);
    }
}
