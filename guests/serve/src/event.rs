//! The event loop: one non-blocking listener and many non-blocking streams watched with one
//! `poll`, a read buffer and a pending-write buffer per connection, and a batched log.

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use crate::sys::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};

/// What a [`Service`] did with the front of a connection's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No complete request yet: wait for more bytes.
    Need,
    /// Handled one request of this many bytes; go on with the rest.
    Used(usize),
    /// Used this many bytes; close the connection once the output is sent.
    Close(usize),
}

/// What a service sees while handling one request.
pub struct Ctx<'a> {
    /// Bytes to send on this connection (append to it).
    pub out: &'a mut Vec<u8>,
    /// The access log, shared by all connections: append whole lines; the loop writes it to
    /// stdout in batches (when it is about to wait, or once it holds a few KB).
    pub log: &'a mut Vec<u8>,
    /// Wall-clock time of the loop's last wake-up, in milliseconds since the epoch.
    pub now_ms: u64,
    /// Changes each time the loop wakes from `poll`. The requests handled in one wake were
    /// all read just after it began, so a fact checked once during the wake (a file's mtime)
    /// is as fresh as each of them needs: a service may reuse it until `wake` changes.
    pub wake: u64,
}

/// When this wake of the loop began.
#[derive(Debug, Clone, Copy)]
struct Tick {
    now_ms: u64,
    wake: u64,
}

/// A protocol served by [`run`]: pure logic over bytes, no I/O.
pub trait Service {
    /// Per-connection state.
    type Conn;
    /// A connection from `peer` was accepted.
    fn open(&mut self, peer: SocketAddrV4) -> Self::Conn;
    /// Handle at most one request at the front of `input` (never empty).
    fn step(&mut self, conn: &mut Self::Conn, input: &[u8], cx: &mut Ctx) -> Step;
    /// The connection is gone.
    fn close(&mut self, _conn: Self::Conn) {}
    /// Bytes of buffered input without a complete request after which the connection is
    /// dropped (a service that allows huge requests raises it).
    fn max_input(&self) -> usize {
        1 << 20
    }
    /// A stop signal arrived (`skiff stop`: TERM, or INT/QUIT): the loop ends after this,
    /// and [`run`] returns `Ok`. A service may log what its real counterpart logs.
    fn stopping(&mut self, _sig: i32, _log: &mut Vec<u8>) {}
}

/// Ask for the signals that stop a server gracefully (what nginx, httpd and redis do on
/// `docker stop`): they interrupt the loop's poll instead of killing the process.
pub fn catch_stop_signals() {
    use skiff_guest::proc::{sig, sig_action, Action};
    for s in [sig::TERM, sig::INT, sig::QUIT] {
        let _ = sig_action(s, Action::Catch);
    }
}

/// Poll; a caught stop signal ends the wait and comes back as `(0, signal)`.
fn poll_or_stop(fds: &mut [PollFd], timeout: i32) -> io::Result<(usize, i32)> {
    match sys::poll(fds, timeout) {
        Ok(n) => Ok((n, 0)),
        Err(e) if skiff_guest::proc::interrupted(&e) => Ok((0, skiff_guest::proc::sig_take().unwrap_or(0))),
        Err(e) => Err(e),
    }
}

/// Stop handling requests of a connection while this much output waits to be sent.
const HIGH_WATER: usize = 256 * 1024;
/// Write the log once it holds this much, even when the loop is busy.
const LOG_FLUSH: usize = 4096;
/// One read's buffer.
const READ_CHUNK: usize = 16 * 1024;
/// Give an emptied output buffer's memory back above this size.
const KEEP_CAPACITY: usize = 64 * 1024;

struct Conn<C> {
    stream: TcpStream,
    fd: i32,
    /// Received bytes not handled yet start at `input[pos..]`.
    input: Vec<u8>,
    pos: usize,
    /// Output to send: `out[sent..]`.
    out: Vec<u8>,
    sent: usize,
    /// The peer sent EOF, or the service asked to close: close once `out` is sent.
    closing: bool,
    state: Option<C>,
}

impl<C> Conn<C> {
    fn pending(&self) -> usize {
        self.out.len() - self.sent
    }
}

