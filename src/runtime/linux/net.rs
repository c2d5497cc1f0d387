//! Native containers on skiff's networks (the one model in `src/network/`: same networks,
//! same addresses, same records as WASI containers). Each skiff network of driver `bridge` is
//! a Linux bridge (`skiff0` for the default one, `br-<id12>` for user networks, as Docker names
//! them) holding the network's gateway address; each container gets its own network namespace
//! (pinned at `containers/<id>/netns`), `lo` up and one veth pair per network, numbered `eth0`,
//! `eth1`… in join order, with the address and MAC skiff's IPAM gave it. All of it is made with
//! rtnetlink from skiff's own process (`rtnl.rs`), as Docker's libnetwork does: no helper runs.
//!
//! Nothing leaves the host: no masquerade, and an nftables table (`inet skiff`) drops every
//! packet forwarded from or to a skiff bridge, so containers reach their own networks and
//! the host, and nothing else — not the outside, not another skiff network. Without `nft`,
//! containers get no default route instead (the same reach).
//!
//! What is attached is recorded in `containers/<id>/netifs.json` (the host end of each veth),
//! so a later command can detach what a killed supervisor left. A user network's bridge with
//! no container left is deleted with its firewall rules; the default bridge stays, as Docker's
//! `docker0` does (making and deleting a bridge costs tens of milliseconds per container).

use crate::error::{Error, Result};
use crate::network::{self, Endpoint, Peer};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::rtnl::{self, Rtnl};
use super::sys;

/// The default network's bridge, kept when its last container goes.
const DEFAULT_BRIDGE: &str = "skiff0";

/// The Linux bridge of network `n`.
pub fn bridge_name(n: &network::Network) -> String {
    if n.name == "bridge" {
        DEFAULT_BRIDGE.to_string()
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
    /// The host end of its veth pair (deleting it takes the container's end along).
    #[serde(default)]
    pub host: String,
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

fn setup_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("network setup ({what}): {e}"))
}

/// The two ends skiff works on: the host's namespace and the container's.
struct Ends {
    host: Rtnl,
    inner: Rtnl,
    ns: File,
}

impl Ends {
    fn open(netns: &Path) -> Result<Ends> {
        let host = Rtnl::open().map_err(|e| setup_error("netlink", e))?;
        let inner = Rtnl::open_in(netns).map_err(|e| setup_error("netlink in the container's namespace", e))?;
        let ns = File::open(netns).map_err(|e| setup_error("network namespace", e))?;
        Ok(Ends { host, inner, ns })
    }
}

/// Give container `id` (in `dir`) its network namespace and interfaces, as `peer` says.
/// Returns the namespace to run it in.
pub fn attach(store: &Store, id: &str, dir: &Path, peer: &Peer) -> Result<PathBuf> {
    detach(id, dir); // what a killed supervisor left
    let netns = netns_path(dir);
    sys::new_netns(&netns).map_err(|e| Error::Other(format!("network namespace {}: {e}", netns.display())))?;
    let made = (|| {
        let mut ends = Ends::open(&netns)?;
        // A new namespace's loopback is always interface 1.
        ends.inner.set_up(1).map_err(|e| setup_error("lo", e))?;
        let mut list = Vec::new();
        let mut new_bridge = false;
        for (i, (name, ep)) in network::in_join_order(&peer.networks).into_iter().enumerate() {
            let (a, created) = add(store, &mut ends, name, ep, &format!("eth{i}"))?;
            new_bridge |= created;
            list.push(a);
        }
        if new_bridge {
            update_firewall();
        }
        write_record(dir, &list)
    })();
    if let Err(e) = made {
        detach(id, dir);
        return Err(e);
    }
    Ok(netns)
}

