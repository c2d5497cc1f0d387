//! The Distribution API v2 as registry 2.8 serves it: routing, the handlers, the responses
//! (headers as Go writes them: canonical names, sorted, `Date` last) and the logs.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::SocketAddrV4;

use serde_json::{json, Value};
use serve::time::{Cached, Civil};
use serve::{Ctx, Step};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::errors::{self, ApiError, Code};
use crate::event;
use crate::http::{self, Body, Head, Parsed, Target};
use crate::names::{self, check_name, parse_digest, tag_ok};
use crate::store::{digest, Store};
use crate::util;

pub const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MT_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const MT_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const JSON_UTF8: &str = "application/json; charset=utf-8";
const TEXT_UTF8: &str = "text/plain; charset=utf-8";
/// Largest manifest accepted (`maxManifestBodySize`).
const MAX_MANIFEST: usize = 4 << 20;
/// A streamed blob is read from its file in pieces of this size.
const STREAM_CHUNK: usize = 256 * 1024;

/// An upload in progress: its data file, open, and the hash of what it holds so far.
struct Upload {
    repo: String,
    file: File,
    hasher: Sha256,
    size: u64,
    started_ms: u64,
}

/// The registry: its settings, its storage and the uploads in progress.
pub struct Registry {
    pub cfg: Config,
    pub store: Store,
    secret: Vec<u8>,
    uploads: HashMap<String, Upload>,
    date: Cached,
    /// ` service=registry` (the configured log fields) for the log's lines.
    fields: String,
}

/// One connection's state.
pub struct Conn {
    peer: SocketAddrV4,
    /// The body of the current request, still arriving.
    body: Option<BodyJob>,
    /// A response body being sent from a file.
    stream: Option<Stream>,
}

struct Stream {
    file: File,
    left: u64,
}

/// What to do with a request body as it arrives, and once it is complete.
enum Then {
    /// Append to upload `uuid`; answer 202 (PATCH).
    Patch { repo: String, uuid: String },
    /// Append to upload `uuid`, then commit it as blob `hex` (PUT `?digest=`, or a monolithic
    /// POST `?digest=`).
    Commit { repo: String, uuid: String, hex: String },
    /// Collect a manifest (PUT).
    Manifest { repo: String, reference: String, buf: Vec<u8>, too_big: bool },
    /// The answer was sent already: drop the body.
    Discard,
}

struct BodyJob {
    req: Req,
    body: Body,
    then: Then,
    /// Writing the body failed: answered with this once the body is read.
    failed: Option<ApiError>,
}

/// A request: its head and decoded target.
struct Req {
    head: Head,
    target: Target,
}

impl Req {
    fn method(&self) -> &str {
        &self.head.method
    }
    fn is_head(&self) -> bool {
        self.head.method == "HEAD"
    }
}

/// A response to send.
#[derive(Default)]
struct Resp {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// `Content-Length` when it is not `body.len()` (a streamed body).
    length: Option<u64>,
    stream: Option<Stream>,
    errors: Vec<ApiError>,
}

impl Resp {
    fn new(status: u16) -> Resp {
        Resp { status, ..Default::default() }
    }

    fn header(mut self, k: &'static str, v: impl Into<String>) -> Resp {
        self.headers.push((k, v.into()));
        self
    }

    fn body(mut self, content_type: &'static str, body: Vec<u8>) -> Resp {
        self.headers.push(("Content-Type", content_type.into()));
        self.body = body;
        self
    }

    fn errors(errs: Vec<ApiError>) -> Resp {
        let status = errs.first().map(|e| e.code.status()).unwrap_or(500);
        let body = errors::body(&errs);
        let mut r = Resp::new(status).body(JSON_UTF8, body);
        r.errors = errs;
        r
    }

    fn error(e: ApiError) -> Resp {
        Resp::errors(vec![e])
    }

    fn code(c: Code) -> Resp {
        Resp::error(ApiError::new(c))
    }

    /// Go's `http.Error`: a line of text.
    fn text(status: u16, text: &str) -> Resp {
        Resp::new(status).header("X-Content-Type-Options", "nosniff").body(TEXT_UTF8, format!("{text}\n").into_bytes())
    }
}

/// What routing a request head gives.
enum Action {
    Respond(Resp),
    /// Read the body, then finish.
    Body(Then),
}

/// The upload state carried in `Location`'s `_state` (signed, so a client cannot change it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UploadState {
    name: String,
    uuid: String,
    offset: u64,
    started_ms: u64,
}

impl Registry {
    pub fn new(cfg: Config) -> Registry {
        let secret = if cfg.secret.is_empty() {
            let mut s = vec![0u8; 32];
            util::random(&mut s);
            s
        } else {
            cfg.secret.as_bytes().to_vec()
        };
        let fields = cfg.log_fields.iter().map(|(k, v)| format!(" {k}={}", logfmt_value(v))).collect();
        Registry { store: Store::new(&cfg.root), cfg, secret, uploads: HashMap::new(), date: Cached::default(), fields }
    }

    /// A log line in the real registry's (logrus) shape.
    pub fn log_line(&self, now_ms: u64, level: &str, msg: &str, extra: &str) -> String {
        format!("time=\"{}\" level={level} msg={}{extra}{}\n", util::rfc3339_ms(now_ms), logfmt_value(msg), self.fields)
    }

