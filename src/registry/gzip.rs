//! Deterministic gzip for pushed layers: the same layer gives the same compressed bytes, so
//! the same distribution digest, on every machine and every push. The header is fixed
//! (`1f 8b 08`, no flags, no file name, mtime 0, OS 255 "unknown"), the level is fixed, and the
//! compressor is the pure-Rust one flate2 is built with here (miniz_oxide), whose output
//! depends only on its input, level and version.

use sha2::{Digest as _, Sha256};
use std::io::{self, Read, Write};

/// The level every pushed layer is compressed at. Part of the layer's identity: changing it
/// changes every distribution digest skiff produces.
pub const LEVEL: u32 = 6;

/// Compress `r` into `w`; returns (sha256 of the compressed bytes, compressed size,
/// uncompressed size).
pub fn compress(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<(crate::spec::Digest, u64, u64)> {
    let mut sink = HashingWriter { inner: w, hasher: Sha256::new(), size: 0 };
    let mut gz =
        flate2::GzBuilder::new().mtime(0).operating_system(255).write(&mut sink, flate2::Compression::new(LEVEL));
    let mut buf = vec![0u8; 256 * 1024];
    let mut raw = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw += n as u64;
        gz.write_all(&buf[..n])?;
    }
    gz.finish()?;
    let HashingWriter { hasher, size, .. } = sink;
    Ok((crate::spec::Digest::from_hasher(hasher), size, raw))
}

struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
    size: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(data: &[u8]) -> (Vec<u8>, crate::spec::Digest) {
        let mut out = Vec::new();
        let (d, size, raw) = compress(&mut &data[..], &mut out).unwrap();
        assert_eq!((size, raw), (out.len() as u64, data.len() as u64));
        (out, d)
    }

    #[test]
    fn same_input_same_bytes() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let (a, da) = gz(&data);
        let (b, db) = gz(&data);
        assert_eq!(a, b);
        assert_eq!(da, db);
        assert_eq!(da, crate::spec::Digest::of(&a));
        // The fixed header: magic, deflate, no flags, mtime 0, XFL, OS unknown.
        assert_eq!(&a[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        assert_eq!(a[9], 255);
        // And it is real gzip.
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&a[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn pinned_digest() {
        // Guards the promise "same layer, same digest everywhere": if this changes (a new
        // compressor version or level), every pushed layer gets a new digest.
        let (bytes, d) = gz(b"hello skiff\n");
        assert_eq!(bytes.len(), 32);
        assert_eq!(d.to_string(), "sha256:5ab96d271a38d042572b16351984bb481510ed501859c5dc04025f53a6e11e64");
        let (_, empty) = gz(b"");
        assert_eq!(empty.to_string(), "sha256:ac73670af3abed54ac6fb4695131f4099be9fbe39d6076c5d0264a6bbdae9d83");
    }
}
