//! `pull`: manifest (a list or index resolved to one platform), config, then the layers:
//! three at a time (`Pulling fs layer`, `Waiting`), each in one streaming pass (`fetch`):
//! downloaded (`Downloading`), checked against its digest (`Verifying Checksum`, `Download
//! complete`) while it is decompressed, hashed against the diff ID the config names, kept as
//! the uncompressed blob and extracted (`Extracting`) in scratch space. Nothing of a layer
//! enters the store before both digests matched; layers are then installed in order, each
//! once by chain ID (`Pull complete`). Layers whose chain is already in the store print
//! `Already exists`.
//!
//! An interrupted pull leaves the store consistent: downloads go to `tmp/pull-<digest>.partial`
//! (resumed with a `Range` request next time, restarted if the registry ignores it), blobs and
//! layers enter by atomic rename, and the image is recorded and tagged only at the end.

use super::client::{self, header, status_error, Body, Client};
use super::fetch::{fetch, Event, FetchedLayer, Job};
use super::host::Registry;
use super::manifest::{self, Fetched, Platform, RemoteDescriptor};
use super::progress::Progress;
use super::Pulled;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::spec::{Descriptor, Digest, ImageConfig, MEDIA_TYPE_LAYER};
use crate::store::{DistributionSource, Store};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

/// Downloads at once (Docker's `max-concurrent-downloads`).
const CONCURRENT_DOWNLOADS: usize = 3;
/// How often a download or extraction reports its progress.
pub(super) const TICK: Duration = Duration::from_millis(100);

/// The manifest of `r` as its registry serves it: (bytes, digest, content type).
pub(super) fn fetch_manifest(c: &Client, path: &str, reference: &str) -> Result<(Vec<u8>, Digest, Option<String>)> {
    let url = c.registry.url(&format!("{path}/manifests/{reference}"));
    let resp = c.call("GET", &url, &[pull_scope(path)], &[("Accept", manifest::ACCEPT)], Body::Empty)?;
    let status = resp.status().as_u16();
    if status == 404 {
        let body = client::read_small(resp).unwrap_or_default();
        let why = client::registry_error(&body).unwrap_or_else(|| "manifest unknown".into());
        return Err(Error::Other(format!(
            "manifest for {}/{}{}{} not found: {why}",
            c.registry.domain,
            path,
            if reference.starts_with("sha256:") { "@" } else { ":" },
            reference
        )));
    }
    if status == 401 || status == 403 {
        return Err(denied(c, path, &url, resp));
    }
    if !(200..300).contains(&status) {
        return Err(status_error(resp));
    }
    let ct = header(&resp, "content-type");
    let bytes = client::read_small(resp)?;
    let digest = Digest::of(&bytes);
    if reference.starts_with("sha256:") && digest.to_string() != reference {
        return Err(Error::Other(format!("manifest verification failed for digest {reference}")));
    }
    Ok((bytes, digest, ct))
}

/// Docker's words for a refused pull.
fn denied(c: &Client, path: &str, url: &str, resp: client::Resp) -> Error {
    let body = client::read_small(resp).unwrap_or_default();
    let why = client::registry_error(&body);
    if !c.has_credentials() && why.as_deref().is_none_or(|w| w.starts_with("unauthorized")) && !c.registry.is_hub() {
        return Error::Other(format!("Head \"{url}\": no basic auth credentials"));
    }
    let name = Reference { domain: c.registry.domain.clone(), path: path.into(), tag: None, digest: None };
    Error::Other(format!(
        "pull access denied for {}, repository does not exist or may require 'skiff login': {}",
        name.familiar_name(),
        why.unwrap_or_else(|| "denied: requested access to the resource is denied".into())
    ))
}

pub(super) fn pull_scope(path: &str) -> String {
    format!("repository:{path}:pull")
}

/// A blob of `path` as a response (redirects followed), from byte `offset` on.
pub(super) fn get_blob(c: &Client, path: &str, digest: &Digest, offset: u64) -> Result<client::Resp> {
    let url = c.registry.url(&format!("{path}/blobs/{digest}"));
    let range = format!("bytes={offset}-");
    let headers: Vec<(&str, &str)> = if offset > 0 { vec![("Range", &range)] } else { vec![] };
    let resp = c.call("GET", &url, &[pull_scope(path)], &headers, Body::Empty)?;
    let status = resp.status().as_u16();
    if status == 200 || status == 206 {
        return Ok(resp);
    }
    if status == 416 && offset > 0 {
        // The partial file is as long as the blob (or longer): start again.
        client::drain(resp);
        return get_blob(c, path, digest, 0);
    }
    Err(status_error(resp))
}

