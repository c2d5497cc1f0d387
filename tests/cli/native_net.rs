//! Native containers on real networks, by the same model as WASI containers: bridges, veth
//! pairs and namespaces made over rtnetlink, names from the embedded DNS server on user
//! networks only, `--link`, IP reuse, live connect/disconnect, `-p` from the host, `host` and
//! `none`, isolation between networks, and nothing left behind. Traffic goes only to
//! loopback and to container addresses skiff made.

use crate::native::sandbox;
use crate::util::{free_port, native_net_lock, require_tool, Sandbox};
use std::time::{Duration, Instant};

fn inspect(s: &Sandbox, c: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, c]).ok().stdout.trim().to_string()
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What skiff left on the host: its user networks' bridges, and any port of the default
/// bridge `skiff0` (which itself stays, as Docker's `docker0` does).
fn host_links() -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n != "skiff0"
                && std::fs::read_to_string(format!("/sys/class/net/{n}/ifalias"))
                    .map(|a| a.trim() == "skiff")
                    .unwrap_or(false)
        })
        .collect();
    left.extend(default_bridge_ports());
    left
}

/// The ports of `skiff0`.
fn default_bridge_ports() -> Vec<String> {
    std::fs::read_dir("/sys/class/net/skiff0/brif")
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

fn plugins() -> bool {
    require_tool("nft", "nftables").is_some()
}

#[test]
fn names_on_user_networks_not_on_the_default_bridge() {
    let Some(s) = sandbox() else { return };
    if !plugins() {
        return;
    }
    let _net = native_net_lock();
    s.run(&["network", "create", "dev"]).ok();
    s.run(&[
        "run",
        "-d",
        "--name",
        "api",
        "--network",
        "dev",
        "--network-alias",
        "backend",
        "bb",
        "httpd",
        "-f",
        "-p",
        "3000",
        "-h",
        "/etc",
    ])
    .ok();
    let ip = inspect(&s, "api", "{{.NetworkSettings.Networks.dev.IPAddress}}");
    assert_eq!(ip, "172.18.0.2");
    let out = s.run(&["run", "--rm", "--network", "dev", "bb", "sh", "-c", "wget -qO- api:3000/group; nslookup backend | grep Address: | tail -1; ping -c 1 -W 2 api >/dev/null && echo pong"]).ok();
    assert_eq!(out.stdout, "root:x:0:\nnogroup:x:65534:\nAddress: 172.18.0.2\npong\n");
    // The default bridge has no names (Docker's rule), and cannot reach another network.
    let r = s.run(&["run", "--rm", "bb", "sh", "-c", "nslookup api; ping -c 1 -W 1 172.18.0.2"]);
    assert_ne!(r.code, 0);
    assert!(r.stdout.contains("can't find api: NXDOMAIN"), "{}", r.stdout);
    // --link gives the name on the default bridge.
    s.run(&["run", "-d", "--name", "db", "bb", "httpd", "-f", "-p", "5000", "-h", "/etc"]).ok();
    let out = s
        .run(&[
            "run",
            "--rm",
            "--name",
            "client",
            "--link",
            "db:database",
            "bb",
            "sh",
            "-c",
            "echo $DATABASE_NAME; wget -qO- database:5000/group | head -1",
        ])
        .ok();
    assert_eq!(out.stdout, "/client/database\nroot:x:0:\n");
    s.run(&["rm", "-f", "api", "db"]).ok();
    s.run(&["network", "rm", "dev"]).ok();
    eventually("no link left behind", || host_links().is_empty());
}

#[test]
fn ip_reuse_live_connect_and_published_ports() {
    let Some(s) = sandbox() else { return };
    if !plugins() {
        return;
    }
    let Some(curl) = require_tool("curl", "curl") else { return };
    let _net = native_net_lock();
    s.run(&["network", "create", "one"]).ok();
    s.run(&["network", "create", "two"]).ok();
    s.run(&["run", "-d", "--name", "aa", "--network", "one", "bb", "sleep", "1000"]).ok();
    s.run(&["run", "-d", "--name", "bb1", "--network", "one", "bb", "sleep", "1000"]).ok();
    assert_eq!(inspect(&s, "bb1", "{{.NetworkSettings.Networks.one.IPAddress}}"), "172.18.0.3");
    s.run(&["rm", "-f", "aa"]).ok();
    s.run(&["run", "-d", "--name", "cc", "--network", "one", "bb", "sleep", "1000"]).ok();
    assert_eq!(
        inspect(&s, "cc", "{{.NetworkSettings.Networks.one.IPAddress}}"),
        "172.18.0.2",
        "the lowest free address"
    );
    // Live connect: an eth1 appears with the address the model gave; disconnect removes it.
    s.run(&["network", "connect", "two", "cc"]).ok();
    let ip2 = inspect(&s, "cc", "{{.NetworkSettings.Networks.two.IPAddress}}");
    let addrs = s.run(&["exec", "cc", "ip", "-4", "-o", "addr"]).ok().stdout;
    assert!(addrs.contains(&format!("eth1    inet {ip2}/")), "{addrs}");
    s.run(&["network", "disconnect", "two", "cc"]).ok();
    let addrs = s.run(&["exec", "cc", "ip", "-4", "-o", "addr"]).ok().stdout;
    assert!(!addrs.contains("eth1"), "{addrs}");
    // -p from the host's own loopback: the kernel rewrites the host's connections to the
    // container (its server sees the client's own port), others go through the supervisor's
    // proxy (a port of its own). A CGI script shows the server's view of its peer.
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let all = free_port();
    let publish_all = format!("{all}:80");
    let serve = "mkdir -p /etc/cgi-bin && printf '#!/bin/sh\\necho\\necho $REMOTE_PORT\\n' > /etc/cgi-bin/peer \
                 && chmod +x /etc/cgi-bin/peer && exec httpd -f -p 80 -h /etc";
    s.run(&["run", "-d", "--name", "web", "-p", &publish, "-p", &publish_all, "bb", "sh", "-c", serve]).ok();
    assert_eq!(s.run(&["port", "web", "80"]).ok().stdout, format!("127.0.0.1:{port}\n0.0.0.0:{all}\n"));
    let url = format!("http://127.0.0.1:{port}/group");
    eventually("the published port", || {
        std::process::Command::new(&curl)
            .args(["-sf", &url])
            .output()
            .map(|o| o.stdout.starts_with(b"root:"))
            .unwrap_or(false)
    });
    let web_id = inspect(&s, "web", "{{.Id}}");
    let table = format!("skiff-{}", &web_id[..12]);
    assert!(nft_tables().contains(&table), "{:?}", nft_tables());
    for (host, p) in [("127.0.0.1", port), ("172.17.0.1", all)] {
        let local = free_port();
        let url = format!("http://{host}:{p}/cgi-bin/peer");
        let seen = std::process::Command::new(&curl).args(["-sf", "--local-port", &local.to_string(), &url]).output();
        assert_eq!(String::from_utf8_lossy(&seen.unwrap().stdout).trim(), local.to_string(), "{url}: kernel path");
    }
    let seen = s.run(&["run", "--rm", "bb", "wget", "-qO-", &format!("http://172.17.0.1:{all}/cgi-bin/peer")]).ok();
    assert!(seen.stdout.trim().parse::<u16>().is_ok(), "from a container, through the proxy: {}", seen.stdout);
    // A large body and parallel clients through the proxy: every byte, each end of stream.
    s.run(&["exec", "web", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a > /etc/big"]).ok();
    let big = format!("http://127.0.0.1:{port}/big");
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (curl, big) = (curl.clone(), big.clone());
            std::thread::spawn(move || std::process::Command::new(&curl).args(["-sf", &big]).output().unwrap().stdout)
        })
        .collect();
    for c in clients {
        let body = c.join().unwrap();
        assert_eq!(body.len(), 3_000_000);
        assert!(body.iter().all(|&b| b == b'a'));
    }
    let again = format!("{port}:80");
    let r = s.run(&["run", "-d", "--name", "web2", "-p", &again, "bb", "true"]).code(125);
    assert!(r.stderr.contains("port is already allocated"), "{}", r.stderr);
    assert!(
        s.run(&["ps", "-a", "--format", "{{.Names}}"]).ok().stdout.lines().all(|n| n != "web2"),
        "nothing half-made"
    );
    s.run(&["rm", "-f", "bb1", "cc", "web"]).ok();
    s.run(&["network", "rm", "one", "two"]).ok();
    eventually("no link left behind", || host_links().is_empty());
    assert!(!nft_tables().contains(&table), "left behind: {table}");
}

/// The names of the host's nftables tables.
fn nft_tables() -> Vec<String> {
    let out = std::process::Command::new("nft").args(["list", "tables"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().nth(2).map(String::from)).collect()
}

#[test]
fn host_and_none_and_a_killed_supervisor_leave_nothing() {
    let Some(s) = sandbox() else { return };
    if !plugins() {
        return;
    }
    let _net = native_net_lock();
    let out = s.run(&["run", "--rm", "--network", "none", "bb", "ip", "-o", "link"]).ok().stdout;
    assert_eq!(out.lines().count(), 1, "only lo: {out}");
    let host_lo =
        s.run(&["run", "--rm", "--network", "host", "bb", "sh", "-c", "ip -o link | grep -c ': lo:'"]).ok().stdout;
    assert_eq!(host_lo, "1\n");
    // A detached container that ends by itself lets go of its interfaces and rules at once,
    // not at `rm` (Docker's as well).
    let publish = format!("{}:80", free_port());
    s.run(&["run", "-d", "--name", "brief", "-p", &publish, "bb", "sleep", "0.2"]).ok();
    let table = format!("skiff-{}", &inspect(&s, "brief", "{{.Id}}")[..12]);
    eventually("the container's end", || inspect(&s, "brief", "{{.State.Status}}") == "exited");
    eventually("its veth gone before rm", || host_links().is_empty());
    assert!(!nft_tables().contains(&table), "left behind: {table}");
    s.run(&["rm", "brief"]).ok();
    let publish = format!("{}:80", free_port());
    s.run(&["run", "-d", "--name", "victim", "-p", &publish, "bb", "sleep", "1000"]).ok();
    let table = format!("skiff-{}", &inspect(&s, "victim", "{{.Id}}")[..12]);
    assert!(nft_tables().contains(&table), "{:?}", nft_tables());
    let pid = inspect(&s, "victim", "{{.State.Pid}}");
    assert_eq!(default_bridge_ports().len(), 1, "the victim's veth on skiff0");
    unsafe {
        libc::kill(pid.parse().unwrap(), libc::SIGKILL);
    }
    eventually("the supervisor gone", || inspect(&s, "victim", "{{.State.Status}}") == "exited");
    s.run(&["rm", "victim"]).ok();
    eventually("no link left behind", || host_links().is_empty());
    assert!(!nft_tables().contains(&table), "left behind: {table}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(s.root().to_str().unwrap()), "a mount is left");
}
