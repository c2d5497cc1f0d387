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
    let mut tmp =
        tempfile::NamedTempFile::new_in(store.tmp_dir()).map_err(|e| crate::error::Error::io(store.tmp_dir(), e))?;
    tar_dir_owned(dir, tmp.as_file_mut(), source_date_epoch(), owner)?;
    let mut f = std::fs::File::open(tmp.path()).map_err(|e| crate::error::Error::io(tmp.path(), e))?;
    let (diff_id, size) = store.put_blob_reader(&mut f)?;
    // Device nodes a native container made stay in the blob (the native backend makes them);
    // only skiff's own containers' layers come here, never an archive from elsewhere.
    let meta = store.unpack_layer_with(&diff_id, parent, crate::archive::extract::Specials::Skip)?;
    crate::runtime::layer_added(store, &meta)?;
    Ok((Descriptor::new(MEDIA_TYPE_LAYER, diff_id, size), meta))
}

/// Whether `dir` holds nothing (a step that changed no file makes no layer).
pub fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(true)
}
