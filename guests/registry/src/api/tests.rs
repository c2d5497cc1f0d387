//! The API driven through the service as the event loop drives it: bytes in (in pieces, as
//! a socket delivers them), bytes out, over a temporary storage root.

use super::*;
use crate::config::DEFAULT_CONFIG;
use crate::event::Service;
use crate::store::tests::tempdir;
use std::net::Ipv4Addr;
use std::path::PathBuf;

const NOW: u64 = 1_795_514_400_000;

struct T {
    reg: Registry,
    conn: Conn,
    root: PathBuf,
    log: Vec<u8>,
}

#[derive(Debug)]
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// A `100 Continue` came first.
    continued: bool,
}

impl Got {
    fn h(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.headers))
    }
    fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or("").to_string()
    }
    /// The path and query of `Location`, without scheme and host.
    fn location(&self) -> String {
        let l = self.h("Location");
        l.strip_prefix("http://localhost:5000").unwrap_or(l).to_string()
    }
}

/// Split raw output into responses (the body length from `Content-Length`; `head` says
/// which requests were HEAD).
fn responses(out: &[u8], heads: &[bool]) -> Vec<Got> {
    let mut v = Vec::new();
    let mut rest = out;
    let mut continued = false;
    let mut i = 0;
    while !rest.is_empty() {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head") + 4;
        let head = std::str::from_utf8(&rest[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        rest = &rest[end..];
        if status == 100 {
            continued = true;
            continue;
        }
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        let len = if heads.get(i).copied().unwrap_or(false) || status == 204 || status == 304 {
            0
        } else {
            headers.iter().find(|(k, _)| k == "Content-Length").map(|(_, v)| v.parse().unwrap()).unwrap_or(rest.len())
        };
        v.push(Got { status, headers, body: rest[..len].to_vec(), continued });
        rest = &rest[len..];
        continued = false;
        i += 1;
    }
    v
}

impl T {
    fn new(env: &[(&str, &str)]) -> T {
        let root = tempdir("api");
        T::at(root, env)
    }

    fn at(root: PathBuf, env: &[(&str, &str)]) -> T {
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY".into(), root.to_str().unwrap().into()));
        let mut reg = Registry::new(Config::load(DEFAULT_CONFIG, &env).unwrap());
        let conn = reg.open(SocketAddrV4::new(Ipv4Addr::new(172, 17, 0, 1), 40000));
        T { reg, conn, root, log: Vec::new() }
    }

    /// Feed `pieces` (as separate reads), return the raw output and whether it closed.
    fn raw(&mut self, pieces: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut closed = false;
        for p in pieces {
            buf.extend_from_slice(p);
            while !buf.is_empty() && !closed {
                let mut cx = Ctx { out: &mut out, log: &mut self.log, now_ms: NOW, wake: 1 };
                match self.reg.step(&mut self.conn, &buf, &mut cx) {
                    Step::Need => break,
                    Step::Used(n) => {
                        buf.drain(..n.max(1));
                    }
                    Step::Close(n) => {
                        buf.drain(..n);
                        closed = true;
                    }
                }
                while self.reg.streaming(&self.conn) {
                    let mut cx = Ctx { out: &mut out, log: &mut self.log, now_ms: NOW, wake: 1 };
                    self.reg.fill(&mut self.conn, &mut cx).unwrap();
                }
            }
        }
        (out, closed)
    }

    fn req(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Got {
        let mut h = format!("{method} {target} HTTP/1.1\r\nHost: localhost:5000\r\nUser-Agent: test/1.0\r\n");
        for (k, v) in headers {
            h += &format!("{k}: {v}\r\n");
        }
        if !body.is_empty() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding")) {
            h += &format!("Content-Length: {}\r\n", body.len());
        }
        h += "\r\n";
        let (out, _) = self.raw(&[h.as_bytes(), body]);
        let mut v = responses(&out, &[method == "HEAD"]);
        assert_eq!(v.len(), 1, "{}", String::from_utf8_lossy(&out));
        v.remove(0)
    }

    fn get(&mut self, target: &str) -> Got {
        self.req("GET", target, &[], b"")
    }

    /// Push a blob monolithically; its hex digest.
    fn blob(&mut self, repo: &str, data: &[u8]) -> String {
        let hex = util::sha256_hex(data);
        let r = self.req(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest=sha256:{hex}"),
            &[("Content-Type", "application/octet-stream")],
            data,
        );
        assert_eq!(r.status, 201, "{}", r.text());
        hex
    }

    /// A schema 2 image manifest over a config and layers pushed to `repo`.
    fn image(&mut self, repo: &str, seed: &str) -> Vec<u8> {
        let config = self.blob(repo, format!("{{\"architecture\":\"wasm32\",\"seed\":\"{seed}\"}}").as_bytes());
        let layer = self.blob(repo, format!("layer {seed}").as_bytes());
        format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"{MT_DOCKER_MANIFEST}\",\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1,\"digest\":\"sha256:{config}\"}},\"layers\":[{{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":1,\"digest\":\"sha256:{layer}\"}}]}}"
        )
        .into_bytes()
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log).into_owned()
    }
}

