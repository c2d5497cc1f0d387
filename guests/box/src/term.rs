//! Terminal helpers for the full-screen applets (top, vi, less, more, watch): is stdout a
//! terminal, its size (`tty_size`, then `$LINES`/`$COLUMNS`), raw mode with a guard that
//! restores cooked mode, key decoding (a pure function) and a key wait with a timeout.

use skiff_guest::proc::{self, TtyMode};
use std::io::{self, IsTerminal, Read, Write};

/// Is stdout a terminal (fd 1 a character device)?
pub fn stdout_is_tty() -> bool {
    io::stdout().is_terminal()
}

/// Is stdin a terminal?
pub fn stdin_is_tty() -> bool {
    io::stdin().is_terminal()
}

/// `(rows, cols)` from `$LINES`/`$COLUMNS`, else 24x80.
fn env_size() -> (usize, usize) {
    let get = |k: &str, d: usize| {
        std::env::var(k).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0).unwrap_or(d)
    };
    (get("LINES", 24), get("COLUMNS", 80))
}

/// The terminal's `(rows, cols)`: the host's `tty_size` on fd 1 (then 0, 2), else the
/// environment's `LINES`/`COLUMNS` (set by the host at start), else 24x80.
pub fn size() -> (usize, usize) {
    for fd in [1, 0, 2] {
        if let Ok((r, c)) = proc::tty_size(fd) {
            if r > 0 && c > 0 {
                return (r as usize, c as usize);
            }
        }
    }
    env_size()
}

/// Raw mode on fd 0 while this lives; cooked (the previous mode) again when dropped.
pub struct Raw {
    prev: TtyMode,
}

impl Raw {
    /// Switch the terminal to raw mode; the error says why not (not a terminal, no host
    /// support for `tty_mode`).
    pub fn enter() -> io::Result<Raw> {
        let prev = proc::tty_mode(0, TtyMode::Raw)?;
        Ok(Raw { prev })
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = proc::tty_mode(0, self.prev);
    }
}

/// Why raw mode is missing, for an applet's message.
pub fn raw_error(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(skiff_guest::errno::ENOSYS) {
        "terminal control is not supported by this host".into()
    } else if e.raw_os_error() == Some(proc::errno::ENOTTY) {
        "standard input is not a terminal".into()
    } else {
        crate::util::errstr(e)
    }
}

/// A decoded key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    /// Ctrl + letter, as the lower-case letter (`Ctrl('c')` is byte 3).
    Ctrl(char),
    Enter,
    Tab,
    Backspace,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
    Insert,
    /// A sequence we do not know (skipped).
    Unknown,
}

/// Decode the first key of `b` (which must not be empty); returns the key and how many bytes
/// it used. A lone ESC (or ESC followed by a non-sequence byte) is [`Key::Esc`].
pub fn decode(b: &[u8]) -> (Key, usize) {
    match b[0] {
        0x1b => {
            if b.len() >= 3 && (b[1] == b'[' || b[1] == b'O') {
                let simple = match b[2] {
                    b'A' => Some(Key::Up),
                    b'B' => Some(Key::Down),
                    b'C' => Some(Key::Right),
                    b'D' => Some(Key::Left),
                    b'H' => Some(Key::Home),
                    b'F' => Some(Key::End),
                    _ => None,
                };
                if let Some(k) = simple {
                    return (k, 3);
                }
                if b[1] == b'[' {
                    // ESC [ digits (; digits)* ~
                    let mut i = 2;
                    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b';') {
                        i += 1;
                    }
                    if i < b.len() && i > 2 {
                        let num: String =
                            b[2..i].iter().take_while(|c| c.is_ascii_digit()).map(|&c| c as char).collect();
                        let k = if b[i] == b'~' {
                            match num.as_str() {
                                "1" | "7" => Key::Home,
                                "2" => Key::Insert,
                                "3" => Key::Delete,
                                "4" | "8" => Key::End,
                                "5" => Key::PageUp,
                                "6" => Key::PageDown,
                                _ => Key::Unknown,
                            }
                        } else {
                            match b[i] {
                                b'A' => Key::Up,
                                b'B' => Key::Down,
                                b'C' => Key::Right,
                                b'D' => Key::Left,
                                b'H' => Key::Home,
                                b'F' => Key::End,
                                _ => Key::Unknown,
                            }
                        };
                        return (k, i + 1);
                    }
                }
            }
            (Key::Esc, 1)
        }
        b'\r' | b'\n' => (Key::Enter, 1),
        b'\t' => (Key::Tab, 1),
        0x7f | 0x08 => (Key::Backspace, 1),
        c @ 1..=26 => (Key::Ctrl((b'a' + c - 1) as char), 1),
        c if c < 0x80 => (Key::Char(c as char), 1),
        c => {
            // UTF-8: take the whole character when it is there.
            let len = if c >= 0xf0 {
                4
            } else if c >= 0xe0 {
                3
            } else {
                2
            };
            if b.len() >= len {
                if let Ok(s) = std::str::from_utf8(&b[..len]) {
                    if let Some(ch) = s.chars().next() {
                        return (Key::Char(ch), len);
                    }
                }
            }
            (Key::Unknown, 1)
        }
    }
}

