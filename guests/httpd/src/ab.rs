//! `ab`: ApacheBench 2.3, the HTTP benchmarking tool that ships with Apache httpd (this
//! program called as `ab`). One thread drives `-c` non-blocking connections with one `poll`;
//! the request is built once; each connection keeps only what it needs to frame a response
//! (status line, `Content-Length`, chunked framing, end of headers). Output, messages and exit
//! codes are ab's.
//!
//! Like ab it speaks HTTP/1.0 (`-k` adds `Connection: Keep-Alive`): a keep-alive response is
//! framed by its `Content-Length` (or, if a server sends one, chunked encoding), any other
//! response by the end of the connection.
//!
//! Where it differs from ab on purpose: `-t` implies `-n 50000` only when no `-n` is given
//! (in any order); a keep-alive connection the server closed while idle is reopened and its
//! request sent again instead of being counted as a failed request; keep-alive, length and
//! server are read from their header lines (`Connection:`/`Keep-Alive:`, `Content-Length:`,
//! `Server:`), not found anywhere in the head as ab's `strstr` does; `-w`/`-x`/`-y`/`-z`
//! (HTML output), `-b` and `-B` are accepted and ignored; there is no TLS.

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Instant;

use serve::time::Civil;

/// `This is ApacheBench, Version …`
pub const VERSION: &str = "2.3 <$Revision: 1903618 $>";
/// Requests of a `-t` run without `-n`.
const MAX_REQUESTS: u64 = 50000;
const MAX_CONCURRENCY: i64 = 20000;
/// Response headers longer than this are an error (ab's `CBUFFSIZE - 1`).
const MAX_HEADER: usize = 8191;
/// ab's request buffer.
const MAX_REQUEST: usize = 8192;
const READ_CHUNK: usize = 16 * 1024;
/// ab's option letters (`apr_getopt`), without the TLS ones.
const OPTSTRING: &str = "n:c:t:s:b:T:p:u:v:lrkVhwiIx:y:z:C:H:P:A:g:X:de:SqB:m:";

use serve::sys;
use sys::{PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};

// ---------------------------------------------------------------------------------------------
// The command line.

/// What a run does, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `argv[0]` as given (ab's messages use it).
    pub argv0: String,
    pub requests: u64,
    pub concurrency: usize,
    /// `-t` seconds; 0 = no limit.
    pub tlimit: u64,
    /// `-s`: how long `poll` may wait for anything, in milliseconds.
    pub timeout_ms: i64,
    pub keepalive: bool,
    /// Print `Completed N requests` every this many (0: print `..done` instead).
    pub heartbeat: u64,
    pub verbosity: i64,
    pub recverrok: bool,
    pub nolength: bool,
    pub percentile: bool,
    pub confidence: bool,
    /// The method is HEAD (responses have no body).
    pub head: bool,
    pub method: String,
    /// The URL's host, port and path.
    pub hostname: String,
    pub port: u16,
    pub path: String,
    /// Where to connect (the host, or the `-X` proxy).
    pub connecthost: String,
    pub connectport: u16,
    pub proxy: bool,
    /// The request (head and `-p`/`-u` body), sent as is on every request.
    pub request: Vec<u8>,
    pub send_body: bool,
    pub csv: Option<String>,
    pub gnuplot: Option<String>,
}

/// The command line ends the program: print these and exit with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub out: String,
    pub err: String,
    pub code: i32,
}

/// C's `atoi`: leading blanks, a sign, digits; 0 when there are none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add((b - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { T[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { T[n as usize & 63] as char } else { '=' });
    }
    out
}

/// The copyright lines ab prints first (and alone for `-V`).
pub fn copyright() -> String {
    format!(
        "This is ApacheBench, Version {VERSION}\nCopyright 1996 Adam Twiss, Zeus Technology Ltd, http://www.zeustech.net/\nLicensed to The Apache Software Foundation, http://www.apache.org/\n\n"
    )
}

/// ab's usage text (to stderr, exit 22).
pub fn usage(progname: &str) -> String {
    format!(
        "Usage: {progname} [options] [http://]hostname[:port]/path
Options are:
    -n requests     Number of requests to perform
    -c concurrency  Number of multiple requests to make at a time
    -t timelimit    Seconds to max. to spend on benchmarking
                    This implies -n 50000
    -s timeout      Seconds to max. wait for each response
                    Default is 30 seconds
    -b windowsize   Size of TCP send/receive buffer, in bytes
    -B address      Address to bind to when making outgoing connections
    -p postfile     File containing data to POST. Remember also to set -T
    -u putfile      File containing data to PUT. Remember also to set -T
    -T content-type Content-type header to use for POST/PUT data, eg.
                    'application/x-www-form-urlencoded'
                    Default is 'text/plain'
    -v verbosity    How much troubleshooting info to print
    -w              Print out results in HTML tables
    -i              Use HEAD instead of GET
    -x attributes   String to insert as table attributes
    -y attributes   String to insert as tr attributes
    -z attributes   String to insert as td or th attributes
    -C attribute    Add cookie, eg. 'Apache=1234'. (repeatable)
    -H attribute    Add Arbitrary header line, eg. 'Accept-Encoding: gzip'
                    Inserted after all normal header lines. (repeatable)
    -A attribute    Add Basic WWW Authentication, the attributes
                    are a colon separated username and password.
    -P attribute    Add Basic Proxy Authentication, the attributes
                    are a colon separated username and password.
    -X proxy:port   Proxyserver and port number to use
    -V              Print version number and exit
    -k              Use HTTP KeepAlive feature
    -d              Do not show percentiles served table.
    -S              Do not show confidence estimators and warnings.
    -q              Do not show progress when doing more than 150 requests
    -l              Accept variable document length (use this for dynamic pages)
    -g filename     Output collected data to gnuplot format file.
    -e filename     Output CSV file with percentages served
    -r              Don't exit on socket receive errors.
    -m method       Method name
    -h              Display usage information (this message)
"
    )
}

/// The parts of a URL ab needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    /// What the `Host:` header names (`[v6]` for an IPv6 literal).
    pub host_field: String,
    pub port: u16,
    pub path: String,
}

/// `[http://]host[:port][/path]` (a missing path is `/`). `Err(Some(msg))`: say `msg` and exit
/// 1 (`https://`); `Err(None)`: an invalid URL.
pub fn parse_url(url: &str) -> Result<Url, Option<String>> {
    let rest = if url.len() > 7 && url.starts_with("http://") {
        &url[7..]
    } else if url.len() > 8 && url.starts_with("https://") {
        return Err(Some("SSL not compiled in; no https support\n".into()));
    } else {
        url
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port, v6) = if let Some(r) = hostport.strip_prefix('[') {
        let end = r.find(']').ok_or(None)?;
        let after = &r[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(None)?),
        };
        (&r[..end], port, true)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p), false),
            None => (hostport, None, false),
        }
    };
    if host.is_empty() {
        return Err(None);
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(None),
        },
    };
    Ok(Url {
        host: host.to_string(),
        host_field: if v6 { format!("[{host}]") } else { host.to_string() },
        port,
        path: path.to_string(),
    })
}

