//! The HTTP side of the distribution protocol, over `ureq` (synchronous): one [`Client`] per
//! registry and command, which pings `/v2/` the way Docker does, answers `401` challenges
//! (HTTP Basic with stored credentials, or a `Bearer` token fetched from the challenge's realm
//! for the scopes a request needs, cached for the command), and words failures as Docker's
//! Go client does (`Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect:
//! connection refused`, `manifest unknown: manifest unknown`). Every wait is bounded: name
//! resolution and connecting 10 s each, 60 s for any one read.

use super::auth::{parse_challenges, parse_token_response, Credentials};
use super::host::Registry;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;
use ureq::http::{Request, Response};

/// Bounded waits: no registry can make skiff hang.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a manifest, config or error body may weigh when read into memory.
const SMALL_BODY_LIMIT: u64 = 16 << 20;

/// How a registry wants to be authenticated, learnt from `GET /v2/`.
#[derive(Debug, Clone)]
enum Scheme {
    /// Open: no credentials needed.
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
}

/// A response: status, headers, and a body still to read.
pub type Resp = Response<ureq::Body>;

/// A connection to one registry for one command.
pub struct Client {
    pub registry: Registry,
    agent: ureq::Agent,
    creds: Option<Credentials>,
    scheme: Mutex<Option<Scheme>>,
    tokens: Mutex<HashMap<String, String>>,
}

impl Client {
    /// A client for `registry` with `creds` (usually those `login` stored).
    pub fn new(registry: Registry, creds: Option<Credentials>) -> Client {
        let local = super::host::is_insecure(&registry.api_host, &[]);
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(Some(RESOLVE_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .timeout_per_write(Some(READ_TIMEOUT))
            .max_redirects(10)
            .max_idle_connections_per_host(8)
            .user_agent(format!("skiff/{}", env!("CARGO_PKG_VERSION")));
        if local {
            // A proxy from the environment must not see loopback registries.
            cfg = cfg.proxy(None);
        }
        #[cfg(windows)]
        {
            cfg = cfg.tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            );
        }
        let agent = ureq::Agent::new_with_config(cfg.build());
        Client { registry, agent, creds, scheme: Mutex::new(None), tokens: Mutex::new(HashMap::new()) }
    }

    pub fn has_credentials(&self) -> bool {
        self.creds.is_some()
    }

    /// `GET /v2/`: is the registry there, and how does it authenticate? (Docker's ping.)
    pub fn ping(&self) -> Result<()> {
        if self.scheme.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Ok(());
        }
        let url = self.registry.url("");
        let resp = self.send("GET", &url, &[], Body::Empty, None)?;
        let scheme = match resp.status().as_u16() {
            401 => self.scheme_from(&resp),
            200..=299 => Scheme::None,
            // A registry that answers /v2/ with something else may still serve the API.
            _ => Scheme::None,
        };
        *self.scheme.lock().unwrap_or_else(|e| e.into_inner()) = Some(scheme);
        Ok(())
    }

