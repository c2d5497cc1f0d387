//! Content-addressed blobs under `oci/blobs/sha256/`, verified against their digest on read.

use super::{atomic_write, crash, Store};
use crate::error::{Error, IoContext, Result};
use crate::spec::{Digest, HashingWriter};
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;

impl Store {
    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("oci/blobs/sha256").join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).exists()
    }

    /// Store `data`; returns its digest. Idempotent.
    pub fn put_blob(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        let p = self.blob_path(&d);
        if !p.exists() {
            atomic_write(&p, data)?;
        }
        Ok(d)
    }

    /// Stream `r` into a blob while hashing it; returns (digest, size). Idempotent.
    pub fn put_blob_reader(&self, r: &mut dyn Read) -> Result<(Digest, u64)> {
        self.put_blob_expecting(r, None)
    }

    /// [`Store::put_blob_reader`], storing nothing unless the content hashes to `want` (when
    /// given): a refused layer leaves no blob behind.
    pub fn put_blob_expecting(&self, r: &mut dyn Read, want: Option<&Digest>) -> Result<(Digest, u64)> {
        // Ingest in this process's scratch directory: a killed or failed ingest leaves
        // nothing among the blobs, and the scratch space is reclaimed.
        let dir = self.scratch_dir();
        let mut tmp = tempfile::Builder::new().prefix(".ingest-").tempfile_in(&dir).at(&dir)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            // A read error is the input's (a truncated or corrupt archive), not the temp file's.
            let n = r.read(&mut buf).map_err(|e| Error::Other(format!("reading the archive: {e}")))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            tmp.write_all(&buf[..n]).at(tmp.path())?;
            size += n as u64;
            crash::point("ingest");
        }
        let d = Digest::from_hasher(h);
        if let Some(want) = want.filter(|w| **w != d) {
            return Err(Error::CorruptBlob { digest: want.to_string(), actual: d.to_string() });
        }
        let p = self.blob_path(&d);
        self.lease(&d); // nothing references it yet: garbage collection must wait
        if !p.exists() {
            tmp.persist(&p).map_err(|e| Error::io(&p, e.error))?;
        }
        Ok((d, size))
    }

    /// Store what `write` writes (hashed on the way: the ingest file becomes the blob, no copy
    /// is made); returns (digest, size). Idempotent.
    pub fn put_blob_written(&self, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<(Digest, u64)> {
        let dir = self.scratch_dir();
        let tmp = tempfile::Builder::new().prefix(".ingest-").tempfile_in(&dir).at(&dir)?;
        let file = tmp.as_file().try_clone().at(tmp.path())?;
        let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(256 * 1024, file));
        write(&mut w)?;
        w.get_mut().flush().at(tmp.path())?;
        let (d, size, _) = w.finish();
        crash::point("ingest");
        self.install_blob(tmp, &d)?;
        Ok((d, size))
    }

    /// Put `tmp` (a file in this process's scratch space whose content the caller hashed to
    /// `d`) in place as blob `d`, leased until something references it. Idempotent.
    pub fn install_blob(&self, tmp: tempfile::NamedTempFile, d: &Digest) -> Result<()> {
        let p = self.blob_path(d);
        self.lease(d);
        if !p.exists() {
            tmp.persist(&p).map_err(|e| Error::io(&p, e.error))?;
        }
        Ok(())
    }

    /// Read a blob and check that it still hashes to its name.
    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        let data = fs::read(&p).at(&p)?;
        let actual = Digest::of(&data);
        if &actual != d {
            return Err(Error::CorruptBlob { digest: d.to_string(), actual: actual.to_string() });
        }
        Ok(data)
    }

    /// Read and parse a JSON blob (verified).
    pub fn read_json<T: serde::de::DeserializeOwned>(&self, d: &Digest) -> Result<T> {
        let data = self.read_blob(d)?;
        serde_json::from_slice(&data).map_err(|e| Error::Other(format!("blob {d}: invalid JSON: {e}")))
    }
}
