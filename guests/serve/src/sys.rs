//! The platform under the event loop: skiff's socket imports on wasm32, libc `poll` and std
//! sockets natively (for the unit tests and a native baseline).

use std::io;
use std::net::{SocketAddrV4, TcpListener, TcpStream};

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    pub use skiff_guest::net::{PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};

    pub fn listen(port: u16) -> io::Result<TcpListener> {
        skiff_guest::net::listen(port)
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
    use std::net::{Ipv4Addr, SocketAddr};

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
            SocketAddr::V6(a) => {
                SocketAddrV4::new(a.ip().to_ipv4().unwrap_or(Ipv4Addr::UNSPECIFIED), a.port())
            }
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

pub(crate) use imp::{accept, poll, PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};

/// Listen on `port` of every address (`0.0.0.0:port`); in a skiff container through the
/// `net_listen` import.
pub fn listen(port: u16) -> io::Result<TcpListener> {
    imp::listen(port)
}