impl Drop for T {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn base_and_headers() {
    let mut t = T::new(&[]);
    let r = t.get("/v2/");
    assert_eq!((r.status, r.text().as_str()), (200, "{}"));
    assert_eq!(r.h("Content-Type"), "application/json; charset=utf-8");
    assert_eq!(r.h("Content-Length"), "2");
    assert_eq!(r.h("Docker-Distribution-Api-Version"), "registry/2.0");
    assert_eq!(r.h("X-Content-Type-Options"), "nosniff");
    assert_eq!(r.headers.last().unwrap().0, "Date");
    let names: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).filter(|k| *k != "Date").collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "headers in Go's order");
    assert_eq!(t.req("HEAD", "/v2/", &[], b"").body, b"");
    assert_eq!(t.get("/v2").status, 301);
    let r = t.get("/nope");
    assert_eq!((r.status, r.text().as_str()), (404, "404 page not found\n"));
    assert!(
        t.log().contains("172.17.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET /v2/ HTTP/1.1\" 200 2 \"\" \"test/1.0\"\n"),
        "{}",
        t.log()
    );
}

#[test]
fn monolithic_upload_and_blob_reads() {
    let mut t = T::new(&[]);
    let hex = t.blob("yeeechen/nginx", b"hello world");
    let r = t.req("HEAD", &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"), &[], b"");
    assert_eq!(
        (r.status, r.h("Content-Length"), r.h("Docker-Content-Digest")),
        (200, "11", format!("sha256:{hex}").as_str())
    );
    assert_eq!(r.h("Content-Type"), "application/octet-stream");
    assert_eq!(r.h("Etag"), format!("\"sha256:{hex}\""));
    let r = t.get(&format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"));
    assert_eq!(r.body, b"hello world");
    let r = t.req("GET", &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"), &[("Range", "bytes=6-")], b"");
    assert_eq!((r.status, r.body.as_slice(), r.h("Content-Range")), (206, &b"world"[..], "bytes 6-10/11"));
    assert_eq!(
        t.req("GET", &format!("/v2/yeeechen/nginx/blobs/sha256:{hex}"), &[("Range", "bytes=20-")], b"").status,
        416
    );
    // Another repository does not have it.
    let r = t.get(&format!("/v2/other/blobs/sha256:{hex}"));
    assert_eq!((r.status, r.code().as_str()), (404, "BLOB_UNKNOWN"));
    assert_eq!(r.json()["errors"][0]["detail"], format!("sha256:{hex}"));
    assert_eq!(r.json()["errors"][0]["message"], "blob unknown to registry");
    let r = t.req("HEAD", &format!("/v2/other/blobs/sha256:{hex}"), &[], b"");
    assert_eq!((r.status, r.body.len()), (404, 0));
    assert_eq!(t.get("/v2/x/blobs/sha256:abc").code(), "DIGEST_INVALID");
    // The layout on disk.
    let v2 = t.root.join("docker/registry/v2");
    assert!(v2.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2])).is_file());
    assert!(v2.join(format!("repositories/yeeechen/nginx/_layers/sha256/{hex}/link")).is_file());
}

#[test]
fn a_wrong_digest_stores_nothing() {
    let mut t = T::new(&[]);
    let wrong = util::sha256_hex(b"something else");
    let r = t.req("POST", &format!("/v2/a/blobs/uploads/?digest=sha256:{wrong}"), &[], b"hello");
    assert_eq!((r.status, r.code().as_str()), (400, "DIGEST_INVALID"));
    assert_eq!(r.json()["errors"][0]["message"], "provided digest did not match uploaded content");
    assert!(t.reg.store.blobs().is_empty());
    assert!(t.reg.store.uploads().is_empty());
    assert!(
        t.log().contains("level=error msg=\"response completed with error\" err.code=\"digest invalid\""),
        "{}",
        t.log()
    );
}

