//! `ip addr|link|route`: this container's interfaces and routes, as busybox's `ip` shows them.

use crate::err;
use crate::util;
use skiff_guest::net::{self as snet, Interface};
use std::io::Write;
use std::net::Ipv4Addr;

/// What `ip … show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IpObject {
    Addr,
    Link,
    Route,
}

fn is_lo(f: &Interface) -> bool {
    f.name == "lo" || f.ip.is_loopback()
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32) as u32)
    }
}

/// The first line of an interface: `2: eth0@if3: <…> mtu 1500 qdisc noqueue `.
fn ip_head_line(i: usize, f: &Interface) -> String {
    if is_lo(f) {
        format!("{}: {}: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n", i + 1, f.name)
    } else {
        format!(
            "{}: {}@if{}: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n",
            i + 1,
            f.name,
            2 * i + 1
        )
    }
}

/// The `link/…` line.
fn ip_link_line(f: &Interface) -> String {
    if is_lo(f) {
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n".into()
    } else {
        format!("    link/ether {} brd ff:ff:ff:ff:ff:ff\n", f.mac)
    }
}

/// The `inet` line and its lifetimes.
fn ip_inet_lines(f: &Interface) -> String {
    let inet = if is_lo(f) {
        format!("    inet {}/{} scope host {}\n", f.ip, f.prefix, f.name)
    } else {
        let brd = Ipv4Addr::from(u32::from(f.ip) | !mask(f.prefix));
        format!("    inet {}/{} brd {brd} scope global {}\n", f.ip, f.prefix, f.name)
    };
    inet + "       valid_lft forever preferred_lft forever\n"
}

/// `ip addr` / `ip link` for the interfaces (all, or only `dev`); `v4`: `-4` (no link lines).
/// Err(dev) when there is no such interface.
fn ip_show_text(ifs: &[Interface], obj: IpObject, dev: Option<&str>, v4: bool) -> Result<String, String> {
    if let Some(d) = dev {
        if !ifs.iter().any(|f| f.name == d) {
            return Err(d.to_string());
        }
    }
    if obj == IpObject::Route {
        return Ok(ip_route_text(ifs, dev));
    }
    let mut s = String::new();
    for (i, f) in ifs.iter().enumerate().filter(|(_, f)| dev.is_none_or(|d| f.name == d)) {
        s.push_str(&ip_head_line(i, f));
        if !v4 || obj == IpObject::Link {
            s.push_str(&ip_link_line(f));
        }
        if obj == IpObject::Addr {
            s.push_str(&ip_inet_lines(f));
        }
    }
    Ok(s)
}

/// `ip route`: the default route through the first network's gateway, then one route per
/// network (Docker gives a network's first host address to its gateway).
fn ip_route_text(ifs: &[Interface], dev: Option<&str>) -> String {
    let nets: Vec<&Interface> = ifs.iter().filter(|f| !is_lo(f)).collect();
    let mut s = String::new();
    if let Some(f) = nets.first().filter(|f| dev.is_none_or(|d| f.name == d)) {
        let gw = Ipv4Addr::from((u32::from(f.ip) & mask(f.prefix)) + 1);
        s.push_str(&format!("default via {gw} dev {} \n", f.name));
    }
    for f in nets.iter().filter(|f| dev.is_none_or(|d| f.name == d)) {
        let net = Ipv4Addr::from(u32::from(f.ip) & mask(f.prefix));
        s.push_str(&format!("{net}/{} dev {} scope link  src {} \n", f.prefix, f.name, f.ip));
    }
    s
}

/// Parse `ip`'s words after the options: OBJECT [show|list] [dev] [IFACE].
fn ip_parse(words: &[&str]) -> Result<(IpObject, Option<String>), String> {
    let is = |w: &str, full: &str| !w.is_empty() && full.starts_with(w);
    let Some(obj) = words.first() else {
        return Err("usage".into());
    };
    let obj = if is(obj, "address") {
        IpObject::Addr
    } else if is(obj, "route") {
        IpObject::Route
    } else if is(obj, "link") {
        IpObject::Link
    } else {
        return Err(format!("object \"{obj}\" is unknown, try \"ip help\""));
    };
    let mut rest = &words[1..];
    if let Some(cmd) = rest.first() {
        if is(cmd, "show") || is(cmd, "list") || is(cmd, "lst") {
            rest = &rest[1..];
        } else if *cmd != "dev" && ["add", "del", "delete", "change", "replace", "set", "flush"].contains(cmd) {
            return Err("RTNETLINK answers: Operation not permitted".into());
        }
    }
    let dev = rest.iter().find(|w| !["dev", "up", "scope", "global", "host", "link"].contains(w));
    Ok((obj, dev.map(|d| d.to_string())))
}

