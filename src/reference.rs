//! Image references: `[domain/]path[:tag][@digest]`, normalised the way Docker does
//! (`busybox` = `docker.io/library/busybox:latest`).

use crate::error::{Error, Result};
use crate::spec::Digest;
use std::fmt;

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub domain: String,
    /// The repository path, e.g. `library/busybox`, `me/app`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parse a reference as a user types it. A missing tag stays `None`; see [`Self::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = || Error::InvalidReference("invalid reference format".to_string());
        // A name of at most 255 characters, a tag of at most 128 and a digest.
        if s.is_empty() || s.len() > 255 + 1 + 128 + 1 + 71 {
            return Err(bad());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|_| bad())?)),
            None => (s, None),
        };
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad());
            }
        }
        let mut parts: Vec<&str> = name.split('/').collect();
        let domain = if parts.len() > 1 && looks_like_domain(parts[0]) {
            let d = parts.remove(0);
            if !valid_domain(d) {
                return Err(bad());
            }
            d.to_string()
        } else {
            DEFAULT_DOMAIN.to_string()
        };
        if parts.iter().any(|p| p.chars().any(|c| c.is_ascii_uppercase())) {
            return Err(Error::InvalidReference("invalid reference format: repository name must be lowercase".into()));
        }
        if parts.is_empty() || !parts.iter().all(|p| valid_component(p)) {
            return Err(bad());
        }
        let mut path = parts.join("/");
        if domain == DEFAULT_DOMAIN && !path.contains('/') {
            path = format!("library/{path}");
        }
        // As Docker's `ParseNormalizedNamed`: the name with its domain is what is limited.
        if domain.len() + 1 + path.len() > 255 {
            return Err(Error::InvalidReference(
                "invalid reference format: repository name must not be more than 255 characters".into(),
            ));
        }
        Ok(Reference { domain, path, tag: tag.map(str::to_string), digest })
    }

    /// The same reference with `:latest` when it names neither a tag nor a digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// The repository as Docker prints it: `busybox`, `me/app`, `localhost:5000/me/app`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path.strip_prefix("library/").unwrap_or(&self.path).to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The full repository name: `docker.io/library/busybox`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// `busybox:latest` — what Docker's messages show.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s = format!("{s}:{t}");
        }
        if let Some(d) = &self.digest {
            s = format!("{s}@{d}");
        }
        s
    }
}

/// The full form: `docker.io/library/busybox:latest` (what `index.json` records).
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.full_name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn looks_like_domain(s: &str) -> bool {
    s.contains('.') || s.contains(':') || s == "localhost" || s.chars().any(|c| c.is_ascii_uppercase())
}

fn valid_domain(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    host_ok && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A path component: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`.
fn valid_component(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        let cases = [
            ("busybox", "docker.io/library/busybox", None, "busybox"),
            ("busybox:1.36", "docker.io/library/busybox", Some("1.36"), "busybox:1.36"),
            ("me/app:v1", "docker.io/me/app", Some("v1"), "me/app:v1"),
            ("docker.io/library/nginx", "docker.io/library/nginx", None, "nginx"),
            ("localhost:5000/me/app:v1", "localhost:5000/me/app", Some("v1"), "localhost:5000/me/app:v1"),
            ("localhost/app", "localhost/app", None, "localhost/app"),
            ("ghcr.io/a/b-c__d.e", "ghcr.io/a/b-c__d.e", None, "ghcr.io/a/b-c__d.e"),
        ];
        for (input, full, tag, familiar) in cases {
            let r = Reference::parse(input).unwrap();
            assert_eq!(r.full_name(), full, "{input}");
            assert_eq!(r.tag.as_deref(), tag, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
        }
        assert_eq!(Reference::parse("nginx").unwrap().with_default_tag().to_string(), "docker.io/library/nginx:latest");
    }

    #[test]
    fn rejects_invalid() {
        for bad in ["", "Busybox", "a//b", "-a", "a-", "a:", "a:-x", "a b", "a@sha256:12", ":tag", "a/", "a..b"] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be invalid");
        }
        let e = Reference::parse("MyApp").unwrap_err().to_string();
        assert!(e.contains("must be lowercase"), "{e}");
    }

    #[test]
    fn digest_references() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.digest.unwrap().to_string(), d);
        assert!(r.tag.is_none());
    }
}
