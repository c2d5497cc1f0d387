//! Published ports: `-p [ip:][hostPort:]ctrPort[/tcp]` and `-P` parsed as Docker does, and
//! the real host listeners bound for them when a container starts (a host port in use is an
//! error then, and nothing is left bound).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};

/// One host address a container port is published on (Docker's `PortBinding`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    /// `""` (all addresses, as given) or `0.0.0.0` (as bound); or one address.
    pub host_ip: String,
    /// `""` for a random port (as given); the port bound.
    pub host_port: String,
}

/// Container port key → bindings, as `HostConfig.PortBindings` / `NetworkSettings.Ports`.
pub type PortMap = BTreeMap<String, Vec<PortBinding>>;

/// `80`, `80/tcp` → `80/tcp` and the port number.
pub fn port_key(s: &str) -> Result<(String, u16)> {
    let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let n = parse_port(port).ok_or_else(|| Error::Other(format!("Invalid containerPort: {port}")))?;
    match proto {
        "tcp" => Ok((format!("{n}/tcp"), n)),
        "udp" | "sctp" => Err(Error::Other(format!("skiff publishes TCP ports only, not {proto} ({s})"))),
        _ => Err(Error::Other(format!("Invalid proto: {proto}"))),
    }
}

fn parse_port(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().filter(|p| *p > 0)
}

/// One `-p` value: `[ip:][hostPort:]ctrPort[/proto]` (`ip::ctrPort` publishes on a random
/// port of `ip`).
pub fn parse_publish(spec: &str) -> Result<(String, PortBinding)> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, Some(p)),
        None => (spec, None),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, ctr) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(Error::Other(format!("Invalid port format: {spec}"))),
    };
    if host.contains('-') || ctr.contains('-') {
        return Err(Error::Other(format!("skiff does not publish port ranges yet: {spec}")));
    }
    if !host.is_empty() && parse_port(host).is_none() {
        return Err(Error::Other(format!("Invalid hostPort: {host}")));
    }
    if !ip.is_empty() && ip.parse::<Ipv4Addr>().is_err() {
        return Err(Error::Other(format!("Invalid ip address: {ip}")));
    }
    let (key, _) = port_key(&match proto {
        Some(p) => format!("{ctr}/{p}"),
        None => ctr.to_string(),
    })?;
    Ok((key, PortBinding { host_ip: ip.to_string(), host_port: host.to_string() }))
}

/// The host listeners of a starting container: container port → listeners (the first is the
/// one its process will accept on), and the bindings as bound.
#[derive(Debug, Default)]
pub struct Published {
    pub listeners: BTreeMap<u16, Vec<TcpListener>>,
    pub ports: PortMap,
}

/// Bind every requested port (and, with `publish_all`, every exposed one on a random port).
/// `taken_by_others` gives the ports other running containers hold, to tell "allocated by a
/// container" from "in use on the host" as Docker's errors do.
pub fn bind(
    name: &str,
    bindings: &PortMap,
    exposed: &[String],
    publish_all: bool,
    taken_by_others: &dyn Fn() -> Vec<(String, u16)>,
) -> Result<Published> {
    let mut wanted = bindings.clone();
    if publish_all {
        for key in exposed {
            wanted.entry(key.clone()).or_insert_with(|| vec![PortBinding::default()]);
        }
    }
    let mut out = Published::default();
    for (key, list) in &wanted {
        let (_, ctr_port) = port_key(key)?;
        for b in list {
            let ip: Ipv4Addr = if b.host_ip.is_empty() {
                Ipv4Addr::UNSPECIFIED
            } else {
                b.host_ip.parse().map_err(|_| Error::Other(format!("Invalid ip address: {}", b.host_ip)))?
            };
            let port: u16 = if b.host_port.is_empty() {
                0
            } else {
                b.host_port.parse().map_err(|_| Error::Other(format!("Invalid hostPort: {}", b.host_port)))?
            };
            let l = TcpListener::bind((ip, port)).map_err(|e| {
                let why = if taken_by_others()
                    .iter()
                    .any(|(hip, p)| *p == port && (hip == &ip.to_string() || hip == "0.0.0.0" || ip.is_unspecified()))
                {
                    format!("Bind for {ip}:{port} failed: port is already allocated")
                } else {
                    format!("Error starting userland proxy: listen tcp4 {ip}:{port}: bind: {}", bind_error(&e))
                };
                Error::Other(format!("driver failed programming external connectivity on endpoint {name}: {why}"))
            })?;
            let bound = l.local_addr().map_err(|e| Error::Other(e.to_string()))?;
            out.ports
                .entry(key.clone())
                .or_default()
                .push(PortBinding { host_ip: ip.to_string(), host_port: bound.port().to_string() });
            out.listeners.entry(ctr_port).or_default().push(l);
        }
    }
    Ok(out)
}