    // ---- upload state tokens ----

    fn pack_state(&self, st: &UploadState) -> String {
        let msg = format!(
            "{{\"Name\":{},\"UUID\":{},\"Offset\":{},\"StartedAt\":\"{}\"}}",
            Value::from(st.name.as_str()),
            Value::from(st.uuid.as_str()),
            st.offset,
            util::rfc3339_ms(st.started_ms)
        );
        let mut token = util::hmac_sha256(&self.secret, msg.as_bytes()).to_vec();
        token.extend_from_slice(msg.as_bytes());
        util::b64url(&token)
    }

    fn unpack_state(&self, token: &str) -> Option<UploadState> {
        let raw = util::b64url_decode(token)?;
        if raw.len() < 32 {
            return None;
        }
        let (mac, msg) = raw.split_at(32);
        if util::hmac_sha256(&self.secret, msg) != mac {
            return None;
        }
        let v: Value = serde_json::from_slice(msg).ok()?;
        let started = v["StartedAt"].as_str().unwrap_or("");
        Some(UploadState {
            name: v["Name"].as_str()?.to_string(),
            uuid: v["UUID"].as_str()?.to_string(),
            offset: v["Offset"].as_u64()?,
            started_ms: util::parse_rfc3339(started)
                .map(|s| s + started.get(20..23).and_then(|m| m.parse::<u64>().ok()).unwrap_or(0))
                .unwrap_or(0),
        })
    }

    // ---- URLs ----

    /// `http://host:port` for `Location` (or "" for relative URLs).
    fn base_url(&self, req: &Req) -> String {
        if self.cfg.relative_urls {
            return String::new();
        }
        if !self.cfg.host.is_empty() {
            return self.cfg.host.trim_end_matches('/').to_string();
        }
        let host = req.head.header("X-Forwarded-Host").or(req.head.header("Host")).unwrap_or("");
        if host.is_empty() {
            return String::new();
        }
        let proto = req.head.header("X-Forwarded-Proto").unwrap_or("http");
        format!("{proto}://{host}")
    }

    fn upload_location(&self, req: &Req, name: &str, uuid: &str, size: u64, started_ms: u64) -> String {
        let token = self.pack_state(&UploadState { name: name.into(), uuid: uuid.into(), offset: size, started_ms });
        format!("{}/v2/{name}/blobs/uploads/{uuid}?_state={}", self.base_url(req), http::query_escape(&token))
    }

    /// The headers of an upload's 202/204 answers.
    fn upload_resp(&self, req: &Req, status: u16, name: &str, uuid: &str) -> Resp {
        let (size, started) = self.uploads.get(uuid).map(|u| (u.size, u.started_ms)).unwrap_or((0, 0));
        Resp::new(status)
            .header("Docker-Upload-Uuid", uuid)
            .header("Location", self.upload_location(req, name, uuid, size, started))
            .header("Range", format!("0-{}", size.saturating_sub(1)))
            .header("Content-Length", "0")
    }

    fn blob_created(&self, req: &Req, name: &str, hex: &str) -> Resp {
        Resp::new(201)
            .header("Location", format!("{}/v2/{name}/blobs/{}", self.base_url(req), digest(hex)))
            .header("Content-Length", "0")
            .header("Docker-Content-Digest", digest(hex))
    }

    // ---- routing ----

    fn route(&mut self, req: &Req, now_ms: u64) -> Action {
        let path = req.target.path.clone();
        let m = req.method();
        let writes = !self.cfg.read_only;
        if path == "/v2" {
            return Action::Respond(
                Resp::new(301)
                    .header("Location", "/v2/")
                    .body("text/html; charset=utf-8", b"<a href=\"/v2/\">Moved Permanently</a>.\n\n".to_vec()),
            );
        }
        if path == "/v2/" {
            return Action::Respond(Resp::new(200).body(JSON_UTF8, b"{}".to_vec()));
        }
        if path == "/v2/_catalog" {
            return Action::Respond(match m {
                "GET" => self.catalog(req),
                _ => not_allowed(&["GET"]),
            });
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return Action::Respond(Resp::text(404, "404 page not found"));
        };
        // (name, what, argument) by the route's shape, as gorilla/mux matches them in order.
        let (name, kind, arg) = if let Some(name) = rest.strip_suffix("/tags/list") {
            (name, "tags", "")
        } else if let Some((name, r)) =
            rest.rsplit_once("/manifests/").filter(|(_, r)| !r.is_empty() && !r.contains('/'))
        {
            (name, "manifests", r)
        } else if let Some(name) = rest.strip_suffix("/blobs/uploads/").or(rest.strip_suffix("/blobs/uploads")) {
            (name, "uploads", "")
        } else if let Some((name, u)) = rest.rsplit_once("/blobs/uploads/").filter(|(_, u)| !u.contains('/')) {
            (name, "upload", u)
        } else if let Some((name, d)) = rest.rsplit_once("/blobs/").filter(|(_, d)| d.contains(':') && !d.contains('/'))
        {
            (name, "blob", d)
        } else {
            return Action::Respond(Resp::text(404, "404 page not found"));
        };
        let (name, arg) = (name.to_string(), arg.to_string());
        let allowed: &[&str] = match (kind, writes) {
            ("tags", _) => &["GET"],
            ("manifests", true) => &["DELETE", "GET", "HEAD", "PUT"],
            ("blob", true) => &["DELETE", "GET", "HEAD"],
            (_, true) => &["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"],
            (_, false) => &["GET", "HEAD"],
        };
        if !allowed.contains(&m) {
            return Action::Respond(not_allowed(allowed));
        }
        if let Err(reason) = check_name(&name) {
            return Action::Respond(Resp::error(ApiError::detail(
                Code::NameInvalid,
                json!({"Name": name, "Reason": reason}),
            )));
        }
        match kind {
            "tags" => Action::Respond(self.tags(req, &name)),
            "manifests" => self.manifests(req, &name, &arg),
            "blob" => Action::Respond(self.blob(req, &name, &arg)),
            "uploads" => self.start_upload(req, &name, now_ms),
            _ => self.upload(req, &name, &arg, now_ms),
        }
    }