/// Plug the container into network `name` as `ifname`. Also says whether its bridge was made
/// now (the firewall then needs its rules).
fn add(store: &Store, ends: &mut Ends, name: &str, ep: &Endpoint, ifname: &str) -> Result<(Attached, bool)> {
    let n = network::find(store, name)?;
    let bridge = bridge_name(&n);
    let parse =
        |what: &str, v: &str| v.parse::<Ipv4Addr>().map_err(|_| setup_error(what, format!("bad address {v:?}")));
    let ip = parse("address", &ep.ip_address)?;
    let gateway = parse("gateway", &ep.gateway)?;
    let prefix = ep.ip_prefix_len as u8;
    let mac = rtnl::parse_mac(&ep.mac_address).ok_or_else(|| setup_error("MAC", &ep.mac_address))?;
    let (master, created) = ensure_bridge(&mut ends.host, &bridge, gateway, prefix)?;
    let host = format!("veth{}", hex::encode(rand::random::<[u8; 4]>()));
    ends.host.add_veth(&host, master, ifname, mac, ends.ns.as_fd()).map_err(|e| setup_error(ifname, e))?;
    // Hairpin: a container reaches itself through its own published address.
    let _ = std::fs::write(format!("/sys/class/net/{host}/brport/hairpin_mode"), "1");
    let inner = &mut ends.inner;
    let index = inner.link_index(ifname).ok().flatten().ok_or_else(|| setup_error(ifname, "no such interface"))?;
    inner.add_address(index, ip, prefix).map_err(|e| setup_error(ifname, e))?;
    inner.set_up(index).map_err(|e| setup_error(ifname, e))?;
    // The default route goes through the first network that has one (a second is refused).
    if firewall_available() && !n.internal {
        match inner.add_default_route(index, gateway) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(setup_error("default route", e)),
            _ => {}
        }
    }
    Ok((Attached { network: name.to_string(), ifname: ifname.to_string(), bridge, host }, created))
}

/// Bridge `name` up, holding the gateway address, marked `ifalias skiff` (the firewall and the
/// clean-up touch skiff's bridges only); made if missing. Returns its index and whether it
/// was made now.
fn ensure_bridge(host: &mut Rtnl, name: &str, gateway: Ipv4Addr, prefix: u8) -> Result<(u32, bool)> {
    let err = |e| setup_error(name, e);
    // A fixed MAC (from the gateway address, as containers' come from theirs): a bridge
    // without one takes its lowest port's, and would change it as containers come and go.
    let [a, b, c, d] = gateway.octets();
    let created = host.add_bridge(name, [0x02, 0x42, a, b, c, d]).map_err(err)?;
    let index = host.link_index(name).map_err(err)?.ok_or_else(|| setup_error(name, "the bridge went away"))?;
    if created {
        host.set_alias(index, "skiff").map_err(err)?;
    } else {
        host.set_up(index).map_err(err)?;
    }
    host.add_address(index, gateway, prefix).map_err(err)?;
    Ok((index, created))
}

/// Take the container's interfaces away and drop its namespace (idempotent); user networks'
/// bridges left empty go too. Unpinning the namespace ends it (its processes are gone), and
/// the kernel then deletes the veth pairs in it in the background, a millisecond or so later;
/// deleting one here waits for the kernel (15–30 ms a pair). That is done for the default
/// bridge's pairs, which stays anyway. A user network's pairs are deleted here, at that cost:
/// whether its bridge is left empty (and goes) is read from its ports, which another
/// container's pair still on its way out would keep.
pub fn detach(id: &str, dir: &Path) {
    super::portmap::remove(id, dir);
    let list = read_record(dir);
    let netns = netns_path(dir);
    let mut pinned = false;
    if netns.exists() {
        while sys::is_mount_point(&netns) {
            pinned = true;
            if sys::unmount(&netns).is_err() {
                break;
            }
        }
        let _ = std::fs::remove_file(&netns);
    }
    let _ = std::fs::remove_file(record_path(dir));
    if list.is_empty() {
        return;
    }
    let Ok(mut host) = Rtnl::open() else { return };
    for a in list.iter().filter(|a| !a.host.is_empty()) {
        // Without a namespace of skiff's holding it, a pair may outlive the container.
        if !pinned || a.bridge != DEFAULT_BRIDGE {
            let _ = host.delete_link(&a.host);
        }
    }
    let mut bridges: Vec<&str> = list.iter().map(|a| a.bridge.as_str()).collect();
    bridges.sort_unstable();
    bridges.dedup();
    let mut removed = false;
    for b in bridges {
        removed |= remove_bridge_if_unused(&mut host, b);
    }
    if removed {
        update_firewall();
    }
}

