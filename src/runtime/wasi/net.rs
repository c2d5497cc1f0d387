//! The `skiff` network imports (`docs/guest-abi.md`, "Network"): real host sockets put in the
//! guest's fd table, with addresses and names as the container's [`NetworkView`] sees them.

use super::process::Proc;
use crate::runtime::NetworkView;
use std::any::Any;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::{Arc, Weak};
use wasi_common::file::{FdFlags, FileAccessMode, FileType};
use wasi_common::{Error, WasiFile};
use wasmtime::{Caller, Linker};

// WASI errno values.
const EADDRINUSE: i32 = 3;
const EAGAIN: i32 = 6;
const EBADF: i32 = 8;
const ECONNREFUSED: i32 = 14;
const ECONNRESET: i32 = 15;
const EFAULT: i32 = 21;
const EHOSTUNREACH: i32 = 23;
const EINVAL: i32 = 28;
const EIO: i32 = 29;
const EMFILE: i32 = 33;
const ENETUNREACH: i32 = 40;
const ENOENT: i32 = 44;
const ETIMEDOUT: i32 = 73;

/// Add the network imports to `l`.
pub fn add_to_linker(l: &mut Linker<Proc>) -> wasmtime::Result<()> {
    l.func_wrap("skiff", "net_listen", imp_listen)?;
    l.func_wrap("skiff", "net_accept", imp_accept)?;
    l.func_wrap("skiff", "net_connect", imp_connect)?;
    l.func_wrap("skiff", "net_resolve", imp_resolve)?;
    l.func_wrap("skiff", "net_info", imp_info)?;
    l.func_wrap("skiff", "net_ping", imp_ping)?;
    Ok(())
}

/// The errno a guest gets for a host socket error.
fn errno(e: &io::Error) -> i32 {
    use io::ErrorKind::*;
    match e.kind() {
        AddrInUse => EADDRINUSE,
        WouldBlock => EAGAIN,
        ConnectionRefused => ECONNREFUSED,
        ConnectionReset | ConnectionAborted => ECONNRESET,
        HostUnreachable => EHOSTUNREACH,
        NetworkUnreachable => ENETUNREACH,
        NotFound => ENOENT,
        TimedOut => ETIMEDOUT,
        InvalidInput => EINVAL,
        _ => EIO,
    }
}

/// A listener in the guest's fd table. It holds the socket twice (the WASI listener that
/// `sock_accept`/`poll_oneoff` use, and a clone `net_accept` uses), and both close when the
/// guest closes the fd: the process keeps only a `Weak` of the clone.
struct GuestListener {
    wasi: wasi_common::sync::net::TcpListener,
    /// Held only so that the clone lives exactly as long as the guest's fd.
    _accept: Arc<TcpListener>,
}

#[async_trait::async_trait]
impl WasiFile for GuestListener {
    fn as_any(&self) -> &dyn Any {
        self
    }
    async fn get_filetype(&self) -> Result<FileType, Error> {
        Ok(FileType::SocketStream)
    }
    #[cfg(unix)]
    fn pollable(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        self.wasi.pollable()
    }
    #[cfg(windows)]
    fn pollable(&self) -> Option<io_extras::os::windows::RawHandleOrSocket> {
        self.wasi.pollable()
    }
    async fn sock_accept(&self, fdflags: FdFlags) -> Result<Box<dyn WasiFile>, Error> {
        self.wasi.sock_accept(fdflags).await
    }
    async fn get_fdflags(&self) -> Result<FdFlags, Error> {
        self.wasi.get_fdflags().await
    }
    async fn set_fdflags(&mut self, flags: FdFlags) -> Result<(), Error> {
        self.wasi.set_fdflags(flags).await
    }
    fn num_ready_bytes(&self) -> Result<u64, Error> {
        Ok(1)
    }
}

fn push_stream(p: &Proc, s: TcpStream) -> Result<i32, i32> {
    let s = wasi_common::sync::net::TcpStream::from_cap_std(cap_std::net::TcpStream::from_std(s));
    p.wasi.push_file(Box::new(s), FileAccessMode::READ | FileAccessMode::WRITE).map(|fd| fd as i32).map_err(|_| EMFILE)
}

fn net(caller: &Caller<'_, Proc>) -> Option<Arc<dyn NetworkView>> {
    caller.data().shared.net.clone()
}

