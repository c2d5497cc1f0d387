//! `registry:2`: skiff's teaching registry serves the Distribution API v2 to real clients on
//! the host (curl, and skopeo copying skiff images in and out of it), and keeps what was
//! pushed on its volume across containers.

use super::util::{free_port, require_tool, Sandbox};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A port nothing listens on now.
fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `skiff run -d -p PORT:5000 --name NAME [extra…] registry:2`, then wait (bounded) until
/// `GET /v2/` answers.
fn start(s: &Sandbox, name: &str, port: u16, extra: &[&str]) {
    start_on(s, name, port, 5000, extra)
}

/// `start` with the registry listening on `inner` in the container.
fn start_on(s: &Sandbox, name: &str, port: u16, inner: u16, extra: &[&str]) {
    let publish = format!("{port}:{inner}");
    let mut args = vec!["run", "-d", "--name", name, "-p", &publish];
    args.extend_from_slice(extra);
    args.push("registry:2");
    s.run(&args).ok();
    let start = Instant::now();
    loop {
        if let Ok(mut c) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = c.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            if c.read_to_string(&mut out).is_ok() && out.starts_with("HTTP/1.1 200 OK") {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "registry {name} never answered on 127.0.0.1:{port}\n{}",
            s.run(&["logs", name]).stdout
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One response as curl saw it.
struct Http {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Http {
    fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} in\n{}", self.head))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// `curl -sS -i ARGS`: the final response (a `100 Continue` before it is skipped).
fn curl(args: &[&str]) -> Http {
    let out = Command::new("curl").args(["-sS", "-i", "--max-time", "60"]).args(args).output().expect("curl runs");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut rest = &out.stdout[..];
    loop {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        rest = &rest[end..];
        if status != 100 {
            return Http { status, head, body: rest.to_vec() };
        }
    }
}

/// The registry's base URL.
fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// Push a small image (a config, a layer, a schema 2 manifest tagged `tag`) with curl's
/// monolithic uploads; the manifest's bytes.
fn push_small_image(port: u16, repo: &str, tag: &str) -> Vec<u8> {
    let config = br#"{"architecture":"wasm32","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"not really a tar, but a blob all the same\n";
    for blob in [&config[..], &layer[..]] {
        let r = curl(&[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            std::str::from_utf8(blob).unwrap(),
            &url(port, &format!("/v2/{repo}/blobs/uploads/?digest=sha256:{}", sha256(blob))),
        ]);
        assert_eq!(r.status, 201, "{}{}", r.head, r.text());
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"sha256:{}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":{},"digest":"sha256:{}"}}]}}"#,
        config.len(),
        sha256(config),
        layer.len(),
        sha256(layer)
    );
    let r = curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Content-Type: {DOCKER_MANIFEST}"),
        "--data-binary",
        &manifest,
        &url(port, &format!("/v2/{repo}/manifests/{tag}")),
    ]);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("Docker-Content-Digest"), format!("sha256:{}", sha256(manifest.as_bytes())));
    manifest.into_bytes()
}

