//! The configuration: `/etc/docker/registry/config.yml` (the YAML subset registry configs
//! use: nested maps by indentation, scalars, `[a, b]` and `- item` lists), then
//! `REGISTRY_<SECTION>_<KEY>` environment variables over it, as the real registry does.

use std::collections::BTreeMap;

/// The settings this registry uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `http.addr`: `:5000`, `0.0.0.0:5000`.
    pub addr: String,
    pub port: u16,
    /// `http.secret`: signs upload state tokens; random when empty (with a warning).
    pub secret: String,
    /// `http.host`: the base of `Location` URLs (else the request's `Host`).
    pub host: String,
    /// `http.relativeurls`: `Location` without scheme and host.
    pub relative_urls: bool,
    /// `http.headers`: added to every API response.
    pub headers: Vec<(String, String)>,
    /// `storage.filesystem.rootdirectory`.
    pub root: String,
    /// `storage.delete.enabled`.
    pub delete_enabled: bool,
    /// `storage.maintenance.readonly.enabled`.
    pub read_only: bool,
    /// `log.accesslog.disabled`.
    pub access_log: bool,
    /// `log.fields`: added to each log line (`service=registry`).
    pub log_fields: Vec<(String, String)>,
    /// `catalog.maxentries`.
    pub catalog_max: usize,
}

/// Flatten the YAML subset into `a.b.c → value` (lists as `[x, y]`, map keys kept as written).
pub fn parse_yaml(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    // (indent, key) of the maps we are in.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut list: Option<(String, usize, Vec<String>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if let Some(item) = body.strip_prefix("- ").or(if body == "-" { Some("") } else { None }) {
            match &mut list {
                Some((_, ind, items)) if indent >= *ind => {
                    items.push(unquote(item.trim()));
                    continue;
                }
                _ => return Err(format!("yaml: line {}: did not find expected key", n + 1)),
            }
        }
        if let Some((key, _, items)) = list.take() {
            out.insert(key, format!("[{}]", items.join(", ")));
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let Some((k, v)) = body.split_once(':') else {
            return Err(format!("yaml: line {}: could not find expected ':'", n + 1));
        };
        let key = unquote(k.trim());
        let mut path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        path.push(&key);
        let full = path.join(".");
        let v = v.trim();
        if v.is_empty() {
            stack.push((indent, key));
            list = Some((full, indent, Vec::new()));
        } else {
            out.insert(full, unquote(v));
        }
    }
    if let Some((key, _, items)) = list {
        if !items.is_empty() {
            out.insert(key, format!("[{}]", items.join(", ")));
        }
    }
    Ok(out)
}

fn strip_comment(l: &str) -> &str {
    let mut quote = None;
    for (i, c) in l.char_indices() {
        match c {
            '"' | '\'' if quote.is_none() => quote = Some(c),
            c2 if Some(c2) == quote => quote = None,
            '#' if quote.is_none() && (i == 0 || l[..i].ends_with([' ', '\t'])) => return &l[..i],
            _ => {}
        }
    }
    l
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\''))) {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// The items of a `[a, b]` value (a scalar is a list of one).
fn list_items(v: &str) -> Vec<String> {
    match v.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => inner.split(',').map(|s| unquote(s.trim())).filter(|s| !s.is_empty()).collect(),
        None => vec![v.to_string()],
    }
}

fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The port of an `http.addr` (`:5000`, `0.0.0.0:5000`, `[::]:5000`, `localhost:5000`).
pub fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit(':').next()?.parse().ok()
}