/// Read a small blob (a config) and check it against its digest.
pub(super) fn fetch_small_blob(c: &Client, path: &str, digest: &Digest) -> Result<Vec<u8>> {
    let data = client::read_small(get_blob(c, path, digest, 0)?)?;
    if &Digest::of(&data) != digest {
        return Err(Error::Other(format!("filesystem layer verification failed for digest {digest}")));
    }
    Ok(data)
}

/// Pull `r` (a tag or a digest) for `platform` (else the default ones). Prints from
/// `TAG: Pulling from PATH` to `Digest: …`; the caller prints the status line.
pub fn pull(store: &Store, r: &Reference, platform: Option<&Platform>, p: &mut Progress) -> Result<Pulled> {
    let registry = Registry::of(r);
    let creds = super::auth::stored(&registry.domain);
    let c = Client::new(registry, creds);
    c.ping()?;
    pull_with(store, &c, r, platform, p)
}

pub(super) fn pull_with(
    store: &Store,
    c: &Client,
    r: &Reference,
    platform: Option<&Platform>,
    p: &mut Progress,
) -> Result<Pulled> {
    let reference = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => crate::reference::DEFAULT_TAG.to_string(),
    };
    let (bytes, top_digest, ct) = fetch_manifest(c, &r.path, &reference)?;
    let mut fetched = manifest::parse(&bytes, ct.as_deref())?;
    if let Fetched::List { manifests, .. } = &fetched {
        let wanted = match platform {
            Some(p) => vec![p.clone()],
            None => manifest::default_platforms(),
        };
        let chosen = manifest::select(manifests, &wanted)?;
        let (bytes, _, ct) = fetch_manifest(c, &r.path, &chosen.digest.to_string())?;
        fetched = manifest::parse(&bytes, ct.as_deref().or(Some(chosen.media_type.as_str())))?;
        if matches!(fetched, Fetched::List { .. }) {
            return Err(Error::Other("invalid manifest list: an entry is itself a list".into()));
        }
    }
    let Fetched::Image { media_type, config, layers } = fetched else { unreachable!("lists were resolved") };
    p.line(&format!("{reference}: Pulling from {}", r.path));

    let config_bytes = fetch_small_blob(c, &r.path, &config.digest)?;
    let image_config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| Error::Other(format!("invalid image config {}: {e}", config.digest)))?;
    let layers: Vec<RemoteDescriptor> =
        layers.into_iter().filter(|l| l.media_type != manifest::DOCKER_FOREIGN_LAYER || l.urls.is_empty()).collect();
    let diff_ids = &image_config.rootfs.diff_ids;
    if diff_ids.len() != layers.len() {
        return Err(Error::Other(format!(
            "layers from manifest don't match image configuration ({} layers, {} diff IDs)",
            layers.len(),
            diff_ids.len()
        )));
    }
    let chains = Digest::chain(diff_ids);
    let repo = r.full_name();
    let previous = match &r.tag {
        Some(_) => store.lookup_tag(r)?,
        None => None,
    };
    let existing = store.image_ids()?.contains(&config.digest) && chains.iter().all(|ch| store.has_layer(ch));

    let mut lock = None;
    if !existing {
        download_and_extract(store, c, &r.path, &layers, diff_ids, &chains, p, &mut lock)?;
    }
    for (l, diff) in layers.iter().zip(diff_ids) {
        let src = DistributionSource {
            digest: l.digest.clone(),
            size: l.size,
            media_type: l.media_type.clone(),
            repos: vec![repo.clone()],
        };
        store.add_distribution_source(diff, src)?;
    }
    if lock.is_none() {
        lock = Some(store.lock()?);
    }
    let descriptors: Vec<Descriptor> = diff_ids
        .iter()
        .map(|d| {
            let size = fs::metadata(store.blob_path(d)).map(|m| m.len()).unwrap_or(0);
            Descriptor::new(MEDIA_TYPE_LAYER, d.clone(), size)
        })
        .collect();
    let (id, local_manifest) = store.put_image(&config_bytes, descriptors)?;
    if r.tag.is_some() {
        store.tag_image(&local_manifest, r)?;
    }
    store.add_repo_digest(&id, &repo, &top_digest, &media_type)?;
    drop(lock);
    for chain in &chains {
        if let Ok(meta) = store.layer_meta(chain) {
            crate::runtime::layer_added(store, &meta)?;
        }
    }
    p.line(&format!("Digest: {top_digest}"));
    let updated = match &r.tag {
        Some(_) => previous.as_ref() != Some(&local_manifest),
        None => !existing,
    };
    let tags = if r.tag.is_some() { vec![r.clone()] } else { vec![] };
    let image = store.image_by_manifest(&local_manifest, tags)?;
    Ok(Pulled { image, digest: top_digest, updated })
}

