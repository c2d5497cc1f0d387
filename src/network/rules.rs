//! Docker's rules for what a container reaches and which names it resolves, for both
//! backends: own loopback and own addresses; containers on a shared network; the gateway is
//! the host; other skiff networks are isolated; `none` and `--internal` have no way out;
//! names (container names, aliases, short IDs) resolve on user-defined networks only, after
//! the container's own `/etc/hosts` (its name, `--link` aliases).
//!
//! The rules read containers through a [`Directory`] (implemented by `container/`), so the
//! network model does not depend on how records are kept.

use super::Endpoint;
use crate::store::Store;
use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// A container as the network rules see it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub id: String,
    pub name: String,
    pub hostname: String,
    /// Its endpoints, by network name.
    pub networks: BTreeMap<String, Endpoint>,
    /// Its processes run now (its record says so and its owner process lives).
    pub running: bool,
    /// `containers/<id>/`: its `hosts` file, and what a backend keeps there.
    pub dir: PathBuf,
}

/// Where the rules read containers from.
pub trait Directory: Send + Sync {
    /// Container `id` as it is now (`network connect` and `rename` change running ones).
    fn get(&self, id: &str) -> io::Result<Peer>;
    /// Every container.
    fn all(&self) -> io::Result<Vec<Peer>>;
}

/// Where a virtual address leads from one container.
#[derive(Debug)]
pub enum Route {
    /// The container itself (loopback or one of its own addresses).
    Itself,
    /// The host (a network's gateway).
    Gateway,
    /// Another running container, reached from our address `source` on the shared network.
    Container(Box<Peer>, Ipv4Addr),
    /// Straight out (`--network host`, or an address outside skiff's networks).
    Outside,
    /// Nothing answers: the error the caller gets.
    Fails(io::ErrorKind),
}

impl Peer {
    pub fn on_host_network(&self) -> bool {
        self.networks.contains_key("host")
    }

    pub fn on_no_network(&self) -> bool {
        self.networks.contains_key("none")
    }

    /// Its addresses, in the order it joined their networks.
    pub fn addresses(&self) -> Vec<(Ipv4Addr, &Endpoint)> {
        super::in_join_order(&self.networks).into_iter().filter_map(|(_, e)| endpoint_ip(e).map(|a| (a, e))).collect()
    }
}

pub fn endpoint_ip(e: &Endpoint) -> Option<Ipv4Addr> {
    e.ip_address.parse().ok()
}

pub fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len.min(32)) };
    u32::from(a) & mask == u32::from(b) & mask
}

/// Where `ip` leads from container `me`.
pub fn route(store: &Store, dir: &dyn Directory, me: &Peer, ip: Ipv4Addr) -> io::Result<Route> {
    if me.on_host_network() {
        return Ok(Route::Outside);
    }
    if ip.is_loopback() || me.networks.values().any(|e| e.ip_address == ip.to_string()) {
        return Ok(Route::Itself);
    }
    if me.on_no_network() {
        return Ok(Route::Fails(io::ErrorKind::NetworkUnreachable));
    }
    for (name, e) in &me.networks {
        let Some(own) = endpoint_ip(e) else { continue };
        if !same_subnet(own, ip, e.ip_prefix_len) {
            continue;
        }
        if e.gateway == ip.to_string() {
            return Ok(Route::Gateway);
        }
        let others = dir.all()?;
        return Ok(
            match others.into_iter().find(|c| c.networks.get(name).is_some_and(|o| o.ip_address == ip.to_string())) {
                Some(c) if c.running => Route::Container(Box::new(c), own),
                _ => Route::Fails(io::ErrorKind::HostUnreachable),
            },
        );
    }
    // Another skiff network: its bridge is isolated from ours, so packets go nowhere.
    let networks = super::list(store).map_err(|e| io::Error::other(e.to_string()))?;
    if networks.iter().filter_map(|n| n.subnet()).any(|(a, len, _)| same_subnet(a, ip, len)) {
        return Ok(Route::Fails(io::ErrorKind::TimedOut));
    }
    if me.networks.keys().any(|n| networks.iter().any(|x| &x.name == n && x.internal)) {
        return Ok(Route::Fails(io::ErrorKind::NetworkUnreachable));
    }
    Ok(Route::Outside)
}

/// The names in `me`'s `/etc/hosts` file that match `name`.
pub fn from_hosts_file(me: &Peer, name: &str) -> Vec<Ipv4Addr> {
    let hosts = std::fs::read_to_string(me.dir.join("hosts")).unwrap_or_default();
    hosts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let ip: Ipv4Addr = f.next()?.parse().ok()?;
            f.any(|n| n.eq_ignore_ascii_case(name)).then_some(ip)
        })
        .collect()
}

/// Docker's embedded DNS: on `me`'s user-defined networks, the names, aliases and short IDs
/// (12+ characters) of the running containers there; never on the default bridge.
pub fn from_user_networks(dir: &dyn Directory, me: &Peer, name: &str) -> Vec<Ipv4Addr> {
    let want = name.trim_end_matches('.').to_ascii_lowercase();
    let user_nets: Vec<&String> = me.networks.keys().filter(|n| !super::is_builtin(n)).collect();
    let mut found = Vec::new();
    if user_nets.is_empty() {
        return found;
    }
    let all = dir.all().unwrap_or_default();
    for net in user_nets {
        for c in all.iter().filter(|c| c.id == me.id || c.running) {
            let Some(e) = c.networks.get(net.as_str()) else { continue };
            let hit = c.name.eq_ignore_ascii_case(&want)
                || e.aliases.iter().any(|a| a.eq_ignore_ascii_case(&want))
                || (want.len() >= 12 && c.id.starts_with(&want));
            if let (true, Some(ip)) = (hit, endpoint_ip(e)) {
                if !found.contains(&ip) {
                    found.push(ip);
                }
            }
        }
    }
    found
}

/// What `name` resolves to in container `me`, by the rules (without asking the host's
/// resolver: the caller decides whether dotted names may go out).
pub fn resolve(dir: &dyn Directory, me: &Peer, name: &str) -> Vec<Ipv4Addr> {
    let want = name.trim_end_matches('.').to_ascii_lowercase();
    let hosts = from_hosts_file(me, &want);
    if !hosts.is_empty() || me.on_host_network() {
        return hosts;
    }
    from_user_networks(dir, me, &want)
}

/// One network interface of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub mac: String,
}

/// `me`'s interfaces, `lo` first, then `eth0`, `eth1`… in the order it joined its networks.
pub fn interfaces(me: &Peer) -> Vec<Interface> {
    let mut out =
        vec![Interface { name: "lo".into(), ip: Ipv4Addr::LOCALHOST, prefix: 8, mac: "00:00:00:00:00:00".into() }];
    for (ip, e) in me.addresses() {
        out.push(Interface {
            name: format!("eth{}", out.len() - 1),
            ip,
            prefix: e.ip_prefix_len,
            mac: e.mac_address.clone(),
        });
    }
    out
}
