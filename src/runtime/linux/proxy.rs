//! Published ports of a native container: the supervisor's userland proxy, as docker-proxy
//! is. The host ports are bound before the container counts as started (so a port in use
//! fails the start); each accepted connection is joined to the container's address on its
//! first network, the bytes copied both ways. It works from the host's own `127.0.0.1`, and
//! needs no firewall rule (the NAT path that would, is the one skiff does not take).
//!
//! One thread per container runs an epoll loop over its listeners and connections: under
//! load one wakeup serves many ready connections, where a thread per direction of each
//! connection paid a wakeup per message.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The running proxies of one container; dropping it stops them.
pub struct Proxies {
    wake: OwnedFd,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Proxies {
    fn drop(&mut self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes to an eventfd we own.
        unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr() as *const libc::c_void, 8) };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Forward every listener in `published` (by container port) to `to`:port.
pub fn start(published: crate::runtime::Published, to: Ipv4Addr) -> io::Result<Proxies> {
    let ep = Epoll::new()?;
    // SAFETY: eventfd with flags only; the result is checked.
    let wake = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if wake < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let wake = unsafe { OwnedFd::from_raw_fd(wake) };
    ep.ctl(libc::EPOLL_CTL_ADD, wake.as_raw_fd(), libc::EPOLLIN as u32, WAKE)?;
    let mut listeners = Vec::new();
    for (port, ls) in published {
        for l in ls {
            l.set_nonblocking(true)?;
            ep.ctl(libc::EPOLL_CTL_ADD, l.as_raw_fd(), libc::EPOLLIN as u32, LISTENER | listeners.len() as u64)?;
            listeners.push((l, SocketAddr::from((to, port))));
        }
    }
    let thread = std::thread::Builder::new()
        .name("proxy".into())
        .spawn(move || Loop { ep, listeners, pairs: HashMap::new(), next: 0, buf: vec![0; 64 * 1024] }.run())?;
    Ok(Proxies { wake, thread: Some(thread) })
}

const WAKE: u64 = u64::MAX;
const LISTENER: u64 = 1 << 62;
const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

/// An epoll instance.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 with a flag; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: valid descriptors and an event struct that lives through the call.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event]) -> usize {
        // SAFETY: the buffer holds `events.len()` entries.
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), events.len() as i32, -1) };
        n.max(0) as usize
    }
}

/// One proxied connection: side 0 is the client, side 1 the container.
struct Pair {
    socks: [TcpStream; 2],
    /// Bytes read from one side that the other (the index) has not taken yet.
    pending: [Vec<u8>; 2],
    /// Whether a side has sent its end of stream.
    eof: [bool; 2],
    /// The events each side is registered for (0: not registered).
    watching: [u32; 2],
    connecting: bool,
}

impl Pair {
    /// What side `s` should be watched for now.
    fn wants(&self, s: usize) -> u32 {
        if self.connecting {
            return if s == 1 { OUT } else { 0 };
        }
        let mut w = 0;
        if !self.eof[s] && self.pending[1 - s].is_empty() {
            w |= IN;
        }
        if !self.pending[s].is_empty() {
            w |= OUT;
        }
        w
    }

    fn done(&self) -> bool {
        !self.connecting && self.eof[0] && self.eof[1] && self.pending.iter().all(Vec::is_empty)
    }
}

struct Loop {
    ep: Epoll,
    listeners: Vec<(TcpListener, SocketAddr)>,
    pairs: HashMap<u64, Pair>,
    next: u64,
    buf: Vec<u8>,
}

