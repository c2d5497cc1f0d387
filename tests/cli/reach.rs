//! The network's data plane: what a container's sockets reach. Names resolve on user
//! networks and not on the default bridge, `--link` gives names there, `none` has only
//! loopback, networks are isolated, ports are published to the real host.

use super::util::{free_port, Sandbox};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

fn ip_of(s: &Sandbox, c: &str, net: &str) -> String {
    s.run(&["inspect", "-f", &format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}"), c])
        .ok()
        .stdout
        .trim()
        .to_string()
}

/// A port nothing listens on now.
/// `GET path` from the host; retries while the guest is still coming up (bounded).
fn http_get(port: u16, path: &str) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
                let mut out = String::new();
                if s.read_to_string(&mut out).is_ok() && !out.is_empty() {
                    return out;
                }
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no answer on 127.0.0.1:{port}: {last}");
}

/// Run `cmd` in container `c` until it succeeds (the server may still be starting).
fn exec_retry(s: &Sandbox, c: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", c];
    args.extend(cmd);
    for _ in 0..50 {
        let r = s.run(&args);
        if r.code == 0 {
            return r.stdout;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    s.run(&args).ok().stdout
}

#[test]
fn names_resolve_on_user_networks_and_not_on_the_default_bridge() {
    let s = Sandbox::new();
    s.run(&["network", "create", "dev"]).ok();
    s.run(&["run", "-d", "--name", "w1", "--network", "dev", "whoami"]).ok();
    s.run(&["run", "-d", "--name", "w2", "--network", "dev", "-e", "AUTHOR=ada", "whoami"]).ok();
    let (ip1, ip2) = (ip_of(&s, "w1", "dev"), ip_of(&s, "w2", "dev"));
    assert_eq!((ip1.as_str(), ip2.as_str()), ("172.18.0.2", "172.18.0.3"));
    assert_eq!(
        s.run(&["ps", "--filter", "network=dev", "--format", "{{.Names}} {{.Networks}} {{.Ports}}"]).ok().stdout,
        "w2 dev 3000/tcp\nw1 dev 3000/tcp\n"
    );
    // By name, from one whoami to the other: the answer comes from w2, and sees w1 calling.
    let page = exec_retry(&s, "w1", &["wget", "-qO-", "w2:3000"]);
    let host2 = s.run(&["inspect", "-f", "{{.Config.Hostname}}", "w2"]).ok().stdout;
    assert!(page.contains(&format!("Hostname: {}", host2.trim())), "{page}");
    assert!(page.contains("IP: 172.18.0.3") && page.contains("Author: ada"), "{page}");
    assert!(page.contains("RemoteAddr: 172.18.0.2:"), "the caller's virtual address: {page}");
    // By IP too, and with curl; ping and nslookup see the same address.
    assert!(s.run(&["exec", "w1", "curl", "-s", &format!("http://{ip2}:3000/")]).ok().stdout.contains("Author: ada"));
    let ping = s.run(&["exec", "w1", "ping", "-c", "1", "w2"]).ok().stdout;
    assert!(ping.starts_with("PING w2 (172.18.0.3): 56 data bytes\n64 bytes from 172.18.0.3: seq=0 ttl=64"), "{ping}");
    assert!(ping.contains("1 packets transmitted, 1 packets received, 0% packet loss"), "{ping}");
    assert_eq!(s.run(&["exec", "w1", "hostname", "-i"]).ok().stdout.trim(), "172.18.0.2");
    let r = s.run(&["exec", "w1", "ping", "-c", "1", "nosuchhost"]).code(1);
    assert_eq!(r.stderr, "ping: bad address 'nosuchhost'\n");

    // The default bridge: no names, addresses only.
    s.run(&["run", "-d", "--name", "b1", "busybox", "sleep", "600"]).ok();
    s.run(&["run", "-d", "--name", "b2", "whoami"]).ok();
    let r = s.run(&["exec", "b1", "wget", "-qO-", "b2:3000"]).code(1);
    assert_eq!(r.stderr, "wget: bad address 'b2:3000'\n");
    let b2 = ip_of(&s, "b2", "bridge");
    assert!(exec_retry(&s, "b1", &["wget", "-qO-", &format!("{b2}:3000")]).contains(&format!("IP: {b2}")));

    // network connect while running: the name resolves at once; disconnect takes it away.
    s.run(&["network", "connect", "dev", "b1"]).ok();
    assert!(s.run(&["exec", "b1", "wget", "-qO-", "w2:3000"]).ok().stdout.contains("Author: ada"));
    s.run(&["network", "connect", "--alias", "api", "dev", "b2"]).ok();
    assert!(s.run(&["exec", "w1", "wget", "-qO-", "api:3000"]).ok().stdout.contains(&format!("IP: {b2}")));
    s.run(&["network", "disconnect", "dev", "b1"]).ok();
    assert_eq!(s.run(&["exec", "b1", "wget", "-qO-", "w2:3000"]).code(1).stderr, "wget: bad address 'w2:3000'\n");
    // A stopped container's name no longer answers.
    s.run(&["stop", "-t", "0", "w2"]).ok();
    assert_eq!(s.run(&["exec", "w1", "wget", "-qO-", "w2:3000"]).code(1).stderr, "wget: bad address 'w2:3000'\n");
}

#[test]
fn links_give_names_on_the_default_bridge() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "b2", "whoami"]).ok();
    exec_retry(&s, "b2", &["wget", "-qO-", "127.0.0.1:3000"]); // b2 is listening
    let ip = ip_of(&s, "b2", "bridge");
    let out = s
        .run(&[
            "run",
            "--rm",
            "--link",
            "b2:web",
            "busybox",
            "sh",
            "-c",
            "cat /etc/hosts; env | grep ^WEB_ | sort; wget -qO- web:3000",
        ])
        .ok()
        .stdout;
    let short = s.run(&["inspect", "-f", "{{.Id}}", "b2"]).ok().stdout[..12].to_string();
    assert!(out.contains(&format!("{ip}\tweb {short} b2\n")), "{out}");
    assert!(out.contains(&format!("WEB_PORT=tcp://{ip}:3000\nWEB_PORT_3000_TCP=tcp://{ip}:3000\nWEB_PORT_3000_TCP_ADDR={ip}\nWEB_PORT_3000_TCP_PORT=3000\nWEB_PORT_3000_TCP_PROTO=tcp\n")), "{out}");
    assert!(out.contains(&format!("IP: {ip}")), "the link reaches b2: {out}");
    let r = s.run(&["run", "--rm", "--link", "nope:web", "busybox", "true"]).code(125);
    assert_eq!(r.stderr, "Error: could not get container for nope: No such container: nope\n");
}