    // ---- blobs ----

    fn blob(&mut self, req: &Req, name: &str, d: &str) -> Resp {
        let hex = match parse_digest(d) {
            Ok(h) => h.to_string(),
            Err(e) => return Resp::error(ApiError::detail(Code::DigestInvalid, e.text())),
        };
        if req.method() == "DELETE" {
            if !self.cfg.delete_enabled {
                return Resp::code(Code::Unsupported);
            }
            return match self.store.unlink_layer(name, &hex) {
                Ok(true) => Resp::new(202).header("Content-Length", "0"),
                Ok(false) => Resp::code(Code::BlobUnknown),
                Err(e) => unknown(e),
            };
        }
        let Some(size) = self.store.repo_blob(name, &hex) else {
            return Resp::error(ApiError::detail(Code::BlobUnknown, digest(&hex)));
        };
        let etag = format!("\"{}\"", digest(&hex));
        if req.head.headers_named("If-None-Match").any(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
            return Resp::new(304).header("Etag", etag).header("Cache-Control", "max-age=31536000");
        }
        let mut file = match File::open(self.store.blob_data(&hex)) {
            Ok(f) => f,
            Err(e) => return unknown(e),
        };
        let mut r = Resp::new(200)
            .header("Accept-Ranges", "bytes")
            .header("Cache-Control", "max-age=31536000")
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest(&hex))
            .header("Etag", etag);
        let (mut start, mut len) = (0, size);
        if let Some(range) = req.head.header("Range") {
            match byte_range(range, size) {
                Some(Some((a, b))) => {
                    r.status = 206;
                    r.headers.push(("Content-Range", format!("bytes {a}-{b}/{size}")));
                    (start, len) = (a, b - a + 1);
                }
                Some(None) => {
                    return Resp::text(416, "invalid range: failed to overlap")
                        .header("Content-Range", format!("bytes */{size}"));
                }
                None => {}
            }
        }
        if start > 0 {
            if let Err(e) = file.seek(SeekFrom::Start(start)) {
                return unknown(e);
            }
        }
        r.length = Some(len);
        r.stream = Some(Stream { file, left: len });
        r
    }

    // ---- uploads ----

    /// Begin an upload of a blob to repository `name`: its directory on disk and its state.
    fn create_upload(&mut self, name: &str, now_ms: u64) -> io::Result<String> {
        let uuid = util::uuid();
        let file = self.store.new_upload(name, &uuid, now_ms)?;
        self.uploads.insert(
            uuid.clone(),
            Upload { repo: name.to_string(), file, hasher: Sha256::new(), size: 0, started_ms: now_ms },
        );
        Ok(uuid)
    }

    fn start_upload(&mut self, req: &Req, name: &str, now_ms: u64) -> Action {
        if req.method() != "POST" {
            // The upload route without an upload (`GET …/blobs/uploads/`).
            return Action::Respond(Resp::code(Code::BlobUploadUnknown));
        }
        let (mount, from) = (req.target.get("mount"), req.target.get("from"));
        if !mount.is_empty() && !from.is_empty() && check_name(from).is_ok() {
            if let Ok(hex) = parse_digest(mount) {
                if self.store.repo_blob(from, hex).is_some() {
                    let hex = hex.to_string();
                    return Action::Respond(match self.store.link_layer(name, &hex) {
                        Ok(()) => self.blob_created(req, name, &hex),
                        Err(e) => unknown(e),
                    });
                }
            }
        }
        let d = req.target.get("digest");
        let monolithic = if req.target.has("digest") {
            match parse_digest(d) {
                Ok(h) => Some(h.to_string()),
                Err(e) => return Action::Respond(Resp::error(ApiError::detail(Code::DigestInvalid, e.text()))),
            }
        } else {
            None
        };
        let uuid = match self.create_upload(name, now_ms) {
            Ok(u) => u,
            Err(e) => return Action::Respond(unknown(e)),
        };
        match monolithic {
            Some(hex) => Action::Body(Then::Commit { repo: name.to_string(), uuid, hex }),
            None => Action::Respond(self.upload_resp(req, 202, name, &uuid)),
        }
    }

    /// Find upload `uuid` of repository `name` as the signed state says it is: in memory, or
    /// on disk (an upload begun before a restart, with a configured secret).
    fn resume(&mut self, req: &Req, name: &str, uuid: &str) -> Result<(), Resp> {
        let invalid = |why: &str| Resp::error(ApiError::detail(Code::BlobUploadInvalid, why));
        let Some(st) = self.unpack_state(req.target.get("_state")) else {
            return Err(invalid("invalid secret"));
        };
        if st.name != name || st.uuid != uuid {
            return Err(invalid("mismatched upload state"));
        }
        if !self.uploads.get(uuid).is_some_and(|u| u.repo == name) {
            let file = match self.store.reopen_upload(name, uuid) {
                Ok(f) => f,
                Err(_) => return Err(Resp::error(ApiError::detail(Code::BlobUploadUnknown, "blob upload unknown"))),
            };
            // Hash what the upload holds so far.
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buf = vec![0u8; STREAM_CHUNK];
            let mut f = File::open(self.store.upload_data(name, uuid)).map_err(unknown)?;
            loop {
                let n = f.read(&mut buf).map_err(unknown)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            let started_ms = self.store.upload_started(name, uuid).unwrap_or(st.started_ms);
            self.uploads.insert(uuid.to_string(), Upload { repo: name.to_string(), file, hasher, size, started_ms });
        }
        let size = self.uploads[uuid].size;
        if size != st.offset {
            self.cancel(name, uuid);
            return Err(invalid("upload resumed at wrong offset"));
        }
        Ok(())
    }

    fn cancel(&mut self, name: &str, uuid: &str) {
        self.uploads.remove(uuid);
        let _ = self.store.cancel_upload(name, uuid);
    }

    fn upload(&mut self, req: &Req, name: &str, uuid: &str, _now_ms: u64) -> Action {
        if let Err(r) = self.resume(req, name, uuid) {
            return Action::Respond(r);
        }
        let (name, uuid) = (name.to_string(), uuid.to_string());
        match req.method() {
            "GET" | "HEAD" => Action::Respond(self.upload_resp(req, 204, &name, &uuid)),
            "DELETE" => {
                self.cancel(&name, &uuid);
                Action::Respond(Resp::new(204).header("Docker-Upload-Uuid", uuid))
            }
            "PATCH" => {
                let ct = req.head.header("Content-Type").unwrap_or("");
                if !ct.is_empty() && ct != "application/octet-stream" {
                    return Action::Respond(Resp::error(ApiError::detail(Code::Unknown, "bad Content-Type")));
                }
                Action::Body(Then::Patch { repo: name, uuid })
            }
            "PUT" => {
                if !req.target.has("digest") || req.target.get("digest").is_empty() {
                    return Action::Respond(Resp::error(ApiError::detail(Code::DigestInvalid, "digest missing")));
                }
                match parse_digest(req.target.get("digest")) {
                    Ok(hex) => Action::Body(Then::Commit { repo: name, uuid, hex: hex.to_string() }),
                    Err(_) => {
                        Action::Respond(Resp::error(ApiError::detail(Code::DigestInvalid, "digest parsing failed")))
                    }
                }
            }
            // POST is routed to `start_upload`.
            _ => Action::Respond(not_allowed(&["DELETE", "GET", "HEAD", "PATCH", "PUT"])),
        }
    }

    /// The whole blob arrived: check its digest, move it into the blob store.
    fn commit(&mut self, req: &Req, name: &str, uuid: &str, hex: &str) -> Resp {
        let Some(up) = self.uploads.get(uuid) else { return Resp::code(Code::BlobUploadUnknown) };
        let got = util::hex(&up.hasher.clone().finalize());
        if got != hex {
            self.cancel(name, uuid);
            return Resp::error(ApiError::detail(
                Code::DigestInvalid,
                json!({"Digest": digest(hex), "Reason": "content does not match digest"}),
            ));
        }
        if let Some(up) = self.uploads.remove(uuid) {
            let _ = up.file.sync_data();
        }
        match self.store.commit_upload(name, uuid, hex) {
            Ok(()) => self.blob_created(req, name, hex),
            Err(e) => unknown(e),
        }
    }

    // ---- manifests ----

    fn manifests(&mut self, req: &Req, name: &str, reference: &str) -> Action {
        let is_digest = reference.contains(':');
        if is_digest {
            if let Err(e) = parse_digest(reference) {
                return Action::Respond(Resp::error(ApiError::detail(Code::DigestInvalid, e.text())));
            }
        } else if !tag_ok(reference) {
            return Action::Respond(Resp::error(ApiError::detail(Code::TagInvalid, json!({"Tag": reference}))));
        }
        match req.method() {
            "PUT" => Action::Body(Then::Manifest {
                repo: name.to_string(),
                reference: reference.to_string(),
                buf: Vec::new(),
                too_big: false,
            }),
            "DELETE" => Action::Respond(self.delete_manifest(name, reference)),
            _ => Action::Respond(self.get_manifest(req, name, reference)),
        }
    }

    fn get_manifest(&self, req: &Req, name: &str, reference: &str) -> Resp {
        let hex = match parse_digest(reference) {
            Ok(h) => h.to_string(),
            Err(_) => match self.store.tag(name, reference) {
                Some(h) => h,
                None => return Resp::error(ApiError::detail(Code::ManifestUnknown, json!({"Tag": reference}))),
            },
        };
        let d = digest(&hex);
        if req.head.headers_named("If-None-Match").any(|v| v == d || v == format!("\"{d}\"")) {
            return Resp::new(304);
        }
        let Some(bytes) = self.store.manifest(name, &hex) else {
            return Resp::error(ApiError::detail(Code::ManifestUnknown, json!({"Name": name, "Revision": d})));
        };
        let mt = stored_media_type(&bytes);
        let accepts = |want: &str| {
            req.head
                .headers_named("Accept")
                .flat_map(|v| v.split(','))
                .any(|t| t.split(';').next().unwrap_or("").trim() == want)
        };
        if mt == MT_OCI_MANIFEST && !accepts(MT_OCI_MANIFEST) {
            return Resp::error(
                ApiError::new(Code::ManifestUnknown)
                    .with_message("OCI manifest found, but accept header does not support OCI manifests"),
            );
        }
        if mt == MT_OCI_INDEX && !accepts(MT_OCI_INDEX) {
            return Resp::error(
                ApiError::new(Code::ManifestUnknown)
                    .with_message("OCI index found, but accept header does not support OCI indexes"),
            );
        }
        Resp::new(200)
            .header("Content-Type", mt)
            .header("Docker-Content-Digest", d.clone())
            .header("Etag", format!("\"{d}\""))
            .body_raw(bytes)
    }

    fn delete_manifest(&mut self, name: &str, reference: &str) -> Resp {
        if !self.cfg.delete_enabled {
            return Resp::code(Code::Unsupported);
        }
        let Ok(hex) = parse_digest(reference) else {
            // 2.8 deletes by digest only.
            return Resp::code(Code::DigestInvalid);
        };
        match self.store.delete_manifest(name, hex) {
            Ok(true) => Resp::new(202).header("Content-Length", "0"),
            Ok(false) => Resp::code(Code::ManifestUnknown),
            Err(e) => unknown(e),
        }
    }

    /// The whole manifest arrived: check it, store it, tag it.
    fn put_manifest(&mut self, req: &Req, name: &str, reference: &str, body: &[u8]) -> Resp {
        let ct = req.head.header("Content-Type").unwrap_or("");
        let ct = ct.split(';').next().unwrap_or("").trim();
        let invalid = |detail: String| Resp::error(ApiError::detail(Code::ManifestInvalid, detail));
        let kind = match ct {
            MT_DOCKER_MANIFEST | MT_DOCKER_LIST | MT_OCI_MANIFEST | MT_OCI_INDEX => ct,
            _ => {
                return invalid(format!(
                    "unsupported manifest media type {ct:?}: send the manifest with its Content-Type ({MT_DOCKER_MANIFEST}, {MT_DOCKER_LIST}, {MT_OCI_MANIFEST} or {MT_OCI_INDEX})"
                ))
            }
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return invalid("json: cannot unmarshal into a manifest: not an object".into()),
            Err(e) => return invalid(e.to_string()),
        };
        if v["schemaVersion"].as_u64() != Some(2) {
            return invalid(format!("unrecognized manifest schema version {}", v["schemaVersion"]));
        }
        let field = v["mediaType"].as_str().unwrap_or("");
        let docker = kind == MT_DOCKER_MANIFEST || kind == MT_DOCKER_LIST;
        if (docker && field != kind) || (!docker && !field.is_empty() && field != kind) {
            let pre = if docker { "" } else { "if present, " };
            return invalid(format!("{pre}mediaType in manifest should be '{kind}' not '{field}'"));
        }
        let mut errs = Vec::new();
        let check = |d: &Value, errs: &mut Vec<ApiError>, exists: &dyn Fn(&str) -> bool| -> Result<(), Resp> {
            let ds = d["digest"].as_str().unwrap_or("");
            match parse_digest(ds) {
                Ok(hex) => {
                    if !exists(hex) {
                        errs.push(ApiError::detail(Code::ManifestBlobUnknown, ds));
                    }
                    Ok(())
                }
                Err(names::DigestError::Unsupported) => {
                    errs.push(ApiError::detail(Code::ManifestBlobUnknown, ds));
                    Ok(())
                }
                Err(_) => Err(Resp::code(Code::DigestInvalid)),
            }
        };
        if kind == MT_DOCKER_MANIFEST || kind == MT_OCI_MANIFEST {
            let (Some(_), Some(layers)) = (v["config"].as_object(), v["layers"].as_array()) else {
                return invalid("manifest has no config or no layers".into());
            };
            let blob = |hex: &str| self.store.repo_blob(name, hex).is_some();
            if let Err(r) = check(&v["config"], &mut errs, &blob) {
                return r;
            }
            for l in layers {
                let mt = l["mediaType"].as_str().unwrap_or("");
                let foreign =
                    mt == MT_FOREIGN_LAYER || mt.starts_with("application/vnd.oci.image.layer.nondistributable.");
                if foreign && l["urls"].as_array().is_some_and(|u| !u.is_empty()) {
                    continue;
                }
                if let Err(r) = check(l, &mut errs, &blob) {
                    return r;
                }
            }
        } else {
            let Some(list) = v["manifests"].as_array() else {
                return invalid("manifest list has no manifests".into());
            };
            let manifest = |hex: &str| self.store.has_manifest(name, hex);
            for m in list {
                if let Err(r) = check(m, &mut errs, &manifest) {
                    return r;
                }
            }
        }
        if !errs.is_empty() {
            return Resp::errors(errs);
        }
        let hex = util::sha256_hex(body);
        let tag = match parse_digest(reference) {
            Ok(want) if want != hex => return Resp::code(Code::DigestInvalid),
            Ok(_) => None,
            Err(_) => Some(reference),
        };
        if let Err(e) = self.store.put_manifest(name, body) {
            return unknown(e);
        }
        if let Some(t) = tag {
            if let Err(e) = self.store.set_tag(name, t, &hex) {
                return unknown(e);
            }
        }
        Resp::new(201)
            .header("Location", format!("{}/v2/{name}/manifests/{}", self.base_url(req), digest(&hex)))
            .header("Content-Length", "0")
            .header("Docker-Content-Digest", digest(&hex))
    }

    // ---- lists ----

    fn tags(&self, req: &Req, name: &str) -> Resp {
        let Some(all) = self.store.tags(name) else {
            return Resp::error(ApiError::detail(Code::NameUnknown, json!({"name": name})));
        };
        let last = req.target.get("last");
        let n: Option<usize> = req.target.get("n").parse().ok();
        let had_any = !all.is_empty();
        let mut tags: Vec<String> = all.into_iter().filter(|t| last.is_empty() || t.as_str() > last).collect();
        let mut r = Resp::new(200);
        if let Some(n) = n {
            if tags.len() > n {
                tags.truncate(n);
                if let Some(l) = tags.last() {
                    r = r.header(
                        "Link",
                        format!("</v2/{name}/tags/list?last={}&n={n}>; rel=\"next\"", http::query_escape(l)),
                    );
                }
            }
        }
        let tags = if had_any { json!(tags) } else { Value::Null };
        let mut body = serde_json::to_vec(&json!({"name": name, "tags": tags})).unwrap_or_default();
        // serde_json sorts keys: "name" comes before "tags", as Go's struct order has it.
        body.push(b'\n');
        r.body(JSON_UTF8, body)
    }

    fn catalog(&self, req: &Req) -> Resp {
        let max = self.cfg.catalog_max;
        let mut entries = 100.min(max);
        let n = req.target.get("n");
        if !n.is_empty() {
            if let Ok(k) = n.parse::<i64>() {
                if k > max as i64 {
                    return Resp::error(ApiError::detail(Code::PaginationNumberInvalid, json!({"n": k})));
                }
                if k >= 0 {
                    entries = k as usize;
                }
            }
        }
        let last = req.target.get("last");
        let all: Vec<String> = self
            .store
            .repositories()
            .into_iter()
            .filter(|r| last.is_empty() || crate::store::path_order(r, last).is_gt())
            .collect();
        let more = all.len() > entries;
        let page: Vec<String> = all.into_iter().take(entries).collect();
        let mut r = Resp::new(200);
        if more {
            if let Some(l) = page.last() {
                r = r
                    .header("Link", format!("</v2/_catalog?last={}&n={entries}>; rel=\"next\"", http::query_escape(l)));
            }
        }
        let mut body = serde_json::to_vec(&json!({ "repositories": page })).unwrap_or_default();
        body.push(b'\n');
        r.body(JSON_UTF8, body)
    }

    // ---- bodies ----

    /// Take body bytes for `then`.
    fn sink(uploads: &mut HashMap<String, Upload>, then: &mut Then, failed: &mut Option<ApiError>, data: &[u8]) {
        if failed.is_some() {
            return;
        }
        match then {
            Then::Patch { uuid, .. } | Then::Commit { uuid, .. } => {
                let Some(up) = uploads.get_mut(uuid.as_str()) else {
                    *failed = Some(ApiError::new(Code::BlobUploadUnknown));
                    return;
                };
                match up.file.write_all(data) {
                    Ok(()) => {
                        up.hasher.update(data);
                        up.size += data.len() as u64;
                    }
                    Err(e) => *failed = Some(ApiError::detail(Code::Unknown, e.to_string())),
                }
            }
            Then::Manifest { buf, too_big, .. } => {
                if buf.len() + data.len() > MAX_MANIFEST {
                    *too_big = true;
                    *buf = Vec::new();
                } else if !*too_big {
                    buf.extend_from_slice(data);
                }
            }
            Then::Discard => {}
        }
    }

    /// The body is complete: the answer (none for a body that was dropped).
    fn finish(&mut self, job: BodyJob) -> Option<(Req, Resp)> {
        let BodyJob { req, then, failed, .. } = job;
        if let Some(e) = failed {
            return Some((req, Resp::error(e)));
        }
        let resp = match then {
            Then::Discard => return None,
            Then::Patch { repo, uuid } => self.upload_resp(&req, 202, &repo, &uuid),
            Then::Commit { repo, uuid, hex } => self.commit(&req, &repo, &uuid, &hex),
            Then::Manifest { repo, reference, buf, too_big } => {
                if too_big {
                    Resp::error(ApiError::detail(Code::ManifestInvalid, "http: request body too large"))
                } else {
                    self.put_manifest(&req, &repo, &reference, &buf)
                }
            }
        };
        Some((req, resp))
    }

    // ---- responses ----

    /// Write `resp` to `cx.out` (and its log lines to `cx.log`); a streamed body is left on
    /// `conn`. Returns whether the connection stays open.
    fn send(&mut self, conn: &mut Conn, req: &Req, mut resp: Resp, keep: bool, cx: &mut Ctx) -> bool {
        let out = &mut *cx.out;
        let head_only = req.is_head();
        let no_body = resp.status == 204 || resp.status == 304 || resp.status < 200;
        let length = resp.length.unwrap_or(resp.body.len() as u64);
        let mut headers = std::mem::take(&mut resp.headers);
        headers.push(("Docker-Distribution-Api-Version", "registry/2.0".into()));
        if no_body {
            headers.retain(|(k, _)| *k != "Content-Length");
        } else if !headers.iter().any(|(k, _)| *k == "Content-Length") {
            headers.push(("Content-Length", length.to_string()));
        }
        let mut extra: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (k, v) in &self.cfg.headers {
            if !extra.iter().any(|(k2, v2)| k2.eq_ignore_ascii_case(k) && v2 == v) {
                extra.push((k.as_str(), v.as_str()));
            }
        }
        extra.sort_by(|a, b| a.0.cmp(b.0));
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", resp.status, http::reason(resp.status)).as_bytes());
        for (k, v) in extra {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !keep {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(self.date.get(cx.now_ms, Civil::push_http));
        out.extend_from_slice(b"\r\n\r\n");
        let mut written = 0;
        if !head_only && !no_body {
            out.extend_from_slice(&resp.body);
            written = length;
            if let Some(s) = resp.stream.take() {
                if s.left > 0 {
                    conn.stream = Some(s);
                }
            }
        }
        self.log(conn, req, &resp, written, cx);
        keep
    }

    fn log(&self, conn: &Conn, req: &Req, resp: &Resp, written: u64, cx: &mut Ctx) {
        if !resp.errors.is_empty() {
            let e = &resp.errors[0];
            let mut extra = format!(" err.code={}", logfmt_value(&e.code.log_name()));
            if let Some(d) = &e.detail {
                let d = match d {
                    Value::String(s) => s.clone(),
                    // {"Tag":"latest"} → `Tag=latest`.
                    Value::Object(m) => m
                        .iter()
                        .map(|(k, v)| {
                            format!("{k}={}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                extra += &format!(" err.detail={}", logfmt_value(&d));
            }
            extra += &format!(
                " err.message={} http.request.method={} http.request.uri={} http.response.status={}",
                logfmt_value(e.message()),
                req.method(),
                logfmt_value(&req.head.target),
                resp.status
            );
            cx.log.extend_from_slice(
                self.log_line(cx.now_ms, "error", "response completed with error", &extra).as_bytes(),
            );
        }
        if !self.cfg.access_log {
            return;
        }
        // The access log (gorilla's combined log format).
        let log = &mut *cx.log;
        log.extend_from_slice(conn.peer.ip().to_string().as_bytes());
        log.extend_from_slice(b" - - [");
        Civil::from_ms(cx.now_ms).push_clf(log);
        log.extend_from_slice(b"] \"");
        serve::http::push_log_escaped(log, req.method().as_bytes());
        log.push(b' ');
        serve::http::push_log_escaped(log, req.head.target.as_bytes());
        log.push(b' ');
        serve::http::push_log_escaped(log, req.head.version.as_bytes());
        log.extend_from_slice(format!("\" {} {} \"", resp.status, written).as_bytes());
        serve::http::push_log_escaped(log, req.head.header("Referer").unwrap_or("").as_bytes());
        log.extend_from_slice(b"\" \"");
        serve::http::push_log_escaped(log, req.head.header("User-Agent").unwrap_or("").as_bytes());
        log.extend_from_slice(b"\"\n");
    }

    /// A request that could not be parsed: Go's plain answer, and the connection closes (Go's
    /// server answers these itself: they reach no handler and no log).
    fn bad_request(&mut self, status: u16, cx: &mut Ctx) {
        let text = format!("{status} {}", http::reason(status));
        cx.out.extend_from_slice(
            format!("HTTP/1.1 {text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{text}")
                .as_bytes(),
        );
    }

    /// Handle a request head.
    fn on_head(&mut self, conn: &mut Conn, head: Head, cx: &mut Ctx) -> Step {
        let used = head.len;
        let Some(target) = Target::parse(&head.target) else {
            self.bad_request(400, cx);
            return Step::Close(used);
        };
        let req = Req { head, target };
        let keep = req.head.keep_alive;
        match self.route(&req, cx.now_ms) {
            Action::Respond(resp) => {
                // A body nobody will read: dropped as it comes, unless the client waits to be
                // told to send it (then the connection closes instead).
                let drop_body = req.head.has_body() && !req.head.expect_continue;
                let keep = keep && (!req.head.has_body() || drop_body);
                let body = req.head.body();
                self.send(conn, &req, resp, keep, cx);
                if drop_body && keep {
                    conn.body = Some(BodyJob { req, body, then: Then::Discard, failed: None });
                }
                if keep {
                    Step::Used(used)
                } else {
                    Step::Close(used)
                }
            }
            Action::Body(then) => {
                let job = BodyJob { body: req.head.body(), req, then, failed: None };
                if !job.req.head.has_body() {
                    return self.end_body(conn, job, used, cx);
                }
                if job.req.head.expect_continue {
                    cx.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                conn.body = Some(job);
                Step::Used(used)
            }
        }
    }

    /// A body is complete after `used` bytes of this step: answer.
    fn end_body(&mut self, conn: &mut Conn, job: BodyJob, used: usize, cx: &mut Ctx) -> Step {
        let keep = job.req.head.keep_alive;
        if let Some((req, resp)) = self.finish(job) {
            self.send(conn, &req, resp, keep, cx);
        }
        if keep {
            Step::Used(used)
        } else {
            Step::Close(used)
        }
    }

    /// Drop uploads older than `max_age_ms` (the real registry purges week-old uploads).
    pub fn purge_uploads(&mut self, now_ms: u64, max_age_ms: u64) -> usize {
        let mut n = 0;
        for (name, uuid) in self.store.uploads() {
            let started = self.store.upload_started(&name, &uuid).unwrap_or(0);
            if now_ms.saturating_sub(started) > max_age_ms {
                self.cancel(&name, &uuid);
                n += 1;
            }
        }
        n
    }
}

impl Resp {
    /// The body as given (the `Content-Type` header is set by the caller).
    fn body_raw(mut self, body: Vec<u8>) -> Resp {
        self.body = body;
        self
    }
}

/// gorilla's `MethodHandler` for a method the route does not take.
fn not_allowed(allowed: &[&str]) -> Resp {
    let mut a: Vec<&str> = allowed.to_vec();
    a.sort();
    Resp::text(405, "Method not allowed").header("Allow", a.join(", "))
}

/// An I/O error of the storage: UNKNOWN (500) with the error as its detail.
fn unknown(e: io::Error) -> Resp {
    Resp::error(ApiError::detail(Code::Unknown, e.to_string()))
}

/// The media type of stored manifest bytes: its `mediaType`, else what it looks like (an
/// OCI index has `manifests`), as the real registry decides.
pub fn stored_media_type(bytes: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    match v["mediaType"].as_str() {
        Some(mt) if !mt.is_empty() => mt.to_string(),
        _ if v["schemaVersion"].as_u64() == Some(1) => MT_SCHEMA1_SIGNED.into(),
        _ if v["manifests"].is_array() => MT_OCI_INDEX.into(),
        _ => MT_OCI_MANIFEST.into(),
    }
}

/// A single `bytes=` range of a body of `size` bytes: `None` when the header is not one
/// (the whole body is sent), `Some(None)` when it cannot be satisfied.
fn byte_range(h: &str, size: u64) -> Option<Option<(u64, u64)>> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let r = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return Some(None);
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let a: u64 = a.parse().ok()?;
        let b: u64 =
            if b.is_empty() { size.saturating_sub(1) } else { b.parse::<u64>().ok()?.min(size.saturating_sub(1)) };
        if a >= size || b < a {
            return Some(None);
        }
        (a, b)
    };
    Some(Some(r))
}

/// A logfmt value: bare when it is a plain word, else quoted.
pub fn logfmt_value(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._/:@+".contains(&c)) {
        s.to_string()
    } else {
        Value::from(s).to_string()
    }
}

impl event::Service for Registry {
    type Conn = Conn;

    fn open(&mut self, peer: SocketAddrV4) -> Conn {
        Conn { peer, body: None, stream: None }
    }

    fn step(&mut self, conn: &mut Conn, input: &[u8], cx: &mut Ctx) -> Step {
        if let Some(mut job) = conn.body.take() {
            let uploads = &mut self.uploads;
            let BodyJob { body, then, failed, .. } = &mut job;
            let res = body.feed(input, &mut |data| Registry::sink(uploads, then, failed, data));
            return match res {
                Ok((used, true)) => self.end_body(conn, job, used, cx),
                Ok((used, false)) => {
                    conn.body = Some(job);
                    Step::Used(used)
                }
                Err(_) => {
                    if matches!(job.then, Then::Discard) {
                        return Step::Close(input.len());
                    }
                    let keep = false;
                    let resp = Resp::error(ApiError::detail(Code::Unknown, "malformed chunked encoding"));
                    self.send(conn, &job.req, resp, keep, cx);
                    Step::Close(input.len())
                }
            };
        }
        match http::parse_head(input) {
            Parsed::Partial => Step::Need,
            Parsed::Bad(status) => {
                self.bad_request(status, cx);
                Step::Close(input.len())
            }
            Parsed::Head(head) => self.on_head(conn, head, cx),
        }
    }

    fn streaming(&self, conn: &Conn) -> bool {
        conn.stream.is_some()
    }

    fn fill(&mut self, conn: &mut Conn, cx: &mut Ctx) -> io::Result<()> {
        let Some(s) = conn.stream.as_mut() else { return Ok(()) };
        let want = s.left.min(STREAM_CHUNK as u64) as usize;
        let start = cx.out.len();
        cx.out.resize(start + want, 0);
        let n = match s.file.read(&mut cx.out[start..]) {
            Ok(n) => n,
            Err(e) => {
                cx.out.truncate(start);
                return Err(e);
            }
        };
        cx.out.truncate(start + n);
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        s.left -= n as u64;
        if s.left == 0 {
            conn.stream = None;
        }
        Ok(())
    }

    fn close(&mut self, _conn: Conn) {}

    fn max_input(&self) -> usize {
        http::MAX_HEAD
    }
}

#[cfg(test)]
mod tests;
