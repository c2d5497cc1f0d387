//! Turning a directory of changes (a container's writable layer, a COPY's files; whiteouts as
//! OCI `.wh.` files) into a stored, extracted layer with its guests precompiled — what a build
//! step and `commit` both do.

use crate::archive::create::{source_date_epoch, tar_dir_owned, Owners};
use crate::error::Result;
use crate::spec::{Descriptor, Digest, MEDIA_TYPE_LAYER};
use crate::store::{LayerMeta, Store};
use std::path::Path;

/// Store `dir` as a layer on top of the layer `parent` (a chain ID). Caller holds the lock.
pub fn layer_from_dir(store: &Store, dir: &Path, parent: Option<&Digest>) -> Result<(Descriptor, LayerMeta)> {
    layer_from_dir_owned(store, dir, parent, Owners::Fixed(0, 0))
}

/// [`layer_from_dir`] with every entry owned by `owner` (uid, gid): `COPY --chown`. The
/// owner is recorded in the layer's tar; WASI guests themselves always run as uid 0.
pub fn layer_from_dir_owned(
    store: &Store,
    dir: &Path,
    parent: Option<&Digest>,
    owner: Owners,
) -> Result<(Descriptor, LayerMeta)> {
    let mut tmp = tempfile::NamedTempFile::new_in(store.scratch_dir())
        .map_err(|e| crate::error::Error::io(store.scratch_dir(), e))?;
    tar_dir_owned(dir, tmp.as_file_mut(), source_date_epoch(), owner)?;
    let mut f = std::fs::File::open(tmp.path()).map_err(|e| crate::error::Error::io(tmp.path(), e))?;
    let (diff_id, size) = store.put_blob_reader(&mut f)?;
    // Device nodes a native container made stay in the blob (the native backend makes them);
    // only skiff's own containers' layers come here, never an archive from elsewhere.
    let meta = store.unpack_layer_with(&diff_id, parent, crate::archive::extract::Specials::Skip)?;
    let meta = precompile(store, meta, &mut std::io::stderr())?;
    Ok((Descriptor::new(MEDIA_TYPE_LAYER, diff_id, size), meta))
}

/// [`layer_from_dir_owned`] for a directory filled to become the layer itself (`COPY`,
/// `ADD`): its tar is written straight into the blob store, and the directory is then stored as
/// the extracted layer ([`Store::adopt_layer`]) instead of extracting the tar again, so the
/// files are written once and nothing big is left to delete.
pub fn layer_from_new(
    store: &Store,
    new: crate::store::NewLayer,
    parent: Option<&Digest>,
    owner: (u64, u64),
) -> Result<(Descriptor, LayerMeta)> {
    let diff = new.diff();
    let (diff_id, size) = store.put_blob_written(|w| {
        tar_dir_owned(&diff, w, source_date_epoch(), Owners::Fixed(owner.0, owner.1))?;
        Ok(())
    })?;
    let meta = store.adopt_layer(new, &diff_id, parent, (owner.0 as u32, owner.1 as u32))?;
    let meta = precompile(store, meta, &mut std::io::stderr())?;
    Ok((Descriptor::new(MEDIA_TYPE_LAYER, diff_id, size), meta))
}

/// Compile a new layer's wasm modules ([`crate::runtime::layer_added`]). A file that starts
/// with `\0asm` but is not a valid module (a truncated download, a test fixture) is just a
/// file: it is warned about on `warn`, dropped from the layer's module list (running it
/// later fails as any non-program does) and the layer is kept. Returns the layer's meta as
/// stored.
pub fn precompile(store: &Store, mut meta: LayerMeta, warn: &mut dyn std::io::Write) -> Result<LayerMeta> {
    let mut dropped = false;
    loop {
        let err = match crate::runtime::layer_added(store, &meta) {
            Ok(_) => break,
            Err(e) => e,
        };
        // The compiler's error names the module by digest: find its file(s).
        let text = err.to_string();
        let bad: Vec<String> =
            meta.wasm.iter().filter(|(_, d)| text.contains(&d.to_string())).map(|(p, _)| p.clone()).collect();
        if bad.is_empty() {
            return Err(crate::error::Error::Other(format!("layer {}: {text}", meta.chain_id)));
        }
        for p in bad {
            meta.wasm.remove(&p);
            let why = text.split_once(": ").map(|(_, w)| w).unwrap_or(&text);
            let why = why.lines().next().unwrap_or(why);
            let _ = writeln!(
                warn,
                "WARNING: /{} starts like a wasm module but is not one ({}): kept as a plain file",
                crate::error::printable_name(&p),
                crate::error::printable(why)
            );
        }
        dropped = true;
    }
    if dropped {
        let p = store.layer_dir(&meta.chain_id).join("meta.json");
        crate::store::atomic_write(&p, &serde_json::to_vec_pretty(&meta).expect("meta serialises"))?;
    }
    Ok(meta)
}

/// Whether `dir` holds nothing (a step that changed no file makes no layer).
pub fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(true)
}

/// Forget what a `RUN` changed under the image's `VOLUME`s, as Docker does (its step
/// container mounts an anonymous volume there, thrown away with the container): the entries
/// for those paths in the writable layer `upper` go, whiteouts of them too, so the image
/// keeps what it had there before the `VOLUME`.
pub fn discard_volume_changes(upper: &Path, volumes: &[String]) -> std::io::Result<()> {
    for v in volumes {
        let rel: Vec<&str> = v.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
        if rel.is_empty() || rel.contains(&"..") {
            continue;
        }
        // Only through real directories of the layer: a parent the step made a symlink
        // points anywhere (the host's own files too), and then the volume is not in it.
        let parent = rel[..rel.len() - 1].iter().fold(upper.to_path_buf(), |p, c| p.join(c));
        let mut walk = upper.to_path_buf();
        let mut through_dirs = true;
        for c in &rel[..rel.len() - 1] {
            walk.push(c);
            through_dirs &= std::fs::symlink_metadata(&walk).map(|m| m.is_dir()).unwrap_or(false);
        }
        if !through_dirs {
            continue;
        }
        let path = parent.join(rel[rel.len() - 1]);
        let whiteout = path.with_file_name(format!(".wh.{}", rel[rel.len() - 1]));
        for p in [path, whiteout] {
            match std::fs::symlink_metadata(&p) {
                Ok(md) if md.is_dir() => std::fs::remove_dir_all(&p)?,
                Ok(_) => std::fs::remove_file(&p)?,
                Err(_) => {}
            }
        }
    }
    Ok(())
}