#[test]
fn chunked_upload_with_patch_and_put() {
    let mut t = T::new(&[]);
    let r = t.req("POST", "/v2/app/blobs/uploads/", &[], b"");
    assert_eq!((r.status, r.h("Range"), r.h("Content-Length")), (202, "0-0", "0"));
    let uuid = r.h("Docker-Upload-Uuid").to_string();
    assert!(r.h("Location").starts_with(&format!("http://localhost:5000/v2/app/blobs/uploads/{uuid}?_state=")));
    let loc = r.location();
    // A PATCH with a chunked body, arriving in odd pieces.
    let head = format!("PATCH {loc} HTTP/1.1\r\nHost: localhost:5000\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n");
    let (out, closed) = t.raw(&[head.as_bytes(), b"6\r\nhel", b"lo \r\n5\r", b"\nworld\r\n0\r\n", b"\r\n"]);
    assert!(!closed);
    let r = responses(&out, &[false]).remove(0);
    assert_eq!((r.status, r.h("Range")), (202, "0-10"));
    let loc = r.location();
    let r = t.get(&loc);
    assert_eq!((r.status, r.h("Range"), r.h("Docker-Upload-Uuid")), (204, "0-10", uuid.as_str()));
    assert!(!r.has("Content-Length"));
    // The old location's offset is stale: the upload is refused (and cancelled), as in 2.8.
    // The final PUT carries the last piece.
    let hex = util::sha256_hex(b"hello world!");
    let r = t.req("PUT", &format!("{loc}&digest=sha256%3A{hex}"), &[], b"!");
    assert_eq!((r.status, r.h("Docker-Content-Digest")), (201, format!("sha256:{hex}").as_str()));
    assert_eq!(r.h("Location"), format!("http://localhost:5000/v2/app/blobs/sha256:{hex}"));
    assert_eq!(t.get(&format!("/v2/app/blobs/sha256:{hex}")).body, b"hello world!");
    assert!(t.reg.store.uploads().is_empty());
    // The upload is gone now.
    assert_eq!(t.get(&loc).code(), "BLOB_UPLOAD_UNKNOWN");
}

#[test]
fn upload_state_is_checked() {
    let mut t = T::new(&[]);
    let r = t.req("POST", "/v2/app/blobs/uploads/", &[], b"");
    let loc = r.location();
    let uuid = r.h("Docker-Upload-Uuid").to_string();
    let r = t.get(&format!("/v2/app/blobs/uploads/{uuid}"));
    assert_eq!((r.status, r.code().as_str()), (404, "BLOB_UPLOAD_INVALID"));
    let r = t.get(&loc.replace("/app/", "/other/"));
    assert_eq!(r.code(), "BLOB_UPLOAD_INVALID");
    // A PATCH moves the offset: the old state no longer matches and the upload is dropped.
    let r = t.req("PATCH", &loc, &[], b"abc");
    assert_eq!(r.status, 202);
    assert_eq!(t.req("PATCH", &loc, &[], b"def").code(), "BLOB_UPLOAD_INVALID");
    assert!(t.reg.store.uploads().is_empty());
    // Missing and bad digests on PUT.
    let r = t.req("POST", "/v2/app/blobs/uploads/", &[], b"");
    let loc = r.location();
    assert_eq!(t.req("PUT", &loc, &[], b"").code(), "DIGEST_INVALID");
    assert_eq!(
        t.req("PUT", &format!("{loc}&digest=nope"), &[], b"").json()["errors"][0]["detail"],
        "digest parsing failed"
    );
    // DELETE cancels.
    let r = t.req("DELETE", &loc, &[], b"");
    assert_eq!(r.status, 204);
    assert_eq!(t.get(&loc).code(), "BLOB_UPLOAD_UNKNOWN");
}

