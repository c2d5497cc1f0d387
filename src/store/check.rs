//! `skiff system check`: verify the whole state root and say exactly what is wrong.
//!
//! Two kinds of findings:
//! * **damage** — something a command relies on is missing or wrong: a blob that does not
//!   hash to its name, a manifest naming a blob that is not there, an image whose layer was
//!   never extracted, a container whose layers are gone, an address held twice. Reported,
//!   never "repaired" by deleting data: a person decides.
//! * **garbage** — what an interrupted or failed command left behind: scratch directories of
//!   dead processes, half-written temp files, blobs and layers no image or container uses,
//!   build-cache records of deleted images. `--repair` removes these (under the store lock,
//!   sparing whatever a running command has leased: see [`Store::lease`]).
//!
//! `--deep` also extracts every layer blob again and compares it with the extracted layer
//! (file types, contents, link targets), which reads every byte of every layer twice.
//!
//! Locks: the writer lock is an OS file lock (`flock`), released by the kernel when its holder
//! dies, so it cannot go stale; the check takes it, so what it sees is one consistent state.

use super::{make_writable, tmp_owner_alive, Store};
use crate::error::{Error, IoContext, Result};
use crate::spec::{Digest, ImageConfig, Manifest};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Data is wrong or missing.
    Damage,
    /// A leftover that wastes space; safe to remove.
    Garbage,
}

/// One thing that is wrong.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// One line, naming the object (`blob sha256:…: …`).
    pub message: String,
    /// What `--repair` removes for a garbage finding.
    pub remove: Option<PathBuf>,
}

/// What to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Remove garbage.
    pub repair: bool,
    /// Compare every extracted layer with its blob.
    pub deep: bool,
}

/// The outcome: every finding, and which were repaired.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub repaired: Vec<Finding>,
    /// How many objects were looked at (blobs, layers, images, containers, networks, volumes).
    pub checked: BTreeMap<&'static str, usize>,
}

impl Report {
    /// Whether anything is still wrong.
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn damage(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Damage)
    }
}

/// Temp files (`.tmp-*` from an atomic write) younger than this may belong to a write in
/// progress; older ones were left by a killed process.
const TEMP_GRACE: Duration = Duration::from_secs(60);

/// Entries of the shared `tmp/` (a pull's partial download, kept to be resumed) untouched for
/// this long are reported as garbage.
const SHARED_TMP_GRACE: Duration = Duration::from_secs(3600);

struct Checker<'a> {
    store: &'a Store,
    opts: Options,
    report: Report,
    /// Only looking for garbage (prune): blobs are not hashed.
    gc: bool,
}

impl Checker<'_> {
    fn damage(&mut self, message: String) {
        self.report.findings.push(Finding { severity: Severity::Damage, message, remove: None });
    }

    fn garbage(&mut self, message: String, remove: PathBuf) {
        self.report.findings.push(Finding { severity: Severity::Garbage, message, remove: Some(remove) });
    }

    fn count(&mut self, what: &'static str) {
        *self.report.checked.entry(what).or_default() += 1;
    }
}

/// Check the store (taking its lock) and, with `repair`, remove the garbage found.
pub fn check(store: &Store, opts: Options) -> Result<Report> {
    let _lock = store.lock_quiet()?;
    let mut c = Checker { store, opts, report: Report::default(), gc: false };
    let leased = store.leases();
    let images = c.images()?;
    let containers = c.containers(&images)?;
    c.blobs(&images.blobs, &leased)?;
    c.layers(&images, &containers, &leased)?;
    c.networks(&containers)?;
    c.volumes(&containers)?;
    c.meta(&images.ids)?;
    c.scratch()?;
    if opts.repair {
        let (fixed, left): (Vec<_>, Vec<_>) = std::mem::take(&mut c.report.findings).into_iter().partition(|f| {
            f.severity == Severity::Garbage && f.remove.as_deref().is_some_and(|p| remove_any(p).is_ok())
        });
        c.report.findings = left;
        c.report.repaired = fixed;
    }
    Ok(c.report)
}