/// [`detach`] on a thread of its own: a veth's removal waits for the kernel (tens of
/// milliseconds), time the caller can spend on its own clean-up. Dropping the handle waits.
pub struct Detaching(Option<std::thread::JoinHandle<()>>);

impl Drop for Detaching {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.join();
        }
    }
}

/// Start [`detach`] for container `id`; it is done when the handle is dropped.
pub fn detach_in_background(id: &str, dir: &Path) -> Detaching {
    let (id, dir) = (id.to_string(), dir.to_path_buf());
    match std::thread::Builder::new().name("net-detach".into()).spawn({
        let (id, dir) = (id.clone(), dir.clone());
        move || detach(&id, &dir)
    }) {
        Ok(t) => Detaching(Some(t)),
        Err(_) => {
            detach(&id, &dir);
            Detaching(None)
        }
    }
}

/// Follow the record after `network connect`/`disconnect` of a running container: add the
/// interfaces of new networks (numbered after the others), remove those of networks left.
pub fn sync(store: &Store, _id: &str, dir: &Path, peer: &Peer) -> Result<()> {
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
    let mut ends = Ends::open(&netns)?;
    for a in gone.iter().filter(|a| !a.host.is_empty()) {
        let _ = ends.host.delete_link(&a.host);
    }
    let mut changed = false;
    for (name, ep) in network::in_join_order(&peer.networks) {
        if list.iter().any(|a| &a.network == name) {
            continue;
        }
        let used: Vec<u32> = list.iter().filter_map(|a| a.ifname.strip_prefix("eth")?.parse().ok()).collect();
        let next = (0..).find(|i| !used.contains(i)).unwrap_or(0);
        let (a, created) = add(store, &mut ends, name, ep, &format!("eth{next}"))?;
        changed |= created;
        list.push(a);
        write_record(dir, &list)?;
    }
    write_record(dir, &list)?;
    for a in gone {
        changed |= remove_bridge_if_unused(&mut ends.host, &a.bridge);
    }
    if changed {
        update_firewall();
    }
    Ok(())
}

/// Delete a user network's skiff bridge that no interface uses any more. Returns whether it did.
fn remove_bridge_if_unused(host: &mut Rtnl, bridge: &str) -> bool {
    let base = Path::new("/sys/class/net").join(bridge);
    if bridge == DEFAULT_BRIDGE || !base.exists() {
        return false;
    }
    let ours = std::fs::read_to_string(base.join("ifalias")).map(|a| a.trim() == "skiff").unwrap_or(false);
    let ports = std::fs::read_dir(base.join("brif")).map(|d| d.count()).unwrap_or(1);
    if !ours || ports > 0 {
        return false;
    }
    host.delete_link(bridge).unwrap_or(false)
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
    nft(&ruleset(&skiff_bridges()));
}

/// Apply an nftables script (`nft -f -`); whether it was applied (false without `nft`).
pub(super) fn nft(script: &str) -> bool {
    let Some(nft) = which("nft") else { return false };
    let Ok(mut child) = Command::new(nft).args(["-f", "-"]).stdin(Stdio::piped()).stderr(Stdio::null()).spawn() else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(script.as_bytes());
    }
    child.wait().map(|s| s.success()).unwrap_or(false)
}

/// The bridge of the container's first interface (`eth0`), once attached.
pub fn first_bridge(dir: &Path) -> Option<String> {
    read_record(dir).into_iter().find(|a| a.ifname == "eth0").map(|a| a.bridge)
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
    fn macs() {
        assert_eq!(rtnl::parse_mac("02:42:ac:12:00:03"), Some([2, 0x42, 0xac, 0x12, 0, 3]));
        assert_eq!(rtnl::parse_mac("02:42:ac:12:00"), None);
        assert_eq!(rtnl::parse_mac("02:42:ac:12:00:03:04"), None);
    }
}