#[test]
fn expect_continue_and_pipelining() {
    let mut t = T::new(&[]);
    let hex = util::sha256_hex(b"abc");
    let req = format!("POST /v2/a/blobs/uploads/?digest=sha256:{hex} HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    let (out, _) = t.raw(&[req.as_bytes()]);
    assert_eq!(out, b"HTTP/1.1 100 Continue\r\n\r\n");
    let (out, _) = t.raw(&[b"abcGET /v2/ HTTP/1.1\r\n\r\nGET /v2/a/tags/list HTTP/1.1\r\n\r\n"]);
    let rs = responses(&out, &[false, false, false]);
    assert!(!rs[0].continued, "the 100 came before");
    assert_eq!(rs.iter().map(|r| r.status).collect::<Vec<_>>(), vec![201, 200, 404]);
    // A body sent with a request answered at once is read and dropped.
    let (out, closed) =
        t.raw(&[b"PATCH /v2/a/blobs/uploads/x HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345GET /v2/ HTTP/1.1\r\n\r\n"]);
    assert!(!closed);
    let rs = responses(&out, &[false, false]);
    assert_eq!((rs[0].status, rs[1].status), (404, 200));
    // Connection: close closes after the answer.
    let (_, closed) = t.raw(&[b"GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n"]);
    assert!(closed);
}

#[test]
fn cross_repository_mount() {
    let mut t = T::new(&[]);
    let hex = t.blob("lib/base", b"shared layer");
    let r = t.req("POST", &format!("/v2/app/blobs/uploads/?mount=sha256:{hex}&from=lib/base"), &[], b"");
    assert_eq!((r.status, r.h("Docker-Content-Digest")), (201, format!("sha256:{hex}").as_str()));
    assert_eq!(t.get(&format!("/v2/app/blobs/sha256:{hex}")).body, b"shared layer");
    // Not in the source repository: an ordinary upload starts.
    let r = t.req("POST", &format!("/v2/app2/blobs/uploads/?mount=sha256:{hex}&from=nowhere"), &[], b"");
    assert_eq!(r.status, 202);
    assert!(r.has("Docker-Upload-Uuid"));
}

#[test]
fn manifests_tags_and_catalog() {
    let mut t = T::new(&[]);
    let m = t.image("yeeechen/nginx", "1");
    let hex = util::sha256_hex(&m);
    let r = t.req("PUT", "/v2/yeeechen/nginx/manifests/latest", &[("Content-Type", MT_DOCKER_MANIFEST)], &m);
    assert_eq!((r.status, r.h("Docker-Content-Digest")), (201, format!("sha256:{hex}").as_str()));
    assert_eq!(r.h("Location"), format!("http://localhost:5000/v2/yeeechen/nginx/manifests/sha256:{hex}"));
    for reference in ["latest".to_string(), format!("sha256:{hex}")] {
        let r = t.get(&format!("/v2/yeeechen/nginx/manifests/{reference}"));
        assert_eq!((r.status, r.h("Content-Type")), (200, MT_DOCKER_MANIFEST));
        assert_eq!(r.body, m);
        assert_eq!(r.h("Docker-Content-Digest"), format!("sha256:{hex}"));
        let r = t.req("HEAD", &format!("/v2/yeeechen/nginx/manifests/{reference}"), &[], b"");
        assert_eq!((r.status, r.h("Content-Length"), r.body.len()), (200, m.len().to_string().as_str(), 0));
    }
    let r =
        t.req("GET", "/v2/yeeechen/nginx/manifests/latest", &[("If-None-Match", &format!("\"sha256:{hex}\""))], b"");
    assert_eq!(r.status, 304);
    let r = t.get("/v2/yeeechen/nginx/manifests/nope");
    assert_eq!((r.status, r.text()), (404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"nope\"}}]}\n".to_string()));
    let other = util::sha256_hex(b"x");
    assert_eq!(
        t.get(&format!("/v2/yeeechen/nginx/manifests/sha256:{other}")).json()["errors"][0]["detail"],
        json!({"Name": "yeeechen/nginx", "Revision": format!("sha256:{other}")})
    );
    // Tags and pagination.
    for tag in ["v2", "v1", "v3"] {
        assert_eq!(
            t.req("PUT", &format!("/v2/yeeechen/nginx/manifests/{tag}"), &[("Content-Type", MT_DOCKER_MANIFEST)], &m)
                .status,
            201
        );
    }
    let r = t.get("/v2/yeeechen/nginx/tags/list");
    assert_eq!(r.text(), "{\"name\":\"yeeechen/nginx\",\"tags\":[\"latest\",\"v1\",\"v2\",\"v3\"]}\n");
    let r = t.get("/v2/yeeechen/nginx/tags/list?n=2");
    assert_eq!(r.json()["tags"], json!(["latest", "v1"]));
    assert_eq!(r.h("Link"), "</v2/yeeechen/nginx/tags/list?last=v1&n=2>; rel=\"next\"");
    let r = t.get("/v2/yeeechen/nginx/tags/list?n=2&last=v1");
    assert_eq!(r.json()["tags"], json!(["v2", "v3"]));
    assert!(!r.has("Link"));
    let r = t.get("/v2/nobody/tags/list");
    assert_eq!((r.status, r.code().as_str()), (404, "NAME_UNKNOWN"));
    assert_eq!(r.json()["errors"][0]["detail"], json!({"name": "nobody"}));
    // The catalog.
    let m2 = t.image("alpine", "2");
    assert_eq!(t.req("PUT", "/v2/alpine/manifests/3", &[("Content-Type", MT_DOCKER_MANIFEST)], &m2).status, 201);
    assert_eq!(t.get("/v2/_catalog").text(), "{\"repositories\":[\"alpine\",\"yeeechen/nginx\"]}\n");
    let r = t.get("/v2/_catalog?n=1");
    assert_eq!(
        (r.json(), r.h("Link")),
        (json!({"repositories": ["alpine"]}), "</v2/_catalog?last=alpine&n=1>; rel=\"next\"")
    );
    let r = t.get("/v2/_catalog?n=1&last=alpine");
    assert_eq!(r.json(), json!({"repositories": ["yeeechen/nginx"]}));
    assert!(!r.has("Link"));
    assert_eq!(t.get("/v2/_catalog?n=5000").code(), "PAGINATION_NUMBER_INVALID");
    assert_eq!(t.req("POST", "/v2/_catalog", &[], b"").status, 405);
}

#[test]
fn manifest_checks() {
    let mut t = T::new(&[]);
    let m = t.image("app", "1");
    let put = |t: &mut T, r: &str, ct: &str, body: &[u8]| {
        t.req("PUT", &format!("/v2/app/manifests/{r}"), &[("Content-Type", ct)], body)
    };
    // Blobs the repository lacks.
    let missing = m.clone();
    let r = put(&mut t, "x", MT_DOCKER_MANIFEST, &missing);
    assert_eq!(r.status, 201);
    let r = t.req("PUT", "/v2/elsewhere/manifests/x", &[("Content-Type", MT_DOCKER_MANIFEST)], &m);
    assert_eq!((r.status, r.code().as_str()), (400, "MANIFEST_BLOB_UNKNOWN"));
    assert_eq!(r.json()["errors"].as_array().unwrap().len(), 2, "one error per missing blob");
    // Not JSON, wrong media types, a bad tag, a bad name, a digest that is not the content's.
    assert_eq!(put(&mut t, "x", MT_DOCKER_MANIFEST, b"{nope").code(), "MANIFEST_INVALID");
    assert_eq!(put(&mut t, "x", "application/json", &m).code(), "MANIFEST_INVALID");
    assert_eq!(put(&mut t, "x", MT_OCI_MANIFEST, &m).code(), "MANIFEST_INVALID");
    let r = put(&mut t, "-bad", MT_DOCKER_MANIFEST, &m);
    assert_eq!((r.status, r.code().as_str()), (400, "TAG_INVALID"));
    let r = t.req("PUT", "/v2/App/manifests/x", &[("Content-Type", MT_DOCKER_MANIFEST)], &m);
    assert_eq!((r.status, r.code().as_str()), (400, "NAME_INVALID"));
    assert_eq!(r.json()["errors"][0]["detail"]["Reason"], "repository name must be lowercase");
    let other = util::sha256_hex(b"other");
    assert_eq!(put(&mut t, &format!("sha256:{other}"), MT_DOCKER_MANIFEST, &m).code(), "DIGEST_INVALID");
    assert_eq!(put(&mut t, &format!("sha256:{}", util::sha256_hex(&m)), MT_DOCKER_MANIFEST, &m).status, 201);
    // An OCI index over the manifest (pushed by digest), without a mediaType field.
    let hex = util::sha256_hex(&m);
    let index = format!("{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{MT_DOCKER_MANIFEST}\",\"size\":{},\"digest\":\"sha256:{hex}\"}}]}}", m.len());
    let r = put(&mut t, "multi", MT_OCI_INDEX, index.as_bytes());
    assert_eq!(r.status, 201, "{}", r.text());
    let r =
        t.req("GET", "/v2/app/manifests/multi", &[("Accept", &format!("{MT_DOCKER_MANIFEST}, {MT_OCI_INDEX}"))], b"");
    assert_eq!((r.status, r.h("Content-Type")), (200, MT_OCI_INDEX));
    let r = t.get("/v2/app/manifests/multi");
    assert_eq!(
        (r.status, r.json()["errors"][0]["message"].as_str()),
        (404, Some("OCI index found, but accept header does not support OCI indexes"))
    );
    let bad_index = index.replace(&hex, &other);
    assert_eq!(put(&mut t, "multi2", MT_OCI_INDEX, bad_index.as_bytes()).code(), "MANIFEST_BLOB_UNKNOWN");
    // Too big.
    let big = vec![b' '; 5 << 20];
    assert_eq!(
        put(&mut t, "big", MT_DOCKER_MANIFEST, &big).json()["errors"][0]["detail"],
        "http: request body too large"
    );
}

#[test]
fn deletes_need_to_be_enabled() {
    let mut t = T::new(&[]);
    let m = t.image("app", "1");
    let hex = util::sha256_hex(&m);
    assert_eq!(t.req("PUT", "/v2/app/manifests/v1", &[("Content-Type", MT_DOCKER_MANIFEST)], &m).status, 201);
    let r = t.req("DELETE", &format!("/v2/app/manifests/sha256:{hex}"), &[], b"");
    assert_eq!((r.status, r.code().as_str()), (405, "UNSUPPORTED"));
    let layer = util::sha256_hex(b"layer 1");
    assert_eq!(t.req("DELETE", &format!("/v2/app/blobs/sha256:{layer}"), &[], b"").code(), "UNSUPPORTED");

    let mut t =
        T::at(std::mem::replace(&mut t.root, tempdir("unused")), &[("REGISTRY_STORAGE_DELETE_ENABLED", "true")]);
    assert_eq!(t.req("DELETE", "/v2/app/manifests/v1", &[], b"").code(), "DIGEST_INVALID");
    assert_eq!(t.req("DELETE", &format!("/v2/app/manifests/sha256:{hex}"), &[], b"").status, 202);
    assert_eq!(t.get("/v2/app/manifests/v1").code(), "MANIFEST_UNKNOWN");
    assert_eq!(t.get("/v2/app/tags/list").text(), "{\"name\":\"app\",\"tags\":null}\n");
    assert_eq!(t.req("DELETE", &format!("/v2/app/manifests/sha256:{hex}"), &[], b"").status, 404);
    assert_eq!(t.req("DELETE", &format!("/v2/app/blobs/sha256:{layer}"), &[], b"").status, 202);
    assert_eq!(t.get(&format!("/v2/app/blobs/sha256:{layer}")).status, 404);
}

#[test]
fn a_restart_serves_what_was_stored_and_resumes_uploads() {
    let secret = [("REGISTRY_HTTP_SECRET", "s3cret")];
    let mut t = T::new(&secret);
    let m = t.image("app", "1");
    assert_eq!(t.req("PUT", "/v2/app/manifests/v1", &[("Content-Type", MT_DOCKER_MANIFEST)], &m).status, 201);
    let r = t.req("POST", "/v2/app/blobs/uploads/", &[], b"");
    let r = t.req("PATCH", &r.location(), &[], b"half ");
    let loc = r.location();
    let root = std::mem::replace(&mut t.root, tempdir("unused"));
    drop(t);
    let mut t = T::at(root, &secret);
    assert_eq!(t.get("/v2/app/manifests/v1").body, m);
    let hex = util::sha256_hex(b"half done");
    let r = t.req("PUT", &format!("{loc}&digest=sha256:{hex}"), &[], b"done");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(t.get(&format!("/v2/app/blobs/sha256:{hex}")).body, b"half done");
}

#[test]
fn read_only_mode_takes_no_writes() {
    let mut t = T::new(&[("REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED", "true")]);
    let r = t.req("POST", "/v2/app/blobs/uploads/", &[], b"");
    assert_eq!((r.status, r.h("Allow")), (405, "GET, HEAD"));
}

#[test]
fn big_bodies_stream_to_disk() {
    let mut t = T::new(&[]);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let hex = util::sha256_hex(&data);
    let r = t.req("POST", "/v2/big/blobs/uploads/", &[], b"");
    let head =
        format!("PATCH {} HTTP/1.1\r\nHost: localhost:5000\r\nContent-Length: {}\r\n\r\n", r.location(), data.len());
    let mut pieces: Vec<&[u8]> = vec![head.as_bytes()];
    pieces.extend(data.chunks(65536));
    let (out, _) = t.raw(&pieces);
    let r = responses(&out, &[false]).remove(0);
    assert_eq!(r.h("Range"), "0-2999999");
    assert_eq!(t.req("PUT", &format!("{}&digest=sha256:{hex}", r.location()), &[], b"").status, 201);
    let r = t.get(&format!("/v2/big/blobs/sha256:{hex}"));
    assert!(r.body == data);
}

/// A blocking HTTP/1.1 client for one keep-alive connection.
struct Client {
    s: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn fill(&mut self) {
        let mut b = [0u8; 65536];
        let n = self.s.read(&mut b).unwrap();
        assert!(n > 0, "server closed");
        self.buf.extend_from_slice(&b[..n]);
    }

    /// Send a head (and a body, if any), read one response.
    fn call(&mut self, head: &str, body: &[&[u8]]) -> Got {
        self.s.write_all(head.as_bytes()).unwrap();
        for piece in body {
            self.s.write_all(piece).unwrap();
        }
        let is_head = head.starts_with("HEAD ");
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let h = std::str::from_utf8(&self.buf[..end + 4]).unwrap().to_string();
                let len: usize = if is_head {
                    0
                } else {
                    h.lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0)
                };
                while self.buf.len() < end + 4 + len {
                    self.fill();
                }
                let whole: Vec<u8> = self.buf.drain(..end + 4 + len).collect();
                return responses(&whole, &[is_head]).remove(0);
            }
            self.fill();
        }
    }
}

