//! A terminal for WASI guests (`run -t`, `exec -t`; `docs/guest-abi.md`, "Terminal"): what a
//! pseudo-terminal is on Linux, in userspace. The guest's fds 0–2 are character devices (so
//! `isatty` is true); the host's own terminal is put in raw mode and skiff keeps the line
//! discipline: in cooked mode it echoes, edits the line (backspace, Ctrl-U, Ctrl-W), ends a
//! read at a newline, makes Ctrl-D an end of file and Ctrl-C / Ctrl-\ a signal (INT / QUIT)
//! to every process attached to the terminal; in raw mode (a line editor, `vi`) bytes pass as
//! typed. Output gets `\n` → `\r\n`, as a terminal's output processing does.

pub use crate::runtime::host_terminal_size as host_size;
use crate::runtime::WindowSize;
use std::any::Any;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use wasi_common::file::{FdFlags, FileType};
use wasi_common::{Error, WasiFile};

/// Input modes (`tty_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Cooked = 0,
    Raw = 1,
}

struct State {
    mode: Mode,
    /// Bytes a read can take now.
    ready: VecDeque<u8>,
    /// The line being edited (cooked mode).
    line: Vec<u8>,
    /// Reads return end of file (Ctrl-D at a line start, or the host's stdin ended).
    eof: bool,
    size: (u16, u16),
}

/// One terminal, shared by every guest process attached to it.
pub struct Tty {
    state: Mutex<State>,
    ready: Condvar,
    out: Mutex<Box<dyn Write + Send>>,
    /// Delivers a signal to the processes attached to the terminal (set by the backend).
    pub on_signal: OnceLock<Box<dyn Fn(i32) + Send + Sync>>,
    /// Whether the process reading should stop waiting (killed or a caught signal).
    pub interrupted: OnceLock<Box<dyn Fn() -> Option<Error> + Send + Sync>>,
}

impl Tty {
    /// A terminal writing to `out`, `size` rows × cols.
    pub fn new(out: Box<dyn Write + Send>, size: (u16, u16)) -> Arc<Tty> {
        Arc::new(Tty {
            state: Mutex::new(State { mode: Mode::Cooked, ready: VecDeque::new(), line: vec![], eof: false, size }),
            ready: Condvar::new(),
            out: Mutex::new(out),
            on_signal: OnceLock::new(),
            interrupted: OnceLock::new(),
        })
    }

    pub fn size(&self) -> (u16, u16) {
        self.lock().size
    }

