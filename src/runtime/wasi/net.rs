//! The `skiff` network imports (`docs/guest-abi.md`, "Network"): real host sockets put in the
//! guest's fd table, with addresses and names as the container's network ([`super::plane`]) sees them.

use super::plane::ContainerNet;
use super::process::Proc;
use std::any::Any;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::{Arc, Weak};
use wasi_common::file::{FdFlags, FileAccessMode, FileType, RiFlags, RoFlags, SdFlags, SiFlags};
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
    l.func_wrap("skiff", "net_poll", imp_poll)?;
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

/// A socket in the guest's fd table: the WASI file wasi-common serves the guest's reads,
/// writes, `sock_accept` and `poll_oneoff` with, and a clone of the socket that
/// `net_accept`/`net_poll` use. Both close when the guest closes the fd: the process keeps
/// only a `Weak` of the clone.
struct GuestSocket<W, S> {
    wasi: W,
    /// Held only so that the clone lives exactly as long as the guest's fd.
    _keep: Arc<S>,
}

/// The sockets a process got from the network imports, by fd (dead once the guest closed it).
#[derive(Default)]
pub struct Sockets {
    listeners: HashMap<i32, Weak<TcpListener>>,
    streams: HashMap<i32, Weak<TcpStream>>,
}

type Listener = GuestSocket<wasi_common::sync::net::TcpListener, TcpListener>;
type Stream = GuestSocket<wasi_common::sync::net::TcpStream, TcpStream>;

/// Everything goes to wasi-common's socket (a listener answers `sock_accept`, a stream reads
/// and writes; each refuses the other's calls itself).
#[async_trait::async_trait]
impl<W: WasiFile + 'static, S: Send + Sync + 'static> WasiFile for GuestSocket<W, S> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    async fn get_filetype(&self) -> Result<FileType, Error> {
        self.wasi.get_filetype().await
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
    async fn read_vectored<'a>(&self, bufs: &mut [io::IoSliceMut<'a>]) -> Result<u64, Error> {
        self.wasi.read_vectored(bufs).await
    }
    async fn write_vectored<'a>(&self, bufs: &[io::IoSlice<'a>]) -> Result<u64, Error> {
        self.wasi.write_vectored(bufs).await
    }
    async fn peek(&self, buf: &mut [u8]) -> Result<u64, Error> {
        self.wasi.peek(buf).await
    }
    fn num_ready_bytes(&self) -> Result<u64, Error> {
        self.wasi.num_ready_bytes()
    }
    async fn readable(&self) -> Result<(), Error> {
        self.wasi.readable().await
    }
    async fn writable(&self) -> Result<(), Error> {
        self.wasi.writable().await
    }
    async fn sock_recv<'a>(&self, bufs: &mut [io::IoSliceMut<'a>], flags: RiFlags) -> Result<(u64, RoFlags), Error> {
        self.wasi.sock_recv(bufs, flags).await
    }
    async fn sock_send<'a>(&self, bufs: &[io::IoSlice<'a>], flags: SiFlags) -> Result<u64, Error> {
        self.wasi.sock_send(bufs, flags).await
    }
    async fn sock_shutdown(&self, how: SdFlags) -> Result<(), Error> {
        self.wasi.sock_shutdown(how).await
    }
}

fn push_stream(p: &mut Proc, s: TcpStream) -> Result<i32, i32> {
    let keep = Arc::new(s.try_clone().map_err(|e| errno(&e))?);
    let weak = Arc::downgrade(&keep);
    let wasi = wasi_common::sync::net::TcpStream::from_cap_std(cap_std::net::TcpStream::from_std(s));
    let fd = p
        .wasi
        .push_file(Box::new(Stream { wasi, _keep: keep }), FileAccessMode::READ | FileAccessMode::WRITE)
        .map_err(|_| EMFILE)? as i32;
    p.sockets.listeners.remove(&fd);
    p.sockets.streams.insert(fd, weak);
    Ok(fd)
}

fn net(caller: &Caller<'_, Proc>) -> Option<Arc<ContainerNet>> {
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
        let keep = Arc::new(l.try_clone().map_err(|e| errno(&e))?);
        let wasi = wasi_common::sync::net::TcpListener::from_cap_std(cap_std::net::TcpListener::from_std(l));
        let weak = Arc::downgrade(&keep);
        let p = caller.data_mut();
        let fd = p
            .wasi
            .push_file(Box::new(Listener { wasi, _keep: keep }), FileAccessMode::READ | FileAccessMode::WRITE)
            .map_err(|_| EMFILE)? as i32;
        p.sockets.streams.remove(&fd);
        p.sockets.listeners.insert(fd, weak);
        Ok(fd)
    })())
}

fn imp_accept(mut caller: Caller<'_, Proc>, fd: i32, peer_ptr: i32) -> i32 {
    super::process::result((|| {
        let l: Arc<TcpListener> = caller.data().sockets.listeners.get(&fd).and_then(Weak::upgrade).ok_or(EBADF)?;
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
        push_stream(caller.data_mut(), s)
    })())
}