fn bind_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "address already in use".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::AddrNotAvailable => "cannot assign requested address".into(),
        _ => e.to_string(),
    }
}

/// `0.0.0.0:8080->80/tcp, 127.0.0.1:8081->81/tcp, 443/tcp` (the `ps` PORTS column): published
/// ports with their host side, exposed ones alone.
pub fn describe(ports: &PortMap, exposed: &[String]) -> String {
    let mut keys: Vec<&String> = ports.keys().chain(exposed.iter()).collect();
    keys.sort_by_key(|k| (k.split('/').next().and_then(|p| p.parse::<u16>().ok()).unwrap_or(0), k.to_string()));
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        match ports.get(k) {
            Some(list) if !list.is_empty() => {
                out.extend(list.iter().map(|b| format!("{}:{}->{k}", b.host_ip, b.host_port)))
            }
            _ => out.push(k.clone()),
        }
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs_parse_as_docker_does() {
        let p = |s| parse_publish(s).map_err(|e| e.to_string());
        assert_eq!(
            p("8080:80").unwrap(),
            ("80/tcp".into(), PortBinding { host_ip: "".into(), host_port: "8080".into() })
        );
        assert_eq!(p("127.0.0.1:8081:80/tcp").unwrap().1.host_ip, "127.0.0.1");
        assert_eq!(p("3000").unwrap(), ("3000/tcp".into(), PortBinding::default()));
        assert_eq!(p("127.0.0.1::80").unwrap().1, PortBinding { host_ip: "127.0.0.1".into(), host_port: "".into() });
        assert_eq!(p("70000:80").unwrap_err(), "Invalid hostPort: 70000");
        assert_eq!(p("abc:80").unwrap_err(), "Invalid hostPort: abc");
        assert_eq!(p("80:x").unwrap_err(), "Invalid containerPort: x");
        assert!(p("53:53/udp").unwrap_err().contains("TCP ports only"));
    }

    #[test]
    fn ports_column() {
        let mut m = PortMap::new();
        m.insert("80/tcp".into(), vec![PortBinding { host_ip: "0.0.0.0".into(), host_port: "8080".into() }]);
        assert_eq!(describe(&m, &["443/tcp".into(), "80/tcp".into()]), "0.0.0.0:8080->80/tcp, 443/tcp");
    }

    #[test]
    fn a_port_in_use_is_a_clear_error_and_nothing_stays_bound() {
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = busy.local_addr().unwrap().port();
        let free = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let mut m = PortMap::new();
        m.insert("79/tcp".into(), vec![PortBinding { host_ip: "127.0.0.1".into(), host_port: free.to_string() }]); // bound first
        m.insert("80/tcp".into(), vec![PortBinding { host_ip: "127.0.0.1".into(), host_port: port.to_string() }]);
        let e = bind("p3", &m, &[], false, &|| vec![]).unwrap_err().to_string();
        assert_eq!(e, format!("driver failed programming external connectivity on endpoint p3: Error starting userland proxy: listen tcp4 127.0.0.1:{port}: bind: address already in use"));
        let e = bind("p2", &m, &[], false, &|| vec![("0.0.0.0".into(), port)]).unwrap_err().to_string();
        assert!(e.ends_with(&format!("Bind for 127.0.0.1:{port} failed: port is already allocated")), "{e}");
        TcpListener::bind((Ipv4Addr::LOCALHOST, free)).expect("the port bound before the failure was released");
    }
}
