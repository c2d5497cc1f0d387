//! The virtual network's data plane on the WASI backend: what a container's sockets reach.
//! A guest's listener is a real loopback socket (or the published host socket), recorded in
//! `containers/<id>/listen/<port>`; a connect to a virtual address is routed by Docker's
//! rules (own loopback, containers on a shared network, the gateway as the host, isolation
//! between networks) to the real socket of the container behind it.

use crate::network::rules::{self, Directory, Interface, Peer, Route};
use crate::runtime::Published;
use crate::store::{atomic_write, Store};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a connect to a real outside address may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One container's view of the network.
pub struct ContainerNet {
    store: Store,
    id: String,
    directory: Arc<dyn Directory>,
    /// Published host listeners not yet taken by a listen of the container's process.
    published: Mutex<Published>,
}

impl std::fmt::Debug for ContainerNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerNet").field("id", &self.id).finish()
    }
}

impl ContainerNet {
    /// The network of container `id`, with the host listeners published for it (the
    /// supervisor's; other processes of the container pass none).
    pub fn new(store: &Store, id: &str, directory: Arc<dyn Directory>, published: Published) -> Arc<ContainerNet> {
        Arc::new(ContainerNet { store: store.clone(), id: id.to_string(), directory, published: Mutex::new(published) })
    }

    /// The container as it is now (`network connect` may change it while it runs).
    fn me(&self) -> io::Result<Peer> {
        self.directory.get(&self.id)
    }

    fn register(&self, port: u16, addr: SocketAddr) -> io::Result<()> {
        let dir = registry_dir(&self.me()?.dir);
        std::fs::create_dir_all(&dir)?;
        atomic_write(&dir.join(port.to_string()), addr.to_string().as_bytes())
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// Forget the container's listeners (its processes are starting over, or have ended).
    pub fn clear_listeners(&self) {
        clear_listeners(&self.store.root().join("containers").join(&self.id));
    }

    fn route(&self, me: &Peer, ip: Ipv4Addr) -> io::Result<Route> {
        rules::route(&self.store, self.directory.as_ref(), me, ip)
    }
}

/// `containers/<id>/listen/`: one file per listening port holding the real socket address.
fn registry_dir(container_dir: &Path) -> PathBuf {
    container_dir.join("listen")
}

/// Forget a container's listeners (its processes are starting over, or have ended).
pub fn clear_listeners(container_dir: &Path) {
    let _ = std::fs::remove_dir_all(registry_dir(container_dir));
}

fn registered(container_dir: &Path, port: u16) -> Option<SocketAddr> {
    std::fs::read_to_string(registry_dir(container_dir).join(port.to_string())).ok()?.trim().parse().ok()
}

/// Where to connect to reach a listener bound at `addr` (`0.0.0.0` is reached on loopback).
fn reach(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
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

impl ContainerNet {
    /// A listener for the container's `port` (on all its addresses).
    pub fn listen(&self, port: u16) -> io::Result<TcpListener> {
        let me = self.me()?;
        if me.on_host_network() {
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
        if let Some(addr) = registered(&me.dir, port) {
            return TcpListener::bind(addr);
        }
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        self.register(port, l.local_addr()?)?;
        Ok(l)
    }

    /// A connection to `ip:port` as the container's network routes it.
    pub fn connect(&self, ip: Ipv4Addr, port: u16) -> io::Result<TcpStream> {
        let me = self.me()?;
        match self.route(&me, ip)? {
            Route::Itself => {
                let addr = registered(&me.dir, port).ok_or(io::ErrorKind::ConnectionRefused)?;
                TcpStream::connect(reach(addr))
            }
            Route::Gateway => TcpStream::connect((Ipv4Addr::LOCALHOST, port)),
            Route::Container(c, source) => {
                let addr = registered(&c.dir, port).ok_or(io::ErrorKind::ConnectionRefused)?;
                connect_from(Some(source), reach(addr))
            }
            Route::Outside => TcpStream::connect_timeout(&SocketAddr::from((ip, port)), CONNECT_TIMEOUT),
            Route::Fails(kind) => Err(kind.into()),
        }
    }

    /// The virtual address of the peer of an accepted connection whose real peer is `real`.
    pub fn peer(&self, real: SocketAddr) -> SocketAddrV4 {
        let real_v4 = match real {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(a) => SocketAddrV4::new(a.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST), a.port()),
        };
        let Ok(me) = self.me() else { return real_v4 };
        if me.on_host_network() {
            return real_v4;
        }
        let ip = *real_v4.ip();
        let endpoints = me.addresses();
        if ip.is_loopback() && ip != Ipv4Addr::LOCALHOST {
            // A container's connection: its source stands for its address on a shared network.
            let o = ip.octets();
            for (own, e) in &endpoints {
                let cand = Ipv4Addr::new(own.octets()[0], o[1], o[2], o[3]);
                if rules::same_subnet(*own, cand, e.ip_prefix_len) {
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

    /// The addresses `name` resolves to in the container (empty: not found): the rules,
    /// then the host's resolver for dotted names (so single names that are not containers
    /// fail at once, not after a DNS timeout offline).
    pub fn resolve(&self, name: &str) -> Vec<Ipv4Addr> {
        let Ok(me) = self.me() else { return vec![] };
        let want = name.trim_end_matches('.').to_ascii_lowercase();
        let found = rules::resolve(self.directory.as_ref(), &me, &want);
        if found.is_empty() && (me.on_host_network() || (want.contains('.') && !me.on_no_network())) {
            return host_resolve(&want);
        }
        found
    }

    /// The container's interfaces, `lo` first.
    pub fn interfaces(&self) -> Vec<Interface> {
        match self.me() {
            Ok(me) => rules::interfaces(&me),
            Err(_) => vec![Interface {
                name: "lo".into(),
                ip: Ipv4Addr::LOCALHOST,
                prefix: 8,
                mac: "00:00:00:00:00:00".into(),
            }],
        }
    }

    /// Whether `ip` answers the container (what `ping` checks).
    pub fn reachable(&self, ip: Ipv4Addr) -> io::Result<()> {
        let me = self.me()?;
        match self.route(&me, ip)? {
            Route::Itself | Route::Gateway | Route::Container(..) => Ok(()),
            Route::Outside if me.on_host_network() && ip.is_loopback() => Ok(()),
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
        assert!(rules::same_subnet(Ipv4Addr::new(172, 20, 0, 2), Ipv4Addr::new(172, 20, 9, 9), 16));
        assert!(!rules::same_subnet(Ipv4Addr::new(172, 20, 0, 2), Ipv4Addr::new(172, 21, 0, 2), 16));
        assert_eq!(loopback_for(Ipv4Addr::new(172, 20, 0, 2)), Ipv4Addr::new(127, 20, 0, 2));
        assert_eq!(reach("0.0.0.0:8080".parse().unwrap()), "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
    }
}
