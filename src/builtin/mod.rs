//! Built-in teaching images, embedded in the binary (built from `guests/`): the first time one
//! is named it is imported into the store as a real layered image, with pull-like output, so
//! skiff works with no registry. Their IDs are the same on every machine.

use crate::archive::create::LayerBuilder;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::runtime;
use crate::spec::{to_json, Descriptor, Digest, History, ImageConfig, RootFs, MEDIA_TYPE_LAYER};
use crate::store::{Image, Store};
use std::collections::BTreeMap;
use std::io::Write;

mod base;
mod registry;
mod servers;

/// The creation time of every built-in image: fixed, so their IDs are reproducible.
const CREATED: &str = "2026-11-23T00:00:00Z";
pub(super) const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const LABEL: &str = "io.skiff.teaching-image";

/// The OCI platform of every built-in image: WASI guests (`GOOS=wasip1 GOARCH=wasm`).
pub const PLATFORM: (&str, &str) = ("wasip1", "wasm");

/// The built-in images: (repository as Docker prints it, tags, what it is).
pub const CATALOG: &[(&str, &[&str], &str)] = &[
    ("busybox", &["latest"], "a shell (sh) and the usual commands (ls, cat, grep, …)"),
    ("hello-world", &["latest"], "prints a greeting that explains what skiff did"),
    ("whoami", &["latest"], "an HTTP server on port 3000 answering with its host name, IP and $AUTHOR"),
    ("nginx", &["latest", "1.23", "1.23.1"], "a static web server on port 80 (skiff's, in nginx's clothes)"),
    ("httpd", &["latest", "2.4", "2.4.54"], "a static web server on port 80 (skiff's, in Apache's clothes)"),
    ("redis", &["latest", "7.0", "7.0.4", "7-alpine"], "a key-value server on port 6379 and redis-cli"),
    ("registry", &["2", "latest", "2.8"], "the Docker registry on port 5000: push and pull images to it"),
    (
        "postgres",
        &["latest", "15", "16", "alpine"],
        "a SQL server on port 5432 (PostgreSQL's wire protocol) with psql and pg_isready",
    ),
];

/// Whether `r` names a built-in image.
pub fn is_builtin(r: &Reference) -> bool {
    r.domain == crate::reference::DEFAULT_DOMAIN
        && CATALOG.iter().any(|(name, tags, _)| {
            r.path == format!("library/{name}") && r.tag.as_deref().is_some_and(|t| tags.contains(&t))
        })
}

/// One layer of a recipe with the history line that made it.
pub(super) struct Step {
    pub(super) layer: Option<LayerBuilder>,
    pub(super) created_by: String,
}

