//! Docker's legacy links (`--link name[:alias]`): the linked container found at creation, its
//! address in `/etc/hosts` under the alias, and the `ALIAS_PORT_…` variables.

use super::Container;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A legacy link: the linked container's name and the alias it has here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Link {
    pub name: String,
    pub alias: String,
}

/// The containers `specs` (`name[:alias]`) name, among `others`.
pub(super) fn resolve(others: &[Container], specs: &[String]) -> Result<Vec<(Link, Container)>> {
    let mut links = Vec::new();
    for spec in specs {
        let (target, alias) = spec.split_once(':').unwrap_or((spec, spec));
        let t = others
            .iter()
            .find(|c| {
                c.name == target.trim_start_matches('/')
                    || c.id == target
                    || (target.len() >= 3 && c.id.starts_with(target))
            })
            .ok_or_else(|| {
                Error::Other(format!("could not get container for {target}: No such container: {target}"))
            })?;
        links.push((Link { name: t.name.clone(), alias: alias.to_string() }, t.clone()));
    }
    Ok(links)
}

/// The `/etc/hosts` lines of the links: (address on `network`, `alias id name`).
pub(super) fn hosts_lines(links: &[(Link, Container)], network: &str) -> Vec<(String, String)> {
    links
        .iter()
        .filter_map(|(l, t)| {
            t.networks.get(network).map(|e| (e.ip_address.clone(), format!("{} {} {}", l.alias, t.short_id(), t.name)))
        })
        .collect()
}

/// The environment a link gives (`WEB_PORT_3000_TCP_ADDR=…`, `WEB_NAME=/me/web`, the linked
/// container's own `-e`/image variables as `WEB_ENV_…`), as Docker's legacy links do.
pub(super) fn env(me: &str, l: &Link, t: &Container, network: &str) -> Vec<String> {
    let prefix: String =
        l.alias.to_ascii_uppercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let ip = t.networks.get(network).map(|e| e.ip_address.clone()).unwrap_or_default();
    let mut out = vec![format!("{prefix}_NAME=/{me}/{}", l.alias)];
    let mut ports: Vec<(u16, String)> = t
        .exposed_ports
        .iter()
        .filter_map(|k| {
            let (p, proto) = k.split_once('/').unwrap_or((k, "tcp"));
            Some((p.parse().ok()?, proto.to_string()))
        })
        .collect();
    ports.sort();
    if let Some((p, proto)) = ports.first() {
        out.push(format!("{prefix}_PORT={proto}://{ip}:{p}"));
    }
    for (p, proto) in &ports {
        let up = proto.to_ascii_uppercase();
        out.push(format!("{prefix}_PORT_{p}_{up}={proto}://{ip}:{p}"));
        out.push(format!("{prefix}_PORT_{p}_{up}_ADDR={ip}"));
        out.push(format!("{prefix}_PORT_{p}_{up}_PORT={p}"));
        out.push(format!("{prefix}_PORT_{p}_{up}_PROTO={proto}"));
    }
    for kv in &t.config.env {
        let key = kv.split('=').next().unwrap_or("");
        if !["HOME", "PATH", "HOSTNAME"].contains(&key) {
            out.push(format!("{prefix}_ENV_{kv}"));
        }
    }
    out
}
