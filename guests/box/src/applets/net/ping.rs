//! `ping`: reachability through the host's `net::ping` (no ICMP), with busybox's statistics.

use super::{lookup, secs_arg};
use crate::err;
use crate::util::getopt;
use skiff_guest::net as snet;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Whether `e` is `ENETUNREACH` (ping stops at once on it).
fn is_net_unreachable(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NetworkUnreachable
        || (cfg!(target_os = "wasi") && e.raw_os_error() == Some(snet::errno::ENETUNREACH))
}

/// The replies counted for ping's statistics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct PingStats {
    sent: u64,
    received: u64,
    min_us: u64,
    max_us: u64,
    sum_us: u64,
}

impl PingStats {
    fn reply(&mut self, us: u64) {
        if self.received == 0 || us < self.min_us {
            self.min_us = us;
        }
        self.max_us = self.max_us.max(us);
        self.sum_us += us;
        self.received += 1;
    }
}

/// Microseconds as busybox prints milliseconds: `0.209`.
fn fmt_ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// The statistics block printed when ping ends.
fn ping_summary(host: &str, st: &PingStats) -> String {
    let loss = ((st.sent - st.received) * 100).checked_div(st.sent).unwrap_or(0);
    let mut s = format!(
        "\n--- {host} ping statistics ---\n{} packets transmitted, {} packets received, {loss}% packet loss\n",
        st.sent, st.received
    );
    if let Some(avg) = st.sum_us.checked_div(st.received) {
        s.push_str(&format!(
            "round-trip min/avg/max = {}/{}/{} ms\n",
            fmt_ms(st.min_us),
            fmt_ms(avg),
            fmt_ms(st.max_us)
        ));
    }
    s
}

/// `ping [-q] [-c N] [-i SECS] [-W SECS] [-w SECS] [-s SIZE] HOST`, via `net::ping` (no ICMP).
pub fn ping(args: &[String]) -> i32 {
    let o = match getopt(args, "c:i:W:w:s:qt:I:46") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let Some(host) = o.args.first() else {
        eprintln!("Usage: ping [-c COUNT] [-i SECS] [-W SECS] [-w SECS] [-s SIZE] [-q] HOST");
        return 1;
    };
    let num = |c: char, d: &str| o.val(c).unwrap_or(d).to_string();
    let (Ok(count), Some(interval), Some(linger), Ok(size)) = (
        num('c', "0").parse::<u64>(),
        secs_arg(&num('i', "1")),
        secs_arg(&num('W', "1")),
        num('s', "56").parse::<u64>(),
    ) else {
        err!("invalid number");
        return 1;
    };
    let deadline = match o.val('w').map(secs_arg) {
        None => None,
        Some(Some(d)) => Some(Instant::now() + d),
        Some(None) => {
            err!("invalid number '{}'", o.val('w').unwrap_or(""));
            return 1;
        }
    };
    let Some(ip) = lookup(host) else {
        err!("bad address '{host}'");
        return 1;
    };
    println!("PING {host} ({ip}): {size} data bytes");
    let p = Pinger { ip, size, quiet: o.has('q'), count, interval, linger, deadline };
    match p.run() {
        Some(st) => {
            print!("{}", ping_summary(host, &st));
            let _ = io::stdout().flush();
            if st.received > 0 {
                0
            } else {
                1
            }
        }
        None => {
            err!("sendto: Network is unreachable");
            1
        }
    }
}

/// One ping run's settings.
struct Pinger {
    ip: Ipv4Addr,
    size: u64,
    quiet: bool,
    /// 0: until killed.
    count: u64,
    interval: Duration,
    linger: Duration,
    deadline: Option<Instant>,
}

impl Pinger {
    /// Send the packets; None when the network is unreachable (busybox stops at once).
    fn run(&self) -> Option<PingStats> {
        let mut st = PingStats::default();
        for seq in 0.. {
            if (self.count != 0 && seq >= self.count) || self.past_deadline() {
                break;
            }
            let t0 = Instant::now();
            let r = snet::ping(self.ip);
            let us = t0.elapsed().as_micros() as u64;
            let answered = r.is_ok();
            st.sent += 1;
            match r {
                Ok(()) => {
                    st.reply(us);
                    if !self.quiet {
                        println!("{} bytes from {}: seq={seq} ttl=64 time={} ms", self.size + 8, self.ip, fmt_ms(us));
                    }
                }
                Err(e) if is_net_unreachable(&e) => return None,
                Err(_) => {}
            }
            let last = self.count != 0 && seq + 1 >= self.count;
            match (last, answered) {
                (true, true) => break,
                (true, false) => self.sleep(self.linger),
                (false, _) => self.sleep(self.interval.saturating_sub(t0.elapsed())),
            }
        }
        Some(st)
    }

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Sleep `d`, but not past the -w deadline.
    fn sleep(&self, d: Duration) {
        let d = match self.deadline {
            Some(end) => d.min(end.saturating_duration_since(Instant::now())),
            None => d,
        };
        std::thread::sleep(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_stats() {
        let mut st = PingStats { sent: 2, ..Default::default() };
        st.reply(209);
        st.reply(97);
        assert_eq!(
            ping_summary("c2", &st),
            "\n--- c2 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\n\
             round-trip min/avg/max = 0.097/0.153/0.209 ms\n"
        );
        let st = PingStats { sent: 3, ..Default::default() };
        assert_eq!(
            ping_summary("x", &st),
            "\n--- x ping statistics ---\n3 packets transmitted, 0 packets received, 100% packet loss\n"
        );
        assert_eq!(fmt_ms(12345), "12.345");
    }
}
