//! Published ports reached from the host itself through the kernel: per container, an
//! nftables table (`ip skiff-<id12>`) that rewrites the host's own connections to a published
//! port (to `127.0.0.1`, or any local address when the port is published on all of them) to
//! the container's address, as Docker does with `userland-proxy: false`. Connections from
//! elsewhere (other machines, other containers) still reach the supervisor's userland proxy,
//! which keeps holding the host port (so a second publish of it still fails at bind).
//!
//! Loopback-sourced packets may leave through the container's bridge only with
//! `route_localnet` set on it, and are masqueraded to the gateway address so the container's
//! reply comes back to the host; nothing else is masqueraded (nothing leaves the host).
//! A file `portmap` in the container's directory marks that the table exists, so that
//! [`remove`] costs nothing for the containers (most) that publish no port.

use super::net::nft;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// One published port: the host address and port it was bound on, the container's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub container_port: u16,
}

/// The mappings of the bound listeners in `published`.
pub fn mappings(published: &crate::runtime::Published) -> Vec<Mapping> {
    let mut out = Vec::new();
    for (port, listeners) in published {
        for l in listeners {
            if let Ok(a) = l.local_addr() {
                out.push(Mapping { host_ip: a.ip(), host_port: a.port(), container_port: *port });
            }
        }
    }
    out
}

fn table(id: &str) -> String {
    format!("skiff-{}", &id[..12.min(id.len())])
}

fn marker(dir: &Path) -> std::path::PathBuf {
    dir.join("portmap")
}

/// The ruleset of container `id` at `to` on bridge `bridge` (replacing any earlier one).
fn ruleset(id: &str, bridge: &str, to: Ipv4Addr, maps: &[Mapping]) -> String {
    let t = table(id);
    let mut dnat = String::new();
    for m in maps {
        let daddr = match m.host_ip {
            IpAddr::V4(ip) if ip.is_unspecified() => "fib daddr type local".to_string(),
            IpAddr::V4(ip) => format!("ip daddr {ip}"),
            IpAddr::V6(_) => continue, // the proxy serves IPv6 listeners
        };
        dnat.push_str(&format!("    {daddr} tcp dport {} dnat to {to}:{}\n", m.host_port, m.container_port));
    }
    format!(
        "table ip {t}\ndelete table ip {t}\ntable ip {t} {{\n  chain output {{\n    type nat hook output priority -100; policy accept;\n{dnat}  }}\n  chain postrouting {{\n    type nat hook postrouting priority srcnat; policy accept;\n    ip saddr 127.0.0.0/8 oifname \"{bridge}\" ip daddr {to} masquerade\n  }}\n}}\n"
    )
}

/// Rewrite the host's connections to `maps` to container `id` (in `dir`) at `to`, on `bridge`.
/// Best effort: without nftables (or NAT in the kernel) the userland proxy serves them all.
pub fn install(id: &str, dir: &Path, bridge: &str, to: Ipv4Addr, maps: &[Mapping]) {
    if !maps.iter().any(|m| m.host_ip.is_ipv4()) {
        return;
    }
    // The marker first: a supervisor killed between the two leaves a table a later `remove` finds.
    if std::fs::write(marker(dir), b"").is_err() {
        return;
    }
    let _ = std::fs::write(format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"), "1");
    if !nft(&ruleset(id, bridge, to, maps)) {
        remove(id, dir);
    }
}

/// Drop container `id`'s table, if it has one (idempotent).
pub fn remove(id: &str, dir: &Path) {
    if marker(dir).exists() {
        let t = table(id);
        nft(&format!("table ip {t}\ndelete table ip {t}\n"));
        let _ = std::fs::remove_file(marker(dir));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_the_container_and_its_ports() {
        let maps = [
            Mapping { host_ip: "0.0.0.0".parse().unwrap(), host_port: 8080, container_port: 80 },
            Mapping { host_ip: "127.0.0.1".parse().unwrap(), host_port: 9000, container_port: 3000 },
            Mapping { host_ip: "::".parse().unwrap(), host_port: 8080, container_port: 80 },
        ];
        let r = ruleset("0123456789abcdef", "skiff0", "172.17.0.2".parse().unwrap(), &maps);
        assert!(r.starts_with("table ip skiff-0123456789ab\ndelete table ip skiff-0123456789ab\n"), "{r}");
        assert!(r.contains("fib daddr type local tcp dport 8080 dnat to 172.17.0.2:80\n"), "{r}");
        assert!(r.contains("ip daddr 127.0.0.1 tcp dport 9000 dnat to 172.17.0.2:3000\n"), "{r}");
        assert_eq!(r.matches("dnat to").count(), 2, "{r}");
        assert!(r.contains("ip saddr 127.0.0.0/8 oifname \"skiff0\" ip daddr 172.17.0.2 masquerade"), "{r}");
    }
}
