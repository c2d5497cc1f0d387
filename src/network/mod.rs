//! Networks as Docker models them (`networks/<name>.json`): the built-in `bridge`, `host` and
//! `none`, user-defined bridges with their own subnets, and the address management that hands
//! each attached container the lowest free address (so a removed container's address goes to
//! the next one). One model for both backends: `ports` publishes ports on the host, `rules`
//! says what a container reaches and which names it resolves; each backend carries packets
//! its own way under `runtime/`.

pub mod ports;
pub mod rules;

pub use rules::{Directory, Interface, Peer};

/// The networks every store has (`bridge`, `host`, `none`): not user-defined.
pub fn is_builtin(name: &str) -> bool {
    matches!(name, "bridge" | "host" | "none")
}

use crate::error::{Error, IoContext, Result};
use crate::store::{atomic_write, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;

/// A network as `network inspect` shows it (without `Containers`, which is computed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: BTreeMap<String, String>,
    pub config_only: bool,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub options: BTreeMap<String, String>,
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: String,
    pub gateway: String,
}

/// A container's place on one network (Docker's `EndpointSettings`, the parts skiff fills).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    pub mac_address: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// When the container joined this network, counting its networks from 0: its interfaces
    /// are numbered in this order (`eth0` is the network it was created on), as Docker's.
    #[serde(default)]
    pub joined: u32,
}

/// A container's endpoints in the order it joined their networks (`eth0`, `eth1`, …).
pub fn in_join_order(endpoints: &BTreeMap<String, Endpoint>) -> Vec<(&String, &Endpoint)> {
    let mut v: Vec<(&String, &Endpoint)> = endpoints.iter().collect();
    v.sort_by_key(|(name, e)| (e.joined, name.as_str()));
    v
}

impl Network {
    /// (subnet address, prefix length, gateway) of a bridge network.
    pub fn subnet(&self) -> Option<(Ipv4Addr, u8, Ipv4Addr)> {
        let c = self.ipam.config.first()?;
        let (addr, len) = c.subnet.split_once('/')?;
        Some((addr.parse().ok()?, len.parse().ok()?, c.gateway.parse().ok()?))
    }
}

fn path(store: &Store, name: &str) -> std::path::PathBuf {
    store.root().join("networks").join(format!("{name}.json"))
}

fn new_network(name: &str, driver: &str, subnet: Option<(Ipv4Addr, u8, Ipv4Addr)>, internal: bool) -> Network {
    Network {
        name: name.into(),
        id: hex::encode(rand::random::<[u8; 32]>()),
        created: crate::container::now(),
        scope: "local".into(),
        driver: driver.into(),
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: BTreeMap::new(),
            config: subnet
                .map(|(a, l, g)| vec![IpamConfig { subnet: format!("{a}/{l}"), gateway: g.to_string() }])
                .unwrap_or_default(),
        },
        internal,
        attachable: false,
        ingress: false,
        config_from: BTreeMap::from([("Network".to_string(), String::new())]),
        config_only: false,
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
    }
}

/// Every network, creating the built-in three the first time; sorted by name.
pub fn list(store: &Store) -> Result<Vec<Network>> {
    let dir = store.root().join("networks");
    if !dir.join("bridge.json").exists() {
        let _lock = store.lock()?;
        fs::create_dir_all(&dir).at(&dir)?;
        for (name, driver, subnet) in [
            ("bridge", "bridge", Some((Ipv4Addr::new(172, 17, 0, 0), 16, Ipv4Addr::new(172, 17, 0, 1)))),
            ("host", "host", None),
            ("none", "null", None),
        ] {
            if !path(store, name).exists() {
                let n = new_network(name, driver, subnet, false);
                atomic_write(&path(store, name), &serde_json::to_vec_pretty(&n).expect("network serialises"))?;
            }
        }
    }
    let mut out = Vec::new();
    for e in fs::read_dir(&dir).at(&dir)? {
        let p = e.at(&dir)?.path();
        if p.extension().is_some_and(|x| x == "json") {
            // Removed by another command since the directory was read: not there any more.
            let data = match fs::read(&p) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&p, e)),
            };
            out.push(
                serde_json::from_slice::<Network>(&data).map_err(|e| Error::Other(format!("{}: {e}", p.display())))?,
            );
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A network by name, full ID or ID prefix.
pub fn find(store: &Store, key: &str) -> Result<Network> {
    let all = list(store)?;
    if let Some(n) = all.iter().find(|n| n.name == key || n.id == key) {
        return Ok(n.clone());
    }
    let hits: Vec<&Network> = all.iter().filter(|n| !key.is_empty() && n.id.starts_with(key)).collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(Error::Other(format!("network {key} not found"))),
    }
}

