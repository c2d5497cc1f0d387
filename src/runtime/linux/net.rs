//! Native containers on skiff's networks (the one model in `src/network/`: same networks,
//! same addresses, same records as WASI containers). The plumbing is the CNI reference
//! plugins from Debian's `containernetworking-plugins`, as nerdctl uses them: each skiff
//! network of driver `bridge` is a Linux bridge (`skiff0` for the default one, `br-<id12>`
//! for user networks, as Docker names them) holding the network's gateway address; each
//! container gets its own network namespace (pinned at `containers/<id>/netns`), `lo` (the
//! `loopback` plugin) and one veth per network (`bridge` plugin, `static` IPAM with the
//! address and MAC skiff's IPAM gave it), numbered `eth0`, `eth1`… in join order.
//!
//! Nothing leaves the host: no masquerade, and an nftables table (`inet skiff`) drops every
//! packet forwarded from or to a skiff bridge, so containers reach their own networks and
//! the host, and nothing else — not the outside, not another skiff network. Without `nft`,
//! containers get no default route instead (the same reach).
//!
//! What is attached is recorded in `containers/<id>/netifs.json` (with each plugin config),
//! so a later command can detach what a killed supervisor left; a bridge with no container
//! left is deleted with its firewall rules.

use crate::error::{Error, Result};
use crate::network::{self, Endpoint, Peer};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::sys;

/// Where Debian and the CNI project put the plugins.
const CNI_DIRS: [&str; 3] = ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"];

fn cni_dir() -> Result<PathBuf> {
    CNI_DIRS.iter().map(PathBuf::from).find(|d| d.join("bridge").is_file()).ok_or_else(|| {
        Error::Other(
            "native containers on a bridge network need the CNI plugins: apt-get install containernetworking-plugins"
                .into(),
        )
    })
}

/// The Linux bridge of network `n`.
pub fn bridge_name(n: &network::Network) -> String {
    if n.name == "bridge" {
        "skiff0".to_string()
    } else {
        format!("br-{}", &n.id[..12.min(n.id.len())])
    }
}

/// One interface skiff attached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attached {
    pub network: String,
    pub ifname: String,
    pub bridge: String,
    /// The plugin configuration it was added with (what DEL needs).
    pub conf: Value,
}

fn record_path(dir: &Path) -> PathBuf {
    dir.join("netifs.json")
}

fn read_record(dir: &Path) -> Vec<Attached> {
    std::fs::read(record_path(dir)).ok().and_then(|d| serde_json::from_slice(&d).ok()).unwrap_or_default()
}

fn write_record(dir: &Path, list: &[Attached]) -> Result<()> {
    crate::store::atomic_write(&record_path(dir), &serde_json::to_vec_pretty(list).unwrap())
}

/// The netns file of a container.
pub fn netns_path(dir: &Path) -> PathBuf {
    dir.join("netns")
}

fn firewall_available() -> bool {
    which("nft").is_some()
}

