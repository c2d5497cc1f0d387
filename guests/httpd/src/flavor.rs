//! What differs between nginx and Apache httpd: names, document root, header set, error
//! pages, directory handling and the access-log format.

use serve::http;
use serve::num::{push_hex, push_u64};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Apache,
}

pub const NGINX_VERSION: &str = "nginx/1.23.1";
pub const APACHE_VERSION: &str = "Apache/2.4.54 (Unix)";

impl Kind {
    /// The flavour a program called `argv0` is: Apache for `httpd*`/`apache*`, else nginx.
    pub fn from_argv0(argv0: &str) -> Kind {
        let base = argv0.rsplit('/').next().unwrap_or(argv0);
        if base.starts_with("httpd") || base.starts_with("apache") {
            Kind::Apache
        } else {
            Kind::Nginx
        }
    }

    pub fn default_root(self) -> &'static str {
        match self {
            Kind::Nginx => "/usr/share/nginx/html",
            Kind::Apache => "/usr/local/apache2/htdocs",
        }
    }

    /// The reason phrase this server puts on the status line.
    pub fn reason(self, status: u16) -> &'static str {
        match (self, status) {
            (Kind::Nginx, 405) => "Not Allowed",
            _ => http::reason(status),
        }
    }

    /// `HTTP/1.1 <status> <reason>\r\n` and the headers every response starts with.
    pub fn push_head(self, out: &mut Vec<u8>, status: u16, date: &[u8]) {
        out.extend_from_slice(b"HTTP/1.1 ");
        push_u64(out, status as u64);
        out.push(b' ');
        out.extend_from_slice(self.reason(status).as_bytes());
        out.extend_from_slice(b"\r\n");
        match self {
            Kind::Nginx => {
                http::push_header(out, "Server", NGINX_VERSION.as_bytes());
                http::push_header(out, "Date", date);
            }
            Kind::Apache => {
                http::push_header(out, "Date", date);
                http::push_header(out, "Server", APACHE_VERSION.as_bytes());
            }
        }
    }

    /// The connection headers of a response (`keep` = the connection stays open).
    pub fn push_connection(self, out: &mut Vec<u8>, keep: bool) {
        match (self, keep) {
            (_, false) => http::push_header(out, "Connection", b"close"),
            (Kind::Nginx, true) => http::push_header(out, "Connection", b"keep-alive"),
            (Kind::Apache, true) => {
                http::push_header(out, "Keep-Alive", b"timeout=5, max=100");
                http::push_header(out, "Connection", b"Keep-Alive");
            }
        }
    }

    /// The entity tag of a file: nginx's `"mtime-size"`, Apache's `"size-mtime_usec"` (hex).
    pub fn push_etag(self, out: &mut Vec<u8>, mtime: u64, len: u64) {
        out.push(b'"');
        match self {
            Kind::Nginx => {
                push_hex(out, mtime);
                out.push(b'-');
                push_hex(out, len);
            }
            Kind::Apache => {
                push_hex(out, len);
                out.push(b'-');
                push_hex(out, mtime * 1_000_000);
            }
        }
        out.push(b'"');
    }

    /// `Content-Type` of error pages.
    pub fn error_type(self) -> &'static [u8] {
        match self {
            Kind::Nginx => b"text/html",
            Kind::Apache => b"text/html; charset=iso-8859-1",
        }
    }

    /// The HTML page of an error `status` (`method`/`location` fill Apache's texts).
    pub fn error_page(self, status: u16, method: &str, location: &str) -> String {
        match self {
            Kind::Nginx => {
                let title = format!("{status} {}", self.reason(status));
                format!(
                    "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>{NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n"
                )
            }
            Kind::Apache => {
                let text = match status {
                    301 => format!("<p>The document has moved <a href=\"{}\">here</a>.</p>", html_escape(location)),
                    400 => "<p>Your browser sent a request that this server could not understand.<br />\n</p>".to_string(),
                    403 => "<p>You don't have permission to access this resource.</p>".to_string(),
                    404 => "<p>The requested URL was not found on this server.</p>".to_string(),
                    405 => format!("<p>The requested method {} is not allowed for this URL.</p>", html_escape(method)),
                    413 => "<p>The requested resource does not allow request data with this request, or the amount of data provided in\nthe request exceeds the capacity limit.\n</p>".to_string(),
                    _ => "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>".to_string(),
                };
                let reason = self.reason(status);
                format!(
                    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n{text}\n</body></html>\n"
                )
            }
        }
    }

    /// Whether a directory without `index.html` is listed (Apache's `Options Indexes`);
    /// nginx forbids it.
    pub fn lists_directories(self) -> bool {
        self == Kind::Apache
    }

    /// Append one access-log line: nginx's `combined` (+ `$http_x_forwarded_for`) or
    /// Apache's `common` format.
    #[allow(clippy::too_many_arguments)]
    pub fn push_log(
        self,
        log: &mut Vec<u8>,
        peer: &[u8],
        time: &[u8],
        line: &str,
        status: u16,
        bytes: u64,
        referer: Option<&str>,
        agent: Option<&str>,
    ) {
        log.extend_from_slice(peer);
        log.extend_from_slice(b" - - [");
        log.extend_from_slice(time);
        log.extend_from_slice(b"] \"");
        if line.is_empty() {
            log.push(b'-');
        } else {
            http::push_log_escaped(log, line.as_bytes());
        }
        log.extend_from_slice(b"\" ");
        push_u64(log, status as u64);
        log.push(b' ');
        match self {
            Kind::Nginx => {
                push_u64(log, bytes);
                for v in [referer, agent, None] {
                    log.extend_from_slice(b" \"");
                    match v {
                        Some(v) if !v.is_empty() => http::push_log_escaped(log, v.as_bytes()),
                        _ => log.push(b'-'),
                    }
                    log.push(b'"');
                }
            }
            Kind::Apache => {
                if bytes == 0 {
                    log.push(b'-');
                } else {
                    push_u64(log, bytes);
                }
            }
        }
        log.push(b'\n');
    }
}

