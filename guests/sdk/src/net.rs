//! Sockets through the `skiff` network imports (`docs/guest-abi.md`, "Network"): WASI
//! preview 1 cannot open a socket, so the host opens it and hands the guest an ordinary fd.
//! Addresses are the container's virtual IPv4 addresses; names resolve by Docker's rules.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};

#[cfg(target_arch = "wasm32")]
use crate::check;

/// WASI errno values of the network imports (negated by the host).
pub mod errno {
    pub const EADDRINUSE: i32 = 3;
    pub const EAGAIN: i32 = 6;
    pub const ECONNREFUSED: i32 = 14;
    pub const EHOSTUNREACH: i32 = 23;
    pub const ENETUNREACH: i32 = 40;
    pub const ENOENT: i32 = 44;
    pub const ETIMEDOUT: i32 = 73;
}

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "skiff")]
    extern "C" {
        pub fn net_listen(port: i32, backlog: i32) -> i32;
        pub fn net_accept(fd: i32, peer: *mut u8) -> i32;
        pub fn net_connect(ip: u32, port: i32) -> i32;
        pub fn net_resolve(name: *const u8, name_len: usize, out: *mut u8, out_len: usize) -> i32;
        pub fn net_info(out: *mut u8, out_len: usize) -> i32;
        pub fn net_ping(ip: u32) -> i32;
        pub fn net_poll(fds: *mut PollFd, nfds: usize, timeout: i32) -> i32;
    }
    #[repr(C)]
    pub struct PollFd {
        pub fd: i32,
        pub events: i16,
        pub revents: i16,
    }
    extern "C" {
        // wasi-libc's poll(2), over WASI's poll_oneoff.
        pub fn poll(fds: *mut PollFd, nfds: usize, timeout: i32) -> i32;
    }
}

fn unsupported<T>() -> io::Result<T> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Listen on `port` of every address of this container (`0.0.0.0:port` inside it).
pub fn listen(port: u16) -> io::Result<TcpListener> {
    let _ = port;
    #[cfg(target_arch = "wasm32")]
    {
        use std::os::wasi::io::FromRawFd;
        let fd = check(unsafe { sys::net_listen(port as i32, 128) })?;
        return Ok(unsafe { TcpListener::from_raw_fd(fd) });
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Accept a connection on a listener from [`listen`]; returns the stream and the peer's
/// address as the network sees it (the other container's IP, or the gateway for the host).
/// A listener set non-blocking gives `WouldBlock` when no connection is waiting.
pub fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddrV4)> {
    let _ = listener;
    #[cfg(target_arch = "wasm32")]
    {
        use std::os::wasi::io::{AsRawFd, FromRawFd};
        let mut peer = [0u8; 6];
        let rc = unsafe { sys::net_accept(listener.as_raw_fd(), peer.as_mut_ptr()) };
        if rc == -errno::EAGAIN {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let fd = check(rc)?;
        let ip = Ipv4Addr::new(peer[0], peer[1], peer[2], peer[3]);
        let port = u16::from_le_bytes([peer[4], peer[5]]);
        return Ok((unsafe { TcpStream::from_raw_fd(fd) }, SocketAddrV4::new(ip, port)));
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Connect to `ip:port` (`127.0.0.1` is this container itself).
pub fn connect(addr: SocketAddrV4) -> io::Result<TcpStream> {
    let _ = addr;
    #[cfg(target_arch = "wasm32")]
    {
        use std::os::wasi::io::FromRawFd;
        let fd = check(unsafe { sys::net_connect(u32::from(*addr.ip()), addr.port() as i32) })?;
        return Ok(unsafe { TcpStream::from_raw_fd(fd) });
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// The addresses of `name` as this container sees it: a dotted IPv4 literal as itself, then
/// `/etc/hosts`, then (on user-defined networks) the names and aliases of other containers.
/// `NotFound` when nothing matches (tools print `bad address 'NAME'`).
pub fn resolve(name: &str) -> io::Result<Vec<Ipv4Addr>> {
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Ok(vec![ip]);
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut buf = [0u8; 64];
        let n = check(unsafe { sys::net_resolve(name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len()) })? as usize;
        return Ok(buf[..n.min(16) * 4].chunks(4).map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3])).collect());
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Resolve `host` (name or IPv4) and connect to its first address on `port`.
pub fn connect_host(host: &str, port: u16) -> io::Result<TcpStream> {
    let ip = *resolve(host)?.first().ok_or(io::ErrorKind::NotFound)?;
    connect(SocketAddrV4::new(ip, port))
}

/// One network interface of this container, as `ip addr` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `lo`, `eth0`, `eth1`, … (one per network, in the order the container joined them).
    pub name: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// `02:42:…` (all zeros for `lo`).
    pub mac: String,
}

/// This container's interfaces: `lo` first, then one per network it is on, in the order it
/// joined them (none on `--network none`). On `--network host`: the loopback only.
pub fn interfaces() -> io::Result<Vec<Interface>> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut buf = vec![0u8; 1024];
        loop {
            let n = check(unsafe { sys::net_info(buf.as_mut_ptr(), buf.len()) })? as usize;
            if n > buf.len() {
                buf.resize(n, 0);
                continue;
            }
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            return Ok(parse_interfaces(&text));
        }
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Parse `net_info`'s text: one `NAME IP/PREFIX MAC` line per interface.
pub fn parse_interfaces(text: &str) -> Vec<Interface> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.to_string();
            let (ip, prefix) = f.next()?.split_once('/')?;
            let mac = f.next().unwrap_or("00:00:00:00:00:00").to_string();
            Some(Interface { name, ip: ip.parse().ok()?, prefix: prefix.parse().ok()?, mac })
        })
        .collect()
}

