//! Published ports of a native container: the supervisor's userland proxy, as docker-proxy
//! is. The host ports are bound before the container counts as started (so a port in use
//! fails the start); each accepted connection is joined to the container's address on its
//! first network, the bytes copied both ways. It serves what the kernel does not rewrite
//! (`portmap.rs` sends the host's own connections straight to the container): other machines,
//! other containers, and everything when nftables is missing.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The running proxies of one container; dropping it stops them.
pub struct Proxies {
    stop: Arc<AtomicBool>,
    wake: Vec<SocketAddr>,
}

impl Drop for Proxies {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for a in &self.wake {
            // An accept blocked on the listener returns for this connection and sees `stop`.
            let _ = TcpStream::connect_timeout(a, Duration::from_millis(200));
        }
    }
}

/// Forward every listener in `published` (by container port) to `to`:port.
pub fn start(published: crate::runtime::Published, to: Ipv4Addr) -> Proxies {
    let stop = Arc::new(AtomicBool::new(false));
    let mut wake = Vec::new();
    for (port, listeners) in published {
        for l in listeners {
            if let Ok(a) = l.local_addr() {
                wake.push(match a.ip() {
                    std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                        SocketAddr::from((Ipv4Addr::LOCALHOST, a.port()))
                    }
                    _ => a,
                });
            }
            let stop = stop.clone();
            let target = SocketAddr::from((to, port));
            std::thread::spawn(move || accept_loop(l, target, stop));
        }
    }
    Proxies { stop, wake }
}

fn accept_loop(l: TcpListener, target: SocketAddr, stop: Arc<AtomicBool>) {
    for conn in l.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(inbound) = conn else { continue };
        std::thread::spawn(move || {
            let _ = join(inbound, target);
        });
    }
}

/// Copy between a client and the container until both sides are done.
fn join(inbound: TcpStream, target: SocketAddr) -> io::Result<()> {
    let outbound = TcpStream::connect_timeout(&target, Duration::from_secs(5))?;
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let (ri, ro) = (inbound.try_clone()?, outbound.try_clone()?);
    let up = std::thread::spawn(move || pump(&ri, &outbound));
    pump(&ro, &inbound);
    let _ = up.join();
    Ok(())
}

/// Copy `from` to `to` until `from` ends, then pass the end on. A thread per direction: on a
/// busy machine many threads get more of the CPU than one event loop would (an epoll loop
/// per container, tried, served under half the requests of this under load).
fn pump(from: &TcpStream, to: &TcpStream) {
    // 64 KiB moves a socket buffer's worth per call (io::copy's 8 KiB takes eight).
    let mut buf = vec![0u8; 64 * 1024];
    let mut from = from;
    let mut to = to;
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