/// Create a user-defined bridge network: `--subnet` / `--gateway`, else the next free
/// 172.N.0.0/16 from 172.18 on.
pub fn create(
    store: &Store,
    name: &str,
    subnet: Option<&str>,
    gateway: Option<&str>,
    internal: bool,
) -> Result<Network> {
    list(store)?; // makes the built-in networks (under the lock) the first time
                  // The name and subnet checks and the write are one step under the lock: parallel creates
                  // of one name cannot all succeed, nor different networks take the same subnet.
    let _lock = store.lock()?;
    let all = list(store)?;
    if all.iter().any(|n| n.name == name) {
        return Err(Error::Other(format!("network with name {name} already exists")));
    }
    if !crate::container::valid_name(name) {
        return Err(Error::Other(format!("invalid network name {name:?}")));
    }
    let used: Vec<(Ipv4Addr, u8)> = all.iter().filter_map(|n| n.subnet().map(|(a, l, _)| (a, l))).collect();
    let (addr, len) = match subnet {
        Some(s) => {
            let (a, l) = s.split_once('/').ok_or_else(|| Error::Other(format!("invalid subnet {s}")))?;
            let a: Ipv4Addr = a.parse().map_err(|_| Error::Other(format!("invalid subnet {s}")))?;
            let l: u8 = l.parse().ok().filter(|l| (8..=30).contains(l)).ok_or_else(|| Error::Other(format!("invalid subnet {s}")))?;
            let a = Ipv4Addr::from(u32::from(a) & mask(l));
            if used.iter().any(|(u, ul)| overlaps(a, l, *u, *ul)) {
                return Err(Error::Other("Pool overlaps with other one on this address space".into()));
            }
            (a, l)
        }
        None => (18..=31)
            .map(|b| Ipv4Addr::new(172, b, 0, 0))
            .find(|a| !used.iter().any(|(u, ul)| overlaps(*a, 16, *u, *ul)))
            .map(|a| (a, 16))
            .ok_or_else(|| Error::Other("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".into()))?,
    };
    let gw = match gateway {
        Some(g) => g.parse::<Ipv4Addr>().map_err(|_| Error::Other(format!("invalid gateway {g}")))?,
        None => Ipv4Addr::from(u32::from(addr) + 1),
    };
    let n = new_network(name, "bridge", Some((addr, len, gw)), internal);
    crate::store::crash::point("network-create");
    atomic_write(&path(store, name), &serde_json::to_vec_pretty(&n).expect("network serialises"))?;
    event(store, &n, "create");
    Ok(n)
}

/// `network create|destroy <id> (name=…, type=bridge)`.
fn event(store: &Store, n: &Network, action: &str) {
    let e =
        crate::events::Event::new("network", action, &n.id, &[("name", n.name.as_str()), ("type", n.driver.as_str())]);
    crate::events::record(store, e);
}

/// Remove a user-defined network (the caller checks it has no containers).
pub fn remove(store: &Store, n: &Network) -> Result<()> {
    if ["bridge", "host", "none"].contains(&n.name.as_str()) {
        return Err(Error::Other(format!("{} is a pre-defined network and cannot be removed", n.name)));
    }
    let _lock = store.lock()?;
    let p = path(store, &n.name);
    crate::store::crash::point("network-remove");
    fs::remove_file(&p).at(&p)?;
    event(store, n, "destroy");
    Ok(())
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len)
    }
}

fn overlaps(a: Ipv4Addr, al: u8, b: Ipv4Addr, bl: u8) -> bool {
    let l = al.min(bl);
    (u32::from(a) & mask(l)) == (u32::from(b) & mask(l))
}

/// An endpoint on `n` at the lowest address not in `taken` (nor the network's own, the
/// gateway or broadcast), with Docker's MAC (`02:42:` + the address).
pub fn allocate(n: &Network, taken: &[Ipv4Addr], aliases: Vec<String>) -> Result<Endpoint> {
    let mut e = Endpoint {
        network_id: n.id.clone(),
        endpoint_id: hex::encode(rand::random::<[u8; 32]>()),
        aliases,
        ..Default::default()
    };
    let Some((addr, len, gw)) = n.subnet() else {
        return Ok(e); // host and none: no address of their own
    };
    let first = u32::from(addr) + 1;
    let last = (u32::from(addr) | !mask(len)) - 1;
    let ip = (first..=last)
        .map(Ipv4Addr::from)
        .find(|ip| *ip != gw && !taken.contains(ip))
        .ok_or_else(|| Error::Other(format!("no available IPv4 addresses on network {}", n.name)))?;
    let o = ip.octets();
    e.gateway = gw.to_string();
    e.ip_address = ip.to_string();
    e.ip_prefix_len = len;
    e.mac_address = format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3]);
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_address_and_docker_macs() {
        let n = new_network(
            "mynet",
            "bridge",
            Some((Ipv4Addr::new(172, 20, 0, 0), 16, Ipv4Addr::new(172, 20, 0, 1))),
            false,
        );
        let e = allocate(&n, &[], vec![]).unwrap();
        assert_eq!(
            (e.ip_address.as_str(), e.ip_prefix_len, e.mac_address.as_str(), e.gateway.as_str()),
            ("172.20.0.2", 16, "02:42:ac:14:00:02", "172.20.0.1")
        );
        let taken = [Ipv4Addr::new(172, 20, 0, 2), Ipv4Addr::new(172, 20, 0, 4)];
        assert_eq!(allocate(&n, &taken, vec![]).unwrap().ip_address, "172.20.0.3", "a freed address is reused first");
        assert!(overlaps(Ipv4Addr::new(172, 18, 0, 0), 16, Ipv4Addr::new(172, 18, 5, 0), 24));
        assert!(!overlaps(Ipv4Addr::new(172, 18, 0, 0), 16, Ipv4Addr::new(172, 19, 0, 0), 16));
    }
}