/// `skiff logs NAME` once it shows `want` (the registry writes its log when idle).
fn logs_with(s: &Sandbox, name: &str, want: &str) -> String {
    let start = Instant::now();
    loop {
        let logs = s.run(&["logs", name]).ok().stdout;
        if logs.contains(want) || start.elapsed() > Duration::from_secs(10) {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn curl_speaks_the_distribution_api() {
    let Some(_) = require_tool("curl", "curl") else {
        return;
    };
    let s = Sandbox::new();
    let port = free_port();
    start(&s, "registry", port, &[]);

    let r = curl(&[&url(port, "/v2/")]);
    assert_eq!((r.status, r.text().as_str()), (200, "{}"));
    assert_eq!(r.header("Docker-Distribution-Api-Version"), "registry/2.0");
    assert_eq!(r.header("Content-Type"), "application/json; charset=utf-8");

    // A monolithic upload: one POST with the digest and the body.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let file = s.work.path().join("blob.bin");
    std::fs::write(&file, &data).unwrap();
    let hex = sha256(&data);
    let at_file = format!("@{}", file.display());
    let r = curl(&[
        "-X",
        "POST",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &at_file,
        &url(port, &format!("/v2/yeeechen/nginx/blobs/uploads/?digest=sha256:{hex}")),
    ]);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("Docker-Content-Digest"), format!("sha256:{hex}"));
    assert_eq!(r.header("Location"), url(port, &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}")));
    let r = curl(&["-I", &url(port, &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"))]);
    assert_eq!((r.status, r.header("Content-Length")), (200, data.len().to_string()));
    let r = curl(&[&url(port, &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"))]);
    assert!(r.body == data, "the blob comes back byte for byte");

    // A chunked upload: POST, two PATCHes sent with Transfer-Encoding: chunked, a status
    // check, and the PUT that names the digest.
    let r = curl(&["-X", "POST", &url(port, "/v2/yeeechen/nginx/blobs/uploads/")]);
    assert_eq!((r.status, r.header("Range").as_str()), (202, "0-0"));
    let uuid = r.header("Docker-Upload-Uuid");
    let mut location = r.header("Location");
    assert!(
        location.starts_with(&url(port, &format!("/v2/yeeechen/nginx/blobs/uploads/{uuid}?_state="))),
        "{location}"
    );
    let (part1, part2) = data.split_at(100_000);
    let mut sent = 0;
    for (i, part) in [part1, part2].iter().enumerate() {
        let f = s.work.path().join(format!("part{i}"));
        std::fs::write(&f, part).unwrap();
        let r = curl(&[
            "-X",
            "PATCH",
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", f.display()),
            &location,
        ]);
        sent += part.len();
        assert_eq!(r.status, 202, "{}", r.text());
        assert_eq!(r.header("Range"), format!("0-{}", sent - 1));
        location = r.header("Location");
    }
    let r = curl(&[&location]);
    assert_eq!((r.status, r.header("Range")), (204, format!("0-{}", data.len() - 1)));
    let r = curl(&["-X", "PUT", &format!("{location}&digest=sha256:{hex}")]);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("Docker-Content-Digest"), format!("sha256:{hex}"));

    // A digest that is not the content's: refused, nothing stored.
    let r = curl(&[
        "-X",
        "POST",
        "--data-binary",
        "other bytes",
        &url(port, &format!("/v2/yeeechen/nginx/blobs/uploads/?digest=sha256:{hex}x")),
    ]);
    assert_eq!(r.status, 400);
    let wrong = sha256(b"something else");
    let r = curl(&[
        "-X",
        "POST",
        "--data-binary",
        "other bytes",
        &url(port, &format!("/v2/yeeechen/nginx/blobs/uploads/?digest=sha256:{wrong}")),
    ]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["code"], "DIGEST_INVALID");
    assert_eq!(curl(&["-I", &url(port, &format!("/v2/yeeechen/nginx/blobs/sha256:{wrong}"))]).status, 404);

    // Manifests: put, get (by tag and digest), head; tags and the catalog.
    let manifest = push_small_image(port, "yeeechen/nginx", "1.0");
    let digest = format!("sha256:{}", sha256(&manifest));
    for reference in ["1.0", digest.as_str()] {
        let r = curl(&[
            "-H",
            &format!("Accept: {DOCKER_MANIFEST}"),
            &url(port, &format!("/v2/yeeechen/nginx/manifests/{reference}")),
        ]);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, manifest);
        assert_eq!(r.header("Content-Type"), DOCKER_MANIFEST);
        assert_eq!(r.header("Docker-Content-Digest"), digest);
    }
    let r = curl(&["-I", &url(port, "/v2/yeeechen/nginx/manifests/1.0")]);
    assert_eq!((r.status, r.header("Content-Length")), (200, manifest.len().to_string()));
    push_small_image(port, "library/alpine", "3");
    assert_eq!(
        curl(&[&url(port, "/v2/yeeechen/nginx/tags/list")]).text(),
        "{\"name\":\"yeeechen/nginx\",\"tags\":[\"1.0\"]}\n"
    );
    assert_eq!(
        curl(&[&url(port, "/v2/_catalog")]).text(),
        "{\"repositories\":[\"library/alpine\",\"yeeechen/nginx\"]}\n"
    );
    let r = curl(&[&url(port, "/v2/_catalog?n=1")]);
    assert_eq!(r.text(), "{\"repositories\":[\"library/alpine\"]}\n");
    assert_eq!(r.header("Link"), "</v2/_catalog?last=library%2Falpine&n=1>; rel=\"next\"");

    // Errors are Docker's JSON.
    let r = curl(&[&url(port, "/v2/yeeechen/nginx/manifests/nope")]);
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"nope\"}}]}\n");
    let r = curl(&[&url(port, "/v2/Upper/tags/list")]);
    assert_eq!((r.status, r.json()["errors"][0]["code"].as_str()), (400, Some("NAME_INVALID")));
    let r = curl(&["-X", "DELETE", &url(port, &format!("/v2/yeeechen/nginx/manifests/{digest}"))]);
    assert_eq!((r.status, r.json()["errors"][0]["code"].as_str()), (405, Some("UNSUPPORTED")));

    // The log: the start-up lines and one access line per request.
    let logs = logs_with(&s, "registry", "/v2/Upper/tags/list");
    assert!(logs.contains("level=info msg=\"listening on [::]:5000\""), "{logs}");
    assert!(logs.contains("\"GET /v2/ HTTP/1.1\" 200 2 \"\" \"curl/"), "{logs}");
    assert!(logs.contains("level=error msg=\"response completed with error\" err.code=\"manifest unknown\""), "{logs}");
    s.run(&["rm", "-f", "registry"]).ok();
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn inspect_digest(image: &str, tls: bool) -> String {
    let mut args = vec!["inspect"];
    if tls {
        args.push("--tls-verify=false");
    }
    args.push(image);
    let v: serde_json::Value = serde_json::from_str(&skopeo(&args)).unwrap();
    v["Digest"].as_str().unwrap().to_string()
}

/// A layer tar holding one file `big.bin` of `size` pseudo-random bytes.
fn big_layer(path: &Path, size: usize) {
    let mut data = vec![0u8; size];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(size as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "big.bin", &data[..]).unwrap();
    b.finish().unwrap();
}

#[test]
fn skopeo_copies_skiff_images_in_and_out() {
    let Some(_) = require_tool("skopeo", "skopeo") else {
        return;
    };
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let port = free_port();
    start(&s, "registry", port, &[]);
    let layout = |name: &str| format!("oci:{}:docker.io/library/{name}", s.root().join("oci").display());
    let remote = |name: &str| format!("docker://127.0.0.1:{port}/skiff/{name}");

    // In: skiff's store is an OCI layout; the manifest travels unchanged (same digest; without
    // --preserve-digests skopeo would gzip skiff's uncompressed layers on the way).
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &layout("busybox:latest"),
        &remote("busybox:v1"),
    ]);
    let want = inspect_digest(&layout("busybox:latest"), false);
    assert_eq!(inspect_digest(&remote("busybox:v1"), true), want);
    let tags: serde_json::Value =
        serde_json::from_str(&skopeo(&["list-tags", "--tls-verify=false", &remote("busybox")])).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["v1"]));

    // Out again, into an archive skiff loads and runs.
    let tar = s.work.path().join("back.tar");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &remote("busybox:v1"),
        &format!("oci-archive:{}:back/busybox:v1", tar.display()),
    ]);
    assert_eq!(s.run(&["load", "-i", tar.to_str().unwrap()]).ok().stdout, "Loaded image: back/busybox:v1\n");
    assert_eq!(s.run(&["run", "--rm", "back/busybox:v1", "echo", "round trip"]).ok().stdout, "round trip\n");

    // A 50 MB layer: pushed and pulled through the registry (timed, for the record).
    let big = s.work.path().join("big.tar");
    big_layer(&big, 50 << 20);
    s.run(&["import", big.to_str().unwrap(), "big:v1"]).ok();
    let t = Instant::now();
    skopeo(&["copy", "--preserve-digests", "--dest-tls-verify=false", &layout("big:v1"), &remote("big:v1")]);
    let push = t.elapsed();
    let t = Instant::now();
    let out = s.work.path().join("big-out");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &remote("big:v1"),
        &format!("oci:{}:big", out.display()),
    ]);
    let pull = t.elapsed();
    eprintln!("registry:2 with a 50 MB layer: skopeo push {push:?}, pull {pull:?}");
    assert_eq!(inspect_digest(&format!("oci:{}:big", out.display()), false), inspect_digest(&layout("big:v1"), false));
    assert!(push < Duration::from_secs(120) && pull < Duration::from_secs(120));
    s.run(&["rm", "-f", "registry"]).ok();
}