/// What the images in the index reference.
#[derive(Default)]
struct Referenced {
    ids: BTreeSet<Digest>,
    blobs: BTreeSet<Digest>,
    chains: BTreeSet<Digest>,
    /// chain ID → diff ID, for the layers images name.
    diffs: BTreeMap<Digest, Digest>,
}

/// What the containers use.
#[derive(Default)]
struct Used {
    chains: BTreeSet<Digest>,
    /// (network, address) → container IDs holding it.
    addresses: BTreeMap<(String, String), Vec<String>>,
    /// Volume names mounted, and by whom.
    volumes: BTreeMap<String, Vec<String>>,
}

impl Checker<'_> {
    fn images(&mut self) -> Result<Referenced> {
        let mut r = Referenced::default();
        let layout = self.store.root().join("oci/oci-layout");
        match fs::read(&layout) {
            Ok(d) if serde_json::from_slice::<serde_json::Value>(&d).is_ok() => {}
            Ok(_) => self.damage(format!("{}: not valid JSON", layout.display())),
            Err(e) => self.damage(format!("{}: {e}", layout.display())),
        }
        let index = match self.store.index() {
            Ok(i) => i,
            Err(e) => {
                self.damage(format!("image index: {e}"));
                return Ok(r);
            }
        };
        let mut seen = BTreeSet::new();
        for d in &index.manifests {
            if !seen.insert(d.digest.clone()) {
                continue;
            }
            self.count("images");
            r.blobs.insert(d.digest.clone());
            let manifest: Manifest = match self.store.read_json(&d.digest) {
                Ok(m) => m,
                Err(e) => {
                    self.damage(format!("image manifest {}: {}", d.digest, short_err(&e)));
                    continue;
                }
            };
            r.blobs.insert(manifest.config.digest.clone());
            r.blobs.extend(manifest.layers.iter().map(|l| l.digest.clone()));
            let config: ImageConfig = match self.store.read_json(&manifest.config.digest) {
                Ok(c) => c,
                Err(e) => {
                    self.damage(format!("image {}: config: {}", manifest.config.digest, short_err(&e)));
                    continue;
                }
            };
            r.ids.insert(manifest.config.digest.clone());
            let id = manifest.config.digest.short().to_string();
            if config.rootfs.diff_ids.len() != manifest.layers.len() {
                self.damage(format!(
                    "image {id}: its config names {} layers, its manifest {}",
                    config.rootfs.diff_ids.len(),
                    manifest.layers.len()
                ));
            }
            for (diff, layer) in config.rootfs.diff_ids.iter().zip(&manifest.layers) {
                if diff != &layer.digest {
                    self.damage(format!("image {id}: layer blob {} is not its diff ID {diff}", layer.digest));
                }
            }
            for (chain, diff) in Digest::chain(&config.rootfs.diff_ids).into_iter().zip(&config.rootfs.diff_ids) {
                if !self.store.has_layer(&chain) {
                    self.damage(format!("image {id}: layer {chain} (diff ID {diff}) is not extracted"));
                }
                r.diffs.insert(chain.clone(), diff.clone());
                r.chains.insert(chain);
            }
        }
        Ok(r)
    }

    fn containers(&mut self, images: &Referenced) -> Result<Used> {
        let mut used = Used::default();
        let dir = self.store.root().join("containers");
        for e in fs::read_dir(&dir).at(&dir)? {
            let e = e.at(&dir)?;
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            if is_temp_name(&name) {
                self.old_temp(&p);
                continue;
            }
            self.count("containers");
            let rec = p.join("container.json");
            let data = match fs::read(&rec) {
                Ok(d) => d,
                Err(_) => {
                    self.garbage(format!("container directory {name} has no record (a removal was interrupted)"), p);
                    continue;
                }
            };
            let c = match crate::container::parse_record(&rec, &data) {
                Ok(c) => c,
                Err(e) => {
                    self.damage(format!("container {name}: record: {}", short_err(&e)));
                    continue;
                }
            };
            if c.id != name {
                self.damage(format!("container {name}: its record says it is {}", c.id));
            }
            if !p.join("upper").is_dir() {
                self.damage(format!("container {} ({}): writable layer upper/ is missing", c.name, c.short_id()));
            }
            for chain in &c.layers {
                used.chains.insert(chain.clone());
                if !self.store.has_layer(chain) {
                    self.damage(format!("container {} ({}): layer {chain} is missing", c.name, c.short_id()));
                }
            }
            if !images.ids.contains(&c.image) && c.layers.is_empty() {
                self.damage(format!("container {}: no image and no layers", c.name));
            }
            for (net, ep) in &c.networks {
                if !ep.ip_address.is_empty() {
                    used.addresses.entry((net.clone(), ep.ip_address.clone())).or_default().push(c.name.clone());
                }
            }
            for m in c.mounts.iter().filter(|m| m.kind == "volume") {
                used.volumes.entry(m.name.clone()).or_default().push(c.name.clone());
            }
            for f in fs::read_dir(&p).into_iter().flatten().flatten() {
                if is_temp_name(&f.file_name().to_string_lossy()) {
                    self.old_temp(&f.path());
                }
            }
        }
        Ok(used)
    }

    fn blobs(&mut self, referenced: &BTreeSet<Digest>, leased: &BTreeSet<Digest>) -> Result<()> {
        let dir = self.store.root().join("oci/blobs/sha256");
        let mut present = BTreeSet::new();
        for e in fs::read_dir(&dir).at(&dir)? {
            let e = e.at(&dir)?;
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            let Ok(d) = format!("sha256:{name}").parse::<Digest>() else {
                if is_temp_name(&name) {
                    self.old_temp(&p);
                } else {
                    self.garbage(format!("blobs: {}: not a blob name", crate::error::printable_name(&name)), p);
                }
                continue;
            };
            self.count("blobs");
            present.insert(d.clone());
            match if self.gc { Ok(d.clone()) } else { hash_file(&p) } {
                Ok(actual) if actual == d => {}
                Ok(actual) => self.damage(format!("blob {d} is corrupt: its content hashes to {actual}")),
                Err(e) => self.damage(format!("blob {d}: {e}")),
            }
            if !referenced.contains(&d) && !leased.contains(&d) {
                self.garbage(format!("blob {d} is used by no image"), p);
            }
        }
        for d in referenced.difference(&present) {
            self.damage(format!("blob {d} is named by an image but missing"));
        }
        Ok(())
    }

    fn layers(&mut self, images: &Referenced, used: &Used, leased: &BTreeSet<Digest>) -> Result<()> {
        let dir = self.store.root().join("layers");
        for e in fs::read_dir(&dir).at(&dir)? {
            let e = e.at(&dir)?;
            let name = e.file_name().to_string_lossy().into_owned();
            let p = e.path();
            let Ok(chain) = format!("sha256:{name}").parse::<Digest>() else {
                self.garbage(format!("layers: {}: not a chain ID", crate::error::printable_name(&name)), p);
                continue;
            };
            self.count("layers");
            let meta = match self.store.layer_meta(&chain) {
                Ok(m) => m,
                Err(_) if !p.join("meta.json").exists() => {
                    self.garbage(format!("layer {chain}: no meta.json (an interrupted extraction or removal)"), p);
                    continue;
                }
                Err(e) => {
                    self.damage(format!("layer {chain}: meta.json: {}", short_err(&e)));
                    continue;
                }
            };
            let expect = match &meta.parent {
                None => meta.diff_id.clone(),
                Some(parent) => Digest::of(format!("{parent} {}", meta.diff_id).as_bytes()),
            };
            if meta.chain_id != chain || expect != chain {
                self.damage(format!("layer {chain}: meta.json says chain {} (computed {expect})", meta.chain_id));
            }
            if let Some(want) = images.diffs.get(&chain) {
                if want != &meta.diff_id {
                    self.damage(format!("layer {chain}: diff ID {} where the image names {want}", meta.diff_id));
                }
            }
            if !p.join("diff").is_dir() {
                self.damage(format!("layer {chain}: diff/ is missing"));
                continue;
            }
            let in_use = images.chains.contains(&chain) || used.chains.contains(&chain) || leased.contains(&chain);
            if !in_use {
                self.garbage(format!("layer {chain} is used by no image or container"), p);
                continue;
            }
            if self.opts.deep {
                self.deep_layer(&chain, &meta.diff_id)?;
            }
        }
        Ok(())
    }

    /// Extract the layer's blob again and compare it with what `layers/` holds.
    fn deep_layer(&mut self, chain: &Digest, diff: &Digest) -> Result<()> {
        let blob = self.store.blob_path(diff);
        let Ok(f) = fs::File::open(&blob) else {
            return Ok(()); // a layer whose blob is gone (pulled elsewhere) has nothing to compare with
        };
        let tmp = tempfile::tempdir_in(self.store.scratch_dir()).at(self.store.scratch_dir())?;
        let specials = crate::archive::extract::Specials::Skip;
        // In the form the stored layer has (host symlinks, or skiff's portable metadata).
        let portable = crate::hostfs::portable::is_portable(&self.store.layer_diff_dir(chain));
        if let Err(e) = crate::archive::extract::extract_layer_as(f, tmp.path(), &diff.to_string(), specials, portable)
        {
            self.damage(format!("layer {chain}: its blob no longer extracts: {}", short_err(&e)));
            return Ok(());
        }
        let mut diffs = Vec::new();
        compare_trees(tmp.path(), &self.store.layer_diff_dir(chain), Path::new(""), &mut diffs);
        for d in diffs.into_iter().take(20) {
            self.damage(format!("layer {chain}: {d}"));
        }
        Ok(())
    }

    fn networks(&mut self, used: &Used) -> Result<()> {
        let dir = self.store.root().join("networks");
        let mut names = BTreeSet::new();
        let mut subnets: Vec<(String, std::net::Ipv4Addr, u8)> = Vec::new();
        let mut nets = BTreeMap::new();
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let fname = e.file_name().to_string_lossy().into_owned();
            if is_temp_name(&fname) {
                self.old_temp(&e.path());
                continue;
            }
            let Some(stem) = fname.strip_suffix(".json") else { continue };
            self.count("networks");
            let data = fs::read(e.path()).at(e.path())?;
            let n: crate::network::Network = match serde_json::from_slice(&data) {
                Ok(n) => n,
                Err(err) => {
                    self.damage(format!("network {stem}: {}", json_err(&err)));
                    continue;
                }
            };
            if n.name != stem {
                self.damage(format!("network file {stem}.json holds network {}", n.name));
            }
            if let Some((a, l, _)) = n.subnet() {
                for (other, oa, ol) in &subnets {
                    let m = if l.min(*ol) == 0 { 0 } else { u32::MAX << (32 - l.min(*ol)) };
                    if u32::from(a) & m == u32::from(*oa) & m {
                        self.damage(format!("networks {other} and {} have overlapping subnets", n.name));
                    }
                }
                subnets.push((n.name.clone(), a, l));
            }
            names.insert(n.name.clone());
            nets.insert(n.name.clone(), n);
        }
        for ((net, ip), holders) in &used.addresses {
            match nets.get(net) {
                None => {
                    self.damage(format!("containers {} are on network {net}, which does not exist", holders.join(", ")))
                }
                Some(n) => {
                    if let (Some((a, l, _)), Ok(addr)) = (n.subnet(), ip.parse::<std::net::Ipv4Addr>()) {
                        let m = if l == 0 { 0 } else { u32::MAX << (32 - l) };
                        if u32::from(addr) & m != u32::from(a) & m {
                            self.damage(format!("container {} holds {ip}, outside network {net}", holders.join(", ")));
                        }
                    }
                }
            }
            if holders.len() > 1 {
                self.damage(format!(
                    "address {ip} on network {net} is held by {} containers: {}",
                    holders.len(),
                    holders.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn volumes(&mut self, used: &Used) -> Result<()> {
        let dir = self.store.root().join("volumes");
        let mut present = BTreeSet::new();
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if is_temp_name(&name) {
                self.old_temp(&e.path());
                continue;
            }
            self.count("volumes");
            match crate::volume::get(self.store, &name) {
                Ok(v) if v.name == name => {}
                Ok(v) => self.damage(format!("volume directory {name} holds volume {}", v.name)),
                Err(_) if !e.path().join("volume.json").exists() => {
                    self.garbage(
                        format!("volume directory {} has no volume.json", crate::error::printable_name(&name)),
                        e.path(),
                    );
                    continue;
                }
                Err(err) => self.damage(format!("volume {name}: {}", short_err(&err))),
            }
            if !e.path().join("_data").is_dir() {
                self.damage(format!("volume {name}: _data/ is missing"));
            }
            present.insert(name);
        }
        for (v, users) in &used.volumes {
            if !present.contains(v) {
                self.damage(format!("volume {v}, mounted by {}, does not exist", users.join(", ")));
            }
        }
        Ok(())
    }

    /// `meta/`: parent links and build records of images that no longer exist.
    fn meta(&mut self, ids: &BTreeSet<Digest>) -> Result<()> {
        let root = self.store.root().join("meta");
        for sub in ["parents", "build"] {
            for e in fs::read_dir(root.join(sub)).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if is_temp_name(&name) {
                    self.old_temp(&e.path());
                    continue;
                }
                let hex = name.trim_end_matches(".json");
                if format!("sha256:{hex}").parse::<Digest>().is_ok_and(|d| !ids.contains(&d)) {
                    self.garbage(format!("meta/{sub}/{name}: about an image that no longer exists"), e.path());
                }
            }
        }
        for parent in fs::read_dir(root.join("children")).into_iter().flatten().flatten() {
            for child in fs::read_dir(parent.path()).into_iter().flatten().flatten() {
                let name = child.file_name().to_string_lossy().into_owned();
                if is_temp_name(&name) {
                    self.old_temp(&child.path());
                } else if format!("sha256:{name}").parse::<Digest>().is_ok_and(|d| !ids.contains(&d)) {
                    let p = parent.file_name().to_string_lossy().into_owned();
                    self.garbage(
                        format!("meta/children/{p}/{name}: about an image that no longer exists"),
                        child.path(),
                    );
                }
            }
        }
        Ok(())
    }

    /// `tmp/` (scratch of dead processes; shared temp files left for an hour) and temp files
    /// anywhere in the layout.
    fn scratch(&mut self) -> Result<()> {
        let tmp = self.store.root().join("tmp");
        for e in fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let shown = crate::error::printable_name(&name);
            if super::is_scratch_name(&name) {
                if !tmp_owner_alive(&name) {
                    let size = crate::hostfs::dir_size(&e.path());
                    self.garbage(format!("tmp/{shown}: left by a process that is gone ({size} bytes)"), e.path());
                }
                continue;
            }
            let age = fs::symlink_metadata(e.path())
                .and_then(|m| m.modified())
                .map(|t| SystemTime::now().duration_since(t).unwrap_or_default())
                .unwrap_or_default();
            if age > SHARED_TMP_GRACE {
                let what = if name.ends_with(".partial") { "a partial download" } else { "a temporary file" };
                self.garbage(format!("tmp/{shown}: {what}, untouched for {} minutes", age.as_secs() / 60), e.path());
            }
        }
        for d in ["oci", "modules", "networks"] {
            for e in fs::read_dir(self.store.root().join(d)).into_iter().flatten().flatten() {
                if is_temp_name(&e.file_name().to_string_lossy()) {
                    self.old_temp(&e.path());
                }
            }
        }
        let lock = self.store.root().join("lock");
        if fs::symlink_metadata(&lock).is_ok_and(|m| !m.is_file()) {
            self.damage(format!("{}: the lock is not a regular file", lock.display()));
        }
        Ok(())
    }

    fn old_temp(&mut self, p: &Path) {
        let old = fs::symlink_metadata(p)
            .and_then(|m| m.modified())
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() > TEMP_GRACE)
            .unwrap_or(true);
        if old {
            let rel = p.strip_prefix(self.store.root()).unwrap_or(p).display().to_string();
            self.garbage(
                format!("{}: a temporary file left by an interrupted write", crate::error::printable_name(&rel)),
                p.to_path_buf(),
            );
        }
    }
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with(".tmp") || name.starts_with(".ingest-")
}