    pub fn set_size(&self, size: (u16, u16)) {
        self.lock().size = size;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Set the input mode; returns the previous one.
    pub fn set_mode(&self, m: Mode) -> Mode {
        let mut s = self.lock();
        let prev = s.mode;
        if m == Mode::Raw && !s.line.is_empty() {
            let line = std::mem::take(&mut s.line);
            s.ready.extend(line); // a half-typed line goes to the raw reader as it is
        }
        s.mode = m;
        drop(s);
        self.ready.notify_all();
        prev
    }

    fn echo(&self, bytes: &[u8]) {
        let mut o = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = o.write_all(bytes);
        let _ = o.flush();
    }

    /// What the host's keyboard typed.
    pub fn input(&self, bytes: &[u8]) {
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        {
            let mut s = self.lock();
            for &b in bytes {
                if s.mode == Mode::Raw {
                    s.ready.push_back(b);
                    continue;
                }
                match b {
                    0x03 | 0x1c => {
                        echo.extend_from_slice(if b == 0x03 { b"^C\r\n" } else { b"^\\\r\n" });
                        s.line.clear();
                        signals.push(if b == 0x03 { super::signals::SIGINT } else { super::signals::SIGQUIT });
                    }
                    0x04 => {
                        if s.line.is_empty() {
                            s.eof = true;
                        } else {
                            let line = std::mem::take(&mut s.line);
                            s.ready.extend(line);
                        }
                    }
                    0x7f | 0x08 => {
                        if s.line.pop().is_some() {
                            // A UTF-8 character is one column: drop its continuation bytes.
                            while s.line.last().is_some_and(|c| c & 0xc0 == 0x80) {
                                s.line.pop();
                            }
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                    }
                    0x15 => {
                        let n = String::from_utf8_lossy(&s.line).chars().count();
                        s.line.clear();
                        for _ in 0..n {
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                    }
                    0x17 => {
                        while s.line.last() == Some(&b' ') {
                            s.line.pop();
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                        while s.line.last().is_some_and(|c| *c != b' ') {
                            s.line.pop();
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                    }
                    b'\r' | b'\n' => {
                        let mut line = std::mem::take(&mut s.line);
                        line.push(b'\n');
                        s.ready.extend(line);
                        echo.extend_from_slice(b"\r\n");
                    }
                    0x1b => {
                        s.line.push(b);
                        echo.extend_from_slice(b"^[");
                    }
                    _ => {
                        s.line.push(b);
                        echo.push(b);
                    }
                }
            }
        }
        if !echo.is_empty() {
            self.echo(&echo);
        }
        self.ready.notify_all();
        for sig in signals {
            if let Some(f) = self.on_signal.get() {
                f(sig);
            }
        }
    }

    /// The host's stdin ended.
    pub fn close_input(&self) {
        self.lock().eof = true;
        self.ready.notify_all();
    }

    /// A guest read: blocks until bytes are ready (cooked: a whole line), or end of file.
    fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut s = self.lock();
        loop {
            if !s.ready.is_empty() {
                let mut n = 0;
                while n < buf.len() {
                    let Some(b) = s.ready.pop_front() else { break };
                    buf[n] = b;
                    n += 1;
                    if b == b'\n' && s.mode == Mode::Cooked {
                        break;
                    }
                }
                return Ok(n);
            }
            if s.eof {
                s.eof = false; // one end of file per Ctrl-D, as a terminal gives
                return Ok(0);
            }
            if let Some(e) = self.interrupted.get().and_then(|f| f()) {
                return Err(e);
            }
            s = self
                .ready
                .wait_timeout(s, Duration::from_millis(50))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Guest output, with `\n` as `\r\n`.
    fn write(&self, data: &[u8]) {
        let mut out = Vec::with_capacity(data.len() + 16);
        for &b in data {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        self.echo(&out);
    }
}

/// One of a guest's standard streams on the terminal.
pub struct TtyFile(pub Arc<Tty>);

#[async_trait::async_trait]
impl WasiFile for TtyFile {
    fn as_any(&self) -> &dyn Any {
        self
    }
    async fn get_filetype(&self) -> Result<FileType, Error> {
        Ok(FileType::CharacterDevice)
    }
    fn isatty(&self) -> bool {
        true
    }
    async fn get_fdflags(&self) -> Result<FdFlags, Error> {
        Ok(FdFlags::empty())
    }
    async fn read_vectored<'a>(&self, bufs: &mut [std::io::IoSliceMut<'a>]) -> Result<u64, Error> {
        match bufs.iter_mut().find(|b| !b.is_empty()) {
            Some(b) => Ok(self.0.read(b)? as u64),
            None => Ok(0),
        }
    }
    async fn write_vectored<'a>(&self, bufs: &[std::io::IoSlice<'a>]) -> Result<u64, Error> {
        let mut n = 0;
        for b in bufs {
            self.0.write(b);
            n += b.len() as u64;
        }
        Ok(n)
    }
    fn num_ready_bytes(&self) -> Result<u64, Error> {
        Ok(self.0.lock().ready.len() as u64)
    }
    async fn readable(&self) -> Result<(), Error> {
        Ok(())
    }
    async fn writable(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// The error a read gets when the reading process is being killed (it ends the process).
pub fn killed_error() -> Error {
    Error::trap(wasmtime::format_err!("the process was killed"))
}

/// The error a read gets when a caught signal is pending.
pub fn interrupted_error() -> Error {
    Error::from(wasi_common::snapshots::preview_1::types::Errno::Intr)
}

/// The host side of an attached terminal: its stdin in raw mode feeding `tty`, its size
/// followed. Dropping it gives the terminal its settings back.
pub struct HostTerminal {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl HostTerminal {
    /// Attach the host's stdin/stdout (when stdin is a terminal: raw mode) to `tty`.
    pub fn attach(tty: Arc<Tty>) -> HostTerminal {
        #[cfg(unix)]
        let saved = raw_mode(0);
        let t = tty.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        t.close_input();
                        return;
                    }
                    Ok(n) => t.input(&buf[..n]),
                }
            }
        });
        let (alive, apply) = resizing(&tty);
        crate::runtime::follow_host_terminal(alive, apply);
        HostTerminal {
            #[cfg(unix)]
            saved,
        }
    }
}

/// Type what `input` gives into `tty` (a detached `-it` container's held-open stdin, which
/// attach clients feed), as keys at its terminal; end of input when it ends.
pub fn feed(tty: &Arc<Tty>, input: crate::runtime::io::SharedReader) {
    let weak = Arc::downgrade(tty);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            let n = input.lock().unwrap_or_else(|p| p.into_inner()).read(&mut buf);
            let Some(t) = weak.upgrade() else { return };
            match n {
                Ok(0) | Err(_) => {
                    t.close_input();
                    return;
                }
                Ok(n) => t.input(&buf[..n]),
            }
        }
    });
}

