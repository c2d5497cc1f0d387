//! The platform under the server guests (the event loop, and `ab`): skiff's socket imports on
//! wasm32, libc `poll` and std sockets natively (for the unit tests and a native baseline).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    pub use skiff_guest::net::{PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};
    pub const POLLNVAL: i16 = 0x4000;

    pub fn listen(port: u16) -> io::Result<TcpListener> {
        skiff_guest::net::listen(port)
    }

    pub fn resolve(host: &str) -> io::Result<Vec<Ipv4Addr>> {
        skiff_guest::net::resolve(host)
    }

    pub fn connect(addr: SocketAddrV4) -> io::Result<TcpStream> {
        skiff_guest::net::connect(addr)
    }

    pub fn accept(l: &TcpListener) -> io::Result<(TcpStream, SocketAddrV4)> {
        skiff_guest::net::accept(l)
    }

    pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
        skiff_guest::net::poll(fds, timeout_ms)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;
    use std::net::{SocketAddr, ToSocketAddrs};

    /// `struct pollfd` of Linux.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, Default)]
    pub struct PollFd {
        pub fd: i32,
        pub events: i16,
        pub revents: i16,
    }
    pub const POLLIN: i16 = 0x1;
    pub const POLLOUT: i16 = 0x4;
    pub const POLLERR: i16 = 0x8;
    pub const POLLHUP: i16 = 0x10;
    pub const POLLNVAL: i16 = 0x20;

    pub fn resolve(host: &str) -> io::Result<Vec<Ipv4Addr>> {
        Ok((host, 0)
            .to_socket_addrs()?
            .filter_map(|a| if let SocketAddr::V4(a) = a { Some(*a.ip()) } else { None })
            .collect())
    }

    pub fn connect(addr: SocketAddrV4) -> io::Result<TcpStream> {
        TcpStream::connect(addr)
    }

    extern "C" {
        #[link_name = "poll"]
        fn c_poll(fds: *mut PollFd, nfds: std::ffi::c_ulong, timeout: i32) -> i32;
    }

    pub fn listen(port: u16) -> io::Result<TcpListener> {
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
    }

    pub fn accept(l: &TcpListener) -> io::Result<(TcpStream, SocketAddrV4)> {
        let (s, a) = l.accept()?;
        let a = match a {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(a) => SocketAddrV4::new(a.ip().to_ipv4().unwrap_or(Ipv4Addr::UNSPECIFIED), a.port()),
        };
        Ok((s, a))
    }

    pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
        loop {
            let n = unsafe { c_poll(fds.as_mut_ptr(), fds.len() as std::ffi::c_ulong, timeout_ms) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

pub use imp::{accept, connect, poll, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};

/// The first IPv4 address of `host` (`NotFound` when there is none).
pub fn resolve(host: &str) -> io::Result<Ipv4Addr> {
    imp::resolve(host)?.first().copied().ok_or_else(|| io::ErrorKind::NotFound.into())
}

/// Listen on `port` of every address (`0.0.0.0:port`); in a skiff container through the
/// `net_listen` import.
pub fn listen(port: u16) -> io::Result<TcpListener> {
    imp::listen(port)
}
