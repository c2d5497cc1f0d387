//! `search`: a registry's catalog (`GET /v2/_catalog`, every page, filtered by the term) for
//! a term that names a registry (`localhost:5000/nginx`), else skiff's built-in library plus
//! Docker Hub's search API (`index.docker.io/v1/search`) when it can be reached.

use super::client::{self, Client};
use super::host::{Registry, HUB_INDEX_HOST};
use crate::error::{Error, Result};

/// One result, with Docker's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub description: String,
    pub stars: u64,
    pub official: bool,
    pub automated: bool,
}

/// Split `localhost:5000/ngi` into (registry domain, term); a term without a registry
/// (`nginx`, `me/app`) searches Docker Hub and the built-in library.
pub fn split_term(term: &str) -> (Option<String>, String) {
    if let Some((first, rest)) = term.split_once('/') {
        if first.contains('.') || first.contains(':') || first == "localhost" {
            return (Some(first.to_string()), rest.to_string());
        }
    }
    (None, term.to_string())
}

/// The repositories of `domain`'s catalog whose names contain `term`.
pub fn catalog(domain: &str, term: &str) -> Result<Vec<Found>> {
    let registry = Registry::new(domain, &super::host::insecure_registries());
    let c = Client::new(registry, super::auth::stored(domain));
    c.ping()?;
    let mut out = Vec::new();
    let mut next = Some(c.registry.url("_catalog?n=100"));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = c.call("GET", &url, &["registry:catalog:*".to_string()], &[], client::Body::Empty)?;
        if resp.status().as_u16() == 404 {
            return Err(Error::Other(format!("{domain} has no catalog to search (GET /v2/_catalog: 404 Not Found)")));
        }
        if !resp.status().is_success() {
            return Err(client::status_error(resp));
        }
        let link = client::header(&resp, "link");
        let body = client::read_small(resp)?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::Other(format!("invalid catalog from {domain}: {e}")))?;
        for name in v.get("repositories").and_then(|r| r.as_array()).into_iter().flatten() {
            if let Some(n) = name.as_str().filter(|n| n.contains(term)) {
                out.push(Found {
                    name: format!("{domain}/{n}"),
                    description: String::new(),
                    stars: 0,
                    official: false,
                    automated: false,
                });
            }
        }
        // `Link: </v2/_catalog?last=x&n=100>; rel="next"`
        pages += 1;
        if let Some(l) = link.filter(|_| pages < 1000) {
            if let Some(path) = l.split(';').next().map(|p| p.trim().trim_start_matches('<').trim_end_matches('>')) {
                next = Some(format!("{}://{}{}", c.registry.scheme, c.registry.api_host, path));
            }
        }
    }
    Ok(out)
}

/// skiff's built-in images whose name or description contains `term`.
pub fn builtin(term: &str) -> Vec<Found> {
    let t = term.to_ascii_lowercase();
    crate::builtin::CATALOG
        .iter()
        .filter(|(name, _, what)| name.contains(&t) || what.to_ascii_lowercase().contains(&t))
        .map(|(name, _, what)| Found {
            name: name.to_string(),
            description: format!("skiff teaching image: {what}"),
            stars: 0,
            official: true,
            automated: false,
        })
        .collect()
}

/// Docker Hub's search API.
pub fn hub(term: &str, limit: usize) -> Result<Vec<Found>> {
    let registry = Registry { domain: "docker.io".into(), api_host: HUB_INDEX_HOST.into(), scheme: "https" };
    let c = Client::new(registry, None);
    let url = format!("https://{HUB_INDEX_HOST}/v1/search?q={}&n={limit}", client::query_escape(term));
    let resp = c.get_plain(&url)?;
    if !resp.status().is_success() {
        return Err(client::status_error(resp));
    }
    let body = client::read_small(resp)?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| Error::Other(format!("invalid search answer: {e}")))?;
    Ok(v.get("results")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(Found {
                name: r.get("name")?.as_str()?.to_string(),
                description: r.get("description").and_then(|d| d.as_str()).unwrap_or("").to_string(),
                stars: r.get("star_count").and_then(|s| s.as_u64()).unwrap_or(0),
                official: r.get("is_official").and_then(|b| b.as_bool()).unwrap_or(false),
                automated: r.get("is_automated").and_then(|b| b.as_bool()).unwrap_or(false),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        assert_eq!(split_term("nginx"), (None, "nginx".into()));
        assert_eq!(split_term("me/app"), (None, "me/app".into()));
        assert_eq!(split_term("localhost:5000/ngi"), (Some("localhost:5000".into()), "ngi".into()));
        assert_eq!(split_term("registry.lan/"), (Some("registry.lan".into()), "".into()));
        let b = builtin("redis");
        assert_eq!(b.len(), 1);
        assert!(b[0].official);
        assert!(builtin("web server").len() >= 2, "descriptions match too");
    }
}