fn strerror(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

/// Parse ab's command line (`argv[0]` first).
pub fn parse_args(argv: &[String]) -> Result<Config, Exit> {
    let argv0 = argv.first().cloned().unwrap_or_else(|| "ab".into());
    let prog = argv0.rsplit('/').next().unwrap_or(&argv0).to_string();
    let args = argv.get(1..).unwrap_or(&[]);
    let usage_exit = |err: String| Exit { out: String::new(), err: err + &usage(&argv0), code: 22 };
    let fail = |msg: &str| Exit { out: String::new(), err: format!("{msg}\n"), code: 1 };

    let mut requests: Option<u64> = None;
    let mut concurrency: i64 = 1;
    let mut tlimit: i64 = 0;
    let mut timed = false;
    let mut timeout_s: i64 = 30;
    let mut keepalive = false;
    let mut quiet = false;
    let mut verbosity = 0;
    let mut recverrok = false;
    let mut nolength = false;
    let mut percentile = true;
    let mut confidence = true;
    // None until a method is chosen; `custom` = from -m.
    let mut method: Option<String> = None;
    let mut body: Option<Vec<u8>> = None;
    let mut content_type: Option<String> = None;
    let mut cookie = String::new();
    let mut auth = String::new();
    let mut hdrs = String::new();
    let mut opt_host: Option<String> = None;
    let mut opt_useragent = false;
    let mut opt_accept = false;
    let mut proxy: Option<(String, u16)> = None;
    let mut csv = None;
    let mut gnuplot = None;
    let mut err = String::new();

    let mut i = 0;
    'args: while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let bytes = a.as_bytes();
        let mut j = 1;
        while j < bytes.len() {
            let ch = bytes[j] as char;
            j += 1;
            let spec = if ch == ':' { None } else { OPTSTRING.find(ch) };
            let Some(pos) = spec else {
                err.push_str(&format!("{prog}: illegal option -- {ch}\n"));
                if j == bytes.len() {
                    i += 1;
                }
                break 'args;
            };
            let value: Option<String> = if OPTSTRING.as_bytes().get(pos + 1) == Some(&b':') {
                if j < bytes.len() {
                    Some(a[j..].to_string())
                } else if i + 1 < args.len() {
                    i += 1;
                    Some(args[i].clone())
                } else {
                    err.push_str(&format!("{prog}: option requires an argument -- {ch}\n"));
                    i = args.len();
                    break 'args;
                }
            } else {
                None
            };
            let v = value.as_deref().unwrap_or("");
            match ch {
                'n' => {
                    let n = atoi(v);
                    if n <= 0 {
                        return Err(fail("Invalid number of requests\n"));
                    }
                    requests = Some(n as u64);
                }
                'k' => keepalive = true,
                'q' => quiet = true,
                'c' => concurrency = atoi(v),
                'i' => {
                    if method.is_some() {
                        return Err(fail("Cannot mix HEAD with other methods\n"));
                    }
                    method = Some("HEAD".into());
                }
                'g' => gnuplot = Some(v.to_string()),
                'd' => percentile = false,
                'e' => csv = Some(v.to_string()),
                'S' => confidence = false,
                's' => timeout_s = atoi(v),
                'p' | 'u' => {
                    let (name, what) = if ch == 'p' { ("POST", "POST") } else { ("PUT", "PUT") };
                    if method.is_some() {
                        return Err(fail(&format!("Cannot mix {what} with other methods\n")));
                    }
                    match std::fs::read(v) {
                        Ok(data) => body = Some(data),
                        Err(e) => {
                            return Err(Exit {
                                out: String::new(),
                                err: format!("ab: Could not open POST data file ({v}): {}\n", strerror(&e)),
                                code: 1,
                            })
                        }
                    }
                    method = Some(name.into());
                }
                'l' => nolength = true,
                'r' => recverrok = true,
                'v' => verbosity = atoi(v),
                't' => {
                    tlimit = atoi(v);
                    timed = true;
                }
                'T' => content_type = Some(v.to_string()),
                'C' => cookie = format!("Cookie: {v}\r\n"),
                'A' | 'P' => {
                    let cred = v.trim_start();
                    if cred.len().div_ceil(3) * 4 + 1 > 1024 {
                        return Err(fail(if ch == 'A' {
                            "Authentication credentials too long\n"
                        } else {
                            "Proxy credentials too long\n"
                        }));
                    }
                    let name = if ch == 'A' { "Authorization" } else { "Proxy-Authorization" };
                    auth.push_str(&format!("{name}: Basic {}\r\n", base64(cred.as_bytes())));
                }
                'H' => {
                    hdrs.push_str(v);
                    hdrs.push_str("\r\n");
                    let lower = v.to_ascii_lowercase();
                    if lower.starts_with("host:") {
                        opt_host = Some(v[5..].trim().to_string());
                    } else if lower.starts_with("accept:") {
                        opt_accept = true;
                    } else if lower.starts_with("user-agent:") {
                        opt_useragent = true;
                    }
                }
                'X' => {
                    let (h, p) = match v.split_once(':') {
                        Some((h, p)) => (h, atoi(p)),
                        None => (v, 0),
                    };
                    proxy = Some((h.to_string(), p as u16));
                }
                'h' => return Err(usage_exit(err)),
                'V' => return Err(Exit { out: copyright(), err, code: 0 }),
                'm' => method = Some(v.to_string()),
                // -w -x -y -z (HTML), -b (window size), -B (local address), -I: accepted.
                _ => {}
            }
            if value.is_some() {
                break;
            }
        }
        i += 1;
    }

    if i + 1 != args.len() {
        err.push_str(&format!("{argv0}: wrong number of arguments\n"));
        return Err(usage_exit(err));
    }
    let url = match parse_url(&args[i]) {
        Ok(u) => u,
        Err(Some(msg)) => return Err(Exit { out: String::new(), err: err + &msg, code: 1 }),
        Err(None) => {
            err.push_str(&format!("{argv0}: invalid URL\n"));
            return Err(usage_exit(err));
        }
    };
    // ab accepts 0 here and then crashes; refuse it with the same message.
    if concurrency <= 0 || concurrency > MAX_CONCURRENCY {
        err.push_str(&format!("{argv0}: Invalid Concurrency [Range 0..{MAX_CONCURRENCY}]\n"));
        return Err(usage_exit(err));
    }
    let requests = requests.unwrap_or(if timed { MAX_REQUESTS } else { 1 });
    if concurrency as u64 > requests {
        err.push_str(&format!("{argv0}: Cannot use concurrency level greater than total number of requests\n"));
        return Err(usage_exit(err));
    }
    let heartbeat = if !quiet && requests > 150 { (requests / 10).max(100) } else { 0 };

    let method = method.unwrap_or_else(|| "GET".into());
    if !opt_useragent || !opt_accept || opt_host.is_none() {
        let mut defaults = String::new();
        if opt_host.is_none() {
            let colonhost = if url.port != 80 { format!(":{}", url.port) } else { String::new() };
            defaults.push_str(&format!("Host: {}{colonhost}\r\n", url.host_field));
        }
        if !opt_useragent {
            defaults.push_str("User-Agent: ApacheBench/2.3\r\n");
        }
        if !opt_accept {
            defaults.push_str("Accept: */*\r\n");
        }
        hdrs.push_str(&defaults);
    }
    let target = if proxy.is_some() { args[i].as_str() } else { url.path.as_str() };
    let mut head = format!("{method} {target} HTTP/1.0\r\n");
    if keepalive {
        head.push_str("Connection: Keep-Alive\r\n");
    }
    head.push_str(&cookie);
    head.push_str(&auth);
    if let Some(b) = &body {
        head.push_str(&format!(
            "Content-length: {}\r\nContent-type: {}\r\n",
            b.len(),
            content_type.as_deref().unwrap_or("text/plain")
        ));
    }
    head.push_str(&hdrs);
    head.push_str("\r\n");
    if head.len() >= MAX_REQUEST {
        return Err(fail("Request too long\n"));
    }
    let mut request = head.into_bytes();
    if let Some(b) = &body {
        request.extend_from_slice(b);
    }
    let (connecthost, connectport) = match &proxy {
        Some((h, p)) => (h.clone(), *p),
        None => (url.host.clone(), url.port),
    };
    if !err.is_empty() {
        // An illegal option that did not end the command line: ab says so and goes on.
        let _ = io::stderr().write_all(err.as_bytes());
    }
    Ok(Config {
        argv0,
        requests,
        concurrency: concurrency as usize,
        tlimit: tlimit.max(0) as u64,
        timeout_ms: timeout_s.saturating_mul(1000),
        keepalive,
        heartbeat,
        verbosity,
        recverrok,
        nolength,
        percentile,
        confidence,
        head: method.eq_ignore_ascii_case("HEAD"),
        method,
        hostname: url.host,
        port: url.port,
        path: url.path,
        connecthost,
        connectport,
        proxy: proxy.is_some(),
        request,
        send_body: body.is_some(),
        csv,
        gnuplot,
    })
}

// ---------------------------------------------------------------------------------------------
// Responses.

