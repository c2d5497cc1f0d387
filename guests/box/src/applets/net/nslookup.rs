//! `nslookup`: a name's addresses as this container resolves them, in busybox's layout.

use crate::util;
use skiff_guest::net as snet;
use std::io::Write;
use std::net::Ipv4Addr;

/// What nslookup prints for `name` asked of `server`; `addrs` None: the name does not exist.
fn nslookup_text(name: &str, server: &str, addrs: Option<&[Ipv4Addr]>) -> String {
    let mut s = format!("Server:\t\t{server}\nAddress:\t{server}:53\n\n");
    match addrs {
        Some(v) => {
            s.push_str("Non-authoritative answer:\n");
            for ip in v {
                s.push_str(&format!("Name:\t{name}\nAddress: {ip}\n"));
            }
        }
        None => s.push_str(&format!("** server can't find {name}: NXDOMAIN\n")),
    }
    s.push('\n');
    s
}

/// The first `nameserver` of /etc/resolv.conf (Docker's embedded DNS when there is none).
fn name_server() -> String {
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("127.0.0.11")
        .to_string()
}

/// `nslookup NAME [SERVER]`: the addresses of NAME as this container resolves them.
pub fn nslookup(args: &[String]) -> i32 {
    let ops: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let Some(name) = ops.first() else {
        eprintln!("Usage: nslookup HOST [DNS_SERVER]");
        return 1;
    };
    let server = ops.get(1).map_or_else(name_server, |s| s.to_string());
    let addrs = snet::resolve(name).ok().filter(|v| !v.is_empty());
    let mut w = util::out();
    let _ = w.write_all(nslookup_text(name, &server, addrs.as_deref()).as_bytes());
    util::done(&mut w, if addrs.is_some() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nslookups() {
        let ip = [Ipv4Addr::new(172, 20, 0, 3)];
        assert_eq!(
            nslookup_text("c2", "127.0.0.11", Some(&ip)),
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\tc2\nAddress: 172.20.0.3\n\n"
        );
        assert_eq!(
            nslookup_text("nosuch", "127.0.0.11", None),
            "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\n** server can't find nosuch: NXDOMAIN\n\n"
        );
    }
}