    fn scheme_from(&self, resp: &Resp) -> Scheme {
        let challenges: Vec<_> = resp
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_challenges)
            .collect();
        if let Some(c) = challenges.iter().find(|c| c.scheme == "bearer") {
            if let Some(realm) = c.param("realm") {
                return Scheme::Bearer { realm: realm.to_string(), service: c.param("service").map(str::to_string) };
            }
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            return Scheme::Basic;
        }
        Scheme::None
    }

    /// Check credentials as `login` does: `GET /v2/` with them (Basic), or a token for no
    /// particular scope (Bearer). The error is Docker's wording for a refused login.
    pub fn login(&self) -> Result<()> {
        self.ping()?;
        let scheme = self.scheme.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or(Scheme::None);
        match scheme {
            Scheme::None => Ok(()),
            Scheme::Basic => {
                let url = self.registry.url("");
                let auth = self.creds.as_ref().map(|c| c.basic_header());
                let resp = self.send("GET", &url, &[], Body::Empty, auth.as_deref())?;
                let status = resp.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(Error::Other(format!(
                        "login attempt to {url} failed with status: {} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    )))
                }
            }
            Scheme::Bearer { .. } => self.token(&[]).map(|_| ()).map_err(|e| match e {
                Error::Other(m) => Error::Other(format!("Get \"{}\": {m}", self.registry.url(""))),
                e => e,
            }),
        }
    }

    /// The `Authorization` header for a request needing `scopes` (e.g.
    /// `repository:me/app:pull,push`), fetching a token if the registry wants one.
    fn authorization(&self, scopes: &[String]) -> Result<Option<String>> {
        self.ping()?;
        let scheme = self.scheme.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or(Scheme::None);
        Ok(match scheme {
            Scheme::None => None,
            Scheme::Basic => self.creds.as_ref().map(|c| c.basic_header()),
            Scheme::Bearer { .. } => Some(format!("Bearer {}", self.token(scopes)?)),
        })
    }

    /// A bearer token for `scopes` from the realm of the registry's challenge (cached).
    fn token(&self, scopes: &[String]) -> Result<String> {
        let key = scopes.join(" ");
        if let Some(t) = self.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(t.clone());
        }
        let Some(Scheme::Bearer { realm, service }) = self.scheme.lock().unwrap_or_else(|e| e.into_inner()).clone()
        else {
            return Err(Error::Other("registry asked for no token".into()));
        };
        let mut url = realm.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        let mut add = |k: &str, v: &str| {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&query_escape(v));
            sep = '&';
        };
        if let Some(s) = &service {
            add("service", s);
        }
        for s in scopes {
            add("scope", s);
        }
        if let Some(c) = &self.creds {
            add("account", &c.username);
        }
        let auth = self.creds.as_ref().map(|c| c.basic_header());
        let resp = self.send("GET", &url, &[], Body::Empty, auth.as_deref())?;
        let status = resp.status().as_u16();
        let body = read_small(resp)?;
        if status == 401 || status == 403 {
            let detail = registry_error(&body).unwrap_or_else(|| {
                if self.creds.is_some() { "unauthorized: incorrect username or password" } else { "unauthorized" }
                    .to_string()
            });
            return Err(Error::Other(detail));
        }
        if !(200..300).contains(&status) {
            return Err(Error::Other(format!(
                "unexpected status {status} from the token server {}",
                realm.split('?').next().unwrap_or(&realm)
            )));
        }
        let token = parse_token_response(&body)
            .ok_or_else(|| Error::Other(format!("the token server {realm} answered without a token")))?;
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(key, token.clone());
        Ok(token)
    }

    /// A request to the registry needing `scopes`, authenticated as the registry asks; a `401`
    /// after a cached token is retried once with a fresh one.
    pub fn call(
        &self,
        method: &str,
        url: &str,
        scopes: &[String],
        headers: &[(&str, &str)],
        body: Body,
    ) -> Result<Resp> {
        let auth = self.authorization(scopes)?;
        let bytes = match body {
            Body::Empty => None,
            Body::Bytes(b) => Some(b),
        };
        let again = || match bytes {
            None => Body::Empty,
            Some(b) => Body::Bytes(b),
        };
        let resp = self.send(method, url, headers, again(), auth.as_deref())?;
        if resp.status().as_u16() == 401 {
            let was_token = auth.as_deref().is_some_and(|a| a.starts_with("Bearer "));
            if was_token {
                self.tokens.lock().unwrap_or_else(|e| e.into_inner()).remove(&scopes.join(" "));
                let auth = self.authorization(scopes)?;
                return self.send(method, url, headers, again(), auth.as_deref());
            }
        }
        Ok(resp)
    }

    /// A `GET` with no authentication (Docker Hub's search API).
    pub fn get_plain(&self, url: &str) -> Result<Resp> {
        self.send("GET", url, &[("Accept", "application/json")], Body::Empty, None)
    }

    /// One HTTP exchange, errors worded as Go's `net/http` words them.
    fn send(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Body, auth: Option<&str>) -> Result<Resp> {
        let mut b = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        let result = match body {
            Body::Empty if matches!(method, "POST" | "PUT" | "PATCH") => {
                self.agent.run(b.body(&[][..]).map_err(|e| Error::Other(e.to_string()))?)
            }
            Body::Empty => self.agent.run(b.body(()).map_err(|e| Error::Other(e.to_string()))?),
            Body::Bytes(data) => self.agent.run(b.body(data).map_err(|e| Error::Other(e.to_string()))?),
        };
        result.map_err(|e| Error::Other(format!("{} \"{}\": {}", go_method(method), url, go_error(&e, url))))
    }
}

