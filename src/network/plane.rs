//! The virtual network's data plane on the WASI backend: what a container's sockets reach.
//! A guest's listener is a real loopback socket (or the published host socket), recorded in
//! `containers/<id>/listen/<port>`; a connect to a virtual address is routed by Docker's
//! rules (own loopback, containers on a shared network, the gateway as the host, isolation
//! between networks) to the real socket of the container behind it.

use crate::container::{self, Container};
use crate::runtime::{Interface, NetworkView};
use crate::store::{atomic_write, Store};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a connect to a real outside address may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One container's view of the network.
pub struct ContainerNet {
    store: Store,
    id: String,
    /// Published host listeners not yet taken by a listen of the container's process.
    published: Mutex<BTreeMap<u16, Vec<TcpListener>>>,
    /// Container records as last read, by ID, with their file's modification time: a lookup
    /// re-reads only the records that changed (parsing every record at every connect and
    /// accept made a connection cost three times a native one).
    records: Mutex<HashMap<String, (SystemTime, Container)>>,
}

impl std::fmt::Debug for ContainerNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerNet").field("id", &self.id).finish()
    }
}

/// Where a virtual address leads from one container.
enum Route {
    /// The container itself (loopback or one of its own addresses).
    Itself,
    /// The host (a network's gateway), port for port on its loopback.
    Gateway,
    /// Another container, reached from our address `source` on the shared network.
    Container(Box<Container>, Ipv4Addr),
    /// Straight out to the real network (`--network host`, or an address outside skiff's).
    Outside,
    /// Nothing answers: the error the guest gets.
    Fails(io::ErrorKind),
}

impl ContainerNet {
    /// The network of container `id`, with the host listeners published for it (the
    /// supervisor's; other processes of the container pass none).
    pub fn new(store: &Store, id: &str, published: BTreeMap<u16, Vec<TcpListener>>) -> Arc<ContainerNet> {
        Arc::new(ContainerNet {
            store: store.clone(),
            id: id.to_string(),
            published: Mutex::new(published),
            records: Mutex::default(),
        })
    }

    /// The container's record as it is now (`network connect` may change it while it runs).
    fn me(&self) -> io::Result<Container> {
        let dir = self.store.root().join("containers").join(&self.id);
        let mut cache = self.records.lock().unwrap_or_else(|p| p.into_inner());
        refresh(&mut cache, &self.id, &dir)?.ok_or_else(|| io::Error::other(format!("No such container: {}", self.id)))
    }

    /// Every container, running or not as their supervisors last recorded (check
    /// [`alive`] before trusting a match).
    fn containers(&self) -> io::Result<Vec<Container>> {
        let dir = self.store.root().join("containers");
        let mut cache = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = Vec::new();
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let id = e.file_name().to_string_lossy().into_owned();
            if refresh(&mut cache, &id, &e.path())?.is_some() {
                seen.push(id);
            }
        }
        cache.retain(|id, _| seen.contains(id));
        Ok(cache.values().map(|(_, c)| c.clone()).collect())
    }

    fn register(&self, port: u16, addr: SocketAddr) -> io::Result<()> {
        let dir = registry_dir(&self.store, &self.id);
        std::fs::create_dir_all(&dir)?;
        atomic_write(&dir.join(port.to_string()), addr.to_string().as_bytes())
            .map_err(|e| io::Error::other(e.to_string()))
    }

    fn route(&self, me: &Container, ip: Ipv4Addr) -> io::Result<Route> {
        if me.networks.contains_key("host") {
            return Ok(Route::Outside);
        }
        if ip.is_loopback() || me.networks.values().any(|e| e.ip_address == ip.to_string()) {
            return Ok(Route::Itself);
        }
        if me.networks.contains_key("none") {
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
            let others = self.containers()?;
            return Ok(
                match others.into_iter().find(|c| c.networks.get(name).is_some_and(|o| o.ip_address == ip.to_string()))
                {
                    Some(c) if alive(&c) => Route::Container(Box::new(c), own),
                    _ => Route::Fails(io::ErrorKind::HostUnreachable),
                },
            );
        }
        // Another skiff network: its bridge is isolated from ours, so packets go nowhere.
        let networks = super::list(&self.store).map_err(|e| io::Error::other(e.to_string()))?;
        if networks.iter().filter_map(|n| n.subnet()).any(|(a, len, _)| same_subnet(a, ip, len)) {
            return Ok(Route::Fails(io::ErrorKind::TimedOut));
        }
        if me.networks.keys().any(|n| networks.iter().any(|x| &x.name == n && x.internal)) {
            return Ok(Route::Fails(io::ErrorKind::NetworkUnreachable));
        }
        Ok(Route::Outside)
    }
}

