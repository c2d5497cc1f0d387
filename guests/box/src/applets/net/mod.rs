//! Network clients: wget, curl, nc, ping, nslookup, ip (and `hostname -i` in basic.rs).
//!
//! WASI preview 1 has no sockets of its own: `skiff_guest::net` resolves, connects, listens
//! and "pings" through the host (docs/guest-abi.md, "Network"). Output and error texts follow
//! busybox 1.36 (curl follows curl 8). The pure parts (URLs, HTTP heads and bodies, progress
//! and statistics lines, `ip` output) are separate from the I/O so they unit-test natively.
//!
//! This module holds what the clients share: network error texts, name lookup, reads that
//! time out, download outputs, and `hostname -i`'s addresses.

mod curl;
mod http;
mod ip;
mod nc;
mod nslookup;
mod ping;
mod progress;
mod url;
mod wget;

pub use curl::curl;
pub use ip::ip;
pub use nc::nc;
pub use nslookup::nslookup;
pub use ping::ping;
pub use wget::wget;

use crate::util::{self, errstr};
use skiff_guest::net::{self as snet, PollFd, POLLIN};
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// The copy buffer of wget, curl and nc.
const BUF: usize = 32 * 1024;

/// The glibc wording of a network error, as busybox and curl images print it.
fn net_errstr(e: &io::Error) -> String {
    #[cfg(target_os = "wasi")]
    {
        use snet::errno::*;
        let s = match e.raw_os_error() {
            Some(ECONNREFUSED) => "Connection refused",
            Some(ENETUNREACH) => "Network is unreachable",
            Some(EHOSTUNREACH) => "No route to host",
            Some(ETIMEDOUT) => "Connection timed out",
            Some(EADDRINUSE) => "Address already in use",
            _ => "",
        };
        if !s.is_empty() {
            return s.into();
        }
    }
    use io::ErrorKind::*;
    let s = match e.kind() {
        ConnectionRefused => "Connection refused",
        NetworkUnreachable => "Network is unreachable",
        HostUnreachable => "No route to host",
        TimedOut => "Connection timed out",
        AddrInUse => "Address already in use",
        ConnectionReset => "Connection reset by peer",
        _ => return errstr(e),
    };
    s.into()
}

/// The first address of `host` as this container sees it (None: `bad address`).
fn lookup(host: &str) -> Option<Ipv4Addr> {
    snet::resolve(host).ok()?.first().copied()
}

/// Wait until `fd` is readable, at most `t`; true when it is (or when poll is unsupported).
fn readable(fd: i32, t: Duration) -> io::Result<bool> {
    let mut p = [PollFd { fd, events: POLLIN, revents: 0 }];
    let ms = t.as_millis().min(i32::MAX as u128) as i32;
    match snet::poll(&mut p, ms) {
        Ok(n) => Ok(n > 0),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(true),
        Err(e) => Err(e),
    }
}

/// A connection whose reads fail with `TimedOut` after `idle` without data or at `deadline`.
struct Conn {
    s: TcpStream,
    idle: Option<Duration>,
    deadline: Option<Instant>,
}

impl Conn {
    fn wait(&self) -> io::Result<()> {
        let mut left = self.idle;
        if let Some(d) = self.deadline {
            let rest = d.saturating_duration_since(Instant::now());
            left = Some(left.map_or(rest, |l| l.min(rest)));
        }
        match left {
            Some(t) if !readable(self.s.as_raw_fd(), t)? => Err(io::ErrorKind::TimedOut.into()),
            _ => Ok(()),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait()?;
        self.s.read(buf)
    }
}

/// A number of seconds (`1`, `0.5`) as a duration.
fn secs_arg(s: &str) -> Option<Duration> {
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v))
}

/// Open `path` for a download: `-` and `/dev/null` are special; `excl` refuses to overwrite.
fn open_output(path: &str, excl: bool) -> io::Result<Box<dyn Write>> {
    match path {
        "-" => Ok(Box::new(util::out())),
        "/dev/null" => Ok(Box::new(io::sink())),
        _ => {
            let mut o = OpenOptions::new();
            o.write(true);
            if excl {
                o.create_new(true);
            } else {
                o.create(true).truncate(true);
            }
            Ok(Box::new(io::BufWriter::new(o.open(path)?)))
        }
    }
}

/// The addresses of the host name `h`, for `hostname -i` (None: it does not resolve).
pub(super) fn host_addresses(h: &str) -> Option<Vec<Ipv4Addr>> {
    match snet::resolve(h) {
        Ok(v) if !v.is_empty() => Some(v),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => hosts_file_addresses(h),
        _ => None,
    }
}

/// The /etc/hosts addresses of `h` (where the network import is missing).
fn hosts_file_addresses(h: &str) -> Option<Vec<Ipv4Addr>> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let v: Vec<Ipv4Addr> = hosts
        .lines()
        .filter_map(|l| {
            let mut f = l.split('#').next().unwrap_or("").split_whitespace();
            let ip = f.next()?.parse().ok()?;
            f.any(|n| n == h).then_some(ip)
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_clients_fail_cleanly() {
        // Off wasm the network imports are missing: names do not resolve.
        let v = crate::util::testutil::argv;
        assert_eq!(nc(&v(&["nc", "nosuchhost", "80"])), 1);
        assert_eq!(ping(&v(&["ping", "-c", "1", "nosuchhost"])), 1);
        assert_eq!(curl(&v(&["curl", "-s", "http://nosuchhost/"])), 6);
        assert_eq!(curl(&v(&["curl", "-s", "https://x/"])), 1);
        assert_eq!(curl(&v(&["curl", "-s"])), 2);
        assert_eq!(wget(&v(&["wget", "-q", "http://nosuchhost:3000/"])), 1);
        assert_eq!(nc(&v(&["nc", "-z", "127.0.0.1", "80"])), 1);
        assert_eq!(ip(&v(&["ip", "addr", "show", "eth9"])), 1);
    }
}
