//! Attaching to a running container (`attach`, `start -a` of a running one): the process
//! that owns the container (its supervisor, or an attached `run`) serves its streams, since
//! there is no daemon to ask.
//!
//! The owner listens on a loopback TCP port (works on every OS, unlike a Unix socket) and
//! writes `attach.json` (`{"port": …, "token": …}`) into the container's directory; the token
//! (random, readable only where the record is) keeps other local users out. A client
//! connects, sends `<token> <stdin 0|1>\n`, then:
//! * the owner sends frames `[kind u8][len u32 BE][payload]`: kind 1 stdout, 2 stderr (Docker's
//!   stream numbers), 3 the exit status (decimal text) when the container's main process ends;
//! * with stdin, the client sends frames of kind 0 (input bytes) and 1 (end of input);
//! * to a `-t` container, frames of kind 2: its terminal's size (rows, cols: u16 BE each), at
//!   once and whenever it changes (Docker's resize).
//!
//! A container run with `-i` keeps its stdin open even when nobody is attached: its owner
//! holds a [`StdinFeed`] (a pipe whose write end it keeps), fed by attach clients. End of
//! input from a client closes it only for a container that takes its stdin once
//! (`StdinOnce`: `run -i` without `-d`), as Docker does.

use crate::error::{Error, IoContext, Result};
use crate::runtime::WindowSize;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const EXIT: u8 = 3;
const INPUT: u8 = 0;
const INPUT_END: u8 = 1;
const RESIZE: u8 = 2;

/// Where the owner of the container in `dir` says it serves attach clients.
pub fn endpoint_path(dir: &Path) -> PathBuf {
    dir.join("attach.json")
}

/// Write one frame.
pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(kind);
    buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    buf.extend_from_slice(payload);
    w.write_all(&buf)?;
    w.flush()
}

/// Read one frame; `None` at end of stream.
pub fn read_frame(r: &mut impl Read) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 16 << 20 {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "attach frame too large"));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

/// A container's stdin held open by its owner: what attach clients send is read by the
/// container's process; it ends only when closed.
#[derive(Clone, Default)]
pub struct StdinFeed(Arc<(Mutex<(VecDeque<u8>, bool)>, Condvar)>);

impl StdinFeed {
    pub fn push(&self, data: &[u8]) {
        let (m, cv) = &*self.0;
        m.lock().unwrap_or_else(|p| p.into_inner()).0.extend(data);
        cv.notify_all();
    }

    /// End of input: the process reads EOF once the buffered bytes are read.
    pub fn close(&self) {
        let (m, cv) = &*self.0;
        m.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        cv.notify_all();
    }
}

impl Read for StdinFeed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (m, cv) = &*self.0;
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if !g.0.is_empty() {
                let n = buf.len().min(g.0.len());
                for (i, b) in g.0.drain(..n).enumerate() {
                    buf[i] = b;
                }
                return Ok(n);
            }
            if g.1 || buf.is_empty() {
                return Ok(0);
            }
            g = cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The clients attached now; the owner's output goes to each.
#[derive(Clone, Default)]
pub struct Clients(Arc<Mutex<Vec<TcpStream>>>);

impl Clients {
    /// Send a frame to every client; a client that cannot take it is dropped.
    pub fn send(&self, kind: u8, payload: &[u8]) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.retain_mut(|s| write_frame(s, kind, payload).is_ok());
    }

    /// The main process ended with `code`: tell every client, and let them go.
    pub fn finish(&self, code: i32) {
        self.send(EXIT, code.to_string().as_bytes());
        for s in self.0.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A writer that copies a stream of the container (`kind`: [`STDOUT`], [`STDERR`]) to its
/// log (`inner`) and to the attached clients.
pub struct Tee<W: Write> {
    pub inner: W,
    pub clients: Clients,
    pub kind: u8,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.clients.send(self.kind, buf);
        self.inner.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Serve attach clients for the container in `dir`: `stdin` is its held-open stdin (if it
/// was run with `-i` and nothing else feeds it); `stdin_once` closes it at a client's end of
/// input; `size` takes the terminal sizes clients send. Returns the clients to copy output to.
pub fn serve(dir: &Path, stdin: Option<StdinFeed>, stdin_once: bool, size: WindowSize) -> Result<Clients> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| Error::Other(format!("attach listener: {e}")))?;
    let port = listener.local_addr().map_err(|e| Error::Other(e.to_string()))?.port();
    let token = hex::encode(rand::random::<[u8; 16]>());
    let info = serde_json::json!({ "port": port, "token": token, "pid": std::process::id() });
    crate::store::atomic_write(&endpoint_path(dir), info.to_string().as_bytes())?;
    let clients = Clients::default();
    let list = clients.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (token, list, stdin, size) = (token.clone(), list.clone(), stdin.clone(), size.clone());
            std::thread::spawn(move || accept(conn, &token, &list, stdin, stdin_once, &size));
        }
    });
    Ok(clients)
}

fn accept(
    conn: TcpStream,
    token: &str,
    clients: &Clients,
    stdin: Option<StdinFeed>,
    stdin_once: bool,
    size: &WindowSize,
) {
    let _ = conn.set_nodelay(true);
    let mut reader = match conn.try_clone() {
        Ok(r) => r,
        Err(_) => return,
    };
    // The hello line, read a byte at a time so no input that follows it is lost.
    let mut hello = Vec::new();
    let mut b = [0u8; 1];
    while hello.len() < 200 {
        match reader.read(&mut b) {
            Ok(1) if b[0] == b'\n' => break,
            Ok(1) => hello.push(b[0]),
            _ => return,
        }
    }
    let hello = String::from_utf8_lossy(&hello).into_owned();
    let mut words = hello.split(' ');
    if words.next() != Some(token) {
        return;
    }
    let wants_stdin = words.next() == Some("1");
    clients.0.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
    let feed = stdin.filter(|_| wants_stdin);
    while let Ok(Some((kind, data))) = read_frame(&mut reader) {
        match (kind, &feed) {
            (INPUT, Some(feed)) => feed.push(&data),
            (INPUT_END, Some(feed)) if stdin_once => feed.close(),
            (RESIZE, _) if data.len() == 4 => {
                let (rows, cols) = (u16::from_be_bytes([data[0], data[1]]), u16::from_be_bytes([data[2], data[3]]));
                if rows > 0 && cols > 0 {
                    size.set(rows, cols);
                }
            }
            _ => {}
        }
    }
}

