//! The whoami page: the HTTP service that builds it from the request and the peer address.

use std::net::{Ipv4Addr, SocketAddrV4};

use serve::http::{self, Parsed};
use serve::time::{Cached, Civil};
use serve::{Ctx, Service, Step};

/// The container's non-loopback addresses, now.
pub type Interfaces = fn() -> Vec<Ipv4Addr>;

pub struct Page {
    hostname: String,
    author: String,
    interfaces: Interfaces,
    /// `Hostname:`, `IP:` and `Author:` lines, made once per event-loop wake: a network
    /// connected or disconnected shows in the next request.
    fixed: Vec<u8>,
    /// The wake `fixed` was made in.
    fixed_wake: Option<u64>,
    body: Vec<u8>,
    date: Cached,
}

impl Page {
    pub fn new(hostname: &str, author: &str, interfaces: Interfaces) -> Page {
        Page {
            hostname: hostname.to_string(),
            author: author.to_string(),
            interfaces,
            fixed: Vec::new(),
            fixed_wake: None,
            body: Vec::new(),
            date: Cached::default(),
        }
    }

    fn refresh(&mut self, wake: u64) {
        if self.fixed_wake == Some(wake) {
            return;
        }
        let mut fixed = format!("Hostname: {}\n", self.hostname);
        for ip in (self.interfaces)() {
            fixed.push_str(&format!("IP: {ip}\n"));
        }
        fixed.push_str("IP: 127.0.0.1\n");
        fixed.push_str(&format!("Author: {}\n", self.author));
        self.fixed = fixed.into_bytes();
        self.fixed_wake = Some(wake);
    }

    /// Append the response to `req` from `peer` to `out`.
    fn respond(&mut self, req: &http::Request, peer: &[u8], now_ms: u64, out: &mut Vec<u8>) {
        let b = &mut self.body;
        b.clear();
        b.extend_from_slice(&self.fixed);
        b.extend_from_slice(b"RemoteAddr: ");
        b.extend_from_slice(peer);
        b.push(b'\n');
        b.extend_from_slice(req.line.as_bytes());
        b.push(b'\n');
        for l in req.header_lines() {
            b.extend_from_slice(l);
            b.push(b'\n');
        }
        http::push_status(out, 200);
        http::push_header(out, "Content-Type", b"text/plain; charset=utf-8");
        http::push_header(out, "Date", self.date.get(now_ms, Civil::push_http));
        http::push_header_num(out, "Content-Length", b.len() as u64);
        if !req.keep_alive {
            http::push_header(out, "Connection", b"close");
        } else if req.is_http10() {
            http::push_header(out, "Connection", b"keep-alive");
        }
        out.extend_from_slice(b"\r\n");
        if req.method != "HEAD" {
            out.extend_from_slice(b);
        }
    }
}

impl Service for Page {
    /// The peer's `ip:port`.
    type Conn = Vec<u8>;

    fn open(&mut self, peer: SocketAddrV4) -> Vec<u8> {
        peer.to_string().into_bytes()
    }

    fn step(&mut self, peer: &mut Vec<u8>, input: &[u8], cx: &mut Ctx) -> Step {
        match http::parse(input) {
            Parsed::Partial => Step::Need,
            Parsed::Request(req) => {
                self.refresh(cx.wake);
                self.respond(&req, peer, cx.now_ms, cx.out);
                if req.keep_alive {
                    Step::Used(req.len)
                } else {
                    Step::Close(req.len)
                }
            }
            Parsed::Bad { status, .. } => {
                let body = format!("{} {}\n", status, http::reason(status));
                http::push_status(cx.out, status);
                http::push_header(cx.out, "Content-Type", b"text/plain; charset=utf-8");
                http::push_header_num(cx.out, "Content-Length", body.len() as u64);
                http::push_header(cx.out, "Connection", b"close");
                cx.out.extend_from_slice(b"\r\n");
                cx.out.extend_from_slice(body.as_bytes());
                Step::Close(input.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(page: &mut Page, input: &str) -> (String, Vec<Step>) {
        let (mut out, mut log) = (Vec::new(), Vec::new());
        let mut peer = page.open(SocketAddrV4::new(Ipv4Addr::new(172, 17, 0, 1), 53042));
        let mut steps = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let mut cx = Ctx { out: &mut out, log: &mut log, now_ms: 1_795_514_400_000, wake: 1 };
            let s = page.step(&mut peer, &input.as_bytes()[pos..], &mut cx);
            steps.push(s);
            match s {
                Step::Need => break,
                Step::Used(n) => pos += n,
                Step::Close(_) => break,
            }
        }
        (String::from_utf8(out).unwrap(), steps)
    }

    #[test]
    fn page() {
        let mut p = Page::new("abc123", "unknown", || vec![Ipv4Addr::new(172, 17, 0, 2)]);
        let (out, steps) =
            run(&mut p, "GET / HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
        let body = "Hostname: abc123\nIP: 172.17.0.2\nIP: 127.0.0.1\nAuthor: unknown\nRemoteAddr: 172.17.0.1:53042\nGET / HTTP/1.1\nHost: localhost:3000\nUser-Agent: curl/7.88.1\nAccept: */*\n";
        let want = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Tue, 24 Nov 2026 10:00:00 GMT\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(out, want);
        assert_eq!(steps, vec![Step::Used(78)]);
    }

    #[test]
    fn pipelined_close_and_head() {
        let mut p = Page::new("h", "me", Vec::new);
        let (out, steps) = run(&mut p, "HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.0\r\n\r\nGET /z HTTP/1.1\r\n\r\n");
        assert_eq!(steps, vec![Step::Used(20), Step::Close(19)]);
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2);
        assert!(out.contains("Connection: close\r\n\r\nHostname: h\nIP: 127.0.0.1\nAuthor: me\n"));
        assert!(!out.contains("HEAD /x HTTP/1.1\n"), "HEAD has no body");
    }

    #[test]
    fn bad_request_closes() {
        let mut p = Page::new("h", "me", Vec::new);
        let (out, steps) = run(&mut p, "NOT HTTP\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert_eq!(steps, vec![Step::Close(12)]);
    }

    #[test]
    fn interfaces_are_read_once_per_wake() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        fn ifaces() -> Vec<Ipv4Addr> {
            let n = CALLS.fetch_add(1, Ordering::SeqCst) as u8;
            vec![Ipv4Addr::new(10, 0, 0, n)]
        }
        let mut p = Page::new("h", "me", ifaces);
        let mut peer = p.open(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1));
        let (mut out, mut log) = (Vec::new(), Vec::new());
        for wake in [1, 1, 2] {
            let mut cx = Ctx { out: &mut out, log: &mut log, now_ms: 0, wake };
            p.step(&mut peer, b"GET / HTTP/1.1\r\n\r\n", &mut cx);
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
        assert_eq!(out.matches("IP: 10.0.0.0\n").count(), 2);
        assert_eq!(out.matches("IP: 10.0.0.1\n").count(), 1);
    }
}
