//! `COPY` and `ADD`: which files go where (Docker's rules for a trailing `/`, directories,
//! several sources), the checksum the cache keys on, and the layer directory they make.
//! `ADD` also unpacks a local tar archive; a URL is refused, as skiff builds offline.

use super::context::{Context, Entry, EntryKind};
use super::dockerfile::Heredoc;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// One thing to put in the layer.
enum Item {
    /// A context (or image) entry at a destination path (absolute, in the image).
    Entry(Entry, String),
    /// Literal content (a heredoc).
    Text(String, String),
    /// A tar archive to unpack into a directory (`ADD`).
    Archive(Entry, String),
}

/// What a COPY/ADD will do, worked out before anything is written.
pub struct Plan {
    items: Vec<Item>,
    /// Source path (as the Dockerfile names it, in the context) → checksum of mode and
    /// content: what a cache miss names when it changed.
    pub files: BTreeMap<String, String>,
    /// `file:<hex>`, `dir:<hex>` or `multi:<hex>`, as Docker's `CREATED BY` shows.
    pub summary: String,
}

/// Work out a COPY/ADD. `dest` is expanded; `workdir` is the image's working directory;
/// `is_dir(path)` says whether a path is a directory in the image being built on.
pub fn plan(
    ctx: &Context,
    sources: &[String],
    heredocs: &[Heredoc],
    dest: &str,
    workdir: &str,
    add: bool,
    is_dir: &dyn Fn(&str) -> bool,
) -> anyhow::Result<Plan> {
    let what = if add { "ADD" } else { "COPY" };
    let mut entries: Vec<&Entry> = Vec::new();
    for s in sources {
        if add && (s.starts_with("http://") || s.starts_with("https://")) {
            anyhow::bail!("ADD failed: cannot download {s}: skiff builds offline; download the file into the build context and ADD it from there");
        }
        entries.extend(ctx.resolve(s).map_err(|e| anyhow::anyhow!("{what} failed: {e}"))?);
    }
    let dest_abs = absolute(dest, workdir);
    let many = entries.len() + heredocs.len() > 1;
    let into_dir = dest.ends_with('/') || dest == "." || is_dir(&dest_abs);
    if many && !dest.ends_with('/') && !is_dir(&dest_abs) {
        anyhow::bail!(
            "When using {what} with more than one source file, the destination must be a directory and end with a /"
        );
    }
    let mut items = Vec::new();
    let mut files = BTreeMap::new();
    // Destination → checksum: what the step's key sums up.
    let mut placed = BTreeMap::new();
    let mut kinds = Vec::new();
    for e in &entries {
        let base = e.rel.rsplit('/').next().unwrap_or("");
        match e.kind {
            EntryKind::Dir => {
                kinds.push("dir");
                for below in ctx.below(&e.rel) {
                    let rel = &below.rel[if e.rel.is_empty() { 0 } else { e.rel.len() + 1 }..];
                    let to = join(&dest_abs, rel);
                    let sum = checksum(below)?;
                    files.insert(below.rel.clone(), sum.clone());
                    placed.insert(to.clone(), sum);
                    items.push(Item::Entry(below.clone(), to));
                }
            }
            _ if add && is_archive(&e.path) => {
                kinds.push("file");
                let sum = checksum(e)?;
                files.insert(e.rel.clone(), sum.clone());
                placed.insert(format!("{dest_abs} < {}", e.rel), sum);
                items.push(Item::Archive((*e).clone(), dest_abs.clone()));
            }
            _ => {
                kinds.push("file");
                let to = if into_dir || many { join(&dest_abs, base) } else { dest_abs.clone() };
                let sum = checksum(e)?;
                files.insert(e.rel.clone(), sum.clone());
                placed.insert(to.clone(), sum);
                items.push(Item::Entry((*e).clone(), to));
            }
        }
    }
    for h in heredocs {
        kinds.push("file");
        let to = if into_dir || many { join(&dest_abs, &h.name) } else { dest_abs.clone() };
        let sum = hex::encode(Sha256::digest(h.content.as_bytes()));
        files.insert(format!("<<{}", h.name), sum.clone());
        placed.insert(to.clone(), sum);
        items.push(Item::Text(h.content.clone(), to));
    }
    if items.is_empty() && entries.is_empty() {
        anyhow::bail!("{what} failed: no source files were specified");
    }
    let mut h = Sha256::new();
    for (k, v) in &placed {
        h.update(format!("{k}\0{v}\n"));
    }
    let kind = if kinds.len() == 1 { kinds[0] } else { "multi" };
    Ok(Plan { items, files, summary: format!("{kind}:{}", hex::encode(h.finalize())) })
}