/// Keys from stdin (in raw mode each read returns what was typed).
#[derive(Default)]
pub struct Keys {
    pending: Vec<u8>,
}

impl Keys {
    pub fn new() -> Keys {
        Keys::default()
    }

    fn fill(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 64];
        loop {
            match io::stdin().read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next key; `None` at end of input.
    pub fn next(&mut self) -> Option<Key> {
        if self.pending.is_empty() && !self.fill().ok()? {
            return None;
        }
        let (k, n) = decode(&self.pending);
        self.pending.drain(..n);
        Some(k)
    }

    /// The next key if one comes within `ms` milliseconds. `Err` when the host cannot wait on
    /// stdin with a timeout (then the caller just sleeps).
    pub fn next_timeout(&mut self, ms: u64) -> io::Result<Option<Key>> {
        if self.pending.is_empty() {
            if !wait_stdin(ms)? {
                return Ok(None);
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
        let (k, n) = decode(&self.pending);
        self.pending.drain(..n);
        Ok(Some(k))
    }
}

/// Wait until stdin is readable or `ms` pass (WASI `poll_oneoff` with an fd_read and a clock
/// subscription); true when stdin is readable.
pub fn wait_stdin(ms: u64) -> io::Result<bool> {
    #[cfg(target_os = "wasi")]
    {
        #[link(wasm_import_module = "wasi_snapshot_preview1")]
        extern "C" {
            fn poll_oneoff(inp: *const u8, out: *mut u8, n: usize, nevents: *mut usize) -> u16;
        }
        // Two 48-byte subscriptions: fd_read on fd 0 (userdata 1), a relative clock (2).
        let mut subs = [0u8; 96];
        subs[0..8].copy_from_slice(&1u64.to_le_bytes());
        subs[8] = 1; // EVENTTYPE_FD_READ
        subs[16..20].copy_from_slice(&0u32.to_le_bytes());
        let c = &mut subs[48..];
        c[0..8].copy_from_slice(&2u64.to_le_bytes());
        c[8] = 0; // EVENTTYPE_CLOCK
        c[16..20].copy_from_slice(&1u32.to_le_bytes()); // CLOCKID_MONOTONIC
        c[24..32].copy_from_slice(&(ms.saturating_mul(1_000_000)).to_le_bytes());
        c[32..40].copy_from_slice(&1_000_000u64.to_le_bytes());
        let mut events = [0u8; 64];
        let mut n = 0usize;
        let rc = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2, &mut n) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        for k in 0..n.min(2) {
            let e = &events[k * 32..k * 32 + 32];
            let ud = u64::from_le_bytes(e[0..8].try_into().unwrap());
            let errno = u16::from_le_bytes([e[8], e[9]]);
            if ud == 1 && errno == 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
    #[cfg(not(target_os = "wasi"))]
    {
        let _ = ms;
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Escape sequences (VT100/xterm).
pub const CLEAR: &str = "\x1b[H\x1b[J";
pub const CLEAR_LINE: &str = "\x1b[K";
pub const HIDE_CURSOR: &str = "\x1b[?25l";
pub const SHOW_CURSOR: &str = "\x1b[?25h";
pub const ALT_SCREEN: &str = "\x1b[?1049h";
pub const MAIN_SCREEN: &str = "\x1b[?1049l";
pub const REVERSE: &str = "\x1b[7m";
pub const NORMAL: &str = "\x1b[m";

/// Move the cursor to `row`, `col` (0-based).
pub fn goto(row: usize, col: usize) -> String {
    format!("\x1b[{};{}H", row + 1, col + 1)
}

/// Write and flush to stdout, ignoring errors (the screen is best effort).
pub fn put(s: &str) {
    let mut o = io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Cut `s` to at most `w` characters (display width = char count; no wide glyphs).
pub fn fit(s: &str, w: usize) -> &str {
    match s.char_indices().nth(w) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(decode(b"\x1b[A"), (Key::Up, 3));
        assert_eq!(decode(b"\x1bOB"), (Key::Down, 3));
        assert_eq!(decode(b"\x1b[5~x"), (Key::PageUp, 4));
        assert_eq!(decode(b"\x1b[1;5C"), (Key::Right, 6));
        assert_eq!(decode(b"\x1b"), (Key::Esc, 1));
        assert_eq!(decode(b"\x1bx"), (Key::Esc, 1));
        assert_eq!(decode(b"q"), (Key::Char('q'), 1));
        assert_eq!(decode(b"\x03"), (Key::Ctrl('c'), 1));
        assert_eq!(decode(b"\r"), (Key::Enter, 1));
        assert_eq!(decode(b"\x7f"), (Key::Backspace, 1));
        assert_eq!(decode("é!".as_bytes()), (Key::Char('é'), 2));
        assert_eq!(fit("abcdef", 3), "abc");
        assert_eq!(fit("ab", 3), "ab");
    }
}
