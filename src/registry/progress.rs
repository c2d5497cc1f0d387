//! Docker's progress output for pull and push (`jsonmessage` in the Docker CLI): one line per
//! layer, `ID: status`. On a terminal each layer keeps its line and is rewritten in place
//! (cursor up, clear, write, cursor down), with `Downloading`/`Pushing`/`Extracting` showing a
//! progress bar (when the terminal is wider than 110 columns, as Docker's) and sizes; elsewhere
//! every status is its own line and progress updates are left out.

use crate::units::human_size_precision;
use std::io::Write;
use std::time::Instant;

pub struct Progress<'a> {
    out: &'a mut dyn Write,
    tty: bool,
    width: u16,
    /// Layer IDs shown since the last line without an ID, in order.
    ids: Vec<String>,
}

impl<'a> Progress<'a> {
    /// Progress to `out`; `tty` when `out` is a terminal.
    pub fn new(out: &'a mut dyn Write, tty: bool) -> Progress<'a> {
        Progress { out, tty, width: if tty { terminal_width() } else { 0 }, ids: Vec::new() }
    }

    /// A line with no layer ID (`Digest: …`); later layer lines start a new block.
    pub fn line(&mut self, text: &str) {
        self.ids.clear();
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// `ID: status` for a layer.
    pub fn status(&mut self, id: &str, status: &str) {
        self.show(id, status, None);
    }

    /// `ID: status [==>   ]  1.2MB/3.4MB 2s` on a terminal; nothing elsewhere (as Docker).
    pub fn progress(&mut self, id: &str, status: &str, current: u64, total: u64, start: Instant) {
        if !self.tty {
            return;
        }
        let bar = bar(current, total, self.width, start.elapsed().as_secs_f64());
        self.show(id, status, Some(bar));
    }

    fn show(&mut self, id: &str, status: &str, bar: Option<String>) {
        if !self.tty {
            let _ = writeln!(self.out, "{id}: {status}");
            return;
        }
        let line = match self.ids.iter().position(|i| i == id) {
            Some(l) => l,
            None => {
                self.ids.push(id.to_string());
                let _ = writeln!(self.out);
                self.ids.len() - 1
            }
        };
        let diff = self.ids.len() - line;
        let text = match bar {
            Some(b) if !b.is_empty() => format!("{id}: {status} {b}"),
            _ => format!("{id}: {status}"),
        };
        let _ = write!(self.out, "\x1b[{diff}A\x1b[2K\r{text}\r\x1b[{diff}B");
        let _ = self.out.flush();
    }
}

/// Docker's `JSONProgress.String()`: a 50-step bar when the terminal is wider than 110
/// columns, `current/total` in decimal units, and an estimate of the time left.
pub fn bar(current: u64, total: u64, width: u16, elapsed_secs: f64) -> String {
    if total == 0 {
        return if current == 0 { String::new() } else { format!("{:>8}", human_size_precision(current, 4)) };
    }
    let percentage = ((current as f64 / total as f64 * 100.0) as u64 / 2).min(50) as usize;
    let mut s = String::new();
    if width > 110 {
        s.push_str(&format!("[{}>{}] ", "=".repeat(percentage), " ".repeat(50 - percentage)));
    }
    let (c, t) = (human_size_precision(current, 4), human_size_precision(total, 4));
    if current > total {
        s.push_str(&format!("{c:>8}"));
    } else {
        s.push_str(&format!("{c:>8}/{t}"));
    }
    if current > 0 && percentage < 50 && width > 50 && elapsed_secs > 0.0 {
        let left = ((total - current.min(total)) as f64 * elapsed_secs / current as f64) as u64;
        s.push_str(&format!(" {}", go_duration(left)));
    }
    s
}

/// Go's `time.Duration.String()` for whole seconds: `0s`, `45s`, `1m5s`, `2h0m1s`.
fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Columns of the terminal on stdout/stderr (80 if unknown).
fn terminal_width() -> u16 {
    #[cfg(unix)]
    for fd in [1, 2] {
        // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass; nothing else is touched.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
                return ws.ws_col;
            }
        }
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_as_docker_draws_them() {
        assert_eq!(bar(0, 0, 120, 0.0), "");
        let b = bar(1_234_000, 5_000_000, 120, 1.0);
        assert!(b.starts_with("[============>                                      ]  1.234MB/5MB"), "{b:?}");
        assert!(b.ends_with(" 3s"), "{b:?}");
        assert_eq!(bar(5_000_000, 5_000_000, 80, 2.0), "     5MB/5MB");
        assert_eq!(go_duration(65), "1m5s");
    }

    #[test]
    fn plain_output_has_one_line_per_status_and_no_progress() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, false);
        p.line("latest: Pulling from yeeechen/nginx");
        p.status("a1b2c3d4e5f6", "Pulling fs layer");
        p.progress("a1b2c3d4e5f6", "Downloading", 10, 100, Instant::now());
        p.status("a1b2c3d4e5f6", "Pull complete");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "latest: Pulling from yeeechen/nginx\na1b2c3d4e5f6: Pulling fs layer\na1b2c3d4e5f6: Pull complete\n"
        );
    }

    #[test]
    fn terminal_output_rewrites_each_layer_line() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, true);
        p.status("aaa", "Pulling fs layer");
        p.status("bbb", "Pulling fs layer");
        p.status("aaa", "Pull complete");
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer\r\x1b[1B\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer\r\x1b[1B\x1b[2A\x1b[2K\raaa: Pull complete\r\x1b[2B"
        );
    }
}
