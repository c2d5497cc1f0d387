//! The HTTP service: answers GET/HEAD from the document root in the flavour's manner and
//! writes the access log.

use std::net::SocketAddrV4;

use serve::http::{self, Parsed, PathError, Request};
use serve::time::{Cached, Civil};
use serve::{Ctx, Service, Step};

use crate::files::{Files, Found};
use crate::flavor::{listing, Kind};

pub struct Site {
    kind: Kind,
    files: Files,
    date: Cached,
    log_time: Cached,
    /// The decoded path of the current request.
    url: String,
    /// The current file's entity tag.
    etag: Vec<u8>,
}

/// Per connection: the peer's address as the log shows it.
pub struct Conn {
    peer: Vec<u8>,
}

impl Site {
    pub fn new(kind: Kind, root: &str) -> Site {
        Site {
            kind,
            files: Files::new(root),
            date: Cached::default(),
            log_time: Cached::default(),
            url: String::new(),
            etag: Vec::new(),
        }
    }

    /// Append the answer to `req` to `out`; returns the status and body bytes sent.
    fn answer(&mut self, req: &Request, keep: bool, now_ms: u64, wake: u64, out: &mut Vec<u8>) -> (u16, u64) {
        let kind = self.kind;
        let head_only = req.method == "HEAD";
        if req.method != "GET" && !head_only {
            return self.error(405, req.method, "", keep, now_ms, out, false);
        }
        match http::decode_path(req.target, &mut self.url) {
            Ok(()) => {}
            Err(PathError::Bad) | Err(PathError::Escapes) => {
                return self.error(400, req.method, "", false, now_ms, out, head_only)
            }
        }
        let date = self.date.get(now_ms, Civil::push_http);
        match self.files.lookup(&self.url, wake) {
            Found::File { entry, path } => {
                let start = out.len();
                self.etag.clear();
                kind.push_etag(&mut self.etag, entry.mtime, entry.len);
                let etag = self.etag.as_slice();
                let not_modified = match (req.header("If-None-Match"), req.header("If-Modified-Since")) {
                    (Some(inm), _) => inm.split(',').any(|t| t.trim().as_bytes() == etag || t.trim() == "*"),
                    (None, Some(ims)) => ims.as_bytes() == entry.last_modified.as_slice(),
                    _ => false,
                };
                let status = if not_modified { 304 } else { 200 };
                kind.push_head(out, status, date);
                if !not_modified {
                    http::push_header(out, "Content-Type", entry.content_type.as_bytes());
                    http::push_header_num(out, "Content-Length", entry.len);
                }
                http::push_header(out, "Last-Modified", &entry.last_modified);
                kind.push_connection(out, keep);
                http::push_header(out, "ETag", etag);
                out.extend_from_slice(b"\r\n");
                if not_modified || head_only {
                    return (status, 0);
                }
                let len = entry.len;
                if entry.push_body(path, out).is_err() {
                    // The file went away after its headers were made: answer 500 instead.
                    out.truncate(start);
                    return self.error(500, req.method, "", keep, now_ms, out, false);
                }
                (200, len)
            }
            Found::Redirect => {
                let mut location = std::mem::take(&mut self.url);
                location.push('/');
                let r = self.error(301, req.method, &location, keep, now_ms, out, head_only);
                self.url = location;
                r
            }
            Found::Directory if kind.lists_directories() => match self.files.list(&self.url) {
                Ok(names) => {
                    let page = listing(&self.url, &names);
                    let date = self.date.get(now_ms, Civil::push_http);
                    kind.push_head(out, 200, date);
                    http::push_header(out, "Content-Type", b"text/html;charset=UTF-8");
                    http::push_header_num(out, "Content-Length", page.len() as u64);
                    kind.push_connection(out, keep);
                    out.extend_from_slice(b"\r\n");
                    if head_only {
                        return (200, 0);
                    }
                    out.extend_from_slice(page.as_bytes());
                    (200, page.len() as u64)
                }
                Err(_) => self.error(403, req.method, "", keep, now_ms, out, head_only),
            },
            Found::Directory | Found::Forbidden => self.error(403, req.method, "", keep, now_ms, out, head_only),
            Found::NotFound => self.error(404, req.method, "", keep, now_ms, out, head_only),
        }
    }

