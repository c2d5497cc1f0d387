//! One curl transfer: connect, send, follow redirects, write the head and body, map errors.

use super::{merge_headers, Curl, CurlErr, Got};
use crate::applets::net::http::{framing, read_head, request, Body, Framing, Head};
use crate::applets::net::url::{base64, parse_url, Url, UrlError};
use crate::applets::net::{lookup, net_errstr, open_output, Conn, BUF};
use crate::util::errstr;
use skiff_guest::net as snet;
use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddrV4;
use std::time::Instant;

impl Curl {
    /// Do the transfer (following redirects with -L) and record it in `got`.
    pub(super) fn run(&self, start: Instant, got: &mut Got) -> Result<(), CurlErr> {
        let mut url = parse_url(&self.url).map_err(url_err)?;
        let mut method = self.initial_method();
        let mut body = self.data.clone();
        let mut sink: Option<Box<dyn Write>> = None;
        loop {
            got.url = url.to_text();
            let mut rd = self.connect(&url, start, got)?;
            let req = self.request(&url, &method, body.as_deref());
            self.trace_request(&req);
            (&rd.get_ref().s).write_all(&req).map_err(|e| CurlErr(55, format!("Send failure: {}", net_errstr(&e))))?;
            let head = self.head(&mut rd, start, got)?;
            got.code = head.code;
            got.header += head.raw.len() as u64;
            got.content_type = head.get("content-type").unwrap_or("").to_string();
            let loc = head.get("location").filter(|_| self.location && (300..400).contains(&head.code));
            if let Some(loc) = loc {
                self.write_head(&head, &url, &mut sink)?;
                got.redirects += 1;
                if got.redirects > 50 {
                    return Err(CurlErr(47, "Maximum (50) redirects followed".into()));
                }
                url = url.join(loc).map_err(url_err)?;
                if head.code == 303 || (matches!(head.code, 301 | 302) && method == "POST" && self.method.is_none()) {
                    method = "GET".into();
                    body = None;
                }
                continue;
            }
            if self.fail && head.code >= 400 {
                return Err(CurlErr(22, format!("The requested URL returned error: {}", head.code)));
            }
            self.write_head(&head, &url, &mut sink)?;
            let fr =
                framing(&head, method == "HEAD").map_err(|v| CurlErr(8, format!("Invalid Content-Length: {v}")))?;
            let out = self.sink(&url, &mut sink)?;
            self.copy_body(&mut rd, fr, out, start, got)?;
            out.flush().map_err(|_| CurlErr(23, "Failure writing output to destination".into()))?;
            if self.verbose {
                eprintln!("* Connection #0 to host {} left intact", url.host);
            }
            return Ok(());
        }
    }

    /// Resolve and connect (with -v's `Trying`/`Connected` lines).
    fn connect(&self, url: &Url, start: Instant, got: &mut Got) -> Result<BufReader<Conn>, CurlErr> {
        let ip = lookup(&url.host).ok_or_else(|| CurlErr(6, format!("Could not resolve host: {}", url.host)))?;
        got.ip = ip.to_string();
        got.port = url.port;
        if self.verbose {
            eprintln!("*   Trying {ip}:{}...", url.port);
        }
        let s = snet::connect(SocketAddrV4::new(ip, url.port)).map_err(|e| {
            let ms = start.elapsed().as_millis();
            CurlErr(7, format!("Failed to connect to {} port {} after {ms} ms: {}", url.host, url.port, net_errstr(&e)))
        })?;
        if self.verbose {
            eprintln!("* Connected to {} ({ip}) port {}", url.host, url.port);
        }
        let deadline = self.max_time.map(|d| start + d);
        Ok(BufReader::new(Conn { s, idle: None, deadline }))
    }

    /// The request bytes: curl's default headers merged with `-H`, then the data.
    fn request(&self, url: &Url, method: &str, body: Option<&[u8]>) -> Vec<u8> {
        let host = if url.explicit_port && url.port != 80 { url.authority.clone() } else { url.host.clone() };
        let mut h = vec![("Host".to_string(), host)];
        if let Some(u) = self.user.as_ref().or(url.user.as_ref()) {
            h.push(("Authorization".into(), format!("Basic {}", base64(u.as_bytes()))));
        }
        h.push(("User-Agent".into(), self.agent.clone()));
        h.push(("Accept".into(), "*/*".into()));
        let mut h = merge_headers(h, &self.headers);
        if let Some(b) = body {
            let has = |h: &[(String, String)], n: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
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
    fn write_head(&self, head: &Head, url: &Url, sink: &mut Option<Box<dyn Write>>) -> Result<(), CurlErr> {
        if !(self.include || self.head) {
            return Ok(());
        }
        let out = self.sink(url, sink)?;
        out.write_all(&head.raw).map_err(|_| CurlErr(23, "Failure writing output to destination".into()))
    }

    /// The output (opened on first use): `-o FILE`, `-O` (the URL's file name) or stdout.
    fn sink<'a>(&self, url: &Url, sink: &'a mut Option<Box<dyn Write>>) -> Result<&'a mut Box<dyn Write>, CurlErr> {
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
                    return Err(CurlErr(18, "transfer closed with outstanding read data remaining".into()))
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(CurlErr(56, "Illegal or missing hexadecimal sequence in chunked-encoding".into()))
                }
                Err(e) => return Err(recv_err(&e, start, got.body)),
            };
            got.body += n as u64;
            out.write_all(&buf[..n]).map_err(|_| CurlErr(23, "Failure writing output to destination".into()))?;
        }
        match body.missing() {
            0 => Ok(()),
            m => Err(CurlErr(18, format!("transfer closed with {m} bytes remaining to read"))),
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
        return CurlErr(28, format!("Operation timed out after {ms} milliseconds with {n} bytes received"));
    }
    if matches!(e.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData) {
        return CurlErr(8, "Weird server reply".into());
    }
    CurlErr(56, format!("Recv failure: {}", net_errstr(e)))
}