#[test]
fn none_has_only_loopback_and_networks_are_isolated() {
    let s = Sandbox::new();
    let r = s.run(&["run", "--rm", "--network", "none", "busybox", "ip", "-4", "addr"]).ok();
    assert!(r.stdout.contains("inet 127.0.0.1/8 scope host lo") && !r.stdout.contains("eth0"), "{}", r.stdout);
    let r = s.run(&["run", "--rm", "--network", "none", "busybox", "wget", "-qO-", "http://172.17.0.1/"]).code(1);
    assert_eq!(r.stderr, "wget: can't connect to remote host (172.17.0.1): Network is unreachable\n");
    // 127.0.0.1 inside a container is the container itself, even with no network.
    s.run(&["run", "-d", "--name", "solo", "--network", "none", "whoami"]).ok();
    s.run(&["network", "create", "elsewhere"]).ok();
    let r = s.run(&["network", "connect", "host", "solo"]).code(1);
    assert_eq!(r.stderr, "Error: container cannot be disconnected from host network or connected to host network\n");
    let r = s.run(&["network", "connect", "elsewhere", "solo"]).code(1);
    assert_eq!(
        r.stderr,
        "Error: container cannot be connected to multiple networks with one of the networks in private (none) mode\n"
    );
    assert!(exec_retry(&s, "solo", &["wget", "-qO-", "127.0.0.1:3000"]).contains("IP: 127.0.0.1"));
    // Two user networks: a container on one cannot reach the other's, even by address.
    s.run(&["network", "create", "left"]).ok();
    s.run(&["network", "create", "right"]).ok();
    s.run(&["run", "-d", "--name", "lefty", "--network", "left", "whoami"]).ok();
    s.run(&["run", "-d", "--name", "righty", "--network", "right", "busybox", "sleep", "600"]).ok();
    let l_ip = ip_of(&s, "lefty", "left");
    exec_retry(&s, "lefty", &["wget", "-qO-", "127.0.0.1:3000"]);
    let r2 = s.run(&["exec", "righty", "wget", "-qO-", &format!("{l_ip}:3000")]).code(1);
    assert!(r2.stderr.starts_with(&format!("wget: can't connect to remote host ({l_ip}): ")), "{}", r2.stderr);
    assert_eq!(
        s.run(&["exec", "righty", "wget", "-qO-", "lefty:3000"]).code(1).stderr,
        "wget: bad address 'lefty:3000'\n"
    );
    // Nothing listening: refused, as on a real network.
    s.run(&["network", "connect", "left", "righty"]).ok();
    assert!(s.run(&["exec", "righty", "wget", "-qO-", "lefty:3000"]).ok().stdout.contains(&format!("IP: {l_ip}")));
    assert_eq!(
        s.run(&["exec", "righty", "wget", "-qO-", "lefty:3001"]).code(1).stderr,
        format!("wget: can't connect to remote host ({l_ip}): Connection refused\n")
    );
}