impl Config {
    /// The configuration from the file's text and the environment (`REGISTRY_HTTP_ADDR`…).
    pub fn load(text: &str, env: &[(String, String)]) -> Result<Config, String> {
        let mut kv = parse_yaml(text)?;
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("REGISTRY_") else { continue };
            if rest.is_empty() || rest == "CONFIGURATION_PATH" {
                continue;
            }
            let key = rest.to_ascii_lowercase().replace('_', ".");
            // A whole section from the environment replaces the file's (`REGISTRY_STORAGE=…`
            // is rare); a key sets one value.
            kv.insert(key, v.clone());
        }
        if !kv.contains_key("version") {
            return Err("configuration error: Please specify a configuration version. Current version is 0.1".into());
        }
        let addr = kv.get("http.addr").cloned().unwrap_or_else(|| ":5000".into());
        let port = port_of(&addr).ok_or_else(|| format!("listen tcp: address {addr}: missing port in address"))?;
        let mut headers = Vec::new();
        let mut log_fields = Vec::new();
        for (k, v) in &kv {
            if let Some(name) = k.strip_prefix("http.headers.") {
                for item in list_items(v) {
                    headers.push((name.to_string(), item));
                }
            } else if let Some(name) = k.strip_prefix("log.fields.") {
                log_fields.push((name.to_string(), v.clone()));
            }
        }
        let root = kv.get("storage.filesystem.rootdirectory").cloned().unwrap_or_else(|| "/var/lib/registry".into());
        let catalog_max = kv.get("catalog.maxentries").and_then(|v| v.parse().ok()).unwrap_or(1000);
        Ok(Config {
            addr,
            port,
            secret: kv.get("http.secret").cloned().unwrap_or_default(),
            host: kv.get("http.host").cloned().unwrap_or_default(),
            relative_urls: truthy(kv.get("http.relativeurls")),
            headers,
            root,
            delete_enabled: truthy(kv.get("storage.delete.enabled")),
            read_only: truthy(kv.get("storage.maintenance.readonly.enabled")),
            access_log: !truthy(kv.get("log.accesslog.disabled")),
            log_fields,
            catalog_max,
        })
    }
}

/// The configuration file of the image, as the real `registry:2` ships it.
#[cfg(test)]
pub const DEFAULT_CONFIG: &str = "version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_images_config() {
        let c = Config::load(DEFAULT_CONFIG, &[]).unwrap();
        assert_eq!((c.addr.as_str(), c.port, c.root.as_str()), (":5000", 5000, "/var/lib/registry"));
        assert_eq!(c.headers, vec![("X-Content-Type-Options".to_string(), "nosniff".to_string())]);
        assert_eq!(c.log_fields, vec![("service".to_string(), "registry".to_string())]);
        assert!(!c.delete_enabled && !c.read_only && c.access_log && c.secret.is_empty());
        assert_eq!(c.catalog_max, 1000);
    }

    #[test]
    fn environment_overrides() {
        let env = |k: &str, v: &str| (k.to_string(), v.to_string());
        let c = Config::load(
            DEFAULT_CONFIG,
            &[
                env("REGISTRY_HTTP_ADDR", "0.0.0.0:5001"),
                env("REGISTRY_STORAGE_DELETE_ENABLED", "true"),
                env("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", "/data"),
                env("REGISTRY_HTTP_SECRET", "s3"),
                env("PATH", "/bin"),
            ],
        )
        .unwrap();
        assert_eq!((c.port, c.root.as_str(), c.secret.as_str()), (5001, "/data", "s3"));
        assert!(c.delete_enabled);
    }

    #[test]
    fn yaml_subset() {
        let kv = parse_yaml("version: 0.1 # comment\nhttp:\n  headers:\n    X-A:\n      - one\n      - \"two\"\n  addr: ':80'\nstorage:\n  delete:\n    enabled: true\n").unwrap();
        assert_eq!(kv["http.headers.X-A"], "[one, two]");
        assert_eq!(kv["http.addr"], ":80");
        assert_eq!(kv["storage.delete.enabled"], "true");
        assert_eq!(kv["version"], "0.1");
        assert!(parse_yaml("nocolon\n").is_err());
        assert!(Config::load("http:\n  addr: :5000\n", &[]).unwrap_err().contains("configuration version"));
    }
}