    /// Append an error page (or a redirect to `location`).
    #[allow(clippy::too_many_arguments)]
    fn error(
        &mut self,
        status: u16,
        method: &str,
        location: &str,
        keep: bool,
        now_ms: u64,
        out: &mut Vec<u8>,
        head_only: bool,
    ) -> (u16, u64) {
        let kind = self.kind;
        let page = kind.error_page(status, method, location);
        kind.push_head(out, status, self.date.get(now_ms, Civil::push_http));
        http::push_header(out, "Content-Type", kind.error_type());
        http::push_header_num(out, "Content-Length", page.len() as u64);
        if !location.is_empty() {
            http::push_header(out, "Location", location.as_bytes());
        }
        if status == 405 && kind == Kind::Apache {
            http::push_header(out, "Allow", b"GET,POST,OPTIONS,HEAD");
        }
        kind.push_connection(out, keep);
        out.extend_from_slice(b"\r\n");
        if head_only {
            return (status, 0);
        }
        out.extend_from_slice(page.as_bytes());
        (status, page.len() as u64)
    }

    fn log(
        &mut self,
        log: &mut Vec<u8>,
        conn: &Conn,
        now_ms: u64,
        req: Option<&Request>,
        line: &str,
        status: u16,
        bytes: u64,
    ) {
        let time = self.log_time.get(now_ms, Civil::push_clf);
        let (referer, agent) = match req {
            Some(r) if self.kind == Kind::Nginx => (r.header("Referer"), r.header("User-Agent")),
            _ => (None, None),
        };
        self.kind.push_log(log, &conn.peer, time, line, status, bytes, referer, agent);
    }
}

impl Service for Site {
    type Conn = Conn;

    fn open(&mut self, peer: SocketAddrV4) -> Conn {
        Conn { peer: peer.ip().to_string().into_bytes() }
    }