fn hash_file(p: &Path) -> std::io::Result<Digest> {
    use sha2::{Digest as _, Sha256};
    let mut f = fs::File::open(p)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(Digest::from_hasher(h))
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    let md = fs::symlink_metadata(p)?;
    if md.is_dir() {
        make_writable(p);
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

/// A JSON error without the offending text (it may come from anywhere): what and where.
fn json_err(e: &serde_json::Error) -> String {
    format!("invalid JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column())
}

fn short_err(e: &Error) -> String {
    crate::error::printable(&e.to_string()).into_owned()
}

/// Differences between the freshly extracted `want` and the stored `have`, below `rel`.
fn compare_trees(want: &Path, have: &Path, rel: &Path, out: &mut Vec<String>) {
    let list = |d: &Path| -> BTreeMap<std::ffi::OsString, fs::Metadata> {
        fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name(), fs::symlink_metadata(e.path()).ok()?)))
            .collect()
    };
    let (w, h) = (list(&want.join(rel)), list(&have.join(rel)));
    let show = |name: &std::ffi::OsStr| crate::error::printable_name(&rel.join(name).to_string_lossy());
    for (name, wm) in &w {
        let path = rel.join(name);
        let Some(hm) = h.get(name) else {
            out.push(format!("{} is missing", show(name)));
            continue;
        };
        let kind = |m: &fs::Metadata| (m.is_dir(), m.is_file(), m.file_type().is_symlink());
        if kind(wm) != kind(hm) {
            out.push(format!("{} changed type", show(name)));
        } else if wm.is_dir() {
            compare_trees(want, have, &path, out);
        } else if wm.file_type().is_symlink() {
            if fs::read_link(want.join(&path)).ok() != fs::read_link(have.join(&path)).ok() {
                out.push(format!("{}: symlink target changed", show(name)));
            }
        } else if wm.len() != hm.len() || hash_file(&want.join(&path)).ok() != hash_file(&have.join(&path)).ok() {
            out.push(format!("{}: content changed", show(name)));
        } else if crate::hostfs::mode_of(wm) != crate::hostfs::mode_of(hm) {
            out.push(format!(
                "{}: mode {:o}, the blob says {:o}",
                show(name),
                crate::hostfs::mode_of(hm),
                crate::hostfs::mode_of(wm)
            ));
        }
    }
    for name in h.keys().filter(|n| !w.contains_key(*n)) {
        out.push(format!("{} is not in the blob", show(name)));
    }
}

