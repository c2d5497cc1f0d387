//! Named volumes (`volumes/<name>/_data`, with `volume.json` beside it) and the mounts a
//! container asks for: `-v name:/path[:ro]`, `-v /host/dir:/path[:ro]`, `--mount …`, and the
//! anonymous volumes an image's `VOLUME`s get. Data in a volume outlives its containers.

use crate::error::{Error, IoContext, Result};
use crate::store::{atomic_write, Store};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// A volume as `volume inspect` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub created_at: String,
    pub driver: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub mountpoint: String,
    pub name: String,
    pub options: std::collections::BTreeMap<String, String>,
    pub scope: String,
    /// Made for an image's `VOLUME` (removed by `rm -v` and `--rm`); not shown by inspect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
}

/// One mount of a container, as its record and `inspect`'s `Mounts` keep it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `volume` or `bind`.
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

fn dir(store: &Store, name: &str) -> PathBuf {
    store.root().join("volumes").join(name)
}

/// Docker's rule for volume names.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Create volume `name` (a random 64-hex name when `None`); an existing one is returned as is.
pub fn create(store: &Store, name: Option<&str>, anonymous: bool) -> Result<Volume> {
    let name = match name {
        Some(n) => n.to_string(),
        None => hex::encode(rand::random::<[u8; 32]>()),
    };
    if name.len() < 2 {
        return Err(Error::Other(format!(
            "create {name}: volume name is too short, names should be at least two alphanumeric characters"
        )));
    }
    if !valid_name(&name) {
        return Err(Error::Other(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )));
    }
    let _lock = store.lock()?;
    if let Ok(v) = get(store, &name) {
        return Ok(v);
    }
    let d = dir(store, &name);
    let tmp = tempfile::Builder::new().prefix("vol-").tempdir_in(store.scratch_dir()).at(store.scratch_dir())?;
    fs::create_dir(tmp.path().join("_data")).at(tmp.path())?;
    let v = Volume {
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        driver: "local".into(),
        labels: Default::default(),
        mountpoint: d.join("_data").display().to_string(),
        name: name.clone(),
        options: Default::default(),
        scope: "local".into(),
        anonymous,
    };
    atomic_write(&tmp.path().join("volume.json"), &serde_json::to_vec_pretty(&v).expect("volume serialises"))?;
    fs::create_dir_all(d.parent().expect("volumes/")).at(&d)?;
    crate::store::crash::point("volume-create");
    fs::rename(tmp.keep(), &d).at(&d)?;
    crate::events::record(store, crate::events::Event::new("volume", "create", &v.name, &[("driver", "local")]));
    Ok(v)
}

/// Volume `name`.
pub fn get(store: &Store, name: &str) -> Result<Volume> {
    // A name is a directory under volumes/: `..` or `a/b` must not reach outside it.
    if !valid_name(name) {
        return Err(Error::Other(format!("No such volume: {name}")));
    }
    let p = dir(store, name).join("volume.json");
    let data = fs::read(&p).map_err(|_| Error::Other(format!("No such volume: {name}")))?;
    serde_json::from_slice(&data).map_err(|e| Error::Other(format!("{}: {e}", p.display())))
}

/// Every volume, by name.
pub fn list(store: &Store) -> Result<Vec<Volume>> {
    let d = store.root().join("volumes");
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(&d) else { return Ok(out) };
    for e in entries {
        let name = e.at(&d)?.file_name().to_string_lossy().into_owned();
        if let Ok(v) = get(store, &name) {
            out.push(v);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Remove a volume and its data. The caller checks no container uses it.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    get(store, name)?;
    let _lock = store.lock()?;
    let d = dir(store, name);
    let trash = store.scratch_dir().join(format!("rmvol-{name}"));
    fs::rename(&d, &trash).at(&d)?;
    crate::store::crash::point("volume-trash");
    crate::store::make_writable(&trash);
    fs::remove_dir_all(&trash).at(&trash)?;
    crate::events::record(store, crate::events::Event::new("volume", "destroy", name, &[("driver", "local")]));
    Ok(())
}

/// Bytes of data in a volume (what prune reclaims).
pub fn size(store: &Store, name: &str) -> u64 {
    crate::hostfs::dir_size(&dir(store, name).join("_data"))
}

/// Parse `-v SRC:DST[:MODE]` (or an anonymous `-v /path`) into a mount, creating a named
/// volume that does not exist yet, as Docker does.
pub fn parse_volume_flag(store: &Store, spec: &str) -> Result<MountPoint> {
    let parts: Vec<&str> = spec.split(':').collect();
    let invalid = |why: &str| Error::Other(format!("invalid volume specification: '{spec}'{why}"));
    let (src, dst, mode) = match parts.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] => (*src, *dst, ""),
        [src, dst, mode] => (*src, *dst, *mode),
        _ => return Err(invalid("")),
    };
    let rw = match mode {
        "" | "rw" => true,
        "ro" => false,
        other => return Err(Error::Other(format!("invalid mode: {other}"))),
    };
    if !dst.starts_with('/') {
        let kind = if src.starts_with('/') { "bind" } else { "volume" };
        return Err(invalid(&format!(
            ": invalid mount config for type \"{kind}\": invalid mount path: '{dst}' mount path must be absolute"
        )));
    }
    if src.is_empty() {
        return volume_mount(store, None, dst, rw, true, mode);
    }
    if src.starts_with('/') {
        return bind_mount(src, dst, rw, true);
    }
    volume_mount(store, Some(src), dst, rw, false, mode)
}