#[test]
fn the_volume_keeps_what_was_pushed() {
    let Some(_) = require_tool("curl", "curl") else {
        return;
    };
    let s = Sandbox::new();
    let port = free_port();
    start(&s, "registry", port, &["-v", "regdata:/var/lib/registry"]);
    let manifest = push_small_image(port, "skiff/hello", "v1");
    let digest = format!("sha256:{}", sha256(&manifest));
    s.run(&["rm", "-f", "registry"]).ok();
    // The real registry's layout, on the volume.
    let v2 = s.root().join("volumes/regdata/_data/docker/registry/v2");
    assert_eq!(
        std::fs::read_to_string(v2.join("repositories/skiff/hello/_manifests/tags/v1/current/link")).unwrap(),
        digest
    );

    // A new container on the same volume (listening on another port, as REGISTRY_HTTP_ADDR
    // says) serves it; with deletes enabled it can drop it, and garbage-collect sweeps the
    // blobs nothing references any more.
    let port = free_port();
    start_on(
        &s,
        "registry2",
        port,
        5001,
        &[
            "-v",
            "regdata:/var/lib/registry",
            "-e",
            "REGISTRY_STORAGE_DELETE_ENABLED=true",
            "-e",
            "REGISTRY_HTTP_ADDR=0.0.0.0:5001",
        ],
    );
    let r = curl(&["-H", &format!("Accept: {DOCKER_MANIFEST}"), &url(port, "/v2/skiff/hello/manifests/v1")]);
    assert_eq!((r.status, &r.body), (200, &manifest));
    assert_eq!(curl(&[&url(port, "/v2/_catalog")]).text(), "{\"repositories\":[\"skiff/hello\"]}\n");
    let r = curl(&["-X", "DELETE", &url(port, &format!("/v2/skiff/hello/manifests/{digest}"))]);
    assert_eq!(r.status, 202);
    assert_eq!(curl(&[&url(port, "/v2/skiff/hello/manifests/v1")]).status, 404);
    let gc =
        s.run(&["exec", "registry2", "registry", "garbage-collect", "/etc/docker/registry/config.yml"]).ok().stdout;
    assert!(gc.contains("0 blobs marked, 3 blobs and 0 manifests eligible for deletion"), "{gc}");
    s.run(&["rm", "-f", "registry2"]).ok();
}