/// Whether `ip` answers from this container, by the network's rules (what `ping` checks:
/// WASI has no ICMP). `Ok(())` when reachable; `ENETUNREACH`/`EHOSTUNREACH` otherwise.
pub fn ping(ip: Ipv4Addr) -> io::Result<()> {
    let _ = ip;
    #[cfg(target_arch = "wasm32")]
    {
        check(unsafe { sys::net_ping(u32::from(ip)) })?;
        return Ok(());
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// `poll(2)` readiness: `POLLIN` (readable, or a connection waiting on a listener).
pub const POLLIN: i16 = 0x1;
/// `POLLOUT`: writable.
pub const POLLOUT: i16 = 0x2;
pub const POLLERR: i16 = 0x1000;
pub const POLLHUP: i16 = 0x2000;

/// One fd to watch: set `fd` and `events`; `poll` fills `revents`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// Wait until one of `fds` is ready or `timeout_ms` passes (-1: no timeout); returns how
/// many are ready. Sockets (listeners and streams) and files can be watched; a set of only
/// sockets from this module is polled exactly (one host `poll`).
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
    let _ = (&fds, timeout_ms);
    #[cfg(target_arch = "wasm32")]
    {
        let mut raw: Vec<sys::PollFd> =
            fds.iter().map(|p| sys::PollFd { fd: p.fd, events: p.events, revents: 0 }).collect();
        // The host's poll over sockets from this module; anything else (stdin, a file) goes
        // through WASI's poll_oneoff, which reports sockets ready whether they are or not.
        let mut n = unsafe { sys::net_poll(raw.as_mut_ptr(), raw.len(), timeout_ms) };
        if n == -crate::errno::EBADF {
            n = unsafe { sys::poll(raw.as_mut_ptr(), raw.len(), timeout_ms) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
        } else {
            n = check(n)?;
        }
        for (p, r) in fds.iter_mut().zip(&raw) {
            p.revents = r.revents;
        }
        return Ok(n as usize);
    }
    #[allow(unreachable_code)]
    unsupported()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_parse() {
        let v = parse_interfaces("lo 127.0.0.1/8 00:00:00:00:00:00\neth0 172.20.0.2/16 02:42:ac:14:00:02\n");
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].ip, Ipv4Addr::new(172, 20, 0, 2));
        assert_eq!((v[1].prefix, v[1].mac.as_str()), (16, "02:42:ac:14:00:02"));
    }
}
