//! `wget`: busybox's downloader (redirects, -S headers, the progress meter, -O/-P outputs).

use super::http::{framing, header_line, read_head, request, Body, Framing, Head};
use super::progress::Meter;
use super::url::{base64, parse_url, scheme_of, Url};
use super::{lookup, net_errstr, open_output, secs_arg, Conn, BUF};
use crate::err;
use crate::util::{self, errstr, getopt_long};
use skiff_guest::net as snet;
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

const W_SPIDER: char = '\u{e000}';
const W_HEADER: char = '\u{e001}';
const W_POST: char = '\u{e002}';
const W_IGNORED: char = '\u{e003}';

/// A header line as busybox shows it: cut at the first control character, tabs as spaces.
pub(super) fn sanitize(s: &str) -> String {
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
            let loc = head.get("location").filter(|_| head.code >= 300).map(str::to_string);
            let Some(loc) = loc else { break (rd, head) };
            redirects -= 1;
            if redirects == 0 {
                return Err("too many redirections".into());
            }
            url = url.join(&loc).map_err(|_| format!("not an http or ftp url: {loc}"))?;
            if scheme_of(&loc).is_some() || loc.starts_with("//") {
                ip = self.resolve(&url)?;
            }
        };
        let fr = framing(&head, false).map_err(|v| format!("content-length {v} is garbage"))?;
        if let Some(te) = head.get("transfer-encoding").filter(|_| fr != Framing::Chunked) {
            return Err(format!("transfer encoding '{te}' is not supported"));
        }
        if self.spider {
            return Ok(());
        }
        if self.out.is_none() || sink.is_none() {
            let excl = self.out.is_none();
            let f = open_output(&fname, excl).map_err(|e| format!("can't open '{fname}': {}", errstr(&e)))?;
            *sink = Some(f);
        }
        let out = sink.as_mut().expect("opened above");
        self.retrieve(&mut rd, fr, out, &fname)?;
        if self.out.is_none() {
            let mut f = sink.take().expect("opened above");
            f.flush().map_err(|e| format!("write error: {}", errstr(&e)))?;
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
        (&s).write_all(&req).map_err(|e| format!("error sending request: {}", net_errstr(&e)))?;
        Ok(BufReader::new(Conn { s, idle: Some(self.timeout), deadline: None }))
    }

    /// The request bytes: busybox's headers, the user's `--header`s, the post data.
    fn request(&self, url: &Url) -> Vec<u8> {
        let user_has = |name: &str| {
            self.headers.iter().any(|h| h.split(':').next().is_some_and(|k| k.trim().eq_ignore_ascii_case(name)))
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
            h.push(("Authorization".into(), format!("Basic {}", base64(u.as_bytes()))));
        }
        h.extend(self.headers.iter().filter_map(|x| header_line(x)));
        let (method, body) = match &self.post {
            Some(p) => {
                h.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
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
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err("download timed out".into()),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err("error getting response".into()),
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
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80);
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
                Err(e) if e.kind() == io::ErrorKind::TimedOut => break Err("download timed out".into()),
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
        out.flush().map_err(|e| format!("write error: {}", errstr(&e)))?;
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
