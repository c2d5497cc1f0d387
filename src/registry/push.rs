//! `push`: every layer (top first, five at a time, as Docker) is sent only if the registry
//! lacks it. For each layer skiff first uses what it remembers (`store::distribution`): a
//! compressed digest already pushed to this repository is checked with `HEAD` (`Layer already
//! exists`); one known in another repository of the same registry is mounted
//! (`POST …/blobs/uploads/?mount=DIGEST&from=REPO`, `Mounted from REPO`). Otherwise the layer
//! is gzip-compressed deterministically (`gzip.rs`) to a temporary file, checked with `HEAD`
//! (the same layer pushed from another machine has the same digest), and uploaded: in one
//! `PUT` when small (monolithic), else in `PATCH` chunks then a closing `PUT` (chunked). Then
//! the config, then the manifest (Docker's v2 schema 2, or OCI's for images that came as OCI),
//! whose digest and size are printed as Docker does.

use super::client::{self, header, status_error, Body, Client};
use super::manifest::{self, OCI_LAYER_GZIP};
use super::progress::Progress;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::spec::Digest;
use crate::store::{DistributionSource, Image, Store};
use std::collections::VecDeque;
use std::fs;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

/// Uploads at once (Docker's `max-concurrent-uploads`).
const CONCURRENT_UPLOADS: usize = 5;
/// Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size.
pub const CHUNK: u64 = 8 << 20;

/// What a push did.
pub struct Pushed {
    pub digest: Digest,
    pub size: u64,
}

fn push_scope(path: &str) -> String {
    format!("repository:{path}:pull,push")
}

/// How one layer got there.
enum Outcome {
    Exists,
    Mounted(String),
    Pushed,
}

enum Event {
    Pushing(usize, u64, u64, Instant),
    Done(usize, Result<(Outcome, Digest, u64)>),
}

/// Push image `img` as `r` (which has a tag) to `c`'s registry; prints the layer lines and
/// returns the manifest's digest and size (the caller prints `TAG: digest: … size: …`).
pub fn push(store: &Store, c: &Client, img: &Image, r: &Reference, p: &mut Progress) -> Result<Pushed> {
    c.ping()?;
    let path = r.path.as_str();
    let repo = r.full_name();
    let oci = store.repo_digests(&img.id).media_type.as_deref() == Some(manifest::OCI_MANIFEST);
    let diffs = &img.config.rootfs.diff_ids;
    // Top layer first, as Docker lists them; a layer listed twice is sent once.
    let mut order: Vec<usize> = Vec::new();
    for i in (0..diffs.len()).rev() {
        if !order.iter().any(|&j| diffs[j] == diffs[i]) {
            order.push(i);
        }
    }
    for &i in &order {
        p.status(diffs[i].short(), "Preparing");
    }
    for &i in order.iter().skip(CONCURRENT_UPLOADS) {
        p.status(diffs[i].short(), "Waiting");
    }
    let work: Mutex<VecDeque<usize>> = Mutex::new(order.iter().copied().collect());
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Event>();
    let mut pushed: Vec<Option<(Digest, u64)>> = vec![None; diffs.len()];
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..CONCURRENT_UPLOADS.min(order.len()) {
            let tx = tx.clone();
            let (work, abort, repo) = (&work, &abort, &repo);
            scope.spawn(move || loop {
                let Some(i) = work.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else { break };
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                let r = push_layer(store, c, path, repo, &diffs[i], oci, i, &tx, abort);
                let failed = r.is_err();
                let _ = tx.send(Event::Done(i, r));
                if failed {
                    break;
                }
            });
        }
        drop(tx);
        let mut left = order.len();
        while left > 0 {
            match rx.recv() {
                Ok(Event::Pushing(i, cur, total, start)) => p.progress(diffs[i].short(), "Pushing", cur, total, start),
                Ok(Event::Done(i, Ok((outcome, digest, size)))) => {
                    let text = match outcome {
                        Outcome::Exists => "Layer already exists".to_string(),
                        Outcome::Mounted(from) => format!("Mounted from {from}"),
                        Outcome::Pushed => "Pushed".to_string(),
                    };
                    p.status(diffs[i].short(), &text);
                    pushed[i] = Some((digest, size));
                    left -= 1;
                }
                Ok(Event::Done(_, Err(e))) => {
                    abort.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                Err(_) => return Err(Error::Other("an upload stopped without a result".into())),
            }
        }
        Ok(())
    })?;
    let layers: Vec<(Digest, u64)> = (0..diffs.len())
        .map(|i| {
            let j = (0..diffs.len()).find(|&j| diffs[j] == diffs[i] && pushed[j].is_some()).unwrap_or(i);
            pushed[j].clone().expect("every layer was pushed")
        })
        .collect();

    // The config, byte for byte as stored (its digest is the image ID).
    let config = store.read_blob(&img.id)?;
    if !blob_exists(c, path, &img.id)? {
        upload(c, path, &img.id, &mut &config[..], config.len() as u64, &mut |_| {})?;
    }

    let body = manifest::push_manifest(oci, (&img.id, config.len() as u64), &layers);
    let digest = Digest::of(&body);
    let media_type = if oci { manifest::OCI_MANIFEST } else { manifest::DOCKER_MANIFEST };
    let tag = r.tag.as_deref().unwrap_or(crate::reference::DEFAULT_TAG);
    let url = c.registry.url(&format!("{path}/manifests/{tag}"));
    let resp = c.call("PUT", &url, &[push_scope(path)], &[("Content-Type", media_type)], Body::Bytes(&body))?;
    if !resp.status().is_success() {
        return Err(status_error(resp));
    }
    if let Some(d) = header(&resp, "docker-content-digest") {
        if d != digest.to_string() {
            return Err(Error::Other(format!("the registry recorded the manifest as {d}, skiff sent {digest}")));
        }
    }
    client::drain(resp);
    store.add_repo_digest(&img.id, &repo, &digest, media_type)?;
    Ok(Pushed { digest, size: body.len() as u64 })
}