/// The record of container `id` (in `dir`) from `cache`, read again if its file changed;
/// `None` if it has no record (removed, or still being created).
fn refresh(
    cache: &mut HashMap<String, (SystemTime, Container)>,
    id: &str,
    dir: &std::path::Path,
) -> io::Result<Option<Container>> {
    let p = dir.join("container.json");
    let Ok(mtime) = std::fs::metadata(&p).and_then(|m| m.modified()) else {
        cache.remove(id);
        return Ok(None);
    };
    if let Some((t, c)) = cache.get(id) {
        if *t == mtime {
            return Ok(Some(c.clone()));
        }
    }
    let data = std::fs::read(&p)?;
    let c = container::parse_record(&p, &data).map_err(|e| io::Error::other(e.to_string()))?;
    cache.insert(id.to_string(), (mtime, c.clone()));
    Ok(Some(c))
}

/// Whether a container's processes are running (its record says so and its supervisor lives).
fn alive(c: &Container) -> bool {
    let mut state = c.state.clone();
    state.reconcile(container::process_alive);
    state.is_alive()
}

/// `containers/<id>/listen/`: one file per listening port holding the real socket address.
fn registry_dir(store: &Store, id: &str) -> PathBuf {
    store.root().join("containers").join(id).join("listen")
}

/// Forget a container's listeners (its processes are starting over, or have ended).
pub fn clear_listeners(store: &Store, id: &str) {
    let _ = std::fs::remove_dir_all(registry_dir(store, id));
}

fn registered(store: &Store, id: &str, port: u16) -> Option<SocketAddr> {
    std::fs::read_to_string(registry_dir(store, id).join(port.to_string())).ok()?.trim().parse().ok()
}

/// Where to connect to reach a listener bound at `addr` (`0.0.0.0` is reached on loopback).
fn reach(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
}

fn endpoint_ip(e: &super::Endpoint) -> Option<Ipv4Addr> {
    e.ip_address.parse().ok()
}

fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len.min(32)) };
    u32::from(a) & mask == u32::from(b) & mask
}

/// The loopback address that stands for virtual address `ip` as a connection's source
/// (`172.20.0.2` → `127.20.0.2`), so the accepting side can tell who called.
#[cfg(any(target_os = "linux", test))]
fn loopback_for(ip: Ipv4Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(127, o[1], o[2], o[3])
}

