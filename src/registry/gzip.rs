//! Deterministic, parallel gzip for pushed layers: the same layer gives the same compressed
//! bytes, so the same distribution digest, on every machine, with any number of cores.
//!
//! The layer is cut into fixed 1 MiB blocks; each is deflated on its own (level 6, by zlib-rs,
//! the pure-Rust zlib flate2 is built with here) and ends with a sync flush, so the blocks join into one valid deflate
//! stream (pigz's layout, without the dictionary carried between blocks: a block's bytes
//! depend on that block alone, which is what makes the work parallel and the result
//! independent of the thread count). A final empty block, the CRC-32 and the length close it.
//! The header is fixed: `1f 8b 08`, no flags, no file name, mtime 0, XFL 0, OS 255 (unknown).
//! Block size, level and compressor version are part of every pushed digest.

use crate::spec::HashingWriter;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::mpsc;

/// The level every block is compressed at.
pub const LEVEL: u32 = 6;
/// Uncompressed bytes per independently compressed block.
pub const BLOCK: usize = 1 << 20;

const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// A final, empty block with fixed Huffman codes (BFINAL=1, BTYPE=01, end of block).
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// Deflate one block, ending with a sync flush (byte-aligned, not final).
fn deflate_block(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut c = flate2::Compress::new(flate2::Compression::new(LEVEL), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(data.len() / 4 + 1024);
        }
        c.compress_vec(&data[consumed..], &mut out, flate2::FlushCompress::Sync)
            .map_err(|e| io::Error::other(format!("deflate: {e}")))?;
        // Done when all input is in and the flush left room to spare (nothing pending).
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            return Ok(out);
        }
    }
}

/// Compress `r` into `w`; returns (sha256 of the compressed bytes, compressed size,
/// uncompressed size). Blocks are compressed on every core, written in order.
pub fn compress(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<(crate::spec::Digest, u64, u64)> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let mut sink = HashingWriter::new(w);
    sink.write_all(&HEADER)?;
    let mut crc = flate2::Crc::new();
    let mut raw = 0u64;
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(threads * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, io::Result<Vec<u8>>)>();
    std::thread::scope(|scope| -> io::Result<()> {
        for _ in 0..threads {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            scope.spawn(move || loop {
                let next = work_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((i, data)) = next else { break };
                if done_tx.send((i, deflate_block(&data))).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
        let (mut sent, mut written) = (0usize, 0usize);
        let write_ready =
            |pending: &mut BTreeMap<usize, Vec<u8>>, written: &mut usize, sink: &mut HashingWriter<&mut dyn Write>| {
                while let Some(block) = pending.remove(written) {
                    sink.write_all(&block)?;
                    *written += 1;
                }
                io::Result::Ok(())
            };
        let result = (|| -> io::Result<()> {
            loop {
                let mut block = vec![0u8; BLOCK];
                let n = read_full(r, &mut block)?;
                if n == 0 {
                    break;
                }
                block.truncate(n);
                crc.update(&block);
                raw += n as u64;
                // Keep at most a few blocks per thread in flight.
                while sent - written >= threads * 4 {
                    let (i, b) = done_rx.recv().map_err(|_| io::Error::other("compressor stopped"))?;
                    pending.insert(i, b?);
                    write_ready(&mut pending, &mut written, &mut sink)?;
                }
                work_tx.send((sent, block)).map_err(|_| io::Error::other("compressor stopped"))?;
                sent += 1;
                if n < BLOCK {
                    break;
                }
            }
            while written < sent {
                let (i, b) = done_rx.recv().map_err(|_| io::Error::other("compressor stopped"))?;
                pending.insert(i, b?);
                write_ready(&mut pending, &mut written, &mut sink)?;
            }
            Ok(())
        })();
        drop(work_tx);
        result
    })?;
    sink.write_all(&FINAL_BLOCK)?;
    sink.write_all(&crc.sum().to_le_bytes())?;
    sink.write_all(&(raw as u32).to_le_bytes())?;
    let (digest, size, _) = sink.finish();
    Ok((digest, size, raw))
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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

    fn unzip(gz: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut back).unwrap();
        back
    }

    #[test]
    fn same_input_same_bytes_and_real_gzip() {
        // Three and a half blocks of text-like data: several blocks join into one stream.
        let data: Vec<u8> = (0..(3 * BLOCK + BLOCK / 2) as u32)
            .map(|i| b"skiff layers "[(i % 13) as usize] ^ (i / 4096) as u8)
            .collect();
        let (a, da) = gz(&data);
        let (b, db) = gz(&data);
        assert_eq!(a, b);
        assert_eq!(da, db);
        assert_eq!(da, crate::spec::Digest::of(&a));
        assert_eq!(
            da.to_string(),
            "sha256:e481a62837a9b6cbe8f858f633b8130c967d3dce26724e13b5c7929747b9b1b7",
            "pinned: blocks, level and compressor"
        );
        assert_eq!(&a[..10], &HEADER);
        assert_eq!(unzip(&a), data);
        // The same bytes from a reader that hands out odd-sized pieces.
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(7777);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        compress(&mut Dribble(&data), &mut out).unwrap();
        assert_eq!(out, a);
        // Exactly one block, and empty input.
        assert_eq!(unzip(&gz(&data[..BLOCK]).0), &data[..BLOCK]);
        assert_eq!(unzip(&gz(b"").0), b"");
    }

    #[test]
    fn pinned_digest() {
        // Guards the promise "same layer, same digest everywhere": if this changes (a new
        // compressor version, level or block size), every pushed layer gets a new digest.
        let (bytes, d) = gz(b"hello skiff\n");
        assert_eq!(unzip(&bytes), b"hello skiff\n");
        assert_eq!(d.to_string(), "sha256:9af3210aadc8878e1038ceeaf9dd1321d4345095b2607a8a138692ea00f67901");
        let (_, empty) = gz(b"");
        assert_eq!(empty.to_string(), "sha256:ac73670af3abed54ac6fb4695131f4099be9fbe39d6076c5d0264a6bbdae9d83");
    }
}