    fn step(&mut self, conn: &mut Conn, input: &[u8], cx: &mut Ctx) -> Step {
        match http::parse(input) {
            Parsed::Partial => Step::Need,
            Parsed::Request(req) => {
                let keep = req.keep_alive;
                let (status, bytes) = self.answer(&req, keep, cx.now_ms, cx.wake, cx.out);
                let keep = keep && status != 400;
                self.log(cx.log, conn, cx.now_ms, Some(&req), req.line, status, bytes);
                if keep {
                    Step::Used(req.len)
                } else {
                    Step::Close(req.len)
                }
            }
            Parsed::Bad { status, line } => {
                let (status, bytes) = self.error(status, "", "", false, cx.now_ms, cx.out, false);
                self.log(cx.log, conn, cx.now_ms, None, line, status, bytes);
                Step::Close(input.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::tempdir;
    use std::fs;
    use std::net::Ipv4Addr;

    const NOW: u64 = 1_795_514_400_000;

    /// Feed `input` to a fresh connection; returns the output, the log and the steps.
    fn talk(site: &mut Site, input: &str) -> (String, String, Vec<Step>) {
        let (mut out, mut log) = (Vec::new(), Vec::new());
        let mut conn = site.open(SocketAddrV4::new(Ipv4Addr::new(172, 17, 0, 1), 40000));
        let mut steps = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let mut cx = Ctx { out: &mut out, log: &mut log, now_ms: NOW, wake: 1 };
            let s = site.step(&mut conn, &input.as_bytes()[pos..], &mut cx);
            steps.push(s);
            match s {
                Step::Need => break,
                Step::Used(n) => pos += n,
                Step::Close(_) => break,
            }
        }
        (String::from_utf8_lossy(&out).into_owned(), String::from_utf8(log).unwrap(), steps)
    }

    fn root(tag: &str) -> String {
        let root = tempdir(tag);
        fs::write(format!("{root}/index.html"), "<h1>It works!</h1>\n").unwrap();
        fs::write(format!("{root}/style.css"), "body{}").unwrap();
        fs::create_dir(format!("{root}/empty")).unwrap();
        fs::write(format!("{root}/empty/.keep"), "").unwrap();
        fs::write(format!("{root}/a b.txt"), "space").unwrap();
        root
    }

    #[test]
    fn nginx_get_index() {
        let r = root("ng1");
        let mut s = Site::new(Kind::Nginx, &r);
        let (out, log, steps) = talk(&mut s, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\nServer: nginx/1.23.1\r\nDate: Tue, 24 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 19\r\nLast-Modified: "), "{out}");
        assert!(out.contains("\r\nConnection: keep-alive\r\nETag: \""));
        assert!(out.ends_with("\r\n\r\n<h1>It works!</h1>\n"));
        assert_eq!(
            log,
            "172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 19 \"-\" \"curl/7.88.1\" \"-\"\n"
        );
        assert_eq!(steps, vec![Step::Used(60)]);
        let _ = fs::remove_dir_all(&r);
    }

    #[test]
    fn nginx_errors_and_keep_alive() {
        let r = root("ng2");
        let mut s = Site::new(Kind::Nginx, &r);
        let (out, log, steps) = talk(
            &mut s,
            "GET /missing HTTP/1.1\r\n\r\nGET /empty/ HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /empty HTTP/1.1\r\n\r\nGET /a%20b.txt?q HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        );
        let statuses: Vec<&str> = out.lines().filter(|l| l.starts_with("HTTP/1.1")).collect();
        assert_eq!(
            statuses,
            vec![
                "HTTP/1.1 404 Not Found",
                "HTTP/1.1 403 Forbidden",
                "HTTP/1.1 405 Not Allowed",
                "HTTP/1.1 301 Moved Permanently",
                "HTTP/1.1 200 OK"
            ]
        );
        assert!(out.contains("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.23.1</center>\r\n</body>\r\n</html>\r\n"));
        assert!(out.contains("Location: /empty/\r\n"));
        assert!(out.contains("Content-Type: text/plain\r\nContent-Length: 5\r\n"));
        assert!(
            out.ends_with("Connection: close\r\nETag: \"".to_string().as_str())
                || out.contains("Connection: close\r\n")
        );
        assert_eq!(steps.last(), Some(&Step::Close(29)), "HTTP/1.0 closes");
        assert_eq!(log.lines().count(), 5);
        assert!(log.contains("\"GET /missing HTTP/1.1\" 404 153 \"-\" \"-\" \"-\""));
        let _ = fs::remove_dir_all(&r);
    }

    #[test]
    fn head_conditional_and_escape() {
        let r = root("ng3");
        let mut s = Site::new(Kind::Nginx, &r);
        let (out, log, _) = talk(&mut s, "HEAD /style.css HTTP/1.1\r\n\r\n");
        assert!(out.contains("Content-Type: text/css\r\nContent-Length: 6\r\n"));
        assert!(out.ends_with("\r\n\r\n"));
        assert!(log.contains("\" 200 0 "));
        let etag = out.split("ETag: ").nth(1).unwrap().split("\r\n").next().unwrap().to_string();
        let (out, _, _) = talk(&mut s, &format!("GET /style.css HTTP/1.1\r\nIf-None-Match: {etag}\r\n\r\n"));
        assert!(out.starts_with("HTTP/1.1 304 Not Modified\r\n") && out.ends_with("\r\n\r\n"), "{out}");
        let (out, _, steps) = talk(&mut s, "GET /../../etc/passwd HTTP/1.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(matches!(steps[0], Step::Close(_)));
        let (out, _, _) = talk(&mut s, "GET /empty/../index.html HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n") && out.contains("Connection: close\r\n"));
        let _ = fs::remove_dir_all(&r);
    }

    #[test]
    fn apache_flavour() {
        let r = root("ap1");
        let mut s = Site::new(Kind::Apache, &r);
        let (out, log, _) =
            talk(&mut s, "GET / HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /empty/ HTTP/1.1\r\n\r\n");
        assert!(out
            .starts_with("HTTP/1.1 200 OK\r\nDate: Tue, 24 Nov 2026 10:00:00 GMT\r\nServer: Apache/2.4.54 (Unix)\r\n"));
        assert!(out.contains("Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n"));
        assert!(out.contains("<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>"));
        assert!(out.contains("<title>Index of /empty</title>"));
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            vec![
                "172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 19",
                "172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET /nope HTTP/1.1\" 404 196",
                "172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET /empty/ HTTP/1.1\" 200 214",
            ]
        );
        let _ = fs::remove_dir_all(&r);
    }

    #[test]
    fn garbage_gets_400_and_close() {
        let r = root("ng4");
        let mut s = Site::new(Kind::Nginx, &r);
        let (out, log, steps) = talk(&mut s, "HELLO\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n") && out.contains("Connection: close\r\n"));
        assert!(log.contains("\"HELLO\" 400 157"), "{log}");
        assert_eq!(steps, vec![Step::Close(9)]);
        let _ = fs::remove_dir_all(&r);
    }
}