/// Connect to `to`, from the loopback address standing for `source` where the host allows
/// it (Linux routes all of 127/8 to loopback; elsewhere the source stays 127.0.0.1).
fn connect_from(source: Option<Ipv4Addr>, to: SocketAddr) -> io::Result<TcpStream> {
    #[cfg(target_os = "linux")]
    if let Some(src) = source {
        use socket2::{Domain, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        if s.bind(&SocketAddr::from((loopback_for(src), 0)).into()).is_ok() {
            s.connect(&to.into())?;
            return Ok(s.into());
        }
    }
    let _ = source;
    TcpStream::connect(to)
}

/// Accept connections on `extra` (a second host port published for one container port) and
/// pass each to the container's listener at `to`.
fn forward(extra: TcpListener, to: SocketAddr) {
    std::thread::spawn(move || {
        for conn in extra.incoming() {
            let Ok(inbound) = conn else { continue };
            std::thread::spawn(move || {
                let Ok(outbound) = TcpStream::connect(to) else { return };
                let (Ok(mut ri), Ok(mut ro)) = (inbound.try_clone(), outbound.try_clone()) else { return };
                let t = std::thread::spawn(move || {
                    let _ = io::copy(&mut ri, &mut &outbound);
                    let _ = outbound.shutdown(std::net::Shutdown::Write);
                });
                let _ = io::copy(&mut ro, &mut &inbound);
                let _ = inbound.shutdown(std::net::Shutdown::Write);
                let _ = t.join();
            });
        }
    });
}

impl NetworkView for ContainerNet {
    fn listen(&self, port: u16) -> io::Result<TcpListener> {
        let me = self.me()?;
        if me.networks.contains_key("host") {
            return TcpListener::bind((Ipv4Addr::UNSPECIFIED, port));
        }
        let published = self.published.lock().unwrap_or_else(|p| p.into_inner()).remove(&port);
        if let Some(mut listeners) = published.filter(|l| !l.is_empty()) {
            let l = listeners.remove(0);
            let addr = l.local_addr()?;
            self.register(port, addr)?;
            for extra in listeners {
                forward(extra, reach(addr));
            }
            return Ok(l);
        }
        // Listening again on a port (a restarted process, or a second process of the
        // container): the same real address, which is free only if nothing holds it.
        if let Some(addr) = registered(&self.store, &self.id, port) {
            return TcpListener::bind(addr);
        }
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        self.register(port, l.local_addr()?)?;
        Ok(l)
    }

    fn connect(&self, ip: Ipv4Addr, port: u16) -> io::Result<TcpStream> {
        let me = self.me()?;
        match self.route(&me, ip)? {
            Route::Itself => {
                let addr = registered(&self.store, &me.id, port).ok_or(io::ErrorKind::ConnectionRefused)?;
                TcpStream::connect(reach(addr))
            }
            Route::Gateway => TcpStream::connect((Ipv4Addr::LOCALHOST, port)),
            Route::Container(c, source) => {
                let addr = registered(&self.store, &c.id, port).ok_or(io::ErrorKind::ConnectionRefused)?;
                connect_from(Some(source), reach(addr))
            }
            Route::Outside => TcpStream::connect_timeout(&SocketAddr::from((ip, port)), CONNECT_TIMEOUT),
            Route::Fails(kind) => Err(kind.into()),
        }
    }

    fn peer(&self, real: SocketAddr) -> SocketAddrV4 {
        let real_v4 = match real {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(a) => SocketAddrV4::new(a.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST), a.port()),
        };
        let Ok(me) = self.me() else { return real_v4 };
        if me.networks.contains_key("host") {
            return real_v4;
        }
        let ip = *real_v4.ip();
        let endpoints: Vec<(Ipv4Addr, &super::Endpoint)> = super::in_join_order(&me.networks)
            .into_iter()
            .filter_map(|(_, e)| endpoint_ip(e).map(|a| (a, e)))
            .collect();
        if ip.is_loopback() && ip != Ipv4Addr::LOCALHOST {
            // A container's connection: its source stands for its address on a shared network.
            let o = ip.octets();
            for (own, e) in &endpoints {
                let cand = Ipv4Addr::new(own.octets()[0], o[1], o[2], o[3]);
                if same_subnet(*own, cand, e.ip_prefix_len) {
                    return SocketAddrV4::new(cand, real_v4.port());
                }
            }
        }
        // From the host (a published port): the gateway, as Docker's proxy shows it.
        match endpoints.first().and_then(|(_, e)| e.gateway.parse().ok()) {
            Some(gw) => SocketAddrV4::new(gw, real_v4.port()),
            None => real_v4,
        }
    }

    fn resolve(&self, name: &str) -> Vec<Ipv4Addr> {
        let Ok(me) = self.me() else { return vec![] };
        let want = name.trim_end_matches('.').to_ascii_lowercase();
        let hosts = std::fs::read_to_string(me.dir(&self.store).join("hosts")).unwrap_or_default();
        let from_hosts: Vec<Ipv4Addr> = hosts
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let ip: Ipv4Addr = f.next()?.parse().ok()?;
                f.any(|n| n.eq_ignore_ascii_case(&want)).then_some(ip)
            })
            .collect();
        if !from_hosts.is_empty() {
            return from_hosts;
        }
        if me.networks.contains_key("host") {
            return host_resolve(&want);
        }
        // Docker's embedded DNS: on user-defined networks, the names, aliases and short IDs
        // of the containers there (running ones); never on the default bridge.
        let user_nets: Vec<&String> =
            me.networks.keys().filter(|n| !["bridge", "host", "none"].contains(&n.as_str())).collect();
        let mut found = Vec::new();
        if !user_nets.is_empty() {
            let all = self.containers().unwrap_or_default();
            for net in user_nets {
                for c in all.iter().filter(|c| c.id == me.id || alive(c)) {
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
        }
        if found.is_empty() && want.contains('.') && !me.networks.contains_key("none") {
            return host_resolve(&want);
        }
        found
    }

    fn interfaces(&self) -> Vec<Interface> {
        let mut out =
            vec![Interface { name: "lo".into(), ip: Ipv4Addr::LOCALHOST, prefix: 8, mac: "00:00:00:00:00:00".into() }];
        if let Ok(me) = self.me() {
            for (_, e) in super::in_join_order(&me.networks) {
                if let Some(ip) = endpoint_ip(e) {
                    out.push(Interface {
                        name: format!("eth{}", out.len() - 1),
                        ip,
                        prefix: e.ip_prefix_len,
                        mac: e.mac_address.clone(),
                    });
                }
            }
        }
        out
    }

    fn reachable(&self, ip: Ipv4Addr) -> io::Result<()> {
        let me = self.me()?;
        match self.route(&me, ip)? {
            Route::Itself | Route::Gateway | Route::Container(..) => Ok(()),
            Route::Outside if me.networks.contains_key("host") && ip.is_loopback() => Ok(()),
            // No ICMP from userspace: an outside address is not known to answer.
            Route::Outside => Err(io::ErrorKind::HostUnreachable.into()),
            Route::Fails(kind) => Err(kind.into()),
        }
    }
}

/// The host's resolver (IPv4 answers only).
fn host_resolve(name: &str) -> Vec<Ipv4Addr> {
    (name, 0)
        .to_socket_addrs()
        .map(|it| {
            let mut v: Vec<Ipv4Addr> =
                it.filter_map(|a| if let SocketAddr::V4(a) = a { Some(*a.ip()) } else { None }).collect();
            v.dedup();
            v
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_loopback_sources() {
        assert!(same_subnet(Ipv4Addr::new(172, 20, 0, 2), Ipv4Addr::new(172, 20, 9, 9), 16));
        assert!(!same_subnet(Ipv4Addr::new(172, 20, 0, 2), Ipv4Addr::new(172, 21, 0, 2), 16));
        assert_eq!(loopback_for(Ipv4Addr::new(172, 20, 0, 2)), Ipv4Addr::new(127, 20, 0, 2));
        assert_eq!(reach("0.0.0.0:8080".parse().unwrap()), "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
    }
}