/// `&`, `<`, `>`, `"` as HTML entities.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

/// Percent-encode what may not stand in a URL path (for links in listings).
pub fn url_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$'()*+,;=:@".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Apache's `Index of` page for directory `url` (ends with `/`) holding `names`
/// (directories with a final `/`), sorted.
pub fn listing(url: &str, names: &[String]) -> String {
    let title = if url == "/" { "/" } else { url.trim_end_matches('/') };
    let title = html_escape(title);
    let mut s = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Index of {title}</title>\n </head>\n <body>\n<h1>Index of {title}</h1>\n<ul>"
    );
    if url != "/" {
        let parent = &url[..url.trim_end_matches('/').rfind('/').map(|i| i + 1).unwrap_or(1)];
        s.push_str(&format!("<li><a href=\"{}\"> Parent Directory</a></li>\n", url_escape(parent)));
    }
    for n in names {
        s.push_str(&format!("<li><a href=\"{}\"> {}</a></li>\n", html_escape(&url_escape(n)), html_escape(n)));
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Kind::from_argv0("/usr/sbin/nginx"), Kind::Nginx);
        assert_eq!(Kind::from_argv0("/usr/local/bin/httpd-foreground"), Kind::Apache);
        assert_eq!(Kind::from_argv0("httpd"), Kind::Apache);
        assert_eq!(Kind::from_argv0("/x/httpd.wasm"), Kind::Apache);
        assert_eq!(Kind::from_argv0("whatever"), Kind::Nginx);
    }

    #[test]
    fn nginx_404_page() {
        assert_eq!(
            Kind::Nginx.error_page(404, "GET", ""),
            "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.23.1</center>\r\n</body>\r\n</html>\r\n"
        );
        assert!(Kind::Nginx.error_page(405, "POST", "").contains("<title>405 Not Allowed</title>"));
    }

    #[test]
    fn apache_404_page() {
        assert_eq!(
            Kind::Apache.error_page(404, "GET", ""),
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n"
        );
        assert!(Kind::Apache.error_page(405, "POST", "").contains("method POST is not allowed"));
    }

    #[test]
    fn log_lines() {
        let mut log = Vec::new();
        let t = b"24/Nov/2026:10:00:00 +0000";
        Kind::Nginx.push_log(&mut log, b"172.17.0.1", t, "GET / HTTP/1.1", 200, 615, None, Some("curl/7.88.1"));
        Kind::Apache.push_log(&mut log, b"172.17.0.1", t, "GET / HTTP/1.1", 200, 45, None, Some("curl/7.88.1"));
        Kind::Apache.push_log(&mut log, b"172.17.0.1", t, "HEAD / HTTP/1.1", 200, 0, None, None);
        Kind::Nginx.push_log(&mut log, b"1.2.3.4", t, "GET /\"x HTTP/1.1", 404, 153, Some("http://a/"), Some(""));
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"curl/7.88.1\" \"-\"\n\
             172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 45\n\
             172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"HEAD / HTTP/1.1\" 200 -\n\
             1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] \"GET /\\x22x HTTP/1.1\" 404 153 \"http://a/\" \"-\" \"-\"\n"
        );
    }

    #[test]
    fn etags() {
        let mut v = Vec::new();
        Kind::Nginx.push_etag(&mut v, 0x62d6ba27, 615);
        assert_eq!(v, b"\"62d6ba27-267\"");
    }

    #[test]
    fn apache_listing() {
        let page = listing("/docs/", &["a b.txt".into(), "sub/".into()]);
        assert!(page.contains("<title>Index of /docs</title>"));
        assert!(page.contains("<li><a href=\"/\"> Parent Directory</a></li>"));
        assert!(page.contains("<li><a href=\"a%20b.txt\"> a b.txt</a></li>"));
        assert!(page.contains("<li><a href=\"sub/\"> sub/</a></li>"));
        assert!(!listing("/", &[]).contains("Parent Directory"));
    }
}