fn imp_connect(mut caller: Caller<'_, Proc>, ip: i32, port: i32) -> i32 {
    super::process::result((|| {
        let ip = Ipv4Addr::from(ip as u32);
        let port = u16::try_from(port).map_err(|_| EINVAL)?;
        let s = match net(&caller) {
            Some(n) => n.connect(ip, port).map_err(|e| errno(&e))?,
            None => return Err(ENETUNREACH),
        };
        push_stream(caller.data_mut(), s)
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
            None => vec![crate::network::Interface {
                name: "lo".into(),
                ip: Ipv4Addr::LOCALHOST,
                prefix: 8,
                mac: "00:00:00:00:00:00".into(),
            }],
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

/// `poll(2)` over the sockets of the network imports, in wasi-libc's `pollfd` layout
/// (`i32 fd, i16 events, i16 revents`; POLLIN 0x1, POLLOUT 0x2, POLLERR 0x1000, POLLHUP
/// 0x2000, POLLNVAL 0x4000). wasi-common's `poll_oneoff` reports every socket ready and asks
/// each for its pending bytes, which made a busy server spin; this is one real `poll`.
/// `-EBADF` if an fd is not such a socket (the SDK then uses `poll_oneoff`).
/// `net_poll`: one real `poll(2)`, in slices of at most 50 ms so a signal to the process is
/// seen (`-EINTR` for a caught one; a killed process traps).
fn imp_poll(mut caller: Caller<'_, Proc>, ptr: i32, n: i32, timeout_ms: i32) -> wasmtime::Result<i32> {
    let me = caller.data().me.clone();
    let start = std::time::Instant::now();
    loop {
        let slice = if timeout_ms < 0 {
            50
        } else {
            (timeout_ms as i64 - start.elapsed().as_millis() as i64).clamp(0, 50) as i32
        };
        let rc = poll_once(&mut caller, ptr, n, slice);
        let done = rc != 0 || (timeout_ms >= 0 && start.elapsed().as_millis() as i64 >= timeout_ms as i64);
        if done {
            return Ok(rc);
        }
        match me.interrupted() {
            Some(super::signals::Wake::Killed(_)) => return Err(wasmtime::Trap::Interrupt.into()),
            Some(_) => return Ok(-27), // EINTR
            None => {}
        }
    }
}

fn poll_once(caller: &mut Caller<'_, Proc>, ptr: i32, n: i32, timeout_ms: i32) -> i32 {
    super::process::result((|| {
        let n = usize::try_from(n).map_err(|_| EINVAL)?;
        let raw = super::process::read_bytes(caller, ptr, i32::try_from(n * 8).map_err(|_| EINVAL)?)?;
        let mut fds = Vec::with_capacity(n);
        for c in raw.chunks(8) {
            fds.push((
                i32::from_le_bytes(c[0..4].try_into().unwrap()),
                i16::from_le_bytes(c[4..6].try_into().unwrap()),
            ));
        }
        let ready = poll_sockets(&caller.data().sockets, &fds, timeout_ms)?;
        let mut out = raw;
        for (i, revents) in ready.iter().enumerate() {
            out[i * 8 + 6..i * 8 + 8].copy_from_slice(&revents.to_le_bytes());
        }
        super::process::write_bytes(caller, ptr, &out)?;
        Ok(ready.iter().filter(|r| **r != 0).count() as i32)
    })())
}

#[cfg(unix)]
fn poll_sockets(sockets: &Sockets, fds: &[(i32, i16)], timeout_ms: i32) -> Result<Vec<i16>, i32> {
    use std::os::fd::AsRawFd;
    // Hold every socket while polling, so none closes under the poll.
    let mut held: Vec<Box<dyn AsRawFd>> = Vec::with_capacity(fds.len());
    for (fd, _) in fds {
        if let Some(l) = sockets.listeners.get(fd).and_then(Weak::upgrade) {
            held.push(Box::new(l));
        } else if let Some(s) = sockets.streams.get(fd).and_then(Weak::upgrade) {
            held.push(Box::new(s));
        } else {
            return Err(EBADF);
        }
    }
    let mut pfds: Vec<libc::pollfd> = held
        .iter()
        .zip(fds)
        .map(|(h, (_, ev))| libc::pollfd {
            fd: h.as_raw_fd(),
            events: (if ev & 0x1 != 0 { libc::POLLIN } else { 0 }) | (if ev & 0x2 != 0 { libc::POLLOUT } else { 0 }),
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pfds` is a valid array of `pfds.len()` pollfds whose sockets `held` keeps open.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if rc >= 0 {
            break;
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(EIO);
        }
    }
    Ok(pfds
        .iter()
        .map(|p| {
            let r = p.revents;
            (if r & libc::POLLIN != 0 { 0x1 } else { 0 })
                | (if r & libc::POLLOUT != 0 { 0x2 } else { 0 })
                | (if r & libc::POLLERR != 0 { 0x1000 } else { 0 })
                | (if r & libc::POLLHUP != 0 { 0x2000 } else { 0 })
                | (if r & libc::POLLNVAL != 0 { 0x4000 } else { 0 })
        })
        .collect())
}

#[cfg(not(unix))]
fn poll_sockets(_: &Sockets, _: &[(i32, i16)], _: i32) -> Result<Vec<i16>, i32> {
    Err(EBADF) // the SDK falls back to poll_oneoff
}