/// `HEAD /v2/PATH/blobs/DIGEST`: does the repository have it?
fn blob_exists(c: &Client, path: &str, digest: &Digest) -> Result<bool> {
    let url = c.registry.url(&format!("{path}/blobs/{digest}"));
    let resp = c.call("HEAD", &url, &[push_scope(path)], &[], Body::Empty)?;
    match resp.status().as_u16() {
        200..=299 => Ok(true),
        404 => Ok(false),
        401 => Err(Error::Other("unauthorized: authentication required".into())),
        403 => Err(Error::Other("denied: requested access to the resource is denied".into())),
        _ => Err(status_error(resp)),
    }
}

/// `Location` of an upload, absolute.
fn location(c: &Client, resp: &client::Resp) -> Result<String> {
    let loc = header(resp, "location").ok_or_else(|| Error::Other("the registry gave no upload location".into()))?;
    Ok(if loc.starts_with("http://") || loc.starts_with("https://") {
        loc
    } else {
        format!(
            "{}://{}{}",
            c.registry.scheme,
            c.registry.api_host,
            if loc.starts_with('/') { loc } else { format!("/{loc}") }
        )
    })
}

fn with_query(url: &str, q: &str) -> String {
    format!("{url}{}{q}", if url.contains('?') { '&' } else { '?' })
}

/// Upload blob `digest` of `size` bytes from `r`: one `PUT` when it fits in a chunk, else
/// `PATCH` chunks (`Content-Range`) and a closing `PUT`. `progress` hears the bytes sent.
fn upload(
    c: &Client,
    path: &str,
    digest: &Digest,
    r: &mut dyn Read,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let scopes = [push_scope(path)];
    let url = c.registry.url(&format!("{path}/blobs/uploads/"));
    let resp = c.call("POST", &url, &scopes, &[], Body::Empty)?;
    if resp.status().as_u16() != 202 {
        return Err(status_error(resp));
    }
    let mut loc = location(c, &resp)?;
    client::drain(resp);
    let digest_q = format!("digest={}", client::query_escape(&digest.to_string()));
    let octets = ("Content-Type", "application/octet-stream");
    let resp = if size <= CHUNK {
        let mut data = Vec::with_capacity(size as usize);
        r.read_to_end(&mut data).at("layer")?;
        let resp = c.call("PUT", &with_query(&loc, &digest_q), &scopes, &[octets], Body::Bytes(&data))?;
        progress(size);
        resp
    } else {
        let mut sent = 0u64;
        let mut buf = vec![0u8; CHUNK as usize];
        while sent < size {
            let want = (size - sent).min(CHUNK) as usize;
            r.read_exact(&mut buf[..want]).at("layer")?;
            let range = format!("{}-{}", sent, sent + want as u64 - 1);
            let resp =
                c.call("PATCH", &loc, &scopes, &[octets, ("Content-Range", &range)], Body::Bytes(&buf[..want]))?;
            if resp.status().as_u16() != 202 {
                return Err(status_error(resp));
            }
            loc = location(c, &resp)?;
            client::drain(resp);
            sent += want as u64;
            progress(sent);
        }
        c.call("PUT", &with_query(&loc, &digest_q), &scopes, &[], Body::Empty)?
    };
    if resp.status().as_u16() != 201 && !resp.status().is_success() {
        return Err(status_error(resp));
    }
    if let Some(d) = header(&resp, "docker-content-digest") {
        if d != digest.to_string() {
            return Err(Error::Other(format!("the registry stored {d} where skiff sent {digest}")));
        }
    }
    client::drain(resp);
    Ok(())
}

