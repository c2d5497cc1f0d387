//! busybox's download progress meter (libbb/progress.c), as wget prints it.

/// busybox's `smart_ulltoa5`: a size in 5 columns, scaled with `kMGT…` above 99999.
fn smart5(n: u64) -> String {
    if n <= 99999 {
        return format!("{n:5}");
    }
    let mut v = n as u128 * 10;
    let mut idx = 0;
    loop {
        v /= 1024;
        idx += 1;
        if v < 100000 {
            break;
        }
    }
    let unit = b" kMGTPEZY"[idx.min(8)] as char;
    let (u, tenth) = (v / 10, v % 10);
    if u >= 100 {
        format!("{u:4}{unit}")
    } else {
        format!("{u:2}.{tenth}{unit}")
    }
}

/// busybox's progress meter (libbb/progress.c): at most a line a second, and the last one.
pub(super) struct Meter {
    name: String,
    start: u64,
    last_update: u64,
    last_change: u64,
    last_size: u64,
    tty: bool,
    width: usize,
}

impl Meter {
    pub(super) fn new(name: &str, now: u64, tty: bool, width: usize) -> Self {
        Meter { name: name.to_string(), start: now, last_update: now, last_change: now, last_size: 0, tty, width }
    }

    /// The text to print at second `now` with `got` of `total` (0: unknown) bytes, if due.
    pub(super) fn update(&mut self, now: u64, got: u64, total: u64) -> Option<String> {
        let since = now.saturating_sub(self.last_update);
        self.last_update = now;
        let got = if total != 0 && got >= total {
            total
        } else if since == 0 {
            return None;
        } else {
            got
        };
        let mut s = if self.tty { "\r".to_string() } else { String::new() };
        s.push_str(&format!("{:<20.20} ", self.name));
        if total != 0 {
            s.push_str(&self.bar(got, total));
        }
        s.push_str(&smart5(got));
        s.push_str(&self.eta(now, got, total));
        if !self.tty {
            s.push('\n');
        }
        Some(s)
    }

    /// ` 42% |*****     | ` for a known size.
    fn bar(&self, got: u64, total: u64) -> String {
        let ratio = 100 * got as u128 / total as u128;
        let mut s = format!("{ratio:3}% ");
        let len = self.width as i64 - 48;
        if len > 2 {
            let len = len.min(999) as usize;
            let stars = (len as u128 * got as u128 / total as u128) as usize;
            s.push_str(&format!("|{}{}| ", "*".repeat(stars), " ".repeat(len - stars)));
        }
        s
    }

    /// `  0:00:03 ETA`, ` --:--:-- ETA` or `  - stalled -`.
    fn eta(&mut self, now: u64, got: u64, total: u64) -> String {
        let mut stalled = now.saturating_sub(self.last_change);
        if got != self.last_size {
            self.last_change = now;
            self.last_size = got;
            if stalled >= 5 {
                self.start += stalled;
            }
            stalled = 0;
        }
        let elapsed = now.saturating_sub(self.start);
        if stalled >= 5 {
            return "  - stalled -".into();
        }
        if total == 0 || got == 0 {
            return " --:--:-- ETA".into();
        }
        let eta = ((total as u128 * elapsed as u128 / got as u128) as u64).saturating_sub(elapsed).min(1000 * 3600 - 1);
        format!("{:3}:{:02}:{:02} ETA", eta / 3600, eta % 3600 / 60, eta % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applets::net::wget::sanitize;

    #[test]
    fn progress() {
        assert_eq!(smart5(615), "  615");
        assert_eq!(smart5(99999), "99999");
        assert_eq!(smart5(100000), "97.6k");
        assert_eq!(smart5(5_000_000), "4882k");
        assert_eq!(smart5(500_000), " 488k");
        assert_eq!(smart5(50_000_000), "47.6M");
        let mut m = Meter::new("index.html", 7, false, 80);
        assert_eq!(m.update(7, 100, 615), None);
        assert_eq!(
            m.update(7, 615, 615).unwrap(),
            "index.html           100% |********************************|   615  0:00:00 ETA\n"
        );
        let mut m = Meter::new("a-very-long-file-name.tar.gz", 0, false, 80);
        assert_eq!(
            m.update(2, 1000, 4000).unwrap(),
            "a-very-long-file-nam  25% |********                        |  1000  0:00:06 ETA\n"
        );
        assert_eq!(m.update(4, 1000, 0).unwrap(), "a-very-long-file-nam  1000 --:--:-- ETA\n");
        assert_eq!(m.update(9, 1000, 0).unwrap(), "a-very-long-file-nam  1000  - stalled -\n");
        let mut m = Meter::new("-", 0, true, 80);
        assert!(m.update(0, 3, 3).unwrap().starts_with("\r-                    100% |"));
        assert_eq!(sanitize("Server:\tx\r"), "Server: x");
    }
}