/// `ip [-4|-6] addr|link|route [show] [dev IFACE]`: this container's interfaces and routes.
pub fn ip(args: &[String]) -> i32 {
    let mut v4 = false;
    let mut v6 = false;
    let mut words: Vec<&str> = Vec::new();
    for a in &args[1..] {
        match a.as_str() {
            "-4" => v4 = true,
            "-6" => v6 = true,
            "-f" | "-family" | "-o" | "-oneline" | "-s" | "-d" => {}
            "inet" if words.is_empty() => v4 = true,
            "inet6" if words.is_empty() => v6 = true,
            w => words.push(w),
        }
    }
    let (obj, dev) = match ip_parse(&words) {
        Ok(x) => x,
        Err(m) if m == "usage" => {
            eprintln!("Usage: ip [-4|-6] addr|link|route [show] [dev IFACE]");
            return 1;
        }
        Err(m) => {
            err!("{m}");
            return if m.starts_with("RTNETLINK") { 2 } else { 1 };
        }
    };
    let ifs = snet::interfaces().unwrap_or_default();
    match ip_show_text(&ifs, obj, dev.as_deref(), v4) {
        Ok(_) if v6 && obj != IpObject::Link => 0,
        Ok(text) => {
            let mut w = util::out();
            let _ = w.write_all(text.as_bytes());
            util::done(&mut w, 0)
        }
        Err(d) => {
            err!("can't find device '{d}'");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifaces() -> Vec<Interface> {
        snet::parse_interfaces("lo 127.0.0.1/8 00:00:00:00:00:00\neth0 172.20.0.4/16 02:42:ac:14:00:04\neth1 10.1.2.3/24 02:42:0a:01:02:03\n")
    }

    #[test]
    fn ip_addr() {
        let v4 = ip_show_text(&ifaces()[..2], IpObject::Addr, None, true).unwrap();
        assert_eq!(
            v4,
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n\
             \x20   inet 127.0.0.1/8 scope host lo\n\
             \x20      valid_lft forever preferred_lft forever\n\
             2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n\
             \x20   inet 172.20.0.4/16 brd 172.20.255.255 scope global eth0\n\
             \x20      valid_lft forever preferred_lft forever\n"
        );
        let one = ip_show_text(&ifaces(), IpObject::Addr, Some("eth1"), false).unwrap();
        assert_eq!(
            one,
            "3: eth1@if5: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue \n\
             \x20   link/ether 02:42:0a:01:02:03 brd ff:ff:ff:ff:ff:ff\n\
             \x20   inet 10.1.2.3/24 brd 10.1.2.255 scope global eth1\n\
             \x20      valid_lft forever preferred_lft forever\n"
        );
        let link = ip_show_text(&ifaces()[..1], IpObject::Link, None, false).unwrap();
        assert!(link.ends_with("qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"));
        assert_eq!(ip_show_text(&ifaces(), IpObject::Addr, Some("eth9"), false), Err("eth9".into()));
        assert_eq!(
            ip_route_text(&ifaces(), None),
            "default via 172.20.0.1 dev eth0 \n172.20.0.0/16 dev eth0 scope link  src 172.20.0.4 \n\
             10.1.2.0/24 dev eth1 scope link  src 10.1.2.3 \n"
        );
    }

    #[test]
    fn ip_words() {
        assert_eq!(ip_parse(&["a"]), Ok((IpObject::Addr, None)));
        assert_eq!(ip_parse(&["addr", "show", "eth0"]), Ok((IpObject::Addr, Some("eth0".into()))));
        assert_eq!(ip_parse(&["address", "show", "dev", "eth0"]), Ok((IpObject::Addr, Some("eth0".into()))));
        assert_eq!(ip_parse(&["r"]), Ok((IpObject::Route, None)));
        assert_eq!(ip_parse(&["link", "ls"]), Ok((IpObject::Link, None)));
        assert!(ip_parse(&["addr", "add", "1.2.3.4/8", "dev", "eth0"]).unwrap_err().starts_with("RTNETLINK"));
        assert!(ip_parse(&["bogus"]).is_err());
    }
}