/// Parse `--mount type=volume|bind,source=…,target=…[,readonly]`.
pub fn parse_mount_flag(store: &Store, spec: &str) -> Result<MountPoint> {
    let (mut kind, mut src, mut dst, mut rw) = ("volume".to_string(), String::new(), String::new(), true);
    for field in spec.split(',') {
        let (k, v) = field.split_once('=').unwrap_or((field, ""));
        match k {
            "type" => kind = v.to_string(),
            "source" | "src" => src = v.to_string(),
            "target" | "destination" | "dst" => dst = v.to_string(),
            "readonly" | "ro" => rw = !matches!(v, "" | "1" | "true"),
            other => return Err(Error::Other(format!("invalid field '{other}' must be a key=value pair"))),
        }
    }
    if dst.is_empty() {
        return Err(Error::Other(
            "invalid argument \"".to_string() + spec + "\" for \"--mount\" flag: target is required",
        ));
    }
    match kind.as_str() {
        "volume" => volume_mount(store, (!src.is_empty()).then_some(src.as_str()), &dst, rw, src.is_empty(), ""),
        "bind" => bind_mount(&src, &dst, rw, false),
        other => Err(Error::Other(format!("mount type {other:?} is not supported by skiff yet (volume and bind are)"))),
    }
}

fn volume_mount(
    store: &Store,
    name: Option<&str>,
    dst: &str,
    rw: bool,
    anonymous: bool,
    mode: &str,
) -> Result<MountPoint> {
    let v = create(store, name, anonymous)?;
    Ok(MountPoint {
        kind: "volume".into(),
        name: v.name,
        source: v.mountpoint,
        destination: dst.into(),
        driver: "local".into(),
        mode: if mode.is_empty() && !anonymous { "z".into() } else { mode.into() },
        rw,
        propagation: String::new(),
    })
}

/// A host directory or file. `-v` creates a missing directory, `--mount` refuses it.
fn bind_mount(src: &str, dst: &str, rw: bool, create_missing: bool) -> Result<MountPoint> {
    let p = Path::new(src);
    if !p.exists() {
        if !create_missing {
            return Err(Error::Other(format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {src}"
            )));
        }
        fs::create_dir_all(p).at(p)?;
    }
    Ok(MountPoint {
        kind: "bind".into(),
        name: String::new(),
        source: src.into(),
        destination: dst.into(),
        driver: String::new(),
        mode: String::new(),
        rw,
        propagation: "rprivate".into(),
    })
}

/// Give the volume of mount `m` the files at its mount point in `image` (a container's
/// image, seen without mounts) when the volume is empty, as Docker does for a new volume:
/// copied aside, then renamed over the empty `_data`, so it is filled whole or not at all.
pub fn populate(store: &Store, m: &MountPoint, image: &crate::unionfs::UnionFs) -> Result<()> {
    let data = dir(store, &m.name).join("_data");
    let empty = fs::read_dir(&data).map(|mut d| d.next().is_none()).unwrap_or(false);
    let is_dir = image.metadata(&m.destination, true).map(|md| md.kind == crate::unionfs::Kind::Dir).unwrap_or(false);
    if !empty || !is_dir || image.read_dir(&m.destination).map(|d| d.is_empty()).unwrap_or(true) {
        return Ok(());
    }
    let tmp = tempfile::Builder::new().prefix(".copy-").tempdir_in(dir(store, &m.name)).at(&data)?;
    crate::container::copy_out::copy_out_dir(image, &m.destination, tmp.path()).at(&data)?;
    fs::rename(tmp.path(), &data).at(&data)?;
    Ok(())
}
