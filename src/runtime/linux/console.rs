//! `-t` for native containers: a real pseudo-terminal. The OCI runtime makes the pty inside
//! the container and hands its master to us over a console socket (SCM_RIGHTS); we copy
//! between it and the caller's streams, with the caller's terminal in raw mode so line
//! editing, Ctrl-C and job control are the container's own (its line discipline does them).

use super::sys;
use crate::error::{Error, Result};
use crate::runtime::{Input, Output, Stdio};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A console socket waiting for the runtime to send the pty master.
pub struct Console {
    listener: UnixListener,
    path: PathBuf,
}

impl Console {
    /// Listen on a fresh socket. Its path is short (in the temp dir): socket paths are
    /// limited to 107 bytes, and a store's own paths can be longer.
    pub fn listen() -> Result<Console> {
        let name = format!("skiff-console-{}-{}.sock", std::process::id(), hex::encode(rand::random::<[u8; 6]>()));
        let path = std::env::temp_dir().join(name);
        let listener = UnixListener::bind(&path).map_err(|e| Error::Other(format!("console socket: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| Error::Other(e.to_string()))?;
        Ok(Console { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pty master, once the runtime (`child`) sends it; an error if it exits first.
    pub fn receive(&self, child: &mut Child) -> Result<OwnedFd> {
        let start = Instant::now();
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).map_err(|e| Error::Other(e.to_string()))?;
                    return sys::recv_fd(&stream).map_err(|e| Error::Other(format!("console socket: {e}")));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::Other(format!("console socket: {e}"))),
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut msg = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = err.read_to_string(&mut msg);
                }
                let msg = msg.lines().last().unwrap_or("").trim().to_string();
                return Err(Error::Other(if msg.is_empty() {
                    format!("the OCI runtime exited ({status})")
                } else {
                    msg
                }));
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Err(Error::Other("the OCI runtime sent no terminal".into()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Copying between a pty master and the caller's streams.
pub struct Proxy {
    output: std::thread::JoinHandle<()>,
    restore: Option<libc::termios>,
    /// Ends the thread that gives the pty its sizes.
    stop: Arc<AtomicBool>,
}

/// Put terminal `fd` in raw mode; returns the settings to restore.
fn raw_mode(fd: i32) -> Option<libc::termios> {
    // SAFETY: termios is plain data; tcgetattr/tcsetattr on a terminal fd.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return None;
        }
        let saved = t;
        libc::cfmakeraw(&mut t);
        libc::tcsetattr(fd, libc::TCSANOW, &t);
        Some(saved)
    }
}

/// Start copying: the pty's output to `io.stdout`, the caller's stdin (with `-i`) to the pty,
/// and the caller's window size to the pty as it changes.
pub fn proxy(pty: OwnedFd, io: &Stdio) -> Proxy {
    let fd = pty.as_raw_fd();
    use std::io::IsTerminal;
    let tty_in = matches!(io.stdin, Input::Inherit) && std::io::stdin().is_terminal();
    if let Some((rows, cols)) = crate::runtime::host_terminal_size() {
        sys::set_tty_size(fd, rows, cols);
    }
    let restore = if tty_in { raw_mode(0) } else { None };
    let mut master = std::fs::File::from(pty);
    let mut input = master.try_clone().ok();
    match &io.stdin {
        Input::Inherit => {
            if let Some(mut to_pty) = input.take() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut stdin = std::io::stdin().lock();
                    loop {
                        let n = match stdin.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if to_pty.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        }
        Input::Reader(r) => {
            let r = r.clone();
            if let Some(mut to_pty) = input.take() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match r.lock().unwrap_or_else(|p| p.into_inner()).read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if to_pty.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        }
        Input::Null => {}
    }
    // The pty follows this process's terminal when it types into it, else the sizes attach
    // clients ask for, until the container's output ends (through a copy of the master: `fd`
    // may be reused by then).
    let stop = Arc::new(AtomicBool::new(false));
    if let Ok(pty) = master.try_clone() {
        let alive = {
            let stop = stop.clone();
            move || !stop.load(Ordering::SeqCst)
        };
        let apply = move |(rows, cols)| sys::set_tty_size(pty.as_raw_fd(), rows, cols);
        if tty_in {
            crate::runtime::follow_host_terminal(alive, apply);
        } else {
            io.size.clone().follow(alive, apply);
        }
    }
    let out = io.stdout.clone();
    let output = std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match master.read(&mut buf) {
                Ok(0) | Err(_) => return, // EIO once every slave is closed
                Ok(n) => n,
            };
            match &out {
                Output::Null => {}
                Output::Inherit => {
                    let mut o = std::io::stdout().lock();
                    let _ = o.write_all(&buf[..n]);
                    let _ = o.flush();
                }
                Output::Writer(w) => {
                    let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = w.write_all(&buf[..n]);
                    let _ = w.flush();
                }
            }
        }
    });
    Proxy { output, restore, stop }
}

impl Proxy {
    /// Wait for the last output and give the caller's terminal its settings back.
    pub fn finish(self) {
        let _ = self.output.join();
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.restore {
            // SAFETY: restoring settings read from this terminal.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}
