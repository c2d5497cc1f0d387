//! Repository names, tags and digests, by the rules of `distribution/reference` and
//! `opencontainers/go-digest`.

/// Longest repository name.
pub const NAME_MAX: usize = 255;

/// Why a repository name is not valid (the texts of `distribution/reference`).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("repository name must have at least one component");
    }
    if name.len() > NAME_MAX {
        return Err("repository name must not be more than 255 characters");
    }
    if name.split('/').all(component_ok) {
        return Ok(());
    }
    // The same name in lowercase would be valid: say what is wrong with it.
    if name.bytes().any(|b| b.is_ascii_uppercase()) && name.to_ascii_lowercase().split('/').all(component_ok) {
        return Err("repository name must be lowercase");
    }
    Err("invalid reference format")
}

/// One path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// A tag: `[\w][\w.-]{0,127}`.
pub fn tag_ok(t: &str) -> bool {
    let w = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty() && b.len() <= 128 && w(b[0]) && b[1..].iter().all(|&c| w(c) || c == b'.' || c == b'-')
}

/// Why a digest string is not a usable digest (go-digest's errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestError {
    Format,
    Length,
    Unsupported,
}

impl DigestError {
    pub fn text(self) -> &'static str {
        match self {
            DigestError::Format => "invalid checksum digest format",
            DigestError::Length => "invalid checksum digest length",
            DigestError::Unsupported => "unsupported digest algorithm",
        }
    }
}

/// The hex of a `sha256:<64 hex>` digest. Other algorithms that go-digest knows (sha384,
/// sha512) are well-formed but not stored by this registry: `Unsupported`.
pub fn parse_digest(d: &str) -> Result<&str, DigestError> {
    let Some((alg, hex)) = d.split_once(':') else { return Err(DigestError::Format) };
    let alg_ok = !alg.is_empty()
        && alg
            .split(['.', '+', '_', '-'])
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !alg_ok || hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_alphanumeric() || b"=_-".contains(&c)) {
        return Err(DigestError::Format);
    }
    let want = match alg {
        "sha256" => 64,
        "sha384" => return Err(DigestError::Unsupported),
        "sha512" => return Err(DigestError::Unsupported),
        _ => return Err(DigestError::Unsupported),
    };
    if hex.len() != want {
        return Err(DigestError::Length);
    }
    if !hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(DigestError::Format);
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["busybox", "yeeechen/nginx", "a/b/c", "my-app", "my__app", "a.b_c--d", "0", "library/redis"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_name("Yeeechen/nginx"), Err("repository name must be lowercase"));
        for bad in ["", "-a", "a-", "a//b", "/a", "a/", "a___b", "a..b", "a b", "a:b", "a/.b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(check_name(&"a".repeat(256)), Err("repository name must not be more than 255 characters"));
        assert_eq!(check_name(&"a".repeat(255)), Ok(()));
    }

    #[test]
    fn tags() {
        for ok in ["latest", "2", "2.8", "v1.0-rc_1", "_x", "A"] {
            assert!(tag_ok(ok), "{ok}");
        }
        for bad in ["", ".x", "-x", "a:b", "a/b", &"a".repeat(129)] {
            assert!(!tag_ok(bad), "{bad}");
        }
    }

    #[test]
    fn digests() {
        let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(parse_digest(&format!("sha256:{h}")), Ok(h));
        assert_eq!(parse_digest("sha256:abc"), Err(DigestError::Length));
        assert_eq!(parse_digest(&format!("sha256:{}", h.to_uppercase())), Err(DigestError::Format));
        assert_eq!(parse_digest("md5:abc"), Err(DigestError::Unsupported));
        assert_eq!(parse_digest("latest"), Err(DigestError::Format));
        assert_eq!(parse_digest("sha256:"), Err(DigestError::Format));
    }
}