/// The first `\n` in `h`, eight bytes at a time (wasm32 has 64-bit integers but, by default,
/// no SIMD): the scan over every response head is most of this program's own work.
fn find_nl(h: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut i = 0;
    while i + 8 <= h.len() {
        let x = u64::from_le_bytes(h[i..i + 8].try_into().unwrap()) ^ (ONES * b'\n' as u64);
        // A zero byte of `x` (a `\n`): its high bit survives; bytes below the first one are
        // exact, so the lowest set bit is the first match.
        let t = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if t != 0 {
            return Some(i + (t.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    h[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// Whether `line` starts with `name` (lowercase), ignoring case.
fn starts_ci(line: &[u8], name: &[u8]) -> bool {
    line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name)
}

/// Case-insensitive `strstr` (`needle` lowercase).
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let first = needle[0];
    hay.len() >= needle.len()
        && (0..=hay.len() - needle.len())
            .any(|i| hay[i] | 0x20 == first && hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// What ab looks at in a response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The three characters after `HTTP/1.x ` (`500` when there are none).
    pub code: [u8; 3],
    /// `Server:`'s value (when asked for).
    pub server: Option<String>,
    /// `Connection: keep-alive` or a `Keep-Alive:` header.
    pub keep_alive: bool,
    pub length: Option<u64>,
    pub chunked: bool,
}

impl Head {
    pub fn ok(&self) -> bool {
        self.code[0] == b'2'
    }

    /// A status that never has a body (1xx, 204, 304).
    pub fn bodiless(&self) -> bool {
        self.code[0] == b'1' || &self.code == b"204" || &self.code == b"304"
    }
}

/// Parse the response head at the start of `buf` in one pass over its lines: `None` until
/// its blank line has arrived, else the head and where the body starts. Lines may end in
/// `\r\n` or, for servers that break the spec, `\n` (as ab allows). `want_server`: extract
/// `Server:` (ab only looks at the first response).
pub fn scan_head(buf: &[u8], want_server: bool) -> Option<(Head, usize)> {
    let mut head = Head { code: *b"500", server: None, keep_alive: false, length: None, chunked: false };
    let mut pos = 0;
    loop {
        let nl = pos + find_nl(&buf[pos..])?;
        let mut line = &buf[pos..nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.is_empty() {
            return Some((head, nl + 1));
        }
        if pos == 0 {
            if line.len() >= 12 && line.starts_with(b"HTTP") {
                head.code.copy_from_slice(&line[9..12]);
            }
        } else {
            let value = |name_len: usize| {
                let v = &line[name_len..];
                &v[v.iter().take_while(|b| b.is_ascii_whitespace()).count()..]
            };
            match line[0] | 0x20 {
                b'c' if starts_ci(line, b"content-length:") => {
                    let v = value(15);
                    head.length = Some(
                        v.iter()
                            .take_while(|b| b.is_ascii_digit())
                            .fold(0u64, |n, &b| n.saturating_mul(10).saturating_add((b - b'0') as u64)),
                    );
                }
                b'c' if starts_ci(line, b"connection:") => head.keep_alive |= contains_ci(value(11), b"keep-alive"),
                b'k' if starts_ci(line, b"keep-alive:") => head.keep_alive = true,
                b't' if starts_ci(line, b"transfer-encoding:") => head.chunked = contains_ci(value(18), b"chunked"),
                b's' if want_server && head.server.is_none() && starts_ci(line, b"server:") => {
                    let v = value(7);
                    let n = v.iter().take_while(|&&b| b > 32).count().min(1023);
                    head.server = Some(String::from_utf8_lossy(&v[..n]).into_owned());
                }
                _ => {}
            }
        }
        pos = nl + 1;
    }
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// In a chunk-size line: the size so far.
    Size(u64),
    /// After the size (extensions, `\r`), waiting for the line's end.
    SizeEnd(u64),
    /// This many bytes of chunk data left.
    Data(u64),
    /// The `\r\n` after a chunk's data.
    DataEnd,
    /// In the trailer; `true` at the start of a line.
    Trailer(bool),
    Done,
}

/// Follows a chunked body to its end (the bytes are counted by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunked {
    state: ChunkState,
    /// The framing was broken.
    pub bad: bool,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked { state: ChunkState::Size(0), bad: false }
    }
}

impl Chunked {
    pub fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Take the next bytes of the body.
    pub fn feed(&mut self, mut data: &[u8]) {
        use ChunkState::*;
        while let Some(&b) = data.first() {
            if let Data(n) = self.state {
                let take = (n.min(data.len() as u64)) as usize;
                data = &data[take..];
                self.state = if take as u64 == n { DataEnd } else { Data(n - take as u64) };
                continue;
            }
            data = &data[1..];
            self.state = match self.state {
                Size(n) => match (b as char).to_digit(16) {
                    Some(d) if n >> 59 == 0 => Size(n << 4 | d as u64),
                    _ if b == b'\n' => self.size_line_done(n),
                    _ if b == b';' || b == b'\r' || b == b' ' || b == b'\t' => SizeEnd(n),
                    _ => self.broken(),
                },
                SizeEnd(n) => {
                    if b == b'\n' {
                        self.size_line_done(n)
                    } else {
                        SizeEnd(n)
                    }
                }
                DataEnd => match b {
                    b'\r' => DataEnd,
                    b'\n' => Size(0),
                    _ => self.broken(),
                },
                Trailer(start) => match b {
                    b'\n' if start => Done,
                    b'\n' => Trailer(true),
                    b'\r' => Trailer(start),
                    _ => Trailer(false),
                },
                Done => return,
                Data(_) => unreachable!(),
            };
            if self.state == Done {
                return;
            }
        }
    }

    fn size_line_done(&self, n: u64) -> ChunkState {
        if n == 0 {
            ChunkState::Trailer(true)
        } else {
            ChunkState::Data(n)
        }
    }

    fn broken(&mut self) -> ChunkState {
        self.bad = true;
        ChunkState::Done
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

/// One request's times in microseconds (ab's `struct data`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    /// When its connection started (or was reused), since the start of the run.
    pub start: i64,
    /// Connecting.
    pub ctime: i64,
    /// Start to the end of the response.
    pub time: i64,
    /// The request written to the first byte of the response.
    pub wait: i64,
}

/// What a run measured: everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub servername: String,
    pub doclen: u64,
    pub timetaken_us: u64,
    /// Wall-clock start, microseconds since the epoch (for `-g`).
    pub wall_start_us: u64,
    pub done: u64,
    pub doneka: u64,
    pub bad: u64,
    pub err_conn: u64,
    pub err_recv: u64,
    pub err_length: u64,
    pub err_except: u64,
    pub err_response: u64,
    pub epipe: u64,
    pub totalread: u64,
    pub totalbread: u64,
    pub totalposted: u64,
    pub stats: Vec<Stat>,
}

/// The run cannot go on: print `msg` to stderr (and `Total of N requests completed` when some
/// were) and exit with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal {
    pub msg: String,
    pub code: i32,
    pub done: u64,
}

/// An I/O error as Linux's errno and APR's text for it.
fn os_error(e: &io::Error) -> (i32, String) {
    use io::ErrorKind::*;
    let (n, t) = match e.kind() {
        ConnectionRefused => (111, "Connection refused"),
        ConnectionReset => (104, "Connection reset by peer"),
        ConnectionAborted => (103, "Software caused connection abort"),
        HostUnreachable => (113, "No route to host"),
        NetworkUnreachable => (101, "Network is unreachable"),
        TimedOut => (110, "Connection timed out"),
        BrokenPipe => (32, "Broken pipe"),
        AddrNotAvailable => (99, "Cannot assign requested address"),
        NotConnected => (107, "Transport endpoint is not connected"),
        _ => return (e.raw_os_error().unwrap_or(5), strerror(e)),
    };
    (n, t.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No socket.
    Closed,
    /// Connected, nothing to send (every request has been started).
    Idle,
    /// Part of the request waits for the socket to take it.
    Writing,
    /// The request is sent: reading the response.
    Reading,
}

struct Conn {
    stream: Option<TcpStream>,
    fd: i32,
    state: State,
    /// Bytes of the request written so far.
    wrote: usize,
    /// The response head so far, when it came in more than one read.
    hbuf: Vec<u8>,
    got_header: bool,
    /// This response is framed (keep-alive): it ends after `length` body bytes or its last
    /// chunk, not with the connection.
    ka: bool,
    length: u64,
    chunk: Option<Chunked>,
    /// Bytes of this response, and of its body.
    read: u64,
    bread: u64,
    /// Responses received on this socket before this one.
    served: u32,
    /// A request has been sent (counted in `started`) and not answered.
    in_flight: bool,
    start: i64,
    connect: i64,
    endwrite: i64,
    beginread: i64,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            stream: None,
            fd: -1,
            state: State::Closed,
            wrote: 0,
            hbuf: Vec::new(),
            got_header: false,
            ka: false,
            length: 0,
            chunk: None,
            read: 0,
            bread: 0,
            served: 0,
            in_flight: false,
            start: 0,
            connect: 0,
            endwrite: 0,
            beginread: 0,
        }
    }

    /// Ready for the next response on this socket.
    fn next_response(&mut self) {
        self.hbuf.clear();
        self.got_header = false;
        self.ka = false;
        self.length = 0;
        self.chunk = None;
        self.read = 0;
        self.bread = 0;
        self.in_flight = false;
        self.wrote = 0;
    }

    fn drop_socket(&mut self) {
        self.stream = None;
        self.fd = -1;
        self.state = State::Closed;
        self.served = 0;
        self.next_response();
    }
}

struct Bench<'a> {
    cfg: &'a Config,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    addr: SocketAddrV4,
    base: Instant,
    /// Microseconds since `base` at the last look at the clock.
    now: i64,
    lasttime: i64,
    conns: Vec<Conn>,
    /// Connections to reopen at the top of the loop (after an error: never inline, so a
    /// server that keeps failing cannot keep the loop from checking its limits).
    reconnect: Vec<usize>,
    requests_initialized: bool,
    started: u64,
    good: u64,
    scratch: Vec<u8>,
    r: Results,
}

impl Bench<'_> {
    fn tick(&mut self) -> i64 {
        self.now = self.base.elapsed().as_micros() as i64;
        self.now
    }

    fn apr_err(&self, what: &str, e: &io::Error) -> Fatal {
        let (n, text) = os_error(e);
        Fatal { msg: format!("{what}: {text} ({n})\n"), code: n, done: self.r.done }
    }

    fn aborted(&self, what: &str, e: &io::Error) -> Fatal {
        let mut f = self.apr_err(what, e);
        f.msg.insert_str(0, "\nTest aborted after 10 failures\n\n");
        f
    }

    /// ab's `bad++ > 10`: count a failure; true when there were more than 10 before it.
    fn too_many_failures(&mut self) -> bool {
        let before = self.r.bad;
        self.r.bad += 1;
        before > 10
    }

    /// Open connection `i` and send it a request (unless all requests have been started).
    fn start_connect(&mut self, i: usize) -> Result<(), Fatal> {
        loop {
            if self.started >= self.cfg.requests {
                self.conns[i].drop_socket();
                return Ok(());
            }
            self.conns[i].drop_socket();
            let t = self.tick();
            self.conns[i].start = t;
            self.lasttime = t;
            match sys::connect(self.addr) {
                Ok(s) => {
                    if let Err(e) = s.set_nonblocking(true) {
                        return Err(self.apr_err("socket nonblock", &e));
                    }
                    let _ = s.set_nodelay(true);
                    let t = self.tick();
                    let c = &mut self.conns[i];
                    c.fd = s.as_raw_fd();
                    c.stream = Some(s);
                    c.connect = t;
                    return self.write_request(i);
                }
                // What a non-blocking connect reports later, through recv (Linux's ab prints
                // `apr_socket_recv: Connection refused (111)`).
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::HostUnreachable
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    self.r.err_recv += 1;
                    if !self.cfg.recverrok {
                        return Err(self.apr_err("apr_socket_recv", &e));
                    }
                    if self.too_many_failures() {
                        return Err(self.aborted("apr_socket_connect()", &e));
                    }
                }
                Err(e) => {
                    if self.too_many_failures() {
                        return Err(self.aborted("apr_socket_connect()", &e));
                    }
                    self.r.err_conn += 1;
                }
            }
        }
    }

    /// Send (the rest of) the request on connection `i`.
    fn write_request(&mut self, i: usize) -> Result<(), Fatal> {
        if self.started >= self.cfg.requests {
            self.conns[i].state = State::Idle;
            return Ok(());
        }
        let req = &self.cfg.request;
        let c = &mut self.conns[i];
        let Some(s) = c.stream.as_mut() else {
            return Ok(());
        };
        while c.wrote < req.len() {
            match s.write(&req[c.wrote..]) {
                Ok(0) => return self.send_failed(i),
                Ok(n) => {
                    c.wrote += n;
                    self.r.totalposted += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.state = State::Writing;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.send_failed(i),
            }
        }
        c.wrote = 0;
        c.endwrite = self.now;
        c.in_flight = true;
        c.state = State::Reading;
        self.started += 1;
        Ok(())
    }

    fn send_failed(&mut self, i: usize) -> Result<(), Fatal> {
        if self.conns[i].served > 0 {
            // A keep-alive connection the server has closed: send the request on a new one.
            self.lost(i);
            return Ok(());
        }
        self.r.epipe += 1;
        let _ = self.out.write_all(b"Send request failed!\n");
        self.finish(i, false, false);
        self.conns[i].drop_socket();
        self.reconnect.push(i);
        Ok(())
    }

    /// Count the response of connection `i` (ab's `close_connection` / keep-alive path).
    fn finish(&mut self, i: usize, good: bool, ka: bool) {
        let bread = self.conns[i].bread;
        if good {
            self.good += 1;
        }
        if good && self.good == 1 {
            self.r.doclen = bread;
        } else if bread != self.r.doclen && !self.cfg.nolength {
            self.r.bad += 1;
            self.r.err_length += 1;
        }
        if self.r.done < self.cfg.requests {
            self.r.done += 1;
            if ka {
                self.r.doneka += 1;
            }
            let now = self.now;
            let c = &self.conns[i];
            self.r.stats.push(Stat {
                start: c.start,
                ctime: (c.connect - c.start).max(0),
                time: (now - c.start).max(0),
                wait: (c.beginread - c.endwrite).max(0),
            });
            self.lasttime = now;
            let hb = self.cfg.heartbeat;
            if hb > 0 && self.r.done.is_multiple_of(hb) {
                let _ = writeln!(self.err, "Completed {} requests", self.r.done);
            }
        }
    }

    /// Lose connection `i` without an answer to its request: the request will be sent again.
    fn lost(&mut self, i: usize) {
        if self.conns[i].in_flight {
            self.started -= 1;
        }
        self.conns[i].drop_socket();
        self.reconnect.push(i);
    }

    fn read_connection(&mut self, i: usize, revents: i16) -> Result<(), Fatal> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.read_into(i, revents, &mut scratch);
        self.scratch = scratch;
        r
    }

    fn read_into(&mut self, i: usize, revents: i16, scratch: &mut [u8]) -> Result<(), Fatal> {
        loop {
            let res = match self.conns[i].stream.as_mut() {
                Some(s) => s.read(scratch),
                None => return Ok(()),
            };
            match res {
                Ok(0) => return self.eof(i),
                Ok(n) => {
                    self.r.totalread += n as u64;
                    let c = &mut self.conns[i];
                    if c.read == 0 {
                        c.beginread = self.now;
                    }
                    c.read += n as u64;
                    if self.data(i, &scratch[..n])? || n < scratch.len() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if revents & (POLLERR | POLLNVAL) != 0 && revents & (POLLIN | POLLHUP) == 0 {
                        self.r.bad += 1;
                        self.r.err_except += 1;
                        self.lost(i);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let c = &self.conns[i];
                    if e.kind() == io::ErrorKind::ConnectionReset && c.read == 0 && c.served > 0 {
                        // The server reset a keep-alive connection it had closed while our
                        // request was on its way: send it again on a new connection.
                        self.lost(i);
                        return Ok(());
                    }
                    self.r.err_recv += 1;
                    if !self.cfg.recverrok {
                        return Err(self.apr_err("apr_socket_recv", &e));
                    }
                    self.r.bad += 1;
                    self.finish(i, false, false);
                    self.conns[i].drop_socket();
                    self.reconnect.push(i);
                    if self.cfg.verbosity >= 1 {
                        let (n, text) = os_error(&e);
                        let _ = writeln!(self.err, "apr_socket_recv: {text} ({n})");
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The server closed connection `i`.
    fn eof(&mut self, i: usize) -> Result<(), Fatal> {
        let c = &self.conns[i];
        if c.read == 0 && (c.served > 0 || !c.in_flight) {
            // A keep-alive connection closed while idle, or before it could answer the
            // request just sent on it: not a response.
            if c.in_flight {
                self.started -= 1;
            }
            self.conns[i].drop_socket();
            return self.start_connect(i);
        }
        self.finish(i, true, false);
        self.conns[i].drop_socket();
        self.start_connect(i)
    }

    /// Bytes of connection `i`'s response arrived. True when the connection is done with them
    /// (its response ended, or it was dropped).
    fn data(&mut self, i: usize, data: &[u8]) -> Result<bool, Fatal> {
        let c = &mut self.conns[i];
        if !c.got_header {
            let mut hb = std::mem::take(&mut c.hbuf);
            let buf: &[u8] = if hb.is_empty() {
                data
            } else {
                hb.extend_from_slice(data);
                &hb
            };
            if self.cfg.verbosity >= 2 {
                let shown = &buf[..buf.len().min(MAX_HEADER)];
                let _ = writeln!(self.out, "LOG: header received:\n{}", String::from_utf8_lossy(shown));
            }
            let Some((head, body_at)) = scan_head(buf, self.good == 0) else {
                if hb.is_empty() {
                    hb.extend_from_slice(data);
                }
                if hb.len() < MAX_HEADER {
                    self.conns[i].hbuf = hb;
                    return Ok(false);
                }
                // Too big a head: drop the connection.
                self.r.err_response += 1;
                if self.too_many_failures() {
                    return Err(Fatal {
                        msg: "\nTest aborted after 10 failures\n\n\n".into(),
                        code: 1,
                        done: self.r.done,
                    });
                }
                self.lost(i);
                return Ok(true);
            };
            let body = &buf[body_at..];
            if self.good == 0 {
                self.r.servername = head.server.clone().unwrap_or_default();
            }
            if !head.ok() {
                self.r.err_response += 1;
                if self.cfg.verbosity >= 2 {
                    let _ =
                        writeln!(self.out, "WARNING: Response code not 2xx ({})", String::from_utf8_lossy(&head.code));
                }
            } else if self.cfg.verbosity >= 3 {
                let _ = writeln!(self.out, "LOG: Response code = {}", String::from_utf8_lossy(&head.code));
            }
            let c = &mut self.conns[i];
            c.got_header = true;
            if self.cfg.keepalive && head.keep_alive {
                if self.cfg.head || head.bodiless() {
                    c.ka = true;
                    c.length = 0;
                } else if head.chunked {
                    c.ka = true;
                    c.length = u64::MAX;
                    let mut ch = Chunked::default();
                    ch.feed(body);
                    c.chunk = Some(ch);
                } else if let Some(n) = head.length {
                    c.ka = true;
                    c.length = n;
                }
                // Keep-alive without framing: the response ends with the connection.
            }
            c.bread = body.len() as u64;
            self.r.totalbread += body.len() as u64;
            hb.clear();
            c.hbuf = hb;
            if !self.requests_initialized {
                // The server answers: open the other connections.
                self.requests_initialized = true;
                for j in 1..self.conns.len() {
                    self.start_connect(j)?;
                }
            }
        } else {
            c.bread += data.len() as u64;
            self.r.totalbread += data.len() as u64;
            if let Some(ch) = c.chunk.as_mut() {
                ch.feed(data);
            }
        }
        let c = &mut self.conns[i];
        let complete = c.ka
            && match &c.chunk {
                Some(ch) => ch.done(),
                None => c.bread >= c.length,
            };
        if !complete {
            return Ok(false);
        }
        self.finish(i, true, true);
        let now = self.now;
        let c = &mut self.conns[i];
        c.served += 1;
        c.next_response();
        c.start = now;
        c.connect = now;
        self.lasttime = now;
        self.write_request(i)?;
        Ok(true)
    }

    fn run(&mut self) -> Result<(), Fatal> {
        let stop: i64 = if self.cfg.tlimit > 0 { (self.cfg.tlimit as i64).saturating_mul(1_000_000) } else { i64::MAX };
        self.start_connect(0)?;
        let mut fds: Vec<PollFd> = Vec::with_capacity(self.conns.len());
        let mut map: Vec<usize> = Vec::with_capacity(self.conns.len());
        loop {
            if self.lasttime >= stop || self.r.done >= self.cfg.requests {
                break;
            }
            for i in std::mem::take(&mut self.reconnect) {
                if self.conns[i].state == State::Closed {
                    self.start_connect(i)?;
                }
            }
            fds.clear();
            map.clear();
            for (i, c) in self.conns.iter().enumerate() {
                let events = match c.state {
                    State::Writing => POLLOUT,
                    State::Reading => POLLIN,
                    _ => continue,
                };
                fds.push(PollFd { fd: c.fd, events, revents: 0 });
                map.push(i);
            }
            if fds.is_empty() {
                if self.reconnect.is_empty() {
                    break;
                }
                continue;
            }
            let mut timeout = self.cfg.timeout_ms;
            if stop != i64::MAX {
                // From the clock of the last wake (no extra call per wake): at most the time
                // that wake's work took off.
                let left_ms = (stop - self.now + 999) / 1000;
                timeout = if timeout < 0 { left_ms } else { timeout.min(left_ms) };
            }
            let n = match sys::poll(&mut fds, timeout.clamp(-1, i32::MAX as i64) as i32) {
                Ok(n) => n,
                Err(e) => return Err(self.apr_err("apr_pollset_poll", &e)),
            };
            let now = self.tick();
            if n == 0 {
                if now >= stop {
                    self.lasttime = now;
                    break;
                }
                return Err(Fatal {
                    msg: "apr_pollset_poll: The timeout specified has expired (70007)\n".into(),
                    code: 70007,
                    done: self.r.done,
                });
            }
            self.lasttime = now;
            for k in 0..fds.len() {
                let rev = fds[k].revents;
                let i = map[k];
                if rev == 0 || self.conns[i].fd != fds[k].fd {
                    continue;
                }
                match self.conns[i].state {
                    State::Writing if rev & (POLLOUT | POLLERR | POLLHUP | POLLNVAL) != 0 => self.write_request(i)?,
                    State::Reading if rev & (POLLIN | POLLHUP | POLLERR | POLLNVAL) != 0 => {
                        self.read_connection(i, rev)?
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Run the benchmark `cfg` describes. Progress lines go to `err`, `-v` logs to `out`.
pub fn run(cfg: &Config, out: &mut dyn Write, err: &mut dyn Write) -> Result<Results, Fatal> {
    let ip = sys::resolve(&cfg.connecthost).map_err(|_| Fatal {
        msg: format!("apr_sockaddr_info_get() for {}: Name or service not known (670002)\n", cfg.connecthost),
        code: 670002,
        done: 0,
    })?;
    if cfg.verbosity >= 2 {
        let _ = write!(out, "INFO: {} header == \n---\n{}\n---\n", cfg.method, String::from_utf8_lossy(&cfg.request));
    }
    let wall_start_us =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0);
    let mut b = Bench {
        cfg,
        out,
        err,
        addr: SocketAddrV4::new(ip, cfg.connectport),
        base: Instant::now(),
        now: 0,
        lasttime: 0,
        conns: (0..cfg.concurrency).map(|_| Conn::new()).collect(),
        reconnect: Vec::new(),
        requests_initialized: false,
        started: 0,
        good: 0,
        scratch: vec![0u8; READ_CHUNK],
        r: Results { wall_start_us, ..Results::default() },
    };
    b.run()?;
    b.r.timetaken_us = b.lasttime.max(0) as u64;
    Ok(b.r)
}

// ---------------------------------------------------------------------------------------------
// The report.

fn round_ms(us: i64) -> i64 {
    (us + 500) / 1000
}

/// ab's median of `stats` sorted by `key` (it averages two neighbours for an odd count).
fn median(stats: &[Stat], key: impl Fn(&Stat) -> i64) -> i64 {
    let n = stats.len();
    if n > 1 && n % 2 == 1 {
        (key(&stats[n / 2]) + key(&stats[n / 2 + 1])) / 2
    } else {
        key(&stats[n / 2])
    }
}

/// The results as ab prints them after `..done` / `Finished N requests` (sorts `r.stats`).
pub fn report(cfg: &Config, r: &mut Results) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let t = r.timetaken_us as f64 / 1e6;
    let _ = write!(
        o,
        "\n\nServer Software:        {}\nServer Hostname:        {}\nServer Port:            {}\n\n",
        r.servername, cfg.hostname, cfg.port
    );
    let _ = writeln!(o, "Document Path:          {}", cfg.path);
    if cfg.nolength {
        o.push_str("Document Length:        Variable\n");
    } else {
        let _ = writeln!(o, "Document Length:        {} bytes", r.doclen);
    }
    let _ = write!(
        o,
        "\nConcurrency Level:      {}\nTime taken for tests:   {:.3} seconds\nComplete requests:      {}\nFailed requests:        {}\n",
        cfg.concurrency, t, r.done, r.bad
    );
    if r.bad > 0 {
        let _ = writeln!(
            o,
            "   (Connect: {}, Receive: {}, Length: {}, Exceptions: {})",
            r.err_conn, r.err_recv, r.err_length, r.err_except
        );
    }
    if r.epipe > 0 {
        let _ = writeln!(o, "Write errors:           {}", r.epipe);
    }
    if r.err_response > 0 {
        let _ = writeln!(o, "Non-2xx responses:      {}", r.err_response);
    }
    if cfg.keepalive {
        let _ = writeln!(o, "Keep-Alive requests:    {}", r.doneka);
    }
    let _ = writeln!(o, "Total transferred:      {} bytes", r.totalread);
    if cfg.send_body {
        let _ = writeln!(o, "Total body sent:        {}", r.totalposted);
    }
    let _ = writeln!(o, "HTML transferred:       {} bytes", r.totalbread);
    if r.timetaken_us > 0 && r.done > 0 {
        let done = r.done as f64;
        let _ = writeln!(o, "Requests per second:    {:.2} [#/sec] (mean)", done / t);
        let _ = writeln!(o, "Time per request:       {:.3} [ms] (mean)", cfg.concurrency as f64 * t * 1000.0 / done);
        let _ =
            writeln!(o, "Time per request:       {:.3} [ms] (mean, across all concurrent requests)", t * 1000.0 / done);
        let _ = writeln!(o, "Transfer rate:          {:.2} [Kbytes/sec] received", r.totalread as f64 / 1024.0 / t);
        if cfg.send_body {
            let _ = writeln!(o, "                        {:.2} kb/s sent", r.totalposted as f64 / 1024.0 / t);
            let _ = writeln!(
                o,
                "                        {:.2} kb/s total",
                (r.totalread + r.totalposted) as f64 / 1024.0 / t
            );
        }
    }
    let s = &mut r.stats;
    if s.is_empty() {
        return o;
    }
    let n = s.len() as i64;
    let (mut mincon, mut mintot, mut mind, mut minwait) = (i64::MAX, i64::MAX, i64::MAX, i64::MAX);
    let (mut maxcon, mut maxtot, mut maxd, mut maxwait) = (0i64, 0i64, 0i64, 0i64);
    let (mut totalcon, mut total, mut totald, mut totalwait) = (0i64, 0i64, 0i64, 0i64);
    for x in s.iter() {
        mincon = mincon.min(x.ctime);
        mintot = mintot.min(x.time);
        mind = mind.min(x.time - x.ctime);
        minwait = minwait.min(x.wait);
        maxcon = maxcon.max(x.ctime);
        maxtot = maxtot.max(x.time);
        maxd = maxd.max(x.time - x.ctime);
        maxwait = maxwait.max(x.wait);
        totalcon += x.ctime;
        total += x.time;
        totald += x.time - x.ctime;
        totalwait += x.wait;
    }
    let (meancon, meantot, meand, meanwait) = (totalcon / n, total / n, totald / n, totalwait / n);
    let (mut sdtot, mut sdcon, mut sdd, mut sdwait) = (0f64, 0f64, 0f64, 0f64);
    for x in s.iter() {
        let a = x.time as f64 - meantot as f64;
        sdtot += a * a;
        let a = x.ctime as f64 - meancon as f64;
        sdcon += a * a;
        let a = x.time as f64 - x.ctime as f64 - meand as f64;
        sdd += a * a;
        let a = x.wait as f64 - meanwait as f64;
        sdwait += a * a;
    }
    let sd = |v: f64| {
        if n > 1 {
            (v / (n - 1) as f64).sqrt() / 1000.0
        } else {
            0.0
        }
    };
    let (sdtot, sdcon, sdd, sdwait) = (sd(sdtot), sd(sdcon), sd(sdd), sd(sdwait));
    s.sort_by_key(|x| x.ctime);
    let mediancon = median(s, |x| x.ctime);
    s.sort_by_key(|x| x.time - x.ctime);
    let mediand = median(s, |x| x.time - x.ctime);
    s.sort_by_key(|x| x.wait);
    let medianwait = median(s, |x| x.wait);
    s.sort_by_key(|x| x.time);
    let mediantot = median(s, |x| x.time);

    o.push_str("\nConnection Times (ms)\n");
    let rows = [
        ("Connect:    ", round_ms(mincon), round_ms(meancon), sdcon, round_ms(mediancon), round_ms(maxcon)),
        ("Processing: ", round_ms(mind), round_ms(meand), sdd, round_ms(mediand), round_ms(maxd)),
        ("Waiting:    ", round_ms(minwait), round_ms(meanwait), sdwait, round_ms(medianwait), round_ms(maxwait)),
        ("Total:      ", round_ms(mintot), round_ms(meantot), sdtot, round_ms(mediantot), round_ms(maxtot)),
    ];
    if cfg.confidence {
        o.push_str("              min  mean[+/-sd] median   max\n");
        for (name, min, mean, sd, med, max) in rows {
            let _ = writeln!(o, "{name}{min:5} {mean:4} {sd:5.1} {med:6} {max:7}");
        }
        let what = ["the initial connection time", "the processing time", "the waiting time", "the total time"];
        for (w, (_, _, mean, sd, med, _)) in what.iter().zip(rows) {
            let d = (mean as f64 - med as f64).abs();
            if d > 2.0 * sd {
                let _ = writeln!(
                    o,
                    "ERROR: The median and mean for {w} are more than twice the standard\n       deviation apart. These results are NOT reliable."
                );
            } else if d > sd {
                let _ = writeln!(
                    o,
                    "WARNING: The median and mean for {w} are not within a normal deviation\n        These results are probably not that reliable."
                );
            }
        }
    } else {
        o.push_str("              min   avg   max\n");
        for (name, min, mean, _, _, max) in rows {
            let _ = writeln!(o, "{name}{min:5} {mean:5}{max:5}");
        }
    }
    if cfg.percentile && s.len() > 1 {
        o.push_str("\nPercentage of the requests served within a certain time (ms)\n");
        for p in [50u64, 66, 75, 80, 90, 95, 98, 99] {
            let _ = writeln!(o, "  {p}%  {:5}", round_ms(s[(s.len() as u64 * p / 100) as usize].time));
        }
        let _ = writeln!(o, " 100%  {:5} (longest request)", round_ms(s[s.len() - 1].time));
    }
    o
}

/// `-e`: the percentage of requests served within each time (`r.stats` sorted by time).
pub fn csv_text(r: &Results) -> String {
    use std::fmt::Write as _;
    let s = &r.stats;
    let mut o = String::from("Percentage served,Time in ms\n");
    for i in 0..=100usize {
        let idx = match i {
            0 => 0,
            100 => s.len() - 1,
            _ => ((0.5 + s.len() as f64 * i as f64 / 100.0) as usize).min(s.len() - 1),
        };
        let _ = writeln!(o, "{i},{:.3}", s[idx].time as f64 / 1000.0);
    }
    o
}

/// apr_ctime: `Wed Jun 30 21:49:08 1993` (UTC).
fn ctime(us: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let c = Civil::from_ms(us / 1000);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {}",
        DAYS[c.weekday as usize],
        MONTHS[(c.month - 1) as usize],
        c.day,
        c.hour,
        c.min,
        c.sec,
        c.year
    )
}

/// `-g`: one line per request.
pub fn gnuplot_text(r: &Results) -> String {
    use std::fmt::Write as _;
    let mut o = String::from("starttime\tseconds\tctime\tdtime\tttime\twait\n");
    for x in &r.stats {
        let at = r.wall_start_us + x.start.max(0) as u64;
        let _ = writeln!(
            o,
            "{}\t{}\t{}\t{}\t{}\t{}",
            ctime(at),
            at / 1_000_000,
            round_ms(x.ctime),
            round_ms(x.time - x.ctime),
            round_ms(x.time),
            round_ms(x.wait)
        );
    }
    o
}

// ---------------------------------------------------------------------------------------------

/// `ab …`: returns the exit code.
pub fn main(argv: &[String]) -> i32 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let cfg = match parse_args(argv) {
        Ok(c) => c,
        Err(e) => {
            let mut o = stdout.lock();
            let _ = o.write_all(e.out.as_bytes());
            let _ = o.flush();
            let _ = stderr.lock().write_all(e.err.as_bytes());
            return e.code;
        }
    };
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let _ = out.write_all(copyright().as_bytes());
    let _ = write!(out, "Benchmarking {} ", cfg.hostname);
    if cfg.proxy {
        let _ = write!(out, "[through {}:{}] ", cfg.connecthost, cfg.connectport);
    }
    let _ = write!(out, "(be patient){}", if cfg.heartbeat > 0 { "\n" } else { "..." });
    let _ = out.flush();
    match run(&cfg, &mut out, &mut err) {
        Ok(mut r) => {
            if cfg.heartbeat > 0 {
                let _ = writeln!(err, "Finished {} requests", r.done);
            } else {
                let _ = out.write_all(b"..done\n");
            }
            let text = report(&cfg, &mut r);
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            if r.done > 0 {
                for (path, what, text) in
                    [(&cfg.csv, "CSV", csv_text as fn(&Results) -> String), (&cfg.gnuplot, "gnuplot", gnuplot_text)]
                {
                    if let Some(p) = path {
                        if let Err(e) = std::fs::write(p, text(&r)) {
                            let _ = writeln!(err, "Cannot open {what} output file: {}", strerror(&e));
                            return 1;
                        }
                    }
                }
            }
            0
        }
        Err(f) => {
            let _ = out.flush();
            let _ = err.write_all(f.msg.as_bytes());
            if f.done > 0 {
                let _ = writeln!(out, "Total of {} requests completed", f.done);
                let _ = out.flush();
            }
            f.code & 0xff
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn argv(s: &[&str]) -> Vec<String> {
        std::iter::once("ab").chain(s.iter().copied()).map(String::from).collect()
    }

    fn cfg(s: &[&str]) -> Config {
        parse_args(&argv(s)).expect("valid command line")
    }

    fn exit(s: &[&str]) -> Exit {
        parse_args(&argv(s)).expect_err("an exit")
    }

    #[test]
    fn urls() {
        let u = parse_url("http://web/").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str(), u.host_field.as_str()), ("web", 80, "/", "web"));
        let u = parse_url("http://web").unwrap();
        assert_eq!(u.path, "/");
        let u = parse_url("127.0.0.1:8088/a/b?x=1").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("127.0.0.1", 8088, "/a/b?x=1"));
        let u = parse_url("http://[::1]:81/").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.host_field.as_str()), ("::1", 81, "[::1]"));
        assert_eq!(parse_url("http://:80/"), Err(None));
        assert_eq!(parse_url("http://web:x/"), Err(None));
        assert_eq!(parse_url("http://web:0/"), Err(None));
        assert_eq!(parse_url("http://web:70000/"), Err(None));
        assert_eq!(parse_url("https://web/"), Err(Some("SSL not compiled in; no https support\n".into())));
    }

    #[test]
    fn command_line() {
        let c = cfg(&["-k", "-c", "16", "-t", "5", "http://web/"]);
        assert_eq!((c.requests, c.concurrency, c.tlimit, c.keepalive, c.heartbeat), (50000, 16, 5, true, 5000));
        assert_eq!(
            String::from_utf8(c.request).unwrap(),
            "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: web\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
        );
        // -n wins over -t's 50000 in either order.
        assert_eq!(cfg(&["-n", "10000000", "-t", "5", "http://web/"]).requests, 10000000);
        assert_eq!(cfg(&["-t", "5", "-n", "7", "http://web/"]).requests, 7);
        // Clustered flags, attached values, -q, default port in Host, custom headers first.
        let c =
            cfg(&["-kq", "-n100", "-c4", "-H", "X-A: 1", "-H", "Accept: text/html", "-m", "PUT", "http://h:8080/p"]);
        assert_eq!((c.requests, c.concurrency, c.heartbeat, c.port, c.path.as_str()), (100, 4, 0, 8080, "/p"));
        assert_eq!(
            String::from_utf8(c.request).unwrap(),
            "PUT /p HTTP/1.0\r\nConnection: Keep-Alive\r\nX-A: 1\r\nAccept: text/html\r\nHost: h:8080\r\nUser-Agent: ApacheBench/2.3\r\n\r\n"
        );
        let c = cfg(&["-i", "-A", "user:pass", "-C", "a=1", "-H", "Host: other", "http://h/"]);
        assert!(c.head);
        assert_eq!(
            String::from_utf8(c.request).unwrap(),
            "HEAD / HTTP/1.0\r\nCookie: a=1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nHost: other\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
        );
        // Heartbeat: every 10%, at least every 100, none up to 150 requests.
        assert_eq!(cfg(&["-n", "150", "http://h/"]).heartbeat, 0);
        assert_eq!(cfg(&["-n", "151", "http://h/"]).heartbeat, 100);
        assert_eq!(cfg(&["-n", "5000", "http://h/"]).heartbeat, 500);
        // A proxy gets the whole URL.
        let c = cfg(&["-X", "px:3128", "http://h/x"]);
        assert_eq!((c.connecthost.as_str(), c.connectport, c.proxy), ("px", 3128, true));
        assert!(c.request.starts_with(b"GET http://h/x HTTP/1.0\r\n"));
    }

    #[test]
    fn post_body() {
        let dir = std::env::temp_dir().join(format!("ab-post-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("body");
        std::fs::write(&f, b"a=1&b=2").unwrap();
        let c = cfg(&["-p", f.to_str().unwrap(), "-T", "application/x-www-form-urlencoded", "http://h/"]);
        assert!(c.send_body);
        assert_eq!(
            String::from_utf8(c.request).unwrap(),
            "POST / HTTP/1.0\r\nContent-length: 7\r\nContent-type: application/x-www-form-urlencoded\r\nHost: h\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\na=1&b=2"
        );
        let e = exit(&["-p", "/nonexistent/x", "http://h/"]);
        assert_eq!(
            (e.err.as_str(), e.code),
            ("ab: Could not open POST data file (/nonexistent/x): No such file or directory\n", 1)
        );
        let e = exit(&["-i", "-p", f.to_str().unwrap(), "http://h/"]);
        assert_eq!((e.err.as_str(), e.code), ("Cannot mix POST with other methods\n\n", 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn command_line_errors() {
        let e = exit(&[]);
        assert_eq!(e.code, 22);
        assert!(e.err.starts_with(
            "ab: wrong number of arguments\nUsage: ab [options] [http://]hostname[:port]/path\nOptions are:\n"
        ));
        let e = exit(&["-n"]);
        assert!(e.err.starts_with("ab: option requires an argument -- n\nab: wrong number of arguments\nUsage: "));
        assert_eq!(e.code, 22);
        let e = exit(&["-n", "x", "http://h/"]);
        assert_eq!((e.err.as_str(), e.code), ("Invalid number of requests\n\n", 1));
        let e = exit(&["-c", "5", "-n", "2", "http://h/"]);
        assert!(e.err.starts_with("ab: Cannot use concurrency level greater than total number of requests\nUsage: "));
        let e = exit(&["-c", "20001", "-n", "30000", "http://h/"]);
        assert!(e.err.starts_with("ab: Invalid Concurrency [Range 0..20000]\n"));
        let e = exit(&["http://h:x/"]);
        assert!(e.err.starts_with("ab: invalid URL\nUsage: "));
        let e = exit(&["https://h/"]);
        assert_eq!((e.err.as_str(), e.code), ("SSL not compiled in; no https support\n", 1));
        let e = exit(&["-h"]);
        assert!(e.err.starts_with("Usage: ab [options]"));
        assert_eq!(e.code, 22);
        let e = exit(&["-V", "http://h/"]);
        assert_eq!((e.out.as_str(), e.code), (copyright().as_str(), 0));
        assert!(e.out.starts_with("This is ApacheBench, Version 2.3 <$Revision: 1903618 $>\n"));
        // An illegal option in the middle of a word leaves it as an extra argument.
        let e = exit(&["-Qk", "http://h/"]);
        assert!(e.err.starts_with("ab: illegal option -- Q\nab: wrong number of arguments\n"));
        // The full argv[0] in ab's own messages, the base name in getopt's.
        let e = parse_args(&["/usr/bin/ab".to_string(), "-n".into()]).unwrap_err();
        assert!(e.err.starts_with(
            "ab: option requires an argument -- n\n/usr/bin/ab: wrong number of arguments\nUsage: /usr/bin/ab "
        ));
    }

    #[test]
    fn heads() {
        let r = b"HTTP/1.1 200 OK\r\nServer: nginx/1.23.1\r\nContent-Length: 615\r\nConnection: keep-alive\r\n\r\nbody";
        let (h, at) = scan_head(r, true).unwrap();
        assert_eq!(
            h,
            Head {
                code: *b"200",
                server: Some("nginx/1.23.1".into()),
                keep_alive: true,
                length: Some(615),
                chunked: false
            }
        );
        assert_eq!(&r[at..], b"body");
        assert!(h.ok());
        // Not asked for the server; every prefix of the head is incomplete.
        assert_eq!(scan_head(r, false).unwrap().0.server, None);
        for n in 0..r.len() - 4 {
            assert_eq!(scan_head(&r[..n], true), None, "{n}");
        }
        let r = b"HTTP/1.0 404 Not Found\nserver:x y\ncontent-length:12\nTransfer-Encoding: gzip, chunked\nKeep-Alive: timeout=5\n\n";
        let (h, at) = scan_head(r, true).unwrap();
        assert_eq!(
            (h.code, h.server.as_deref(), h.keep_alive, h.length, h.chunked),
            (*b"404", Some("x"), true, Some(12), true)
        );
        assert_eq!(at, r.len());
        assert!(!h.ok());
        let (h, _) = scan_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Keep-Alive: 1\r\n\r\n", true).unwrap();
        assert!(!h.keep_alive && h.length.is_none() && h.server.is_none());
        assert_eq!(scan_head(b"garbage\r\n\r\n", true).unwrap().0.code, *b"500");
        assert!(scan_head(b"HTTP/1.1 304 Not Modified\r\n\r\n", true).unwrap().0.bodiless());
        assert!(contains_ci(b"Keep-Alive", b"keep-alive") && !contains_ci(b"keep", b"keep-alive"));
        let mut hay = [b'a'; 40];
        for at in 0..hay.len() {
            hay[at] = b'\n';
            for start in 0..=at {
                assert_eq!(find_nl(&hay[start..]), Some(at - start));
            }
            hay[at] = 0x0b; // \n + 1: a borrow must not fake a match
        }
        assert_eq!(find_nl(&hay), None);
        assert_eq!(find_nl(b"\x0b\x0a"), Some(1));
        assert_eq!(find_nl(b"\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a"), Some(0));
        assert_eq!(find_nl(b"\x8a\x0b\x09\x00\x00\x00\x00\x00\x0a"), Some(8));
    }

    #[test]
    fn chunked_bodies() {
        let body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
        let mut c = Chunked::default();
        c.feed(body);
        assert!(c.done() && !c.bad);
        // Byte by byte.
        let mut c = Chunked::default();
        for (i, b) in body.iter().enumerate() {
            assert!(!c.done(), "done early at {i}");
            c.feed(std::slice::from_ref(b));
        }
        assert!(c.done() && !c.bad);
        let mut c = Chunked::default();
        c.feed(b"A\r\n0123456789\r\n0\r\n\r");
        assert!(!c.done());
        c.feed(b"\n");
        assert!(c.done());
        let mut c = Chunked::default();
        c.feed(b"zz\r\n");
        assert!(c.done() && c.bad);
    }

    fn sample_results(times_ms: &[i64]) -> Results {
        Results {
            servername: "nginx/1.23.1".into(),
            doclen: 615,
            timetaken_us: 1_234_567,
            done: times_ms.len() as u64,
            doneka: times_ms.len() as u64,
            totalread: 853 * times_ms.len() as u64,
            totalbread: 615 * times_ms.len() as u64,
            stats: times_ms.iter().map(|&t| Stat { start: 0, ctime: 0, time: t * 1000, wait: t * 1000 }).collect(),
            ..Results::default()
        }
    }

    #[test]
    fn report_layout() {
        let c = cfg(&["-k", "-n", "10", "-c", "2", "http://web/"]);
        let mut r = sample_results(&[1, 1, 1, 1, 1, 1, 1, 1, 2, 3]);
        let text = report(&c, &mut r);
        let want = "

Server Software:        nginx/1.23.1
Server Hostname:        web
Server Port:            80

Document Path:          /
Document Length:        615 bytes

Concurrency Level:      2
Time taken for tests:   1.235 seconds
Complete requests:      10
Failed requests:        0
Keep-Alive requests:    10
Total transferred:      8530 bytes
HTML transferred:       6150 bytes
Requests per second:    8.10 [#/sec] (mean)
Time per request:       246.913 [ms] (mean)
Time per request:       123.457 [ms] (mean, across all concurrent requests)
Transfer rate:          6.75 [Kbytes/sec] received

Connection Times (ms)
              min  mean[+/-sd] median   max
Connect:        0    0   0.0      0       0
Processing:     1    1   0.7      1       3
Waiting:        1    1   0.7      1       3
Total:          1    1   0.7      1       3

Percentage of the requests served within a certain time (ms)
  50%      1
  66%      1
  75%      1
  80%      2
  90%      3
  95%      3
  98%      3
  99%      3
 100%      3 (longest request)
";
        assert_eq!(text, want);
    }

    #[test]
    fn report_failures_and_warnings() {
        let c = cfg(&["-n", "3", "-S", "-d", "http://web:8080/x"]);
        let mut r = sample_results(&[1, 10, 40]);
        r.bad = 2;
        r.err_length = 1;
        r.err_except = 1;
        r.err_response = 3;
        let text = report(&c, &mut r);
        assert!(text.contains("Server Port:            8080\n"));
        assert!(text.contains("Failed requests:        2\n   (Connect: 0, Receive: 0, Length: 1, Exceptions: 1)\nNon-2xx responses:      3\nTotal transferred:"));
        assert!(!text.contains("Keep-Alive requests"));
        assert!(text
            .contains("              min   avg   max\nConnect:        0     0    0\nProcessing:     1    17   40\n"));
        assert!(!text.contains("Percentage"));
        // With the estimators. ab's median of an odd count averages the two entries above
        // the middle: (10 + 40) / 2 = 25.
        let c = cfg(&["-n", "3", "http://web/"]);
        let mut r = sample_results(&[1, 10, 40]);
        let text = report(&c, &mut r);
        assert!(text.contains("Total:          1   17  20.4     25      40\n"), "{text}");
        assert!(text.contains("  50%     10\n  66%     10\n  75%     40\n"), "{text}");
        assert!(!text.contains("ERROR") && !text.contains("WARNING"));
        let mut r = sample_results(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 100]);
        let text = report(&c, &mut r);
        assert!(text.contains("Total:          0   10  31.6      0     100\n"), "{text}");
        // Mean and median are rounded to whole ms, the deviation is not: small times trip
        // ab's estimators.
        let us = |t: &[i64]| Results {
            done: t.len() as u64,
            timetaken_us: 1000,
            stats: t.iter().map(|&t| Stat { time: t, ..Stat::default() }).collect(),
            ..Results::default()
        };
        let text = report(&c, &mut us(&[400, 400, 600]));
        assert!(text.contains("Total:          0    0   0.1      1       1\nERROR: The median and mean for the processing time are more than twice the standard\n       deviation apart. These results are NOT reliable.\nERROR: The median and mean for the total time are more than twice the standard\n"), "{text}");
        let text = report(&c, &mut us(&[0, 2600]));
        assert!(text.contains("Processing:     0    1   1.8      3       3\nWaiting:        0    0   0.0      0       0\nTotal:          0    1   1.8      3       3\nWARNING: The median and mean for the processing time are not within a normal deviation\n        These results are probably not that reliable.\nWARNING: The median and mean for the total time are not within a normal deviation\n"), "{text}");
        // Nothing done: no times at all.
        let mut r = Results::default();
        let text = report(&c, &mut r);
        assert!(text.ends_with("HTML transferred:       0 bytes\n"));
    }

    #[test]
    fn csv_and_gnuplot() {
        let mut r = sample_results(&[1, 2, 3, 4]);
        r.wall_start_us = 741_398_400_000_000; // 1993-06-30 00:00:00 UTC
        r.stats[1].start = 1_500_000;
        let csv = csv_text(&r);
        assert!(csv.starts_with("Percentage served,Time in ms\n0,1.000\n1,1.000\n"));
        assert!(csv.ends_with("99,4.000\n100,4.000\n"));
        let g = gnuplot_text(&r);
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(lines[0], "starttime\tseconds\tctime\tdtime\tttime\twait");
        assert_eq!(lines[2], "Wed Jun 30 00:00:01 1993\t741398401\t0\t2\t2\t2");
        assert_eq!(base64(b"Aladdin:open sesame"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    /// How the test server answers.
    #[derive(Clone, Copy)]
    enum Mode {
        /// Keep-alive with Content-Length; close after this many responses on a connection
        /// (silently, as a server whose keep-alive limit or timeout ran out).
        KeepAlive(usize),
        /// HTTP/1.0 style: answer and close.
        Close,
        /// Keep-alive, chunked body in pieces.
        Chunked,
        /// 404s with a Content-Length.
        NotFound,
    }

    const BODY: &[u8] = b"<html>hello, world</html>\n";

    /// A threaded server on 127.0.0.1; returns its port and a count of connections.
    fn server(mode: Mode) -> (u16, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let conns = Arc::new(AtomicUsize::new(0));
        let count = conns.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let mut served = 0;
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match s.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let req = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        buf.drain(..end + 4);
                        let ka = req.contains("connection: keep-alive");
                        let mut resp = Vec::new();
                        match mode {
                            Mode::Chunked => {
                                resp.extend_from_slice(b"HTTP/1.1 200 OK\r\nServer: test/1\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n");
                                for part in BODY.chunks(10) {
                                    resp.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                                    resp.extend_from_slice(part);
                                    resp.extend_from_slice(b"\r\n");
                                }
                                resp.extend_from_slice(b"0\r\n\r\n");
                            }
                            _ => {
                                let status = if matches!(mode, Mode::NotFound) { "404 Not Found" } else { "200 OK" };
                                let conn = if ka && !matches!(mode, Mode::Close) { "keep-alive" } else { "close" };
                                resp.extend_from_slice(
                                    format!("HTTP/1.1 {status}\r\nServer: test/1\r\nContent-Length: {}\r\nConnection: {conn}\r\n\r\n", BODY.len())
                                        .as_bytes(),
                                );
                                resp.extend_from_slice(BODY);
                            }
                        }
                        // Send the response in two writes to exercise partial reads.
                        let cut = resp.len() / 2;
                        if s.write_all(&resp[..cut]).is_err() {
                            return;
                        }
                        std::thread::sleep(std::time::Duration::from_micros(50));
                        if s.write_all(&resp[cut..]).is_err() {
                            return;
                        }
                        served += 1;
                        let close = match mode {
                            Mode::KeepAlive(max) => !ka || served >= max,
                            Mode::Close => true,
                            _ => !ka,
                        };
                        if close {
                            return;
                        }
                    }
                });
            }
        });
        (port, conns)
    }

    fn bench(args: &[&str]) -> Result<Results, Fatal> {
        let c = cfg(args);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        run(&c, &mut out, &mut err)
    }

    #[test]
    fn keep_alive_run() {
        let (port, conns) = server(Mode::KeepAlive(usize::MAX));
        let url = format!("http://127.0.0.1:{port}/");
        let r = bench(&["-k", "-n", "500", "-c", "8", &url]).unwrap();
        assert_eq!((r.done, r.doneka, r.bad, r.err_response, r.doclen), (500, 500, 0, 0, BODY.len() as u64));
        assert_eq!(r.totalbread, 500 * BODY.len() as u64);
        assert_eq!(r.servername, "test/1");
        assert_eq!(r.stats.len(), 500);
        assert!(r.totalread > r.totalbread);
        assert_eq!(conns.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn keep_alive_server_closes_idle_connections() {
        // The server drops each connection after 7 responses without saying so: those
        // requests are sent again on a new connection, never counted as failures.
        let (port, conns) = server(Mode::KeepAlive(7));
        let url = format!("http://127.0.0.1:{port}/");
        let r = bench(&["-k", "-n", "300", "-c", "4", &url]).unwrap();
        assert_eq!((r.done, r.doneka, r.bad), (300, 300, 0));
        assert!(conns.load(Ordering::SeqCst) >= 300 / 7);
    }

    #[test]
    fn connection_per_request() {
        let (port, conns) = server(Mode::Close);
        let url = format!("http://127.0.0.1:{port}/");
        let r = bench(&["-n", "200", "-c", "10", &url]).unwrap();
        assert_eq!((r.done, r.doneka, r.bad, r.doclen), (200, 0, 0, BODY.len() as u64));
        assert_eq!(conns.load(Ordering::SeqCst), 200);
        // -k against a server that closes: still one request per connection.
        let r = bench(&["-k", "-n", "50", "-c", "5", &url]).unwrap();
        assert_eq!((r.done, r.doneka, r.bad), (50, 0, 0));
    }

    #[test]
    fn chunked_keep_alive() {
        let (port, conns) = server(Mode::Chunked);
        let url = format!("http://127.0.0.1:{port}/");
        let r = bench(&["-k", "-n", "100", "-c", "4", &url]).unwrap();
        assert_eq!((r.done, r.doneka, r.bad), (100, 100, 0));
        assert_eq!(conns.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn non_2xx_and_time_limit() {
        let (port, _) = server(Mode::NotFound);
        let url = format!("http://127.0.0.1:{port}/");
        let r = bench(&["-k", "-n", "40", "-c", "2", &url]).unwrap();
        assert_eq!((r.done, r.err_response, r.bad), (40, 40, 0));
        // A time limit stops a run that would go on much longer.
        let (port, _) = server(Mode::KeepAlive(usize::MAX));
        let url = format!("http://127.0.0.1:{port}/");
        let t0 = Instant::now();
        let r = bench(&["-k", "-t", "1", "-n", "100000000", "-c", "4", &url]).unwrap();
        let took = t0.elapsed().as_secs_f64();
        assert!((0.9..3.0).contains(&took), "took {took}s");
        assert!(r.done > 0 && r.bad == 0);
        assert!(r.timetaken_us >= 1_000_000 && r.timetaken_us < 2_000_000, "{}", r.timetaken_us);
    }

    #[test]
    fn fatal_errors() {
        // Nothing listens: ab's message and exit code (111).
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let e = bench(&["-n", "5", &format!("http://127.0.0.1:{port}/")]).unwrap_err();
        assert_eq!(e, Fatal { msg: "apr_socket_recv: Connection refused (111)\n".into(), code: 111, done: 0 });
        let e = bench(&["http://no-such-host.invalid/"]).unwrap_err();
        assert_eq!(
            e,
            Fatal {
                msg: "apr_sockaddr_info_get() for no-such-host.invalid: Name or service not known (670002)\n".into(),
                code: 670002,
                done: 0
            }
        );
        assert_eq!(e.code & 0xff, 50);
    }
}