#[test]
fn many_connections_over_real_sockets() {
    let root = tempdir("sockets");
    let env = [("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY".to_string(), root.to_str().unwrap().to_string())];
    let cfg = Config::load(DEFAULT_CONFIG, &env).unwrap();
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut reg = Registry::new(cfg);
        event::run(l, &mut reg)
    });
    let workers: Vec<_> = (0..6u32)
        .map(|w| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let data: Vec<u8> =
                    (0..(2_000_000 + w * 1000)).map(|i| (i.wrapping_mul(31).wrapping_add(w)) as u8).collect();
                let hex = util::sha256_hex(&data);
                let r = c.call(&format!("POST /v2/w{w}/blobs/uploads/ HTTP/1.1\r\nHost: localhost:5000\r\n\r\n"), &[]);
                assert_eq!(r.status, 202);
                // A chunked PATCH in chunks of 100000 bytes.
                let mut wire = Vec::new();
                for ch in data.chunks(100_000) {
                    wire.extend_from_slice(format!("{:x}\r\n", ch.len()).as_bytes());
                    wire.extend_from_slice(ch);
                    wire.extend_from_slice(b"\r\n");
                }
                wire.extend_from_slice(b"0\r\n\r\n");
                let r = c.call(
                    &format!(
                        "PATCH {} HTTP/1.1\r\nHost: localhost:5000\r\nTransfer-Encoding: chunked\r\n\r\n",
                        r.location()
                    ),
                    &[&wire],
                );
                assert_eq!((r.status, r.h("Range")), (202, format!("0-{}", data.len() - 1).as_str()));
                let r = c.call(
                    &format!(
                        "PUT {}&digest=sha256:{hex} HTTP/1.1\r\nHost: localhost:5000\r\nContent-Length: 0\r\n\r\n",
                        r.location()
                    ),
                    &[],
                );
                assert_eq!(r.status, 201, "{}", r.text());
                for _ in 0..2 {
                    let r = c.call(
                        &format!("GET /v2/w{w}/blobs/sha256:{hex} HTTP/1.1\r\nHost: localhost:5000\r\n\r\n"),
                        &[],
                    );
                    assert_eq!(r.body.len(), data.len());
                    assert!(r.body == data);
                }
                let r = c.call("GET /v2/ HTTP/1.1\r\nHost: localhost:5000\r\n\r\n", &[]);
                assert_eq!(r.status, 200);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut c = Client::connect(port);
    let r = c.call("GET /v2/_catalog HTTP/1.1\r\nHost: localhost:5000\r\n\r\n", &[]);
    assert_eq!(r.json()["repositories"].as_array().unwrap().len(), 6);
    let _ = std::fs::remove_dir_all(root);
}