impl Loop {
    fn run(mut self) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        loop {
            let n = self.ep.wait(&mut events);
            for ev in &events[..n] {
                let (flags, token) = (ev.events, ev.u64);
                if token == WAKE {
                    return;
                }
                if token & LISTENER != 0 {
                    self.accept((token & !LISTENER) as usize);
                    continue;
                }
                let (id, side) = (token >> 1, (token & 1) as usize);
                let alive = match self.pairs.get_mut(&id) {
                    Some(p) => step(&mut self.buf, p, side, flags).is_ok(),
                    None => continue,
                };
                self.settle(id, alive);
            }
        }
    }

    /// Take every waiting connection on listener `i` and start joining it to the container.
    fn accept(&mut self, i: usize) {
        loop {
            let (client, target) = match self.listeners[i].0.accept() {
                Ok((c, _)) => (c, self.listeners[i].1),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            let Ok(container) = connect_nonblocking(target) else { continue };
            let _ = client.set_nonblocking(true);
            let _ = client.set_nodelay(true);
            let _ = container.set_nodelay(true);
            let id = self.next;
            self.next += 1;
            let pair = Pair {
                socks: [client, container],
                pending: [Vec::new(), Vec::new()],
                eof: [false; 2],
                watching: [0; 2],
                connecting: true,
            };
            self.pairs.insert(id, pair);
            self.settle(id, true);
        }
    }

    /// Register a pair's sides for what they need now; drop it when it is finished or broken.
    fn settle(&mut self, id: u64, alive: bool) {
        let Some(p) = self.pairs.get_mut(&id) else { return };
        if alive && !p.done() {
            let mut ok = true;
            for s in 0..2 {
                let want = p.wants(s);
                if want == p.watching[s] {
                    continue;
                }
                let fd = p.socks[s].as_raw_fd();
                let token = id << 1 | s as u64;
                // A side with nothing to wait for leaves the set: epoll reports a hang-up
                // whatever the interest, which would spin the loop.
                let r = match (p.watching[s], want) {
                    (0, w) => self.ep.ctl(libc::EPOLL_CTL_ADD, fd, w, token),
                    (_, 0) => self.ep.ctl(libc::EPOLL_CTL_DEL, fd, 0, token),
                    (_, w) => self.ep.ctl(libc::EPOLL_CTL_MOD, fd, w, token),
                };
                ok &= r.is_ok();
                p.watching[s] = want;
            }
            if ok {
                return;
            }
        }
        if let Some(p) = self.pairs.remove(&id) {
            for (s, sock) in p.socks.iter().enumerate() {
                if p.watching[s] != 0 {
                    let _ = self.ep.ctl(libc::EPOLL_CTL_DEL, sock.as_raw_fd(), 0, 0);
                }
            }
        }
    }
}

/// Handle `flags` on side `s` of pair `p`. An error ends the pair.
fn step(buf: &mut [u8], p: &mut Pair, s: usize, flags: u32) -> io::Result<()> {
    if p.connecting {
        // The container side became writable: the connect finished, one way or the other.
        if let Some(e) = p.socks[1].take_error()? {
            return Err(e);
        }
        if flags & libc::EPOLLERR as u32 != 0 {
            return Err(io::Error::other("connect failed"));
        }
        p.connecting = false;
        return Ok(());
    }
    if flags & OUT != 0 {
        flush(p, s)?;
    }
    if flags & (IN | libc::EPOLLHUP as u32 | libc::EPOLLERR as u32) != 0 && p.watching[s] & IN != 0 {
        let n = loop {
            match (&p.socks[s]).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                r => break r?,
            }
        };
        if n == 0 {
            p.eof[s] = true;
            return flush(p, 1 - s);
        }
        // Straight on to the other side (nothing is pending there, or `s` would not be
        // read); what it does not take now waits.
        let mut off = 0;
        while off < n {
            match (&p.socks[1 - s]).write(&buf[off..n]) {
                Ok(k) => off += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        p.pending[1 - s].extend_from_slice(&buf[off..n]);
    }
    Ok(())
}

/// Write what side `s` is owed; after the other side's end of stream, pass it on.
fn flush(p: &mut Pair, s: usize) -> io::Result<()> {
    while !p.pending[s].is_empty() {
        match (&p.socks[s]).write(&p.pending[s]) {
            Ok(n) => {
                p.pending[s].drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    if p.eof[1 - s] {
        let _ = p.socks[s].shutdown(Shutdown::Write);
    }
    Ok(())
}

/// A TCP connection to `to`, started but perhaps not finished (the loop waits for it);
/// close-on-exec, as socket2 makes every socket.
fn connect_nonblocking(to: SocketAddr) -> io::Result<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    match sock.connect(&to.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(sock.into())
}