/// Import the built-in image `r` into the store, printing Docker-like pull progress to `out`.
pub fn import(store: &Store, r: &Reference, out: &mut dyn Write) -> Result<Image> {
    let rt = runtime::open(store, runtime::Kind::for_platform(PLATFORM.0, PLATFORM.1)?)?;
    let rt = rt.as_ref();
    let name = r.path.trim_start_matches("library/");
    let (steps, config) = match (name, r.tag.as_deref().unwrap_or("latest")) {
        ("busybox", _) => base::busybox(rt, store)?,
        ("hello-world", _) => base::hello_world(),
        ("whoami", _) => servers::whoami(rt, store)?,
        ("nginx", _) => servers::nginx(rt, store)?,
        ("httpd", _) => servers::httpd(rt, store)?,
        ("redis", "7-alpine") => servers::redis_alpine(),
        ("redis", _) => servers::redis(rt, store)?,
        ("registry", _) => registry::registry(rt, store)?,
        ("postgres", "16") => servers::postgres(rt, store, "16")?,
        ("postgres", _) => servers::postgres(rt, store, "15")?,
        _ => return Err(Error::NoSuchImage(r.familiar())),
    };
    let _ = writeln!(out, "{}: Pulling from {}", r.tag.as_deref().unwrap_or("latest"), r.path);
    let _lock = store.lock()?;
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    let mut history = Vec::new();
    let mut parent = None;
    for step in steps {
        let Some(layer) = step.layer else {
            history.push(History {
                created: Some(CREATED.into()),
                created_by: Some(step.created_by),
                empty_layer: true,
                ..Default::default()
            });
            continue;
        };
        let tar = layer.to_tar(0);
        let diff_id = store.put_blob(&tar)?;
        let mut chain = diff_ids.clone();
        chain.push(diff_id.clone());
        let existed = Digest::chain(&chain).last().is_some_and(|c| store.has_layer(c));
        let meta = store.unpack_layer(&diff_id, parent.as_ref())?;
        runtime::layer_added(store, &meta)?;
        let _ = writeln!(out, "{}: {}", diff_id.short(), if existed { "Already exists" } else { "Pull complete" });
        parent = Some(meta.chain_id.clone());
        descriptors.push(Descriptor::new(MEDIA_TYPE_LAYER, diff_id.clone(), tar.len() as u64));
        diff_ids.push(diff_id);
        history.push(History {
            created: Some(CREATED.into()),
            created_by: Some(step.created_by),
            ..Default::default()
        });
    }
    let image_config = ImageConfig {
        created: Some(CREATED.into()),
        author: Some("skiff built-in library".into()),
        architecture: PLATFORM.1.into(),
        os: PLATFORM.0.into(),
        config: Some(config),
        rootfs: RootFs::layers(diff_ids),
        history,
        extra: BTreeMap::new(),
    };
    let (_, manifest) = store.put_image(&to_json(&image_config), descriptors)?;
    store.tag_image(&manifest, r)?;
    let _ = writeln!(out, "Digest: {manifest}");
    let _ = writeln!(out, "Status: Downloaded newer image for {}", r.familiar());
    store.image_by_manifest(&manifest, vec![r.clone()])
}

pub(super) fn labels(name: &str, what: &str) -> Option<BTreeMap<String, String>> {
    let mut l = BTreeMap::new();
    l.insert(LABEL.to_string(), name.to_string());
    l.insert("org.opencontainers.image.description".to_string(), format!("skiff teaching image: {what}"));
    Some(l)
}

// ---- getting images: the built-in library first for Docker Hub's library names, then the registry ----

/// Pull `r`: from the built-in library if it is one of its images (offline), else from its
/// registry, printing Docker's pull output to `out` (`tty`: progress bars, lines rewritten).
pub fn pull(store: &Store, r: &Reference, out: &mut dyn Write, tty: bool) -> anyhow::Result<Image> {
    if is_builtin(r) {
        return Ok(import(store, r, out)?);
    }
    match crate::registry::pull_image(store, r, out, tty) {
        Ok(img) => Ok(img),
        Err(e) => Err(with_hint(r, e.into())),
    }
}

/// A failed pull of a Docker Hub name also says which images skiff has built in (offline,
/// that is what a learner can use).
pub fn with_hint(r: &Reference, e: anyhow::Error) -> anyhow::Error {
    if r.domain != crate::reference::DEFAULT_DOMAIN {
        return e;
    }
    let names: Vec<&str> = CATALOG.iter().map(|(n, _, _)| *n).collect();
    anyhow::anyhow!("{e} ({} is not one of skiff's built-in images: {})", r.familiar(), names.join(", "))
}

/// The image `name`, pulling it on first use (`Unable to find image … locally`): a built-in
/// image offline, anything else from its registry.
pub fn get_or_pull(store: &Store, name: &str, out: &mut dyn Write) -> anyhow::Result<Image> {
    find_or_pull(store, name, out, true)
}

/// As [`get_or_pull`], but the pull's progress comes without `Unable to find image`: what
/// `build`'s `FROM` prints (the classic builder goes straight to `latest: Pulling from …`).
pub fn find_or_pull(store: &Store, name: &str, out: &mut dyn Write, announce: bool) -> anyhow::Result<Image> {
    match store.find_image(name) {
        Ok(img) => Ok(img),
        Err(Error::NoSuchImage(_)) => {
            let r = Reference::parse(name)?.with_default_tag();
            if announce {
                let _ = writeln!(out, "Unable to find image '{}' locally", r.familiar());
            }
            pull(store, &r, out, false)
        }
        Err(e) => Err(e.into()),
    }
}