fn which(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// The bridge plugin's configuration for endpoint `ep` on `n`.
fn bridge_conf(n: &network::Network, ep: &Endpoint, default_route: bool) -> Value {
    let mut routes = vec![];
    if default_route && !n.internal {
        routes.push(json!({"dst": "0.0.0.0/0", "gw": ep.gateway}));
    }
    json!({
        "cniVersion": "1.0.0",
        "name": format!("skiff-{}", n.name),
        "type": "bridge",
        "bridge": bridge_name(n),
        "isGateway": true,
        "ipMasq": false,
        "hairpinMode": true,
        "ipam": {
            "type": "static",
            "addresses": [{"address": format!("{}/{}", ep.ip_address, ep.ip_prefix_len), "gateway": ep.gateway}],
            "routes": routes,
        },
        "runtimeConfig": {"mac": ep.mac_address},
    })
}

/// Run a CNI plugin.
fn cni(command: &str, conf: &Value, id: &str, netns: &Path, ifname: &str) -> Result<()> {
    let dir = cni_dir()?;
    let plugin = conf["type"].as_str().unwrap_or("bridge");
    let mut child = Command::new(dir.join(plugin))
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("CNI plugin {plugin}: {e}")))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped");
        let _ = stdin.write_all(conf.to_string().as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| Error::Other(format!("CNI plugin {plugin}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let msg = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("msg").and_then(|m| m.as_str()).map(String::from))
        .unwrap_or_else(|| format!("{}{}", text.trim(), String::from_utf8_lossy(&out.stderr).trim()));
    Err(Error::Other(format!("network setup ({plugin} {command} {ifname}): {msg}")))
}

/// Give container `id` (in `dir`) its network namespace and interfaces, as `peer` says.
/// Returns the namespace to run it in.
pub fn attach(store: &Store, id: &str, dir: &Path, peer: &Peer) -> Result<PathBuf> {
    detach(id, dir); // what a killed supervisor left
    cni_dir()?;
    let netns = netns_path(dir);
    sys::new_netns(&netns).map_err(|e| Error::Other(format!("network namespace {}: {e}", netns.display())))?;
    let lo = json!({"cniVersion": "1.0.0", "name": "skiff-lo", "type": "loopback"});
    cni("ADD", &lo, id, &netns, "lo")?;
    let mut list = Vec::new();
    for (i, (name, ep)) in network::in_join_order(&peer.networks).into_iter().enumerate() {
        match add(store, id, &netns, name, ep, &format!("eth{i}")) {
            Ok(a) => {
                list.push(a);
                write_record(dir, &list)?;
            }
            Err(e) => {
                detach(id, dir);
                return Err(e);
            }
        }
    }
    write_record(dir, &list)?;
    Ok(netns)
}

fn add(store: &Store, id: &str, netns: &Path, name: &str, ep: &Endpoint, ifname: &str) -> Result<Attached> {
    let n = network::find(store, name)?;
    let conf = bridge_conf(&n, ep, firewall_available());
    let bridge = bridge_name(&n);
    cni("ADD", &conf, id, netns, ifname)?;
    // Mark the bridge as skiff's (the firewall rules cover skiff's bridges only).
    let _ = std::fs::write(format!("/sys/class/net/{bridge}/ifalias"), "skiff");
    update_firewall();
    Ok(Attached { network: name.to_string(), ifname: ifname.to_string(), bridge, conf })
}

/// Take the container's interfaces away and drop its namespace (idempotent); bridges left
/// empty go too.
pub fn detach(id: &str, dir: &Path) {
    let netns = netns_path(dir);
    let list = read_record(dir);
    for a in &list {
        let _ = cni("DEL", &a.conf, id, &netns, &a.ifname);
    }
    if netns.exists() {
        while sys::is_mount_point(&netns) {
            if sys::unmount(&netns).is_err() {
                break;
            }
        }
        let _ = std::fs::remove_file(&netns);
    }
    let _ = std::fs::remove_file(record_path(dir));
    let mut removed = false;
    for a in &list {
        removed |= remove_bridge_if_unused(&a.bridge);
    }
    if removed {
        update_firewall();
    }
}

/// Follow the record after `network connect`/`disconnect` of a running container: add the
/// interfaces of new networks (numbered after the others), remove those of networks left.
pub fn sync(store: &Store, id: &str, dir: &Path, peer: &Peer) -> Result<()> {
    let netns = netns_path(dir);
    if !netns.exists() {
        return Ok(()); // not on a bridge (host, none) or not running
    }
    let mut list = read_record(dir);
    let mut gone = Vec::new();
    list.retain(|a| {
        let keep = peer.networks.contains_key(&a.network);
        if !keep {
            gone.push(a.clone());
        }
        keep
    });
    for a in &gone {
        let _ = cni("DEL", &a.conf, id, &netns, &a.ifname);
    }
    for (name, ep) in network::in_join_order(&peer.networks) {
        if list.iter().any(|a| &a.network == name) {
            continue;
        }
        let used: Vec<u32> = list.iter().filter_map(|a| a.ifname.strip_prefix("eth")?.parse().ok()).collect();
        let next = (0..).find(|i| !used.contains(i)).unwrap_or(0);
        list.push(add(store, id, &netns, name, ep, &format!("eth{next}"))?);
        write_record(dir, &list)?;
    }
    write_record(dir, &list)?;
    for a in gone {
        if remove_bridge_if_unused(&a.bridge) {
            update_firewall();
        }
    }
    Ok(())
}

/// Delete a skiff bridge that no interface uses any more. Returns whether it did.
fn remove_bridge_if_unused(bridge: &str) -> bool {
    let base = Path::new("/sys/class/net").join(bridge);
    if !base.exists() {
        return false;
    }
    let ours = std::fs::read_to_string(base.join("ifalias")).map(|a| a.trim() == "skiff").unwrap_or(false);
    let ports = std::fs::read_dir(base.join("brif")).map(|d| d.count()).unwrap_or(1);
    if !ours || ports > 0 {
        return false;
    }
    Command::new(which("ip").unwrap_or_else(|| "ip".into()))
        .args(["link", "delete", bridge])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The skiff bridges that exist now.
fn skiff_bridges() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("bridge").exists())
        .filter(|e| std::fs::read_to_string(e.path().join("ifalias")).map(|a| a.trim() == "skiff").unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The `inet skiff` table: drop whatever the host would forward from or to a skiff bridge
/// (the host itself, on the gateway address, is not forwarding: it stays reachable).
fn ruleset(bridges: &[String]) -> String {
    let mut s = String::from("table inet skiff\ndelete table inet skiff\n");
    if !bridges.is_empty() {
        let set = bridges.iter().map(|b| format!("\"{b}\"")).collect::<Vec<_>>().join(", ");
        // Frames between two ports of one bridge pass here too when br_netfilter is loaded
        // (Docker loads it): those stay allowed.
        let same: String = bridges.iter().map(|b| format!("    iifname \"{b}\" oifname \"{b}\" accept\n")).collect();
        s.push_str(&format!(
            "table inet skiff {{\n  chain forward {{\n    type filter hook forward priority filter - 10; policy accept;\n{same}    iifname {{ {set} }} drop\n    oifname {{ {set} }} drop\n  }}\n}}\n"
        ));
    }
    s
}

/// Make the firewall table match the bridges that exist (idempotent).
fn update_firewall() {
    let Some(nft) = which("nft") else { return };
    let Ok(mut child) = Command::new(nft).args(["-f", "-"]).stdin(Stdio::piped()).stderr(Stdio::null()).spawn() else {
        return;
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(ruleset(&skiff_bridges()).as_bytes());
    }
    let _ = child.wait();
}

/// The container's address on its first network (what published ports forward to).
pub fn first_address(peer: &Peer) -> Option<std::net::Ipv4Addr> {
    peer.addresses().first().map(|(ip, _)| *ip)
}

/// Whether the container resolves names through the embedded DNS server: on every bridge
/// network. The rules it answers by give container names on user-defined networks only (on
/// the default bridge a container name is NXDOMAIN, as with Docker); unlike Docker's default
/// bridge, the host's name servers are not reachable from a container here (nothing leaves
/// the host), so the embedded server is also what answers "no such name" at once.
pub fn uses_embedded_dns(peer: &Peer) -> bool {
    !peer.networks.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewall_rules_name_the_bridges() {
        let r = ruleset(&["br-0123456789ab".into(), "skiff0".into()]);
        assert!(r.contains("iifname { \"br-0123456789ab\", \"skiff0\" } drop"), "{r}");
        assert_eq!(ruleset(&[]), "table inet skiff\ndelete table inet skiff\n");
    }

    #[test]
    fn static_addresses_and_macs() {
        let ep = Endpoint {
            ip_address: "172.18.0.3".into(),
            ip_prefix_len: 16,
            gateway: "172.18.0.1".into(),
            mac_address: "02:42:ac:12:00:03".into(),
            ..Default::default()
        };
        let n = network::Network { name: "dev".into(), id: "0123456789abcdef".into(), ..test_network() };
        let c = bridge_conf(&n, &ep, true);
        assert_eq!(c["bridge"], "br-0123456789ab");
        assert_eq!(c["ipam"]["addresses"][0]["address"], "172.18.0.3/16");
        assert_eq!(c["ipam"]["routes"][0]["gw"], "172.18.0.1");
        assert_eq!(c["runtimeConfig"]["mac"], "02:42:ac:12:00:03");
        assert_eq!(bridge_conf(&n, &ep, false)["ipam"]["routes"], json!([]));
    }

    fn test_network() -> network::Network {
        serde_json::from_value(json!({
            "Name": "x", "Id": "0", "Created": "", "Scope": "local", "Driver": "bridge", "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": {}, "Config": []}, "Internal": false, "Attachable": false,
            "Ingress": false, "ConfigFrom": {}, "ConfigOnly": false, "Options": {}, "Labels": {}
        }))
        .unwrap()
    }
}