impl Plan {
    /// Write the files into `layer` (a directory that becomes the step's layer), creating
    /// the destination's parent directories. `chmod` (octal) overrides file modes.
    pub fn write(&self, layer: &Path, chmod: Option<u32>) -> anyhow::Result<()> {
        for item in &self.items {
            match item {
                Item::Entry(e, to) => {
                    let target = layer.join(to.trim_start_matches('/'));
                    make_parents(layer, &target)?;
                    match e.kind {
                        EntryKind::Dir => {
                            fs::create_dir_all(&target)?;
                            set_mode(&target, chmod.unwrap_or(mode_of(&e.path)))?;
                        }
                        EntryKind::File => {
                            fs::copy(&e.path, &target).map_err(|err| anyhow::anyhow!("{}: {err}", e.path.display()))?;
                            set_mode(&target, chmod.unwrap_or(mode_of(&e.path)))?;
                        }
                        EntryKind::Symlink => symlink(&fs::read_link(&e.path)?, &target)?,
                    }
                }
                Item::Text(content, to) => {
                    let target = layer.join(to.trim_start_matches('/'));
                    make_parents(layer, &target)?;
                    fs::write(&target, content)?;
                    set_mode(&target, chmod.unwrap_or(0o644))?;
                }
                Item::Archive(e, to) => {
                    let target = layer.join(to.trim_start_matches('/'));
                    fs::create_dir_all(&target)?;
                    let f = fs::File::open(&e.path)?;
                    let reader = crate::archive::maybe_gunzip(std::io::BufReader::new(f))?;
                    crate::archive::extract::extract_layer(reader, &target, &e.rel)
                        .map_err(|err| anyhow::anyhow!("ADD failed: {}: {err}", e.rel))?;
                }
            }
        }
        Ok(())
    }
}

/// A path in the image: `dest` as written, relative ones under the working directory.
pub fn absolute(dest: &str, workdir: &str) -> String {
    let joined =
        if dest.starts_with('/') { dest.to_string() } else { format!("{}/{dest}", workdir.trim_end_matches('/')) };
    format!("/{}", super::context::clean(&joined))
}

fn join(dir: &str, rel: &str) -> String {
    if rel.is_empty() {
        dir.to_string()
    } else {
        format!("{}/{rel}", dir.trim_end_matches('/'))
    }
}

/// Mode bits and content (or link target): what the cache compares (not times).
fn checksum(e: &Entry) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    match e.kind {
        EntryKind::Dir => h.update(format!("dir {:o}", mode_of(&e.path))),
        EntryKind::Symlink => h.update(format!("link {}", fs::read_link(&e.path)?.display())),
        EntryKind::File => {
            h.update(format!("file {:o}\n", mode_of(&e.path)));
            let mut f = fs::File::open(&e.path).map_err(|err| anyhow::anyhow!("{}: {err}", e.path.display()))?;
            std::io::copy(&mut f, &mut h)?;
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// A tar archive, plain or gzip'd: what `ADD` unpacks.
fn is_archive(p: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = fs::File::open(p) else { return false };
    use std::io::Read;
    let n = f.read(&mut head).unwrap_or(0);
    (n >= 2 && head[..2] == [0x1f, 0x8b]) || (n >= 262 && &head[257..262] == b"ustar")
}

fn make_parents(layer: &Path, target: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        if !parent.exists() {
            fs::create_dir_all(parent)?;
            set_dir_modes(layer, parent)?;
        }
    }
    Ok(())
}

/// Give `dir` and its parents up to `layer` mode 0755 (not the umask's choice), so the
/// layer is the same on every machine.
pub fn set_dir_modes(layer: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut p = dir;
    while p != layer && p.starts_with(layer) {
        set_mode(p, 0o755)?;
        p = p.parent().unwrap_or(layer);
    }
    Ok(())
}

/// Permission bits of a host path (not following a final symlink).
fn mode_of(p: &Path) -> u32 {
    fs::symlink_metadata(p).map(|m| crate::hostfs::mode_of(&m)).unwrap_or(0o644)
}

/// Set `p`'s permission bits; a host without them (Windows) keeps them in skiff's metadata,
/// which the layer's tar reads ([`crate::hostfs::portable`]).
fn set_mode(p: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(not(unix))]
    {
        use crate::hostfs::portable;
        let (dir, name) = portable::split(p)?;
        let is_dir = p.is_dir();
        portable::update(dir, &name, false, |old| {
            let old = old.unwrap_or_default();
            if old.link.is_some() {
                return Some(old);
            }
            portable::entry_for(mode, old.uid, old.gid, is_dir)
        })?;
    }
    Ok(crate::hostfs::set_mode(p, mode)?)
}

fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    Ok(crate::hostfs::symlink(target, link)?)
}
