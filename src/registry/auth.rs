//! Authentication: the `WWW-Authenticate` challenges a registry answers with (`Basic` or
//! `Bearer` with a token `realm`, `service` and `scope`), the token response, and the
//! credentials `login` keeps in Docker's `config.json` shape
//! (`{"auths":{"localhost:5000":{"auth":"base64(user:pass)"}}}`, mode 0600, in skiff's
//! configuration directory). Credentials are never printed.

use super::host::{config_dir, normalise_domain};
use crate::error::{Error, IoContext, Result};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased: `basic`, `bearer`.
    pub scheme: String,
    /// Parameters, names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parse a `WWW-Authenticate` header value: one or more challenges, each a scheme and
/// comma-separated `name=value` or `name="quoted \"value\""` parameters (RFC 7235).
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let b = header.as_bytes();
    let mut i = 0;
    let skip = |i: &mut usize, f: &dyn Fn(u8) -> bool| {
        while *i < b.len() && f(b[*i]) {
            *i += 1;
        }
    };
    let is_token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c);
    while i < b.len() {
        skip(&mut i, &|c| c == b' ' || c == b'\t' || c == b',');
        let start = i;
        skip(&mut i, &|c| is_token(c));
        if i == start {
            i += 1; // stray character: step over it
            continue;
        }
        let word = &header[start..i];
        let mut j = i;
        skip(&mut j, &|c| c == b' ' || c == b'\t');
        if j < b.len() && b[j] == b'=' && !out.is_empty() {
            // A parameter of the current challenge.
            j += 1;
            skip(&mut j, &|c| c == b' ' || c == b'\t');
            let mut value = String::new();
            if j < b.len() && b[j] == b'"' {
                j += 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' && j + 1 < b.len() {
                        j += 1;
                    }
                    let ch = header[j..].chars().next().unwrap_or(' ');
                    value.push(ch);
                    j += ch.len_utf8();
                }
                j += 1;
            } else {
                let vs = j;
                skip(&mut j, &|c| c != b',' && c != b' ');
                value.push_str(&header[vs..j]);
            }
            if let Some(c) = out.last_mut() {
                c.params.push((word.to_ascii_lowercase(), value));
            }
            i = j;
        } else {
            out.push(Challenge { scheme: word.to_ascii_lowercase(), params: Vec::new() });
        }
    }
    out
}

/// The token in a token server's answer (`token`, or OAuth's `access_token`).
pub fn parse_token_response(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|t| t.as_str()).filter(|t| !t.is_empty()).map(str::to_string))
}

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <hidden>)", self.username)
    }
}

impl Credentials {
    /// `Basic base64(user:pass)`.
    pub fn basic_header(&self) -> String {
        format!("Basic {}", self.encoded())
    }

    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.username, self.password))
    }

    pub fn decode(auth: &str) -> Option<Credentials> {
        let raw = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        Some(Credentials { username: u.to_string(), password: p.trim_end_matches('\0').to_string() })
    }
}

/// `config.json` in skiff's configuration directory.
pub fn config_file() -> PathBuf {
    config_dir().join("config.json")
}

fn read_config() -> Result<Map<String, Value>> {
    let p = config_file();
    match std::fs::read(&p) {
        Ok(data) if data.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(data) => match serde_json::from_slice::<Value>(&data) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Error::Other(format!("{}: not a JSON object", p.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// Write `config.json` as Docker does (tab-indented), readable by its owner only.
fn write_config(cfg: &Map<String, Value>) -> Result<()> {
    use serde::Serialize;
    let p = config_file();
    let dir = config_dir();
    std::fs::create_dir_all(&dir).at(&dir)?;
    let mut data = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut data, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    cfg.serialize(&mut ser).map_err(|e| Error::Other(e.to_string()))?;
    // The temporary file of an atomic write is created 0600, and the rename keeps its mode.
    crate::store::atomic_write(&p, &data)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).at(&p)?;
    }
    Ok(())
}

/// The `auths` key that names `domain` (Docker also accepts `http(s)://host/…` keys).
fn find_key(auths: &Map<String, Value>, domain: &str) -> Option<String> {
    let want = normalise_domain(domain);
    auths.keys().find(|k| normalise_domain(k) == want).cloned()
}

/// The stored credentials of the registry `domain`, if `login` kept some.
pub fn stored(domain: &str) -> Option<Credentials> {
    let cfg = read_config().ok()?;
    let auths = cfg.get("auths")?.as_object()?;
    let key = find_key(auths, domain)?;
    let entry = auths.get(&key)?;
    if let Some(a) = entry.get("auth").and_then(|a| a.as_str()) {
        return Credentials::decode(a);
    }
    let u = entry.get("username")?.as_str()?;
    let p = entry.get("password")?.as_str()?;
    Some(Credentials { username: u.into(), password: p.into() })
}

/// Keep `creds` for `key` (the registry's `auth_key`), replacing what was there.
pub fn store(key: &str, creds: &Credentials) -> Result<()> {
    let mut cfg = read_config()?;
    let auths = cfg.entry("auths").or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let auths = auths.as_object_mut().expect("an object");
    if let Some(old) = find_key(auths, key) {
        auths.remove(&old);
    }
    auths.insert(key.to_string(), serde_json::json!({ "auth": creds.encoded() }));
    write_config(&cfg)
}

/// Forget the credentials of `domain`; whether there were any.
pub fn remove(domain: &str) -> Result<bool> {
    let mut cfg = read_config()?;
    let Some(auths) = cfg.get_mut("auths").and_then(|a| a.as_object_mut()) else { return Ok(false) };
    let Some(key) = find_key(auths, domain) else { return Ok(false) };
    auths.remove(&key);
    write_config(&cfg)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c[0].param("service"), Some("registry.docker.io"));
        assert_eq!(c[0].param("scope"), Some("repository:library/nginx:pull"));
    }

    #[test]
    fn basic_and_several_challenges() {
        let c = parse_challenges(r#"Basic realm="Registry Realm""#);
        assert_eq!((c[0].scheme.as_str(), c[0].param("realm")), ("basic", Some("Registry Realm")));
        let c = parse_challenges(
            r#"Basic realm="a, b", Bearer realm="https://t.example/token",scope="repository:a/b:pull,push", error="insufficient_scope""#,
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].param("realm"), Some("a, b"));
        assert_eq!(c[1].scheme, "bearer");
        assert_eq!(c[1].param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(c[1].param("error"), Some("insufficient_scope"));
        let c = parse_challenges(r#"bearer Realm=https://t/token , service = "x\"y""#);
        assert_eq!(c[0].param("realm"), Some("https://t/token"));
        assert_eq!(c[0].param("service"), Some("x\"y"));
        assert!(parse_challenges("").is_empty());
    }

    #[test]
    fn token_responses() {
        assert_eq!(parse_token_response(br#"{"token":"abc","expires_in":300}"#).as_deref(), Some("abc"));
        assert_eq!(parse_token_response(br#"{"access_token":"xyz"}"#).as_deref(), Some("xyz"));
        assert_eq!(parse_token_response(br#"{"token":""}"#), None);
        assert_eq!(parse_token_response(b"nope"), None);
    }

    #[test]
    fn credentials_round_trip() {
        let c = Credentials { username: "ada".into(), password: "s3:cret".into() };
        assert_eq!(c.encoded(), "YWRhOnMzOmNyZXQ=");
        assert_eq!(Credentials::decode("YWRhOnMzOmNyZXQ="), Some(c.clone()));
        assert!(!format!("{c:?}").contains("s3"), "Debug must hide the password");
    }
}