/// Serve `service` on `listener` forever (until poll itself fails).
pub fn run<S: Service>(listener: TcpListener, service: &mut S) -> io::Result<()> {
    catch_stop_signals();
    listener.set_nonblocking(true)?;
    let lfd = listener.as_raw_fd();
    let mut conns: Vec<Conn<S::Conn>> = Vec::new();
    let mut fds: Vec<PollFd> = Vec::new();
    let mut log: Vec<u8> = Vec::with_capacity(2 * LOG_FLUSH);
    let mut scratch = vec![0u8; READ_CHUNK];
    let mut wake = 0u64;
    let mut accept_error_ms = 0u64;
    loop {
        fds.clear();
        fds.push(PollFd { fd: lfd, events: POLLIN, revents: 0 });
        for c in &conns {
            let events = if c.pending() > 0 { POLLOUT } else { POLLIN };
            fds.push(PollFd { fd: c.fd, events, revents: 0 });
        }
        // Flush the log only when there is nothing else to do.
        let (mut ready, mut sig) = if log.is_empty() { (0, 0) } else { poll_or_stop(&mut fds, 0)? };
        if ready == 0 && sig == 0 {
            flush_log(&mut log);
            (ready, sig) = poll_or_stop(&mut fds, -1)?;
        }
        if sig != 0 {
            service.stopping(sig, &mut log);
            flush_log(&mut log);
            return Ok(());
        }
        if ready == 0 {
            continue;
        }
        wake += 1;
        let tick = Tick { now_ms: crate::time::now_ms(), wake };
        let mut i = 0;
        while i < conns.len() {
            let revents = fds[i + 1].revents;
            let alive = revents == 0 || serve_conn(&mut conns[i], revents, service, &mut log, &mut scratch, tick);
            if alive {
                i += 1;
            } else {
                let mut c = conns.swap_remove(i);
                fds.swap_remove(i + 1);
                if let Some(st) = c.state.take() {
                    service.close(st);
                }
            }
            if log.len() >= LOG_FLUSH {
                flush_log(&mut log);
            }
        }
        if fds[0].revents != 0 {
            accept_all(&listener, service, &mut conns, &mut accept_error_ms, tick.now_ms);
        }
    }
}