#[test]
fn published_ports_are_real_host_sockets() {
    let s = Sandbox::new();
    let port = free_port();
    let spec = format!("{port}:80");
    s.run(&["run", "-d", "--name", "web", "-p", &spec, "nginx"]).ok();
    let page = http_get(port, "/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n") && page.contains("<h1>Welcome to nginx!</h1>"), "{page}");
    assert!(http_get(port, "/nope").starts_with("HTTP/1.1 404 Not Found\r\n"));
    let ps = s.run(&["ps", "--format", "{{.Names}} {{.Ports}}"]).ok().stdout;
    assert_eq!(ps, format!("web 0.0.0.0:{port}->80/tcp\n"));
    assert_eq!(s.run(&["ps", "--filter", "publish=80", "--format", "{{.Names}}"]).ok().stdout, "web\n");
    assert_eq!(s.run(&["ps", "--filter", "publish=81", "--format", "{{.Names}}"]).ok().stdout, "");
    assert_eq!(s.run(&["port", "web"]).ok().stdout, format!("80/tcp -> 0.0.0.0:{port}\n"));
    assert_eq!(
        s.run(&["inspect", "-f", "{{json .NetworkSettings.Ports}}", "web"]).ok().stdout.trim(),
        format!("{{\"80/tcp\":[{{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"{port}\"}}]}}")
    );
    // The access log shows the request, from the gateway (Docker's proxy shows the same).
    // The server writes its log when it is idle: give it a moment (bounded).
    let mut logs = String::new();
    for _ in 0..50 {
        logs = s.run(&["logs", "web"]).ok().stdout;
        if logs.contains("\"GET /nope") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(logs.contains("172.17.0.1 - - [") && logs.contains("\"GET / HTTP/1.1\" 200 615"), "{logs}");

    // The same host port again: a clear error, and no container left behind.
    let r = s.run(&["run", "-d", "--name", "web2", "-p", &spec, "nginx"]).code(125);
    assert_eq!(r.stderr, format!("Error: driver failed programming external connectivity on endpoint web2: Bind for 0.0.0.0:{port} failed: port is already allocated\n"));
    assert_eq!(s.run(&["ps", "-a", "-q", "--filter", "name=web2"]).ok().stdout, "");
    // A port a host program holds.
    let held = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let hp = held.local_addr().unwrap().port();
    let r = s.run(&["run", "-d", "--name", "web3", "-p", &format!("{hp}:80"), "nginx"]).code(125);
    assert!(r.stderr.ends_with(&format!("listen tcp4 0.0.0.0:{hp}: bind: address already in use\n")), "{}", r.stderr);
    assert_eq!(s.run(&["run", "--rm", "-p", "70000:80", "nginx"]).code(125).stderr, "Error: Invalid hostPort: 70000\n");
    assert!(s.run(&["run", "--rm", "-p", "53:53/udp", "nginx"]).code(125).stderr.contains("TCP ports only"));
    // --expose: shown in PORTS, published only with -P.
    s.run(&["run", "-d", "--name", "exposed", "--expose", "9000", "busybox", "sleep", "600"]).ok();
    assert_eq!(s.run(&["ps", "--filter", "name=exposed", "--format", "{{.Ports}}"]).ok().stdout, "9000/tcp\n");
    assert_eq!(s.run(&["port", "exposed"]).ok().stdout, "");

    // -P: every exposed port on a random host port; `stop` frees the port.
    s.run(&["run", "-d", "--name", "who", "-P", "whoami"]).ok();
    let line = s.run(&["port", "who", "3000"]).ok().stdout;
    let random: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(http_get(random, "/").contains("Hostname: "));
    s.run(&["stop", "-t", "0", "web"]).ok();
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "a stopped container's port is closed");
    assert_eq!(s.run(&["ps", "-a", "--filter", "name=web", "--format", "{{.Names}}:{{.Ports}}"]).ok().stdout, "web:\n");
    // start binds it again.
    s.run(&["start", "web"]).ok();
    assert!(http_get(port, "/").contains("Welcome to nginx!"));
}