/// `Get`, `Head`, … as Go's `url.Error` names the operation.
fn go_method(m: &str) -> String {
    let lower = m.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// `host:port` of a URL (the port its scheme implies when it names none).
pub fn host_port(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let hp = rest.split(['/', '?']).next().unwrap_or(rest);
    if hp.contains(':') && !hp.ends_with(']') {
        hp.to_string()
    } else {
        format!("{hp}:{}", if scheme == "http" { 80 } else { 443 })
    }
}

/// A transport failure as Go's dialer and HTTP client word it.
fn go_error(e: &ureq::Error, url: &str) -> String {
    let hp = host_port(url);
    let host = hp.rsplit_once(':').map(|(h, _)| h).unwrap_or(&hp).to_string();
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::HostNotFound => format!("dial tcp: lookup {host}: no such host"),
        ureq::Error::Timeout(ureq::Timeout::Resolve) => format!("dial tcp: lookup {host}: i/o timeout"),
        ureq::Error::Timeout(ureq::Timeout::Connect) => format!("dial tcp {hp}: i/o timeout"),
        ureq::Error::Timeout(_) => "net/http: request canceled (Client.Timeout exceeded while awaiting headers)".into(),
        ureq::Error::Io(io) => match io.kind() {
            K::ConnectionRefused => format!("dial tcp {hp}: connect: connection refused"),
            K::ConnectionReset => format!("read tcp {hp}: read: connection reset by peer"),
            K::TimedOut | K::WouldBlock => format!("dial tcp {hp}: i/o timeout"),
            K::UnexpectedEof => "EOF".into(),
            // The resolver's own words for an unknown name (getaddrinfo's EAI_NONAME).
            _ if io.to_string().contains("failed to lookup address") => {
                format!("dial tcp: lookup {host}: no such host")
            }
            _ if io.to_string().contains("Network is unreachable") => {
                format!("dial tcp {hp}: connect: network is unreachable")
            }
            _ => io.to_string(),
        },
        ureq::Error::ConnectionFailed => format!("dial tcp {hp}: connect: connection refused"),
        other => {
            let text = format!("{other}");
            let debug = format!("{other:?}");
            // A plain-HTTP server answering a TLS hello: Go's exact words.
            if debug.contains("InvalidContentType")
                || debug.contains("CorruptMessage")
                || text.contains("corrupt message")
            {
                "http: server gave HTTP response to HTTPS client".into()
            } else {
                text
            }
        }
    }
}

/// `a/b` → `a%2Fb`: a query value.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Read a small body (manifest, config, error) into memory.
pub fn read_small(resp: Resp) -> Result<Vec<u8>> {
    let mut body = resp.into_body();
    body.with_config()
        .limit(SMALL_BODY_LIMIT)
        .read_to_vec()
        .map_err(|e| Error::Other(format!("reading a response: {e}")))
}

/// Drain a body so the connection can be reused.
pub fn drain(resp: Resp) {
    let mut r = resp.into_body().into_reader();
    let _ = std::io::copy(&mut r.by_ref().take(1 << 20), &mut std::io::sink());
}

/// The registry's error body (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}`) as
/// distribution's `errcode` prints it: `manifest unknown: manifest unknown`.
pub fn registry_error(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
        let msgs: Vec<String> = errs
            .iter()
            .filter_map(|e| {
                let code = e.get("code")?.as_str()?.to_ascii_lowercase().replace('_', " ");
                let msg = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
                Some(if msg.is_empty() { code } else { format!("{code}: {msg}") })
            })
            .collect();
        if !msgs.is_empty() {
            return Some(msgs.join(", "));
        }
    }
    // Token servers: {"details":"incorrect username or password"} or OAuth's error fields.
    for k in ["details", "error_description", "error"] {
        if let Some(d) = v.get(k).and_then(|d| d.as_str()) {
            return Some(format!("unauthorized: {d}"));
        }
    }
    None
}

/// An error for an unexpected response: the registry's own words, else the status.
pub fn status_error(resp: Resp) -> Error {
    let status = resp.status();
    let body = read_small(resp).unwrap_or_default();
    Error::Other(registry_error(&body).unwrap_or_else(|| {
        format!("received unexpected HTTP status: {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))
    }))
}

/// A response header as text.
pub fn header(resp: &Resp, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_as_docker_prints_them() {
        let b = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(registry_error(b).as_deref(), Some("manifest unknown: manifest unknown"));
        let b = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
        assert_eq!(registry_error(b).as_deref(), Some("unauthorized: authentication required"));
        assert_eq!(
            registry_error(br#"{"details":"incorrect username or password"}"#).as_deref(),
            Some("unauthorized: incorrect username or password")
        );
        assert_eq!(registry_error(b"<html>"), None);
    }

    #[test]
    fn urls() {
        assert_eq!(host_port("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(host_port("https://registry-1.docker.io/v2/"), "registry-1.docker.io:443");
        assert_eq!(query_escape("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
        assert_eq!(go_method("GET"), "Get");
    }
}