/// Take every waiting connection. An error (out of fds) is reported at most once a second.
fn accept_all<S: Service>(
    listener: &TcpListener,
    service: &mut S,
    conns: &mut Vec<Conn<S::Conn>>,
    last_error_ms: &mut u64,
    now_ms: u64,
) {
    loop {
        match sys::accept(listener) {
            Ok((stream, peer)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let fd = stream.as_raw_fd();
                let state = service.open(peer);
                conns.push(Conn {
                    stream,
                    fd,
                    input: Vec::new(),
                    pos: 0,
                    out: Vec::new(),
                    sent: 0,
                    closing: false,
                    state: Some(state),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(e) => {
                if now_ms >= *last_error_ms + 1000 {
                    eprintln!("accept: {e}");
                    *last_error_ms = now_ms;
                }
                return;
            }
        }
    }
}

/// Handle one connection's readiness; false when it is to be closed.
fn serve_conn<S: Service>(
    c: &mut Conn<S::Conn>,
    revents: i16,
    service: &mut S,
    log: &mut Vec<u8>,
    scratch: &mut [u8],
    tick: Tick,
) -> bool {
    if c.pending() == 0 && revents & (POLLIN | POLLHUP | POLLERR) != 0 {
        // Read what is there: one read, a second one only when the first filled the buffer.
        loop {
            match (&c.stream).read(scratch) {
                Ok(0) => {
                    c.closing = true;
                    break;
                }
                Ok(n) => {
                    c.input.extend_from_slice(&scratch[..n]);
                    if n < scratch.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }
    drive(c, service, log, tick)
}

/// Handle buffered requests and send their output, as far as the socket takes it.
fn drive<S: Service>(c: &mut Conn<S::Conn>, service: &mut S, log: &mut Vec<u8>, tick: Tick) -> bool {
    let state = match c.state.as_mut() {
        Some(s) => s,
        None => return false,
    };
    loop {
        let mut stopped_full = false;
        let mut stop_reading = false;
        while c.pos < c.input.len() && !stop_reading {
            if c.out.len() - c.sent >= HIGH_WATER {
                stopped_full = true;
                break;
            }
            let mut cx = Ctx { out: &mut c.out, log, now_ms: tick.now_ms, wake: tick.wake };
            match service.step(state, &c.input[c.pos..], &mut cx) {
                Step::Need => {
                    if c.input.len() - c.pos > service.max_input() {
                        return false;
                    }
                    break;
                }
                Step::Used(n) => c.pos += n.max(1).min(c.input.len() - c.pos),
                Step::Close(n) => {
                    c.pos += n.min(c.input.len() - c.pos);
                    c.closing = true;
                    stop_reading = true;
                }
            }
        }
        if c.closing && !stopped_full {
            // Nothing after a close request or EOF is answered.
            c.pos = c.input.len();
        }
        // Compact the input.
        if c.pos == c.input.len() {
            c.input.clear();
            c.pos = 0;
        } else if c.pos > 0 {
            c.input.drain(..c.pos);
            c.pos = 0;
        }
        // Send.
        while c.sent < c.out.len() {
            match (&c.stream).write(&c.out[c.sent..]) {
                Ok(0) => return false,
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        c.out.clear();
        c.sent = 0;
        if c.out.capacity() > KEEP_CAPACITY {
            c.out.shrink_to(KEEP_CAPACITY);
        }
        if !stopped_full {
            break;
        }
    }
    if c.closing {
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
        return false;
    }
    true
}

fn flush_log(log: &mut Vec<u8>) {
    if log.is_empty() {
        return;
    }
    let out = io::stdout();
    let mut out = out.lock();
    let _ = out.write_all(log);
    let _ = out.flush();
    log.clear();
    if log.capacity() > 16 * LOG_FLUSH {
        log.shrink_to(2 * LOG_FLUSH);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::Ipv4Addr;

    /// Line echo: answers each `\n`-terminated line with `> line`; `quit` closes; logs lines.
    struct Echo {
        opened: usize,
        closed: usize,
    }

    impl Service for Echo {
        type Conn = SocketAddrV4;
        fn open(&mut self, peer: SocketAddrV4) -> SocketAddrV4 {
            self.opened += 1;
            peer
        }
        fn step(&mut self, _peer: &mut SocketAddrV4, input: &[u8], cx: &mut Ctx) -> Step {
            let Some(i) = input.iter().position(|&b| b == b'\n') else {
                return Step::Need;
            };
            let line = &input[..i];
            if line == b"quit" {
                cx.out.extend_from_slice(b"bye\n");
                return Step::Close(i + 1);
            }
            if line == b"big" {
                cx.out.extend(std::iter::repeat(b'x').take(3 << 20));
                cx.out.push(b'\n');
                return Step::Used(i + 1);
            }
            cx.out.extend_from_slice(b"> ");
            cx.out.extend_from_slice(line);
            cx.out.push(b'\n');
            Step::Used(i + 1)
        }
        fn close(&mut self, _c: SocketAddrV4) {
            self.closed += 1;
        }
    }

    fn start() -> u16 {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || run(l, &mut Echo { opened: 0, closed: 0 }));
        port
    }

    #[test]
    fn many_connections_pipelining_and_close() {
        let port = start();
        let mut clients: Vec<TcpStream> =
            (0..50).map(|_| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap()).collect();
        for c in clients.iter_mut() {
            // Split a request over two writes and pipeline two more.
            c.write_all(b"hel").unwrap();
        }
        for (i, c) in clients.iter_mut().enumerate() {
            c.write_all(format!("lo {i}\na\nb\n").as_bytes()).unwrap();
        }
        for (i, c) in clients.iter_mut().enumerate() {
            let mut r = BufReader::new(c.try_clone().unwrap());
            let mut s = String::new();
            for _ in 0..3 {
                r.read_line(&mut s).unwrap();
            }
            assert_eq!(s, format!("> hello {i}\n> a\n> b\n"));
        }
        // quit: the answer comes, then EOF; what follows is ignored.
        let c = &mut clients[0];
        c.write_all(b"quit\nignored\n").unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        assert_eq!(s, "bye\n");
    }

    #[test]
    fn large_output_with_partial_writes() {
        let port = start();
        let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        c.write_all(b"big\nafter\n").unwrap();
        // Read slowly so the server meets a full socket.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut r = BufReader::new(c);
        let mut line = Vec::new();
        r.read_until(b'\n', &mut line).unwrap();
        assert_eq!(line.len(), (3 << 20) + 1);
        let mut s = String::new();
        r.read_line(&mut s).unwrap();
        assert_eq!(s, "> after\n");
    }

    #[test]
    fn half_closed_peer_still_gets_its_answer() {
        let port = start();
        let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        c.write_all(b"one\ntwo\n").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        assert_eq!(s, "> one\n> two\n");
    }
}
