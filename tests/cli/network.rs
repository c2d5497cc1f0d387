//! The network model (control plane): built-in networks, user networks with their own
//! subnets, addresses handed out lowest-first and reused, inspect, connect/disconnect, rm.

use super::util::Sandbox;

fn inspect(s: &Sandbox, what: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, what]).ok().stdout.trim_end().to_string()
}

#[test]
fn networks_hand_out_the_lowest_free_address() {
    let s = Sandbox::new();
    let ls = s.run(&["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]).ok().stdout;
    assert_eq!(ls, "bridge bridge local\nhost host local\nnone null local\n");
    let id = s.run(&["network", "create", "mynet"]).ok().stdout;
    assert_eq!(id.trim().len(), 64);
    assert_eq!(
        s.run(&["network", "create", "mynet"]).code(1).stderr,
        "Error: network with name mynet already exists\n"
    );
    assert_eq!(
        s.run(&[
            "network",
            "inspect",
            "-f",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Driver}}",
            "mynet"
        ])
        .ok()
        .stdout,
        "172.18.0.0/16 172.18.0.1 bridge\n"
    );
    s.run(&["network", "create", "--subnet", "10.5.0.0/24", "other"]).ok();
    assert_eq!(
        s.run(&["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "other"])
            .ok()
            .stdout,
        "10.5.0.0/24 10.5.0.1\n"
    );
    for c in ["c1", "c2", "c3"] {
        s.run(&["run", "-d", "--name", c, "--network", "mynet", "busybox", "sleep", "600"]).ok();
    }
    assert_eq!(
        inspect(
            &s,
            "c2",
            "{{.NetworkSettings.Networks.mynet.IPAddress}} {{.NetworkSettings.Networks.mynet.MacAddress}}"
        ),
        "172.18.0.3 02:42:ac:12:00:03"
    );
    assert_eq!(
        inspect(&s, "c2", "{{.NetworkSettings.IPAddress}}"),
        "",
        "only the default bridge fills the top-level address"
    );
    let members = s
        .run(&["network", "inspect", "-f", "{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}", "mynet"])
        .ok()
        .stdout;
    for want in ["c1=172.18.0.2/16", "c2=172.18.0.3/16", "c3=172.18.0.4/16"] {
        assert!(members.contains(want), "{members}");
    }
    // The seeds' surprise: a removed container's address goes to the next one.
    s.run(&["rm", "-f", "c2"]).ok();
    s.run(&["run", "-d", "--name", "c4", "--network", "mynet", "busybox", "sleep", "600"]).ok();
    assert_eq!(inspect(&s, "c4", "{{.NetworkSettings.Networks.mynet.IPAddress}}"), "172.18.0.3");
    let hosts = s.run(&["exec", "c4", "cat", "/etc/hosts"]).ok().stdout;
    assert!(
        hosts.starts_with("127.0.0.1\tlocalhost\n") && hosts.lines().last().unwrap().starts_with("172.18.0.3\t"),
        "{hosts}"
    );
    // The default bridge, and none.
    s.run(&["run", "-d", "--name", "b1", "busybox", "sleep", "600"]).ok();
    assert_eq!(inspect(&s, "b1", "{{.NetworkSettings.IPAddress}} {{.HostConfig.NetworkMode}}"), "172.17.0.2 default");
    s.run(&["run", "--name", "lonely", "--network", "none", "busybox", "true"]).ok();
    assert_eq!(
        inspect(&s, "lonely", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{$v.IPAddress}}{{end}}"),
        "none:"
    );
    // connect / disconnect, rm refused while in use, prune.
    s.run(&["network", "connect", "--alias", "db", "other", "b1"]).ok();
    assert_eq!(
        inspect(
            &s,
            "b1",
            "{{.NetworkSettings.Networks.other.IPAddress}} {{index .NetworkSettings.Networks.other.Aliases 1}}"
        ),
        "10.5.0.2 db"
    );
    let r = s.run(&["network", "rm", "other"]).code(1);
    assert!(r.stderr.contains("has active endpoints"), "{}", r.stderr);
    s.run(&["network", "disconnect", "other", "b1"]).ok();
    assert_eq!(s.run(&["network", "rm", "other"]).ok().stdout, "other\n");
    assert!(s.run(&["network", "rm", "bridge"]).code(1).stderr.contains("pre-defined network"));
    assert_eq!(s.run(&["network", "inspect", "nope"]).code(1).stderr, "Error: No such network: nope\n");
    assert!(s
        .run(&["run", "--rm", "--network", "nope", "busybox", "true"])
        .code(125)
        .stderr
        .contains("network nope not found"));
    s.run(&["rm", "-f", "c1", "c3", "c4", "b1", "lonely"]).ok();
    s.run(&["network", "create", "spare"]).ok();
    assert_eq!(s.run(&["network", "prune", "-f"]).ok().stdout, "Deleted Networks:\nmynet\nspare\n\n");
}
