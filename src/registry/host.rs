//! Where a repository lives and how to reach it, by Docker's rules: `docker.io` is served by
//! `registry-1.docker.io` (its credentials are filed under `https://index.docker.io/v1/`);
//! every registry is spoken to over HTTPS except `localhost`, `127.0.0.0/8`, `::1` and the
//! hosts or CIDR ranges listed in `insecure-registries` of skiff's `daemon.json`, which get plain
//! HTTP. skiff's configuration directory is `$SKIFF_CONFIG`, else `$XDG_CONFIG_HOME/skiff`,
//! else `~/.config/skiff`.

use crate::reference::{Reference, DEFAULT_DOMAIN};
use std::net::IpAddr;
use std::path::PathBuf;

/// The host Docker Hub's API answers on.
pub const HUB_API_HOST: &str = "registry-1.docker.io";
/// The key Docker files Docker Hub's credentials under in `config.json`.
pub const HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// Docker Hub's search endpoint host.
pub const HUB_INDEX_HOST: &str = "index.docker.io";

/// skiff's configuration directory (credentials in `config.json`, `daemon.json`).
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SKIFF_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(x).join("skiff");
    }
    #[cfg(windows)]
    if let Some(a) = std::env::var_os("APPDATA") {
        return PathBuf::from(a).join("skiff");
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from);
    home.unwrap_or_else(std::env::temp_dir).join(".config/skiff")
}

/// A registry as skiff talks to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// The domain of references (`docker.io`, `localhost:5000`).
    pub domain: String,
    /// The host (and port) the API answers on.
    pub api_host: String,
    /// `http` or `https`.
    pub scheme: &'static str,
}

impl Registry {
    /// The registry of `domain`, plain HTTP if `insecure` lists it (or it is local).
    pub fn new(domain: &str, insecure: &[String]) -> Registry {
        let api_host = if domain == DEFAULT_DOMAIN || domain == "index.docker.io" {
            HUB_API_HOST.to_string()
        } else {
            domain.to_string()
        };
        let scheme = if is_insecure(&api_host, insecure) { "http" } else { "https" };
        Registry { domain: normalise_domain(domain), api_host, scheme }
    }

    /// The registry of `r`, with skiff's `daemon.json` read for insecure registries.
    pub fn of(r: &Reference) -> Registry {
        Registry::new(&r.domain, &insecure_registries())
    }

    /// `http://localhost:5000/v2/` + `rest`.
    pub fn url(&self, rest: &str) -> String {
        format!("{}://{}/v2/{}", self.scheme, self.api_host, rest)
    }

    /// The key of this registry's credentials in `config.json` (Docker's).
    pub fn auth_key(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            HUB_AUTH_KEY.to_string()
        } else {
            self.domain.clone()
        }
    }

    pub fn is_hub(&self) -> bool {
        self.domain == DEFAULT_DOMAIN
    }
}

/// `index.docker.io`, `registry-1.docker.io` and Docker's URL for the Hub all mean `docker.io`.
pub fn normalise_domain(d: &str) -> String {
    let d = d.trim_start_matches("https://").trim_start_matches("http://");
    let d = d.split('/').next().unwrap_or(d);
    match d {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" | "" => DEFAULT_DOMAIN.to_string(),
        other => other.to_string(),
    }
}

/// The host part of `host[:port]` (IPv6 in brackets kept without them).
fn host_part(host_port: &str) -> &str {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host_port.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    }
}

/// Docker's rule: plain HTTP for loopback hosts and for registries listed as insecure, by
/// `host[:port]` exactly as references name them, or by a CIDR range their (literal) address
/// is in.
pub fn is_insecure(host_port: &str, insecure: &[String]) -> bool {
    let host = host_part(host_port);
    if host == "localhost" {
        return true;
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    insecure.iter().any(|entry| {
        let entry = entry.trim().trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
        if entry == host_port {
            return true;
        }
        match (ip, entry.split_once('/')) {
            (Some(ip), Some((net, bits))) => in_cidr(ip, net, bits),
            _ => false,
        }
    })
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `insecure-registries` of `daemon.json` in skiff's config directory (none if it is absent).
pub fn insecure_registries() -> Vec<String> {
    let p = config_dir().join("daemon.json");
    let Ok(data) = std::fs::read(&p) else { return vec![] };
    let v: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
    v.get("insecure-registries")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_names() {
        let r = Registry::new("docker.io", &[]);
        assert_eq!((r.api_host.as_str(), r.scheme), ("registry-1.docker.io", "https"));
        assert_eq!(r.auth_key(), "https://index.docker.io/v1/");
        assert_eq!(r.url(""), "https://registry-1.docker.io/v2/");
        assert_eq!(normalise_domain("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalise_domain("localhost:5000"), "localhost:5000");
    }

    #[test]
    fn insecure_rules() {
        let none: Vec<String> = vec![];
        for local in ["localhost", "localhost:5000", "127.0.0.1:5000", "127.8.9.10", "[::1]:5000"] {
            assert!(is_insecure(local, &none), "{local}");
        }
        for remote in ["ghcr.io", "registry.example.com:5000", "10.0.0.5:5000", "localhost.example.com"] {
            assert!(!is_insecure(remote, &none), "{remote}");
        }
        let list = vec!["myregistry.lan:5000".to_string(), "10.1.0.0/16".to_string(), "http://plain.lan".to_string()];
        assert!(is_insecure("myregistry.lan:5000", &list));
        assert!(!is_insecure("myregistry.lan:5001", &list));
        assert!(is_insecure("10.1.2.3:5000", &list));
        assert!(!is_insecure("10.2.0.1:5000", &list));
        assert!(is_insecure("plain.lan", &list));
        assert!(!is_insecure("plain.lan:443", &list), "an entry without a port means no port, as in Docker");
        assert_eq!(Registry::new("10.1.2.3:5000", &list).scheme, "http");
        assert_eq!(Registry::new("ghcr.io", &list).scheme, "https");
    }
}
