//! The standard streams a caller gives a container process, in terms every backend takes:
//! this process's own stdio, nothing, or a reader/writer the caller owns (a log, a buffer).

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A writer several streams (and restarts of a process) can share.
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// A reader several processes (and restarts of one) can share.
pub type SharedReader = Arc<Mutex<Box<dyn Read + Send>>>;

/// Where a process's stdin comes from.
#[derive(Clone, Default)]
pub enum Input {
    /// End of file at once.
    #[default]
    Null,
    /// This skiff process's own stdin (a terminal, a pipe).
    Inherit,
    /// Bytes from the caller.
    Reader(SharedReader),
}

/// Where a process's stdout or stderr goes.
#[derive(Clone, Default)]
pub enum Output {
    /// Discarded.
    #[default]
    Null,
    /// This skiff process's own stdout (for fd 1) or stderr (for fd 2).
    Inherit,
    Writer(SharedWriter),
}

impl Output {
    pub fn writer(w: impl Write + Send + 'static) -> Output {
        Output::Writer(Arc::new(Mutex::new(Box::new(w))))
    }
}

impl Input {
    pub fn reader(r: impl Read + Send + 'static) -> Input {
        Input::Reader(Arc::new(Mutex::new(Box::new(r))))
    }
}

/// The three standard streams of a process.
#[derive(Clone, Default)]
pub struct Stdio {
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// With `-t`: the sizes attach clients ask for (the caller's own terminal, when stdin is
    /// inherited, is followed anyway).
    pub size: WindowSize,
}

impl Stdio {
    /// This process's own streams (`exec`, an attached `run`); stdin only with `-i`.
    pub fn inherit(stdin: bool) -> Stdio {
        Stdio {
            stdin: if stdin { Input::Inherit } else { Input::Null },
            stdout: Output::Inherit,
            stderr: Output::Inherit,
            size: WindowSize::default(),
        }
    }
}

/// A terminal size (rows, columns) that changes: `attach` clients set it, the runtime gives
/// each new one to the container's terminal (as Docker's resize call).
#[derive(Clone, Default)]
pub struct WindowSize(Arc<(Mutex<(u64, (u16, u16))>, Condvar)>);

impl WindowSize {
    pub fn set(&self, rows: u16, cols: u16) {
        let (m, cv) = &*self.0;
        let mut s = m.lock().unwrap_or_else(|p| p.into_inner());
        if s.0 == 0 || s.1 != (rows, cols) {
            *s = (s.0 + 1, (rows, cols));
            cv.notify_all();
        }
    }

    /// The size set after change number `seen` (0: none yet), waiting up to `timeout` for
    /// one: (its change number, the size).
    pub fn next(&self, seen: u64, timeout: Duration) -> Option<(u64, (u16, u16))> {
        let (m, cv) = &*self.0;
        let s = m.lock().unwrap_or_else(|p| p.into_inner());
        let (s, _) = cv.wait_timeout_while(s, timeout, |s| s.0 == seen).unwrap_or_else(|p| p.into_inner());
        (s.0 != seen).then_some(*s)
    }

    /// On a thread of its own: `apply` each size set from now on, while `alive()` (asked at
    /// least twice a second).
    pub fn follow(self, alive: impl Fn() -> bool + Send + 'static, mut apply: impl FnMut((u16, u16)) + Send + 'static) {
        std::thread::spawn(move || {
            let mut seen = 0;
            while alive() {
                if let Some((n, size)) = self.next(seen, Duration::from_millis(500)) {
                    seen = n;
                    if alive() {
                        apply(size);
                    }
                }
            }
        });
    }
}

/// On a thread of its own: `apply` this process's terminal size each time it changes (looked
/// at four times a second, as no signal reaches every platform), while `alive()`.
pub fn follow_host_terminal(
    alive: impl Fn() -> bool + Send + 'static,
    mut apply: impl FnMut((u16, u16)) + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut last = host_terminal_size();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            if !alive() {
                return;
            }
            let now = host_terminal_size();
            if now != last {
                if let Some(size) = now {
                    apply(size);
                }
                last = now;
            }
        }
    });
}

/// This process's terminal size (rows, cols), if stdout or stdin is a terminal.
pub fn host_terminal_size() -> Option<(u16, u16)> {
    #[cfg(unix)]
    for fd in [1, 0] {
        // SAFETY: winsize is plain data; TIOCGWINSZ fills it.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            return Some((ws.ws_row, ws.ws_col));
        }
    }
    None
}

/// A writer into a shared buffer (what `capture` reads back).
#[derive(Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