/// Give `tty` each size an attach client asks for (`size`), with a SIGWINCH, while it lives.
pub fn follow(tty: &Arc<Tty>, size: WindowSize) {
    let (alive, apply) = resizing(tty);
    size.follow(alive, apply);
}

/// Whether `tty` still lives, and how to give it a new size (a SIGWINCH to its processes).
fn resizing(tty: &Arc<Tty>) -> (impl Fn() -> bool + Send + 'static, impl FnMut((u16, u16)) + Send + 'static) {
    let (weak, w) = (Arc::downgrade(tty), Arc::downgrade(tty));
    let alive = move || weak.strong_count() > 0;
    let apply = move |size| {
        let Some(t) = w.upgrade() else { return };
        if size != t.size() {
            t.set_size(size);
            if let Some(f) = t.on_signal.get() {
                f(super::signals::SIGWINCH);
            }
        }
    };
    (alive, apply)
}

impl Drop for HostTerminal {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(t) = self.saved {
            // SAFETY: restoring settings read from this terminal.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}

#[cfg(unix)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tty() -> (Arc<Tty>, Arc<Mutex<Vec<u8>>>) {
        let out = Arc::new(Mutex::new(Vec::new()));
        struct W(Arc<Mutex<Vec<u8>>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        (Tty::new(Box::new(W(out.clone())), (24, 80)), out)
    }

    #[test]
    fn cooked_lines_echo_and_edit() {
        let (t, out) = tty();
        t.input(b"ecx\x7fho hi\r");
        let mut buf = [0u8; 64];
        let n = t.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi\n");
        assert_eq!(out.lock().unwrap().as_slice(), b"ecx\x08 \x08ho hi\r\n");
        t.input(b"\x04");
        assert_eq!(t.read(&mut buf).unwrap(), 0, "Ctrl-D at a line start is end of file");
    }

    #[test]
    fn ctrl_c_signals_and_raw_passes_bytes() {
        let (t, _) = tty();
        let got = Arc::new(Mutex::new(vec![]));
        let g = got.clone();
        let _ = t.on_signal.set(Box::new(move |s| g.lock().unwrap().push(s)));
        t.input(b"abc\x03");
        assert_eq!(*got.lock().unwrap(), vec![2]);
        assert_eq!(t.set_mode(Mode::Raw), Mode::Cooked);
        t.input(b"\x1b[A\x03");
        let mut buf = [0u8; 8];
        let n = t.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"\x1b[A\x03");
        assert_eq!(got.lock().unwrap().len(), 1, "no signal in raw mode");
        t.write(b"a\nb");
    }
}