impl Store {
    /// Note that this process made `digest` (a blob or a chain ID) and is about to reference
    /// it: until it does (or dies), no garbage collection removes it. The lease lives in the
    /// process's scratch directory, so it ends with the process.
    pub fn lease(&self, digest: &Digest) {
        use std::io::Write;
        let p = self.scratch_dir().join("leases");
        if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(&p) {
            let _ = writeln!(f, "{digest}");
        }
    }

    /// Every digest leased by a live process.
    pub fn leases(&self) -> BTreeSet<Digest> {
        let mut out = BTreeSet::new();
        for e in fs::read_dir(self.root().join("tmp")).into_iter().flatten().flatten() {
            if !tmp_owner_alive(&e.file_name().to_string_lossy()) {
                continue;
            }
            if let Ok(text) = fs::read_to_string(e.path().join("leases")) {
                out.extend(text.lines().filter_map(|l| l.parse().ok()));
            }
        }
        out
    }

    /// Remove blobs and extracted layers that no image, no container and no running command
    /// needs (what interrupted or refused imports left). Caller holds the lock. Returns the
    /// bytes freed.
    pub fn collect_garbage(&self) -> Result<u64> {
        let mut freed = 0;
        let report = {
            let mut c = Checker { store: self, opts: Options::default(), report: Report::default(), gc: true };
            let leased = self.leases();
            let images = c.images()?;
            let containers = c.containers(&images)?;
            c.blobs(&images.blobs, &leased)?;
            c.layers(&images, &containers, &leased)?;
            c.meta(&images.ids)?;
            c.report
        };
        if report.damage().next().is_some() {
            return Ok(0); // something is wrong: delete nothing, `system check` says what
        }
        for f in report.findings {
            if let Some(p) = f.remove {
                let size =
                    fs::symlink_metadata(&p).map(|m| if m.is_dir() { crate::hostfs::dir_size(&p) } else { m.len() });
                if remove_any(&p).is_ok() {
                    freed += size.unwrap_or(0);
                }
            }
        }
        Ok(freed)
    }
}
