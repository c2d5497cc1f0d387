//! The event loop: `serve::run`'s design (one listener and many non-blocking keep-alive
//! connections watched with one `poll`, a batched log) with two things a registry needs that
//! `serve::run` does not offer:
//!
//! * **streamed responses**: a blob of 50 MB is not put in the output buffer at once; the
//!   service is asked for more ([`Service::fill`]) each time what waits to be sent runs low;
//! * **big reads**: request bodies (layers) arrive in reads of up to 256 KB, and the input
//!   buffer is handed to the service once it holds 1 MB, so an upload streams to disk.
//!
//! The service sees the same [`serve::Ctx`] and answers with the same [`serve::Step`].

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use serve::sys::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLOUT};
use serve::{Ctx, Step};

/// A protocol served by [`run`].
pub trait Service {
    type Conn;
    /// A connection from `peer` was accepted.
    fn open(&mut self, peer: SocketAddrV4) -> Self::Conn;
    /// Handle what is at the front of `input` (never empty): a request head, or part of a
    /// request body. Not called while a response is being streamed.
    fn step(&mut self, conn: &mut Self::Conn, input: &[u8], cx: &mut Ctx) -> Step;
    /// Whether a response is being streamed on this connection.
    fn streaming(&self, conn: &Self::Conn) -> bool;
    /// Append the next piece of the streamed response to `cx.out`; an error drops the
    /// connection (the response cannot be finished).
    fn fill(&mut self, conn: &mut Self::Conn, cx: &mut Ctx) -> io::Result<()>;
    /// The connection is gone.
    fn close(&mut self, conn: Self::Conn);
    /// Bytes of input without a complete request head after which the connection is dropped.
    fn max_input(&self) -> usize {
        64 * 1024
    }
    /// The loop is about to wait with nothing to do (a moment for housekeeping).
    fn idle(&mut self, _log: &mut Vec<u8>) {}
    /// Stop serving (checked after each wake).
    fn stopping(&self) -> bool {
        false
    }
}

/// Stop producing output for a connection while this much waits to be sent.
const HIGH_WATER: usize = 512 * 1024;
/// Write the log once it holds this much, even when the loop is busy.
const LOG_FLUSH: usize = 8192;
/// One read's buffer.
const READ_CHUNK: usize = 256 * 1024;
/// Read until the input holds this much, then let the service use it.
const READ_BATCH: usize = 1 << 20;
/// Give an emptied buffer's memory back above this size.
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
    /// The peer sent EOF, or the service asked to close: close once everything is sent.
    closing: bool,
    /// The service asked to close: no more requests are handled.
    stopped: bool,
    state: Option<C>,
}

impl<C> Conn<C> {
    fn pending(&self) -> usize {
        self.out.len() - self.sent
    }
}

/// Serve `service` on `listener` until it is stopping (or poll itself fails).
pub fn run<S: Service>(listener: TcpListener, service: &mut S) -> io::Result<()> {
    // `skiff stop` (TERM) ends the registry gracefully, as the real one does.
    serve::event::catch_stop_signals();
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
            let busy = c.pending() > 0 || c.state.as_ref().is_some_and(|s| service.streaming(s));
            fds.push(PollFd { fd: c.fd, events: if busy { POLLOUT } else { POLLIN }, revents: 0 });
        }
        let mut ready = if log.is_empty() { 0 } else { sys::poll(&mut fds, 0)? };
        if ready == 0 {
            service.idle(&mut log);
            flush_log(&mut log);
            ready = match sys::poll(&mut fds, -1) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => return Err(e),
            };
        }
        if let Some(sig) = skiff_guest::proc::sig_take() {
            let now = crate::util::rfc3339_ms(serve::time::now_ms());
            let name = skiff_guest::proc::sig::name(sig);
            let _ = writeln!(log, "time=\"{now}\" level=info msg=\"shutting down on SIG{name}\"");
            flush_log(&mut log);
            return Ok(());
        }
        if service.stopping() {
            flush_log(&mut log);
            return Ok(());
        }
        if ready == 0 {
            continue;
        }
        wake += 1;
        let now_ms = serve::time::now_ms();
        let mut i = 0;
        while i < conns.len() {
            let revents = fds[i + 1].revents;
            let alive =
                revents == 0 || serve_conn(&mut conns[i], revents, service, &mut log, &mut scratch, now_ms, wake);
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
            accept_all(&listener, service, &mut conns, &mut accept_error_ms, now_ms);
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
                    stopped: false,
                    state: Some(state),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted || e.kind() == io::ErrorKind::ConnectionAborted => {
                continue
            }
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
    now_ms: u64,
    wake: u64,
) -> bool {
    let streaming = c.state.as_ref().is_some_and(|s| service.streaming(s));
    if c.pending() == 0 && !streaming && !c.stopped && revents & (POLLIN | POLLHUP | POLLERR) != 0 {
        // Read what is there, up to a batch.
        loop {
            match (&c.stream).read(scratch) {
                Ok(0) => {
                    c.closing = true;
                    break;
                }
                Ok(n) => {
                    c.input.extend_from_slice(&scratch[..n]);
                    if n < scratch.len() || c.input.len() - c.pos >= READ_BATCH {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }
    drive(c, service, log, now_ms, wake)
}

/// Produce output (from the stream being sent, or by handling buffered input) and send it,
/// as far as the socket takes it.
fn drive<S: Service>(c: &mut Conn<S::Conn>, service: &mut S, log: &mut Vec<u8>, now_ms: u64, wake: u64) -> bool {
    let Some(state) = c.state.as_mut() else { return false };
    loop {
        // Produce, up to the high-water mark.
        let mut full = false;
        loop {
            if c.out.len() - c.sent >= HIGH_WATER {
                full = true;
                break;
            }
            if c.sent >= KEEP_CAPACITY {
                c.out.drain(..c.sent);
                c.sent = 0;
            }
            let mut cx = Ctx { out: &mut c.out, log, now_ms, wake };
            if service.streaming(state) {
                if service.fill(state, &mut cx).is_err() {
                    return false;
                }
                continue;
            }
            if c.stopped || c.pos >= c.input.len() {
                break;
            }
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
                    c.stopped = true;
                }
            }
        }
        if c.closing && !full && !service.streaming(state) {
            // Nothing after a close request or EOF is answered (an unfinished request).
            c.pos = c.input.len();
        }
        if c.pos == c.input.len() {
            c.input.clear();
            c.pos = 0;
            if c.input.capacity() > 2 * READ_BATCH {
                c.input.shrink_to(KEEP_CAPACITY);
            }
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
        if c.out.capacity() > 4 * HIGH_WATER {
            c.out.shrink_to(KEEP_CAPACITY);
        }
        if !full {
            break;
        }
    }
    if c.closing && !service.streaming(state) {
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