#[allow(clippy::too_many_arguments)]
fn download_and_extract(
    store: &Store,
    c: &Client,
    path: &str,
    layers: &[RemoteDescriptor],
    diff_ids: &[Digest],
    chains: &[Digest],
    p: &mut Progress,
    lock: &mut Option<crate::store::Lock>,
) -> Result<()> {
    // Which layers need fetching (a digest listed twice is fetched once).
    let mut needed: Vec<usize> = Vec::new();
    let mut queued: HashSet<&Digest> = HashSet::new();
    let mut first_of: HashMap<&Digest, usize> = HashMap::new();
    for (i, l) in layers.iter().enumerate() {
        let id = l.digest.short();
        if store.has_layer(&chains[i]) {
            p.status(id, "Already exists");
        } else {
            if queued.insert(&l.digest) {
                needed.push(i);
                first_of.insert(&l.digest, i);
            }
            p.status(id, "Pulling fs layer");
        }
    }
    for &i in needed.iter().skip(CONCURRENT_DOWNLOADS) {
        p.status(layers[i].digest.short(), "Waiting");
    }
    let work: Mutex<VecDeque<usize>> = Mutex::new(needed.iter().copied().collect());
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Event>();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..CONCURRENT_DOWNLOADS.min(needed.len()) {
            let tx = tx.clone();
            let (work, abort) = (&work, &abort);
            scope.spawn(move || loop {
                let Some(i) = work.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else { break };
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                let job = Job {
                    store,
                    client: c,
                    path,
                    layer: &layers[i],
                    diff_id: &diff_ids[i],
                    index: i,
                    events: tx.clone(),
                    abort,
                };
                let r = fetch(&job);
                let failed = r.is_err();
                let _ = tx.send(Event::Done(i, r));
                if failed {
                    break;
                }
            });
        }
        drop(tx);
        let result = (|| -> Result<()> {
            let mut done: HashMap<usize, FetchedLayer> = HashMap::new();
            let mut downloaded: HashSet<usize> = HashSet::new();
            let mut parent: Option<Digest> = None;
            for i in 0..layers.len() {
                let id = layers[i].digest.short();
                if store.has_layer(&chains[i]) {
                    parent = Some(chains[i].clone());
                    continue;
                }
                let src = first_of[&layers[i].digest];
                while src == i && !done.contains_key(&i) {
                    match rx.recv() {
                        Ok(Event::Downloading(j, cur, total, start)) if !downloaded.contains(&j) => {
                            p.progress(layers[j].digest.short(), "Downloading", cur, total, start)
                        }
                        Ok(Event::Downloading(..)) => {}
                        Ok(Event::Verifying(j)) => p.status(layers[j].digest.short(), "Verifying Checksum"),
                        Ok(Event::Downloaded(j)) => {
                            downloaded.insert(j);
                            p.status(layers[j].digest.short(), "Download complete");
                        }
                        Ok(Event::Extracting(j, cur, start)) if downloaded.contains(&j) => {
                            p.progress(layers[j].digest.short(), "Extracting", cur, 0, start)
                        }
                        Ok(Event::Extracting(..)) => {}
                        Ok(Event::Done(j, Ok(f))) => {
                            done.insert(j, f);
                        }
                        Ok(Event::Done(_, Err(e))) => return Err(e),
                        Err(_) => return Err(Error::Other("a download stopped without a result".into())),
                    }
                }
                if lock.is_none() {
                    *lock = Some(store.lock()?);
                }
                let meta = match done.remove(&i) {
                    Some(f) => {
                        if let Some(blob) = f.blob {
                            store.install_blob(blob, &diff_ids[i])?;
                        }
                        store.install_layer(f.layer, parent.as_ref())?
                    }
                    // The same blob again, on another parent: from the stored blob.
                    None if diff_ids[i] == diff_ids[src] => store.unpack_layer(&diff_ids[i], parent.as_ref())?,
                    None => {
                        return Err(Error::Other(format!(
                            "layer {id} does not match its image: it unpacks to {}, the config names {}",
                            diff_ids[src], diff_ids[i]
                        )))
                    }
                };
                parent = Some(meta.chain_id.clone());
                p.status(id, "Pull complete");
            }
            Ok(())
        })();
        if result.is_err() {
            abort.store(true, Ordering::Relaxed);
        }
        result
    })
}