/// A client's connection to a container's owner.
pub struct Connection {
    pub stream: TcpStream,
}

/// Connect to the owner of the container in `dir` (it must be running).
pub fn connect(dir: &Path, stdin: bool) -> Result<Connection> {
    let p = endpoint_path(dir);
    let text = std::fs::read_to_string(&p).at(&p)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Other(format!("{}: {e}", p.display())))?;
    let port = v["port"].as_u64().unwrap_or(0) as u16;
    let token = v["token"].as_str().unwrap_or("");
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| Error::Other(format!("cannot attach to the container: {e}")))?;
    let _ = stream.set_nodelay(true);
    stream
        .write_all(format!("{token} {}\n", if stdin { 1 } else { 0 }).as_bytes())
        .map_err(|e| Error::Other(format!("cannot attach to the container: {e}")))?;
    Ok(Connection { stream })
}

impl Connection {
    pub fn send_input(&mut self, data: &[u8]) -> std::io::Result<()> {
        write_frame(&mut self.stream, INPUT, data)
    }

    pub fn end_input(&mut self) -> std::io::Result<()> {
        write_frame(&mut self.stream, INPUT_END, &[])
    }

    /// This client's terminal is `rows` x `cols` now.
    pub fn resize(&mut self, rows: u16, cols: u16) -> std::io::Result<()> {
        let [r0, r1] = rows.to_be_bytes();
        let [c0, c1] = cols.to_be_bytes();
        write_frame(&mut self.stream, RESIZE, &[r0, r1, c0, c1])
    }
}

/// Docker's `--detach-keys`: a comma-separated list of `ctrl-<x>` (x in `a`–`z`, `@`, `[`,
/// `\`, `]`, `^`, `_`) or single characters. Default `ctrl-p,ctrl-q`.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>> {
    let bad = || Error::Other(format!("Invalid detach keys ({s}) provided"));
    let mut out = Vec::new();
    for key in s.split(',') {
        let k = key.trim();
        if let Some(c) = k.strip_prefix("ctrl-") {
            let c = c.as_bytes();
            if c.len() != 1 {
                return Err(bad());
            }
            out.push(match c[0] {
                b'a'..=b'z' => c[0] - b'a' + 1,
                b'@' => 0,
                b'[' => 27,
                b'\\' => 28,
                b']' => 29,
                b'^' => 30,
                b'_' => 31,
                _ => return Err(bad()),
            });
        } else if k.len() == 1 {
            out.push(k.as_bytes()[0]);
        } else {
            return Err(bad());
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Scans input for the detach sequence: bytes that could start it are held back until it is
/// complete (detach) or broken (they are passed on).
#[derive(Debug)]
pub struct DetachScanner {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachScanner {
    pub fn new(keys: Vec<u8>) -> DetachScanner {
        DetachScanner { keys, matched: 0 }
    }

    /// The bytes of `input` to pass on, and whether the sequence was completed (anything
    /// after it is dropped).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_like_dockers() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert!(parse_detach_keys("ctrl-").is_err() && parse_detach_keys("alt-x").is_err());
        let mut s = DetachScanner::new(vec![16, 17]);
        assert_eq!(s.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(s.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(s.feed(b"x\x10\x11rest"), (b"x".to_vec(), true));
        assert_eq!(s.feed(b"\x10\x10\x11"), (b"\x10".to_vec(), true));
    }

    #[test]
    fn a_feed_blocks_until_fed_and_ends_when_closed() {
        let feed = StdinFeed::default();
        let mut r = feed.clone();
        let t = std::thread::spawn(move || {
            let mut all = Vec::new();
            r.read_to_end(&mut all).unwrap();
            all
        });
        feed.push(b"hello ");
        std::thread::sleep(std::time::Duration::from_millis(20));
        feed.push(b"world");
        feed.close();
        assert_eq!(t.join().unwrap(), b"hello world");
    }

    #[test]
    fn clients_get_output_and_the_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        let feed = StdinFeed::default();
        let size = WindowSize::default();
        let clients = serve(dir.path(), Some(feed.clone()), false, size.clone()).unwrap();
        let mut c = connect(dir.path(), true).unwrap();
        c.send_input(b"typed").unwrap();
        c.end_input().unwrap();
        // Wait for the owner to register the client, then send it output.
        let mut got = Vec::new();
        let mut r = feed.clone();
        let mut buf = [0u8; 5];
        r.read_exact(&mut buf).unwrap();
        got.extend_from_slice(&buf);
        assert_eq!(got, b"typed");
        let mut tee = Tee { inner: Vec::new(), clients: clients.clone(), kind: STDOUT };
        tee.write_all(b"out\n").unwrap();
        clients.finish(3);
        assert_eq!(read_frame(&mut c.stream).unwrap(), Some((STDOUT, b"out\n".to_vec())));
        assert_eq!(read_frame(&mut c.stream).unwrap(), Some((EXIT, b"3".to_vec())));
        assert_eq!(tee.inner, b"out\n");
    }
}