fn imp_listen(mut caller: Caller<'_, Proc>, port: i32, _backlog: i32) -> i32 {
    super::process::result((|| {
        let port = u16::try_from(port).map_err(|_| EINVAL)?;
        let l = match net(&caller) {
            Some(n) => n.listen(port),
            None => TcpListener::bind((Ipv4Addr::LOCALHOST, 0)), // no network: loopback only
        }
        .map_err(|e| errno(&e))?;
        let clone = Arc::new(l.try_clone().map_err(|e| errno(&e))?);
        let wasi = wasi_common::sync::net::TcpListener::from_cap_std(cap_std::net::TcpListener::from_std(l));
        let weak = Arc::downgrade(&clone);
        let file = GuestListener { wasi, _accept: clone };
        let p = caller.data_mut();
        let fd = p.wasi.push_file(Box::new(file), FileAccessMode::READ | FileAccessMode::WRITE).map_err(|_| EMFILE)? as i32;
        p.listeners.insert(fd, weak);
        Ok(fd)
    })())
}

fn imp_accept(mut caller: Caller<'_, Proc>, fd: i32, peer_ptr: i32) -> i32 {
    super::process::result((|| {
        let l: Arc<TcpListener> = caller.data().listeners.get(&fd).and_then(Weak::upgrade).ok_or(EBADF)?;
        let (s, real) = l.accept().map_err(|e| errno(&e))?;
        drop(l);
        // A stream accepted from a non-blocking listener is blocking, as sock_accept's are.
        let _ = s.set_nonblocking(false);
        let peer = match net(&caller) {
            Some(n) => n.peer(real),
            None => SocketAddrV4::new(Ipv4Addr::LOCALHOST, real.port()),
        };
        let mut buf = [0u8; 6];
        buf[..4].copy_from_slice(&peer.ip().octets());
        buf[4..].copy_from_slice(&peer.port().to_le_bytes());
        super::process::write_bytes(&mut caller, peer_ptr, &buf)?;
        push_stream(caller.data(), s)
    })())
}

fn imp_connect(caller: Caller<'_, Proc>, ip: i32, port: i32) -> i32 {
    super::process::result((|| {
        let ip = Ipv4Addr::from(ip as u32);
        let port = u16::try_from(port).map_err(|_| EINVAL)?;
        let s = match net(&caller) {
            Some(n) => n.connect(ip, port).map_err(|e| errno(&e))?,
            None => return Err(ENETUNREACH),
        };
        push_stream(caller.data(), s)
    })())
}

fn imp_resolve(mut caller: Caller<'_, Proc>, name_ptr: i32, name_len: i32, out_ptr: i32, out_len: i32) -> i32 {
    super::process::result((|| {
        let name = super::process::read_string(&mut caller, name_ptr, name_len)?;
        let ips = match net(&caller) {
            Some(n) => n.resolve(&name),
            None if name == "localhost" => vec![Ipv4Addr::LOCALHOST],
            None => vec![],
        };
        if ips.is_empty() {
            return Err(ENOENT);
        }
        let room = (out_len.max(0) / 4) as usize;
        let bytes: Vec<u8> = ips.iter().take(room).flat_map(|ip| ip.octets()).collect();
        super::process::write_bytes(&mut caller, out_ptr, &bytes)?;
        Ok((bytes.len() / 4) as i32)
    })())
}

fn imp_info(mut caller: Caller<'_, Proc>, out_ptr: i32, out_len: i32) -> i32 {
    super::process::result((|| {
        let list = match net(&caller) {
            Some(n) => n.interfaces(),
            None => vec![crate::runtime::Interface { name: "lo".into(), ip: Ipv4Addr::LOCALHOST, prefix: 8, mac: "00:00:00:00:00:00".into() }],
        };
        let text: String = list.iter().map(|i| format!("{} {}/{} {}\n", i.name, i.ip, i.prefix, i.mac)).collect();
        if text.len() <= out_len.max(0) as usize {
            super::process::write_bytes(&mut caller, out_ptr, text.as_bytes())?;
        }
        i32::try_from(text.len()).map_err(|_| EFAULT)
    })())
}

fn imp_ping(caller: Caller<'_, Proc>, ip: i32) -> i32 {
    let ip = Ipv4Addr::from(ip as u32);
    let r = match net(&caller) {
        Some(n) => n.reachable(ip),
        None if ip.is_loopback() => Ok(()),
        None => Err(io::ErrorKind::NetworkUnreachable.into()),
    };
    match r {
        Ok(()) => 0,
        Err(e) => -errno(&e),
    }
}
