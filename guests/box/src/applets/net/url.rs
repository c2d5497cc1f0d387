//! `http://` URLs: parsing, joining a redirect, the download name; percent-decoding, base64.

/// An `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Url {
    /// `host[:port]` as written: wget prints it and sends it as `Host`.
    pub(super) authority: String,
    pub(super) host: String,
    pub(super) port: u16,
    /// Whether the URL spelled out a port.
    pub(super) explicit_port: bool,
    /// `/path?query` (at least `/`), without any `#fragment`.
    pub(super) path: String,
    /// `user:password` (percent-decoded) from `user:password@host`.
    pub(super) user: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum UrlError {
    /// Another scheme than http (`https`, `ftp`, …), lower-cased.
    Scheme(String),
    /// No host, or a bad port.
    Malformed,
}

/// The scheme of `s` when it starts with `scheme://`.
pub(super) fn scheme_of(s: &str) -> Option<(&str, &str)> {
    let i = s.find("://")?;
    let sc = &s[..i];
    let ok = !sc.is_empty() && sc.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then(|| (sc, &s[i + 3..]))
}

/// Parse `[http://][user:pass@]host[:port][/path][?query][#fragment]`.
pub(super) fn parse_url(s: &str) -> Result<Url, UrlError> {
    let rest = match scheme_of(s) {
        Some((sc, rest)) if sc.eq_ignore_ascii_case("http") => rest,
        Some((sc, _)) => return Err(UrlError::Scheme(sc.to_ascii_lowercase())),
        None => s,
    };
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, path) = rest.split_at(end);
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
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
    pub(super) fn join(&self, loc: &str) -> Result<Url, UrlError> {
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
        Ok(Url { path, ..self.clone() })
    }

    /// The name wget saves to: the last path component (query included), or `index.html`.
    pub(super) fn file_name(&self) -> String {
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
    pub(super) fn to_text(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Decode `%XX` escapes.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
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
pub(super) fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            s.push(if i <= c.len() { T[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        parse_url(s).unwrap()
    }

    #[test]
    fn urls() {
        let u = url("http://c2:3000/a/b.txt?x=1#frag");
        assert_eq!((u.authority.as_str(), u.host.as_str(), u.port), ("c2:3000", "c2", 3000));
        assert_eq!(u.path, "/a/b.txt?x=1");
        assert!(u.explicit_port);
        let u = url("srv");
        assert_eq!((u.host.as_str(), u.port, u.path.as_str(), u.explicit_port), ("srv", 80, "/", false));
        let u = url("HTTP://u:p%20w@h/?q");
        assert_eq!((u.user.as_deref(), u.authority.as_str(), u.path.as_str()), (Some("u:p w"), "h", "/?q"));
        assert_eq!(url("h?x=a/b").path, "/?x=a/b");
        assert_eq!(parse_url("https://h/"), Err(UrlError::Scheme("https".into())));
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
}