#[test]
fn redis_serves_its_clients_by_name() {
    let s = Sandbox::new();
    s.run(&["network", "create", "back"]).ok();
    s.run(&["run", "-d", "--name", "cache", "--network", "back", "redis:7.0"]).ok();
    assert_eq!(exec_retry(&s, "cache", &["redis-cli", "PING"]), "PONG\n");
    assert_eq!(s.run(&["exec", "cache", "redis-cli", "SET", "visits", "41"]).ok().stdout, "OK\n");
    let out = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "back",
            "redis:7.0.4",
            "sh",
            "-c",
            "redis-cli -h cache INCR visits; redis-cli -h cache GET visits",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "(integer) 42\n\"42\"\n");
    let ids = s.run(&["images", "--format", "{{.Tag}} {{.ID}}", "redis"]).ok().stdout;
    let ids: Vec<&str> = ids.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "redis:7.0 and redis:7.0.4 are one image");
    // The smaller variant: the same server on a base with only a shell.
    s.run(&["run", "-d", "--name", "small", "--network", "back", "redis:7-alpine"]).ok();
    assert_eq!(exec_retry(&s, "small", &["redis-cli", "PING"]), "PONG\n");
    assert_eq!(
        s.run(&["exec", "small", "ls"]).code(126).stderr,
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"ls\": executable file not found in $PATH: unknown\n"
    );
}

#[test]
fn host_network_listens_on_the_hosts_own_ports() {
    let s = Sandbox::new();
    let port = free_port();
    s.run(&["run", "-d", "--name", "hostnet", "--network", "host", "-e", &format!("PORT={port}"), "whoami"]).ok();
    assert!(http_get(port, "/").contains("Hostname: "));
    let r = s.run(&["run", "-d", "--network", "host", "-p", "8080:80", "busybox", "true"]).ok();
    assert!(r.stderr.contains("WARNING: Published ports are discarded when using host network mode"), "{}", r.stderr);
}

#[test]
fn interfaces_follow_the_order_networks_were_joined() {
    let s = Sandbox::new();
    s.run(&["network", "create", "zeta"]).ok();
    s.run(&["network", "create", "alpha"]).ok();
    s.run(&["run", "-d", "--name", "multi", "--network", "zeta", "busybox", "sleep", "600"]).ok();
    s.run(&["network", "connect", "alpha", "multi"]).ok();
    let out = s.run(&["exec", "multi", "ip", "-4", "addr"]).ok().stdout;
    assert!(out.contains("inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0"), "{out}");
    assert!(out.contains("inet 172.19.0.2/16 brd 172.19.255.255 scope global eth1"), "{out}");
    assert_eq!(s.run(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", "multi"]).ok().stdout, "zeta\n");
}

#[test]
fn ab_measures_a_server_from_another_container() {
    let s = Sandbox::new();
    s.run(&["network", "create", "bench"]).ok();
    s.run(&["run", "-d", "--name", "web", "--network", "bench", "nginx"]).ok();
    exec_retry(&s, "web", &["wget", "-qO-", "127.0.0.1:80"]);
    let out = s
        .run(&["run", "--rm", "--network", "bench", "httpd", "ab", "-k", "-n", "200", "-c", "4", "http://web/"])
        .ok()
        .stdout;
    assert!(out.contains("Server Software:        nginx/1.23.1"), "{out}");
    assert!(out.contains("Complete requests:      200") && out.contains("Failed requests:        0"), "{out}");
    assert!(out.contains("Keep-Alive requests:    200") && out.contains("Requests per second:"), "{out}");
}
