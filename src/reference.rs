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
    /// Parse a reference as a user types it, by Docker's grammar and with Docker's messages
    /// (distribution's `ParseNormalizedNamed`, as vendored by Docker 20.10):
    /// `[domain/]component[/component...][:tag][@digest]`, where the first component is a
    /// domain only if it has a `.` or `:` or is `localhost`; repository components are
    /// lowercase; a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; the name is at most 255
    /// characters. A missing tag stays `None`; see [`Self::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference> {
        let invalid = |why: &str| {
            Error::InvalidReference(if why.is_empty() {
                "invalid reference format".to_string()
            } else {
                format!("invalid reference format: {why}")
            })
        };
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(Error::InvalidReference(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            )));
        }
        let (domain, remainder) = match s.find('/') {
            Some(i) if s[..i].contains(['.', ':']) || &s[..i] == "localhost" => (&s[..i], &s[i + 1..]),
            _ => (DEFAULT_DOMAIN, s),
        };
        let remote_name = remainder.split(':').next().unwrap_or("");
        if remote_name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("repository name must be lowercase"));
        }
        // The digest is after the '@'; a tag after the last ':' that follows the last '/'.
        let (rest, digest) = match remainder.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (remainder, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if !valid_domain(domain)
            || path.is_empty()
            || !path.split('/').all(valid_component)
            || tag.is_some_and(|t| !valid_tag(t))
            || digest.is_some_and(|d| !digest_shape(d))
        {
            return Err(invalid(""));
        }
        let digest = digest.map(parse_digest).transpose()?;
        let mut path = path.to_string();
        if domain == DEFAULT_DOMAIN && !path.contains('/') {
            path = format!("library/{path}");
        }
        // As Docker's `ParseNormalizedNamed`: the normalised name (`docker.io/library/…`) is
        // what is limited, so that every parsed reference prints as one that parses again.
        if domain.len() + 1 + path.len() > 255 {
            return Err(Error::InvalidReference("repository name must not be more than 255 characters".to_string()));
        }
        Ok(Reference { domain: domain.to_string(), path, tag: tag.map(str::to_string), digest })
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

/// distribution's `domain`: components of letters, digits and inner `-`, joined by `.`,
/// with an optional `:port` (upper case is allowed here, unlike in the repository path).
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

/// distribution's digest shape: `algorithm:hex` with at least 32 hex digits (the algorithm
/// is letters and digits, in parts joined by `-`, `_`, `+` or `.`).
fn digest_shape(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else { return false };
    let alg_ok = !alg.is_empty()
        && alg.split(['-', '_', '+', '.']).all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Parse` of a well-shaped digest, with its messages.
fn parse_digest(d: &str) -> Result<Digest> {
    let (alg, hex) = d.split_once(':').unwrap_or((d, ""));
    let want = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(Error::InvalidReference("unsupported digest algorithm".into())),
    };
    if hex.len() != want {
        return Err(Error::InvalidReference("invalid checksum digest length".into()));
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidReference("invalid checksum digest format".into()));
    }
    d.parse::<Digest>().map_err(|_| {
        Error::InvalidReference(format!("unsupported digest algorithm: {alg} (skiff keeps sha256 digests only)"))
    })
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
        assert_eq!(e, "invalid reference format: repository name must be lowercase");
        // As Docker 20.10: an upper-case first component is not a registry's name.
        let e = Reference::parse("YeeeChen/nginx").unwrap_err().to_string();
        assert_eq!(e, "invalid reference format: repository name must be lowercase");
        assert!(Reference::parse("Registry.Example.com/app").is_ok(), "domains may have capitals");
        assert!(Reference::parse("app:MixedCase_1.0-rc").is_ok(), "tags may have capitals");
        let long_tag = format!("app:{}", "t".repeat(129));
        assert_eq!(Reference::parse(&long_tag).unwrap_err().to_string(), "invalid reference format");
        assert!(Reference::parse(&format!("app:{}", "t".repeat(128))).is_ok());
        assert_eq!(Reference::parse("app:.x").unwrap_err().to_string(), "invalid reference format");
        let long_name = format!("a/{}", "b".repeat(250));
        assert_eq!(
            Reference::parse(&long_name).unwrap_err().to_string(),
            "repository name must not be more than 255 characters"
        );
        let hex = "a".repeat(64);
        assert_eq!(
            Reference::parse(&hex).unwrap_err().to_string(),
            format!("invalid repository name ({hex}), cannot specify 64-byte hexadecimal strings")
        );
    }

    #[test]
    fn digest_references() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.digest.unwrap().to_string(), d);
        assert!(r.tag.is_none());
        let short = format!("busybox@sha256:{}", "a".repeat(40));
        assert_eq!(Reference::parse(&short).unwrap_err().to_string(), "invalid checksum digest length");
        let md5 = format!("busybox@md5:{}", "a".repeat(32));
        assert_eq!(Reference::parse(&md5).unwrap_err().to_string(), "unsupported digest algorithm");
        let upper = format!("busybox@sha256:{}", "A".repeat(64));
        assert_eq!(Reference::parse(&upper).unwrap_err().to_string(), "invalid checksum digest format");
        let tagged = Reference::parse(&format!("busybox:1.36@sha256:{}", "b".repeat(64))).unwrap();
        assert_eq!(tagged.tag.as_deref(), Some("1.36"));
    }
}
