//! `nc`: stdin and stdout over a TCP connection, as client or (-l) server.

use super::{lookup, net_errstr, readable, BUF};
use crate::err;
use crate::util::getopt;
use skiff_guest::net::{self as snet, PollFd, POLLERR, POLLHUP, POLLIN};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// wasi-libc's `POLLNVAL`: the fd cannot be polled.
const POLLNVAL: i16 = 0x4000;

/// `nc [-vz] [-w SECS] HOST PORT` | `nc -l [-kv] [-w SECS] [-p] PORT`: stdio over TCP.
pub fn nc(args: &[String]) -> i32 {
    let o = match getopt(args, "lkp:w:zvni:s:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let wait = match o.val('w').map(|w| w.parse::<u32>().ok()) {
        None => None,
        Some(Some(w)) => Some(w),
        Some(None) => {
            err!("invalid number '{}'", o.val('w').unwrap_or(""));
            return 1;
        }
    };
    let verbose = o.count('v');
    if o.has('l') {
        let Some(p) = o.val('p').or(o.args.first().map(String::as_str)) else {
            return nc_usage();
        };
        let Ok(port) = p.parse::<u16>() else {
            err!("bad port '{p}'");
            return 1;
        };
        return nc_listen(port, o.has('k'), verbose, wait);
    }
    let [host, p] = &o.args[..] else {
        return nc_usage();
    };
    let Ok(port) = p.parse::<u16>() else {
        err!("bad port '{p}'");
        return 1;
    };
    nc_connect(host, port, o.has('z'), verbose, wait)
}

fn nc_usage() -> i32 {
    eprintln!("Usage: nc [-v] [-w SECS] [-z] HOST PORT\n   or: nc -l [-k] [-v] [-w SECS] [-p] PORT");
    1
}

/// Connect to `host:port`: -z only checks it connects.
fn nc_connect(host: &str, port: u16, zero: bool, verbose: usize, wait: Option<u32>) -> i32 {
    let Some(ip) = lookup(host) else {
        err!("bad address '{host}'");
        return 1;
    };
    match snet::connect(SocketAddrV4::new(ip, port)) {
        Ok(s) => {
            if verbose > 0 {
                eprintln!("{host} ({ip}:{port}) open");
            }
            if zero {
                0
            } else {
                pump(&s, wait)
            }
        }
        Err(e) if zero => {
            if verbose > 1 || (verbose > 0 && e.kind() != io::ErrorKind::ConnectionRefused) {
                err!("{host} ({ip}:{port}): {}", net_errstr(&e));
            }
            1
        }
        Err(e) => {
            err!("can't connect to remote host ({ip}): {}", net_errstr(&e));
            1
        }
    }
}

/// Listen on `port`, take a connection (one after the other with -k) and pump it.
fn nc_listen(port: u16, keep: bool, verbose: usize, wait: Option<u32>) -> i32 {
    let l = match snet::listen(port) {
        Ok(l) => l,
        Err(e) => {
            err!("bind: {}", net_errstr(&e));
            return 1;
        }
    };
    if verbose > 0 {
        eprintln!("listening on [::]:{port} ...");
    }
    loop {
        if let Some(w) = wait {
            if !readable(l.as_raw_fd(), Duration::from_secs(w as u64)).unwrap_or(true) {
                err!("timed out");
                return 1;
            }
        }
        let (s, peer) = match snet::accept(&l) {
            Ok(x) => x,
            Err(e) => {
                err!("accept: {}", net_errstr(&e));
                return 1;
            }
        };
        if verbose > 0 {
            let me = own_ip().map_or("0.0.0.0".to_string(), |i| i.to_string());
            let from = format!("[::ffff:{}]:{}", peer.ip(), peer.port());
            eprintln!("connect to [::ffff:{me}]:{port} from {from} ({from})");
        }
        let rc = pump(&s, wait);
        if !keep {
            return rc;
        }
    }
}

/// This container's first non-loopback address.
fn own_ip() -> Option<Ipv4Addr> {
    snet::interfaces().ok()?.into_iter().map(|i| i.ip).find(|ip| !ip.is_loopback())
}

/// Copy stdin to `s` (then shut its write side) and `s` to stdout, in one thread with poll,
/// until the peer closes. `wait`: after stdin's end, give up when the peer stays silent.
fn pump(s: &TcpStream, wait: Option<u32>) -> i32 {
    let mut stdin_open = true;
    let mut silent = 0;
    let mut buf = vec![0u8; BUF];
    let timeout = wait.map_or(-1, |w| w.saturating_mul(1000).min(i32::MAX as u32) as i32);
    loop {
        let mut fds = vec![PollFd { fd: s.as_raw_fd(), events: POLLIN, revents: 0 }];
        if stdin_open {
            fds.push(PollFd { fd: 0, events: POLLIN, revents: 0 });
        }
        let n = match snet::poll(&mut fds, timeout) {
            Ok(n) => n,
            Err(_) => return pump_serial(s, stdin_open),
        };
        if n == 0 {
            silent += 1;
            if !stdin_open && silent >= 2 {
                return 0;
            }
            continue;
        }
        silent = 0;
        if fds[0].revents != 0 {
            match net_to_stdout(s, &mut buf) {
                Some(rc) => return rc,
                None => continue,
            }
        }
        if stdin_open && fds[1].revents != 0 {
            let ev = fds[1].revents;
            if ev & (POLLIN | POLLHUP) == 0 && ev & (POLLERR | POLLNVAL) != 0 {
                return pump_serial(s, true);
            }
            stdin_open = stdin_to_net(s, &mut buf);
        }
    }
}

/// One read from the socket to stdout; `Some(status)` when nc is done.
fn net_to_stdout(s: &TcpStream, buf: &mut [u8]) -> Option<i32> {
    let mut r = s;
    match r.read(buf) {
        Ok(0) | Err(_) => Some(0),
        Ok(n) => {
            let mut o = io::stdout().lock();
            match o.write_all(&buf[..n]).and_then(|_| o.flush()) {
                Ok(()) => None,
                Err(_) => Some(1),
            }
        }
    }
}

/// One read from stdin to the socket; false once stdin ended (the write side is shut).
fn stdin_to_net(s: &TcpStream, buf: &mut [u8]) -> bool {
    let mut w = s;
    match io::stdin().read(buf) {
        Ok(n) if n > 0 && w.write_all(&buf[..n]).is_ok() => true,
        _ => {
            let _ = s.shutdown(Shutdown::Write);
            false
        }
    }
}

/// The fallback when stdin cannot be polled: all of stdin first, then the socket.
fn pump_serial(s: &TcpStream, stdin_open: bool) -> i32 {
    let mut buf = vec![0u8; BUF];
    if stdin_open {
        while stdin_to_net(s, &mut buf) {}
    }
    loop {
        if let Some(rc) = net_to_stdout(s, &mut buf) {
            return rc;
        }
    }
}
