//! skiff as a registry client, against real tools: the real distribution server 2.8
//! (Debian's `docker-registry`, with htpasswd auth from `apache2-utils`) and skiff's own
//! `registry:2` guest, with skopeo pushing and inspecting on the other side. Servers listen on
//! 127.0.0.1 only, every wait is bounded, and each server is stopped by a guard's `Drop`.

use super::util::{free_port, require_tool, Run, Sandbox};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry serve` process on 127.0.0.1; killed and its storage removed on drop.
struct Distribution {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait (at most 20 s) until `GET /v2/` on `port` answers with an HTTP status line.
fn wait_http(port: u16, what: &str) {
    let start = Instant::now();
    loop {
        if let Ok(mut c) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = c.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = c.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.1 401") {
                return;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what} never answered on 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The real registry, with an htpasswd user if `user` is given.
fn distribution(user: Option<(&str, &str)>) -> Option<Distribution> {
    let bin = require_tool("docker-registry", "docker-registry")?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut auth = String::new();
    if let Some((u, p)) = user {
        let htpasswd = require_tool("htpasswd", "apache2-utils")?;
        let file = dir.path().join("htpasswd");
        let out = Command::new(htpasswd).args(["-Bbc"]).arg(&file).args([u, p]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        auth = format!("auth:\n  htpasswd:\n    realm: skiff-test\n    path: {}\n", file.display());
    }
    let config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
        dir.path().join("data").display()
    );
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Distribution { child, port, _dir: dir };
    wait_http(port, "docker-registry");
    Some(d)
}

/// A sandbox whose skiff configuration (credentials) lives in `cfg`.
struct Client<'a> {
    s: Sandbox,
    cfg: &'a Path,
}

impl Client<'_> {
    fn run(&self, args: &[&str]) -> Run {
        self.s.run_env(args, &[("SKIFF_CONFIG", self.cfg.as_os_str())])
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut c = self.s.cmd(args);
        c.env("SKIFF_CONFIG", self.cfg).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

fn lines_with<'a>(out: &'a str, suffix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.ends_with(suffix)).collect()
}

/// `TAG: digest: sha256:… size: N` → the digest.
fn pushed_digest(out: &str) -> String {
    let line =
        out.lines().find(|l| l.contains(": digest: sha256:")).unwrap_or_else(|| panic!("no digest line in\n{out}"));
    line.split_whitespace().nth(2).unwrap().to_string()
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn login_push_pull_against_the_real_registry() {
    let Some(reg) = distribution(Some(("ada", "lovelace"))) else { return };
    if require_tool("skopeo", "skopeo").is_none() {
        return;
    }
    let cfg = tempfile::tempdir().unwrap();
    let a = Client { s: Sandbox::new(), cfg: cfg.path() };
    let host = format!("127.0.0.1:{}", reg.port);
    let busybox = format!("{host}/yeeechen/busybox");
    a.run(&["pull", "busybox"]).ok();
    a.run(&["tag", "busybox", &busybox]).ok();

    // Not logged in: the registry refuses, in its own words.
    let r = a.run(&["push", &busybox]).code(1);
    assert!(r.stderr.contains("unauthorized: authentication required"), "{}", r.stderr);

    // A wrong password fails with Docker's message; nothing is stored.
    let r = a.run(&["login", "-u", "ada", "-p", "wrong", &host]).code(1);
    assert!(r.stderr.contains("WARNING! Using --password via the CLI is insecure. Use --password-stdin."));
    assert!(
        r.stderr.contains(&format!("Error: login attempt to http://{host}/v2/ failed with status: 401 Unauthorized")),
        "{}",
        r.stderr
    );
    assert!(!cfg.path().join("config.json").exists());
    let r = a.run(&["login", &host]).code(1);
    assert!(r.stderr.contains("Cannot perform an interactive login from a non TTY device"), "{}", r.stderr);

    // The right one: Docker's lines, Docker's file, readable by its owner only.
    let r = a.run_stdin(&["login", "-u", "ada", "--password-stdin", &host], "lovelace\n").ok();
    assert_eq!(r.stdout, "Login Succeeded\n");
    assert!(r.stderr.contains("WARNING! Your password will be stored unencrypted in "), "{}", r.stderr);
    assert!(!r.stdout.contains("lovelace") && !r.stderr.contains("lovelace"));
    let file = cfg.path().join("config.json");
    let stored = json(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(stored["auths"][&host]["auth"], "YWRhOmxvdmVsYWNl"); // base64("ada:lovelace")
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Push: every layer sent, then the manifest's digest and size.
    let r = a.run(&["push", &busybox]).ok();
    assert!(
        r.stdout.starts_with(&format!("Using default tag: latest\nThe push refers to repository [{busybox}]\n")),
        "{}",
        r.stdout
    );
    assert_eq!(lines_with(&r.stdout, ": Preparing").len(), 2, "{}", r.stdout);
    assert_eq!(lines_with(&r.stdout, ": Pushed").len(), 2, "{}", r.stdout);
    let digest = pushed_digest(&r.stdout);
    assert!(r.stdout.trim_end().ends_with(&format!("latest: digest: {digest} size: {}", {
        let line = r.stdout.lines().last().unwrap();
        line.rsplit(' ').next().unwrap().to_string()
    })));

    // skopeo sees what skiff pushed: a Docker v2 schema 2 manifest with gzip layers.
    let creds = "ada:lovelace";
    let raw =
        skopeo(&["inspect", "--raw", "--tls-verify=false", "--creds", creds, &format!("docker://{busybox}:latest")]);
    let m = json(&raw);
    assert_eq!(m["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(m["layers"][0]["mediaType"], "application/vnd.docker.image.rootfs.diff.tar.gzip");
    let info =
        json(&skopeo(&["inspect", "--tls-verify=false", "--creds", creds, &format!("docker://{busybox}:latest")]));
    assert_eq!(info["Digest"], digest.as_str());
    assert_eq!(info["Os"], "wasip1");

    // Pushing again sends nothing: same digest.
    let r = a.run(&["push", &busybox]).ok();
    assert_eq!(lines_with(&r.stdout, ": Layer already exists").len(), 2, "{}", r.stdout);
    assert_eq!(pushed_digest(&r.stdout), digest);

    // nginx shares busybox's two layers: mounted from the other repository, one layer pushed.
    let nginx = format!("{host}/yeeechen/nginx");
    a.run(&["pull", "nginx"]).ok();
    a.run(&["tag", "nginx", &nginx]).ok();
    let r = a.run(&["push", &nginx]).ok();
    assert_eq!(lines_with(&r.stdout, ": Mounted from yeeechen/busybox").len(), 2, "{}", r.stdout);
    assert_eq!(lines_with(&r.stdout, ": Pushed").len(), 1, "{}", r.stdout);
    let insp = json(&a.run(&["image", "inspect", &nginx]).ok().stdout);
    let nginx_digest = pushed_digest(&r.stdout);
    assert!(
        insp[0]["RepoDigests"].as_array().unwrap().iter().any(|d| d == &format!("{nginx}@{nginx_digest}")),
        "{insp}"
    );
    let layers = a.run(&["image", "layers", &nginx]).ok().stdout;
    assert!(layers.contains("compressed: sha256:"), "{layers}");

    // Another machine (same credentials) pulls them back, layer by layer.
    let b = Client { s: Sandbox::new(), cfg: cfg.path() };
    let r = b.run(&["pull", &busybox]).ok();
    assert!(r.stdout.starts_with("Using default tag: latest\nlatest: Pulling from yeeechen/busybox\n"), "{}", r.stdout);
    for status in ["Pulling fs layer", "Verifying Checksum", "Download complete", "Pull complete"] {
        assert_eq!(lines_with(&r.stdout, &format!(": {status}")).len(), 2, "{status}\n{}", r.stdout);
    }
    assert!(
        r.stdout.ends_with(&format!(
            "Digest: {digest}\nStatus: Downloaded newer image for {busybox}:latest\n{busybox}:latest\n"
        )),
        "{}",
        r.stdout
    );
    let r = b.run(&["pull", &nginx]).ok();
    assert_eq!(lines_with(&r.stdout, ": Already exists").len(), 2, "{}", r.stdout);
    assert_eq!(lines_with(&r.stdout, ": Pull complete").len(), 1, "{}", r.stdout);
    let r = b.run(&["pull", "-q", &busybox]).ok();
    assert_eq!(r.stdout, format!("{busybox}:latest\n"));
    let r = b.run(&["pull", &busybox]).ok();
    assert!(r.stdout.contains(&format!("Status: Image is up to date for {busybox}:latest")), "{}", r.stdout);
    // Same image, same ID, on both machines; and it runs.
    let id = |c: &Client, name: &str| c.run(&["image", "inspect", "-f", "{{.Id}}", name]).ok().stdout;
    assert_eq!(id(&a, &busybox), id(&b, &busybox));
    assert_eq!(b.run(&["run", "--rm", &nginx, "cat", "/etc/issue"]).ok().stdout, a.sh("cat /etc/issue"));
    // By digest too.
    let by_digest = format!("{busybox}@{digest}");
    b.run(&["rmi", &format!("{busybox}:latest")]).ok();
    let r = b.run(&["pull", &by_digest]).ok();
    assert!(r.stdout.ends_with(&format!("{by_digest}\n")), "{}", r.stdout);
    assert_eq!(b.run(&["run", "--rm", &by_digest, "echo", "by digest"]).ok().stdout, "by digest\n");

    // skopeo pushes (OCI, then Docker v2 schema 2, gzip by skopeo); skiff pulls and runs.
    let store = format!("oci:{}:docker.io/library/hello-world:latest", a.s.root().join("oci").display());
    a.run(&["pull", "hello-world"]).ok();
    for (tag, format) in [("oci", "oci"), ("v2s2", "v2s2")] {
        let dest = format!("docker://{host}/skopeo/hello:{tag}");
        skopeo(&[
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
            "--format",
            format,
            &store,
            &dest,
        ]);
        let name = format!("{host}/skopeo/hello:{tag}");
        let r = b.run(&["run", "--rm", &name]).ok();
        assert!(r.stderr.contains(&format!("Unable to find image '{name}' locally")), "{}", r.stderr);
        assert!(r.stdout.contains("Hello from skiff!") || r.stdout.contains("Hello"), "{}", r.stdout);
    }

    // Logout forgets; then the registry refuses again.
    let r = b.run(&["logout", &host]).ok();
    assert_eq!(r.stdout, format!("Removing login credentials for {host}\n"));
    assert_eq!(b.run(&["logout", &host]).ok().stdout, format!("Not logged in to {host}\n"));
    let r = b.run(&["pull", &format!("{busybox}:latest")]).code(1);
    assert!(r.stderr.contains("no basic auth credentials"), "{}", r.stderr);
}

impl Client<'_> {
    fn sh(&self, script: &str) -> String {
        self.run(&["run", "--rm", "busybox", "sh", "-c", script]).ok().stdout
    }
}

/// One HTTP request to 127.0.0.1:`port`: (status, body).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    c.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out.get(split + 4..).unwrap_or_default().to_vec())
}

/// A tar holding `name` with `size` bytes of noise (compresses to about its own size).
fn noise_tar(dir: &Path, name: &str, size: usize) -> PathBuf {
    let mut data = vec![0u8; size];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let path = dir.join(format!("{name}.tar"));
    let mut t = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(size as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    t.append_data(&mut h, name, &data[..]).unwrap();
    t.finish().unwrap();
    path
}

#[test]
fn manifest_lists_choose_a_platform_and_interrupted_pulls_complete() {
    let Some(reg) = distribution(None) else { return };
    let cfg = tempfile::tempdir().unwrap();
    let a = Client { s: Sandbox::new(), cfg: cfg.path() };
    let host = format!("127.0.0.1:{}", reg.port);

    // Two images of one name for two platforms, and a manifest list over them.
    let tar = noise_tar(a.s.work.path(), "noise", 48 << 20);
    let big = format!("{host}/lab/multi:wasm");
    a.run(&["pull", "busybox"]).ok();
    let r = a.run(&["import", "--platform", "wasip1/wasm", tar.to_str().unwrap(), &big]).ok();
    assert!(r.stdout.starts_with("sha256:"), "{}", r.stdout);
    let wasm = pushed_digest(&a.run(&["push", &big]).ok().stdout);
    let small = noise_tar(a.s.work.path(), "small", 1000);
    let linux = format!("{host}/lab/multi:linux");
    a.run(&["import", "--platform", "linux/amd64", small.to_str().unwrap(), &linux]).ok();
    let linux_digest = pushed_digest(&a.run(&["push", &linux]).ok().stdout);
    let size = |tag: &str| {
        let (st, body) = http(
            reg.port,
            "GET",
            &format!("/v2/lab/multi/manifests/{tag}"),
            &[("Accept", "application/vnd.docker.distribution.manifest.v2+json")],
            b"",
        );
        assert_eq!(st, 200);
        body.len()
    };
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": linux_digest, "size": size("linux"), "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": wasm, "size": size("wasm"), "platform": {"os": "wasip1", "architecture": "wasm"}},
        ]
    });
    let (st, body) = http(
        reg.port,
        "PUT",
        "/v2/lab/multi/manifests/both",
        &[("Content-Type", "application/vnd.docker.distribution.manifest.list.v2+json")],
        list.to_string().as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));

    // --platform chooses; the wasm one is 48 MB: kill -9 the first pull half-way.
    let b = Client { s: Sandbox::new(), cfg: cfg.path() };
    let both = format!("{host}/lab/multi:both");
    let mut child =
        b.s.cmd(&["pull", "--platform", "wasip1/wasm", &both])
            .env("SKIFF_CONFIG", cfg.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    let tmp = b.s.root().join("tmp");
    let start = Instant::now();
    let mut saw_partial = false;
    while start.elapsed() < Duration::from_secs(30) {
        let partial = std::fs::read_dir(&tmp).into_iter().flatten().flatten().find(|e| {
            e.file_name().to_string_lossy().ends_with(".partial") && e.metadata().map(|m| m.len() > 0).unwrap_or(false)
        });
        if partial.is_some() {
            saw_partial = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("killed the pull mid-download: {saw_partial}");
    // The store is consistent: nothing half-made is visible, and everything still reads.
    let images = b.run(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).ok().stdout;
    if saw_partial {
        assert!(!images.contains("lab/multi"), "{images}");
    }
    let r = b.run(&["pull", "--platform", "wasip1/wasm", &both]).ok();
    assert!(r.stdout.contains(&format!("Status: Downloaded newer image for {both}")), "{}", r.stdout);
    assert_eq!(b.run(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", &both]).ok().stdout, "wasip1/wasm\n");
    let ids = |c: &Client, n: &str| c.run(&["image", "inspect", "-f", "{{.Id}}", n]).ok().stdout;
    assert_eq!(ids(&b, &both), ids(&a, &big));
    assert!(std::fs::read_dir(&tmp).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().ends_with(".partial")));
    // The list's digest is what the tag names.
    let insp = json(&b.run(&["image", "inspect", &both]).ok().stdout);
    let rd = insp[0]["RepoDigests"][0].as_str().unwrap().to_string();
    assert!(rd.starts_with(&format!("{host}/lab/multi@sha256:")) && !rd.ends_with(&wasm), "{rd}");
    let r = b.run(&["pull", "--platform", "linux/amd64", &both]).ok();
    assert_eq!(
        b.run(&["image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", &both]).ok().stdout,
        "linux/amd64\n",
        "{}",
        r.stdout
    );
    let r = b.run(&["pull", "--platform", "linux/s390x", &both]).code(1);
    assert!(r.stderr.contains("no matching manifest for linux/s390x in the manifest list entries"), "{}", r.stderr);

    // pull -a: every tag, one status line for the repository.
    let c = Client { s: Sandbox::new(), cfg: cfg.path() };
    let r = c.run(&["pull", "-a", &format!("{host}/lab/multi")]).ok();
    for tag in ["both", "linux", "wasm"] {
        assert!(r.stdout.contains(&format!("{tag}: Pulling from lab/multi")), "{}", r.stdout);
    }
    assert!(
        r.stdout.ends_with(&format!("Status: Downloaded newer image for {host}/lab/multi\n{host}/lab/multi\n")),
        "{}",
        r.stdout
    );
    assert!(c
        .run(&["pull", "-a", &format!("{host}/lab/multi:x")])
        .code(1)
        .stderr
        .contains("tag can't be used with --all-tags/-a"));
}

#[test]
fn skiffs_own_registry_image() {
    let cfg = tempfile::tempdir().unwrap();
    let a = Client { s: Sandbox::new(), cfg: cfg.path() };
    let port = free_port();
    let publish = format!("{port}:5000");
    a.run(&["run", "-d", "--name", "registry", "-p", &publish, "registry:2"]).ok();
    wait_http(port, "registry:2");
    let host = format!("127.0.0.1:{port}");
    let busybox = format!("{host}/yeeechen/busybox");
    let nginx = format!("{host}/yeeechen/nginx");
    a.run(&["pull", "busybox"]).ok();
    a.run(&["tag", "busybox", &busybox]).ok();
    a.run(&["pull", "nginx"]).ok();
    a.run(&["tag", "nginx", &nginx]).ok();
    let r = a.run(&["push", &busybox]).ok();
    assert_eq!(lines_with(&r.stdout, ": Pushed").len(), 2, "{}", r.stdout);
    let r = a.run(&["push", &busybox]).ok();
    assert_eq!(lines_with(&r.stdout, ": Layer already exists").len(), 2, "{}", r.stdout);
    let r = a.run(&["push", &nginx]).ok();
    assert_eq!(lines_with(&r.stdout, ": Mounted from yeeechen/busybox").len(), 2, "{}", r.stdout);
    let digest = pushed_digest(&r.stdout);
    if require_tool("skopeo", "skopeo").is_some() {
        let info = json(&skopeo(&["inspect", "--tls-verify=false", &format!("docker://{nginx}:latest")]));
        assert_eq!(info["Digest"], digest.as_str());
    }
    let r = a.run(&["search", &format!("{host}/yeeechen")]).ok();
    assert!(r.stdout.starts_with("NAME"), "{}", r.stdout);
    assert!(r.stdout.contains(&busybox) && r.stdout.contains(&nginx), "{}", r.stdout);

    let b = Client { s: Sandbox::new(), cfg: cfg.path() };
    b.run(&["pull", &busybox]).ok();
    let r = b.run(&["pull", &nginx]).ok();
    assert_eq!(lines_with(&r.stdout, ": Already exists").len(), 2, "{}", r.stdout);
    assert!(r.stdout.contains(&format!("Digest: {digest}")), "{}", r.stdout);
    assert_eq!(
        b.run(&["run", "--rm", &busybox, "echo", "from skiff's registry"]).ok().stdout,
        "from skiff's registry\n"
    );
    a.run(&["rm", "-f", "registry"]).ok();
}

#[test]
fn unreachable_registries_fail_fast_with_one_line() {
    let cfg = tempfile::tempdir().unwrap();
    let a = Client { s: Sandbox::new(), cfg: cfg.path() };
    let port = free_port();
    let start = Instant::now();
    let r = a.run(&["pull", &format!("127.0.0.1:{port}/nothing:latest")]).code(1);
    assert_eq!(
        r.stderr,
        format!("Error: Get \"http://127.0.0.1:{port}/v2/\": dial tcp 127.0.0.1:{port}: connect: connection refused\n")
    );
    let r = a.run(&["run", "--rm", &format!("localhost:{port}/x")]).code(125);
    assert!(r.stderr.contains("Unable to find image") && r.stderr.contains("connection refused"), "{}", r.stderr);
    let r = a.run(&["push", &format!("127.0.0.1:{port}/nothing")]).code(1);
    assert!(r.stderr.contains("An image does not exist locally with the tag"), "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    // Docker Hub is not reachable from here: one line, quickly, naming the built-in images.
    let start = Instant::now();
    let r = a.run(&["run", "--rm", "ubuntu"]).code(125);
    let err: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("Error")).collect();
    assert_eq!(err.len(), 1, "{}", r.stderr);
    assert!(err[0].contains("registry-1.docker.io") && err[0].contains("built-in images"), "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(25), "took {:?}", start.elapsed());
    // search: the built-in library answers offline, in Docker's table.
    let r = a.run(&["search", "nginx"]).ok();
    let mut lines = r.stdout.lines();
    let head = lines.next().unwrap();
    assert!(head.starts_with("NAME") && head.contains("DESCRIPTION") && head.ends_with("AUTOMATED"), "{head}");
    assert!(lines.any(|l| l.starts_with("nginx ") && l.contains("[OK]")), "{}", r.stdout);
    let r = a.run(&["search", "--format", "{{.Name}}: {{.IsOfficial}}", "redis"]).ok();
    assert_eq!(r.stdout, "redis: [OK]\n");
    assert!(a
        .run(&["search", "--limit", "0", "x"])
        .code(1)
        .stderr
        .contains("Limit 0 is outside the range of [1, 100]"));
    assert_eq!(a.run(&["logout"]).ok().stdout, "Not logged in to https://index.docker.io/v1/\n");
    let _ = OsStr::new("");
}

/// Upload `data` as a blob of `repo` (POST, then PUT with the digest); returns the digest.
fn upload(port: u16, repo: &str, data: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)));
    let mut c = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "POST /v2/{repo}/blobs/uploads/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    c.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let location = out
        .lines()
        .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
        .unwrap_or_else(|| panic!("no upload location in {out}"))
        .trim()
        .to_string();
    let path = location.split_once(&format!("127.0.0.1:{port}")).map(|(_, p)| p).unwrap_or(&location);
    let sep = if path.contains('?') { '&' } else { '?' };
    let (st, body) = http(port, "PUT", &format!("{path}{sep}digest={digest}"), &[], data);
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));
    digest
}

/// A gzipped layer tar from raw (path, data) rows (no checks of the tar crate's own).
fn raw_layer(rows: &[(&str, &[u8])]) -> (Vec<u8>, String) {
    use sha2::Digest as _;
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in rows {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&tar)));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), diff_id)
}

/// Push a one-layer image to `repo:latest` by hand: the config names `diff_id`.
fn push_raw(port: u16, repo: &str, layer: &[u8], diff_id: &str) -> String {
    let config = serde_json::json!({
        "architecture": "wasm", "os": "wasip1",
        "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}
    })
    .to_string();
    let config_digest = upload(port, repo, config.as_bytes());
    let layer_digest = upload(port, repo, layer);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer.len(), "digest": layer_digest}]
    });
    let (st, body) = http(
        port,
        "PUT",
        &format!("/v2/{repo}/manifests/latest"),
        &[("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")],
        manifest.to_string().as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));
    layer_digest
}

/// Whether a file called `name` is anywhere below `dir`.
fn named(dir: &Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name() == name || e.file_type().map(|t| t.is_dir()).unwrap_or(false) && named(&e.path(), name))
}

#[test]
fn refused_layers_leave_nothing_behind() {
    let Some(reg) = distribution(None) else { return };
    let port = reg.port;
    let host = format!("127.0.0.1:{port}");
    let payload = vec![7u8; 600 << 10];
    // A layer that writes outside its directory (its digests are right).
    let (evil, evil_id) = raw_layer(&[("ok", b"fine"), ("../escaped", b"x")]);
    push_raw(port, "lab/evil", &evil, &evil_id);
    // A layer whose config names another diff ID.
    let (good, _) = raw_layer(&[("big", &payload)]);
    push_raw(port, "lab/lying", &good, &format!("sha256:{}", "0".repeat(64)));
    // A blob the registry's storage corrupted after the upload (same size, other bytes).
    let (other, other_id) = raw_layer(&[("big2", &payload)]);
    let digest = push_raw(port, "lab/corrupt", &other, &other_id);
    let hex = digest.trim_start_matches("sha256:");
    let stored = reg._dir.path().join(format!("data/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]));
    let mut bytes = std::fs::read(&stored).unwrap();
    let n = bytes.len();
    bytes[n / 2..n / 2 + 16].copy_from_slice(&[0x55; 16]);
    std::fs::write(&stored, bytes).unwrap();

    let s = Sandbox::new();
    for (repo, want) in [
        ("lab/evil", "invalid layer sha256:"),
        ("lab/lying", "does not match its image: it unpacks to sha256:"),
        ("lab/corrupt", &format!("filesystem layer verification failed for digest {digest}")),
    ] {
        let r = s.run(&["pull", &format!("{host}/{repo}")]).code(1);
        assert!(r.stderr.starts_with("Error: ") && r.stderr.contains(want), "{repo}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{repo}: {}", r.stderr);
        let images = s.run(&["images", "-q"]).ok().stdout;
        assert_eq!(images, "", "{repo}: no image");
        let layers = std::fs::read_dir(s.root().join("layers")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(layers, 0, "{repo}: no layer");
        let blobs = std::fs::read_dir(s.root().join("oci/blobs/sha256")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(blobs, 0, "{repo}: no blob");
        assert!(!named(s.root(), "escaped") && !named(s.work.path(), "escaped"), "{repo}: wrote outside");
        let r = s.run(&["system", "check"]);
        assert_eq!(r.code, 0, "{repo}: {}{}", r.stdout, r.stderr);
    }
}