/// Try to mount `digest` from `from` (a path in the same registry): whether it worked. A
/// registry that will not mount starts an upload instead (202), which is cancelled.
fn mount(c: &Client, path: &str, from: &str, digest: &Digest) -> Result<bool> {
    let url = c.registry.url(&format!(
        "{path}/blobs/uploads/?mount={}&from={}",
        client::query_escape(&digest.to_string()),
        client::query_escape(from)
    ));
    let scopes = [push_scope(path), super::pull::pull_scope(from)];
    let resp = c.call("POST", &url, &scopes, &[], Body::Empty)?;
    match resp.status().as_u16() {
        201 => {
            client::drain(resp);
            Ok(true)
        }
        202 => {
            if let Ok(loc) = location(c, &resp) {
                client::drain(resp);
                if let Ok(r) = c.call("DELETE", &loc, &scopes, &[], Body::Empty) {
                    client::drain(r);
                }
            }
            Ok(false)
        }
        401 | 403 => Ok(false),
        _ => Err(status_error(resp)),
    }
}

fn is_gzip(media_type: &str) -> bool {
    media_type == manifest::DOCKER_LAYER_GZIP || media_type == OCI_LAYER_GZIP
}

#[allow(clippy::too_many_arguments)]
fn push_layer(
    store: &Store,
    c: &Client,
    path: &str,
    repo: &str,
    diff: &Digest,
    oci: bool,
    i: usize,
    tx: &mpsc::Sender<Event>,
    abort: &AtomicBool,
) -> Result<(Outcome, Digest, u64)> {
    let media_type = if oci { OCI_LAYER_GZIP } else { manifest::DOCKER_LAYER_GZIP };
    let remember = |digest: &Digest, size: u64| {
        store.add_distribution_source(
            diff,
            DistributionSource {
                digest: digest.clone(),
                size,
                media_type: media_type.to_string(),
                repos: vec![repo.to_string()],
            },
        )
    };
    let domain_prefix = format!("{}/", c.registry.domain);
    let sources: Vec<DistributionSource> =
        store.distribution_sources(diff).into_iter().filter(|s| is_gzip(&s.media_type)).collect();
    // 1. Already pushed to this repository: check it is still there.
    for s in sources.iter().filter(|s| s.repos.iter().any(|r| r == repo)) {
        if blob_exists(c, path, &s.digest)? {
            remember(&s.digest, s.size)?;
            return Ok((Outcome::Exists, s.digest.clone(), s.size));
        }
    }
    // 2. In another repository of this registry: mount it from there.
    for s in &sources {
        for from in s.repos.iter().filter_map(|r| r.strip_prefix(&domain_prefix)).filter(|f| *f != path) {
            if mount(c, path, from, &s.digest)? {
                remember(&s.digest, s.size)?;
                return Ok((Outcome::Mounted(from.to_string()), s.digest.clone(), s.size));
            }
        }
    }
    // 3. Any compressed form this registry might know.
    for s in sources.iter().filter(|s| s.repos.iter().any(|r| r.starts_with(&domain_prefix))) {
        if blob_exists(c, path, &s.digest)? {
            remember(&s.digest, s.size)?;
            return Ok((Outcome::Exists, s.digest.clone(), s.size));
        }
    }
    // 4. Compress (deterministically) and ask again; then send it.
    if abort.load(Ordering::Relaxed) {
        return Err(Error::Other("push aborted".into()));
    }
    let blob = store.blob_path(diff);
    let mut src = fs::File::open(&blob).at(&blob)?;
    let mut tmp = tempfile::Builder::new().prefix("push-").tempfile_in(store.tmp_dir()).at(store.tmp_dir())?;
    let (digest, size, _) = super::gzip::compress(&mut src, tmp.as_file_mut()).at(tmp.path())?;
    if blob_exists(c, path, &digest)? {
        remember(&digest, size)?;
        return Ok((Outcome::Exists, digest, size));
    }
    let mut f = fs::File::open(tmp.path()).at(tmp.path())?;
    let start = Instant::now();
    let mut last = Instant::now() - super::pull::TICK;
    upload(c, path, &digest, &mut f, size, &mut |sent| {
        if last.elapsed() >= super::pull::TICK || sent == size {
            let _ = tx.send(Event::Pushing(i, sent, size, start));
            last = Instant::now();
        }
    })?;
    remember(&digest, size)?;
    Ok((Outcome::Pushed, digest, size))
}
