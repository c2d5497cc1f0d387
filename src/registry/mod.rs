//! The OCI distribution client: `pull`, `push`, `login`, `search` against any registry that
//! speaks the Distribution API v2 (Docker Hub, `registry:2` — the real one or skiff's own
//! teaching image — GHCR, Harbor, …), written over a small synchronous HTTP client (`ureq`);
//! `docs/decisions.md` says why not a distribution crate.
//!
//! | module | owns |
//! |---|---|
//! | `host` | which host serves a reference, HTTPS or plain HTTP (`insecure-registries`), the config dir |
//! | `auth` | `WWW-Authenticate` challenges, tokens, credentials in Docker's `config.json` shape |
//! | `client` | HTTP requests with auth and bounded timeouts, errors worded as Docker's |
//! | `manifest` | Docker v2 schema 2 / OCI manifests and lists, platform choice, the pushed manifest |
//! | `gzip` | deterministic layer compression (same layer → same digest everywhere) |
//! | `progress` | Docker's per-layer progress lines (rewritten in place on a terminal) |
//! | `pull`, `push`, `search` | the commands' protocol work |
//! | `fetch`, `pipe` | one layer of a pull in one streaming pass (download, gunzip, hash, extract) |

pub mod auth;
pub mod client;
mod fetch;
pub mod gzip;
pub mod host;
pub mod manifest;
mod pipe;
pub mod progress;
mod pull;
mod push;
pub mod search;

pub use client::Client;
pub use host::Registry;
pub use manifest::Platform;
pub use progress::Progress;
pub use pull::pull;
pub use push::{push, Pushed};

use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::spec::Digest;
use crate::store::{Image, Store};

/// What a pull did.
pub struct Pulled {
    pub image: Image,
    /// The digest of what the tag names (a list's digest when it is a list).
    pub digest: Digest,
    /// Whether the tag (or, by digest, the image) is new here: Docker's `Downloaded newer
    /// image` rather than `Image is up to date`.
    pub updated: bool,
}

/// A client for `r`'s registry with the credentials `login` stored for it.
pub fn client_for(r: &Reference) -> Client {
    let registry = Registry::of(r);
    let creds = auth::stored(&registry.domain);
    Client::new(registry, creds)
}

/// Pull `r` (run, create, build `FROM`): the whole of Docker's output, from `Pulling from` to
/// `Status: …`, to `out`.
pub fn pull_image(store: &Store, r: &Reference, out: &mut dyn std::io::Write, tty: bool) -> Result<Image> {
    let mut p = Progress::new(out, tty);
    let pulled = pull(store, r, None, &mut p)?;
    p.line(&status_line(&pulled, &r.familiar()));
    Ok(pulled.image)
}

/// `Status: Downloaded newer image for NAME` / `Status: Image is up to date for NAME`.
pub fn status_line(p: &Pulled, name: &str) -> String {
    if p.updated {
        format!("Status: Downloaded newer image for {name}")
    } else {
        format!("Status: Image is up to date for {name}")
    }
}

/// Every tag of repository `path` (`GET /v2/PATH/tags/list`, all pages).
pub fn list_tags(c: &Client, path: &str) -> Result<Vec<String>> {
    c.ping()?;
    let mut out = Vec::new();
    let mut next = Some(c.registry.url(&format!("{path}/tags/list?n=1000")));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = c.call("GET", &url, &[pull::pull_scope(path)], &[], client::Body::Empty)?;
        if !resp.status().is_success() {
            return Err(client::status_error(resp));
        }
        let link = client::header(&resp, "link");
        let body = client::read_small(resp)?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::Other(format!("invalid tag list: {e}")))?;
        for t in v.get("tags").and_then(|t| t.as_array()).into_iter().flatten() {
            if let Some(t) = t.as_str() {
                out.push(t.to_string());
            }
        }
        pages += 1;
        if let Some(l) = link.filter(|_| pages < 1000) {
            if let Some(p) = l.split(';').next().map(|p| p.trim().trim_start_matches('<').trim_end_matches('>')) {
                next = Some(format!("{}://{}{}", c.registry.scheme, c.registry.api_host, p));
            }
        }
    }
    Ok(out)
}
