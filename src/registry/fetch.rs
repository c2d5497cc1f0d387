//! One layer of a pull in one streaming pass, four threads joined by pipes: the registry's
//! bytes are hashed (the blob digest) and kept in `tmp/pull-<hex>.partial` (what a later pull
//! resumes with `Range`); a second thread gunzips them; a third hashes the layer tar (the diff
//! ID) and writes it as the uncompressed blob; a fourth extracts it into scratch space. Nothing
//! enters the store here: the caller installs the blob and the layer only after both digests
//! matched.

use super::client::Client;
use super::manifest::RemoteDescriptor;
use super::pipe::{pipe, spares, ChunkRx, ChunkTx, Spares};
use super::pull::{get_blob, TICK};
use crate::archive::extract::Specials;
use crate::error::{Error, IoContext, Result};
use crate::spec::Digest;
use crate::store::{crash, Store, Unpacked};
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::{self, BufRead, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

/// What a layer's worker reports to the thread that prints and installs.
pub(super) enum Event {
    /// Compressed bytes received so far, of the total.
    Downloading(usize, u64, u64, Instant),
    Verifying(usize),
    /// The compressed blob matched its digest.
    Downloaded(usize),
    /// Uncompressed bytes extracted so far.
    Extracting(usize, u64, Instant),
    Done(usize, Result<FetchedLayer>),
}

/// A layer downloaded and checked against both digests, ready to install.
pub(super) struct FetchedLayer {
    /// The uncompressed blob (`None`: the store had it already).
    pub blob: Option<tempfile::NamedTempFile>,
    pub layer: Unpacked,
}

/// One layer to fetch, and where to report.
pub(super) struct Job<'a> {
    pub store: &'a Store,
    pub client: &'a Client,
    pub path: &'a str,
    pub layer: &'a RemoteDescriptor,
    pub diff_id: &'a Digest,
    pub index: usize,
    pub events: Sender<Event>,
    pub abort: &'a AtomicBool,
}

/// How one pass ended.
enum Outcome {
    Fetched(FetchedLayer),
    /// The compressed bytes did not match the blob's digest (or size).
    Mismatch,
    Failed(Error),
}

/// Fetch, check and extract one layer, resuming what an earlier pull left.
pub(super) fn fetch(job: &Job) -> Result<FetchedLayer> {
    let l = job.layer;
    let partial = job.store.tmp_dir().join(format!("pull-{}.partial", l.digest.hex()));
    let mut file =
        fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&partial).at(&partial)?;
    let mut have = file.metadata().at(&partial)?.len();
    if have > l.size {
        file.set_len(0).at(&partial)?;
        have = 0;
    }
    let body = if have < l.size || l.size == 0 {
        let resp = get_blob(job.client, job.path, &l.digest, have)?;
        if resp.status().as_u16() == 200 && have > 0 {
            // The registry sent all of it: start again.
            file.set_len(0).at(&partial)?;
            have = 0;
        }
        Some(Box::new(resp.into_body().into_reader()) as Box<dyn Read>)
    } else {
        None
    };
    let resumed = have > 0;
    file.seek(io::SeekFrom::Start(have)).at(&partial)?;
    let prefix = fs::File::open(&partial).at(&partial)?.take(have);
    let now = Instant::now();
    let source = Source {
        prefix,
        body,
        file,
        partial: partial.clone(),
        hasher: Sha256::new(),
        n: 0,
        failed: None,
        job,
        start: now,
        last: now,
    };
    match stream(job, source) {
        Outcome::Fetched(f) => Ok(f),
        Outcome::Mismatch => {
            let _ = fs::remove_file(&partial);
            if resumed {
                // What an earlier pull left was not a prefix of this blob: download it whole.
                return fetch(job);
            }
            Err(Error::Other(format!("filesystem layer verification failed for digest {}", l.digest)))
        }
        Outcome::Failed(e) => Err(e),
    }
}

/// The pass: this thread reads the compressed bytes, one gunzips them, one hashes and keeps the
/// tar, one extracts it. Errors are reported by cause: the download, then the blob's digest,
/// then decoding, then the diff ID, then extraction.
fn stream(job: &Job, mut source: Source) -> Outcome {
    let store = job.store;
    let id = job.layer.digest.short();
    let keep = !store.has_blob(job.diff_id);
    // Compressed buffers come back from the decoder, tar buffers from the extraction.
    let (compressed_back, compressed_spares) = spares();
    let (tar_back, tar_spares) = spares();
    let (to_decode, decode_in) = pipe();
    let (to_hash, hash_in) = pipe();
    let (to_extract, extract_in) = pipe();
    let (decode_in, extract_in) = (decode_in.returning(compressed_back), extract_in.returning(tar_back));
    std::thread::scope(|s| {
        let decoding = s.spawn(move || decode(decode_in, to_hash, tar_spares, id));
        let hashing = s.spawn(move || hash_and_keep(store, hash_in, to_extract, keep));
        let extracting = s.spawn(move || extract(job, extract_in));
        // All of it, even when a later stage has stopped: the digest decides what is reported.
        let mut open = true;
        loop {
            let mut chunk = compressed_spares.get();
            let k = match read_full(&mut source, &mut chunk) {
                Ok(k) => k,
                Err(_) => break, // kept in `source.failed`
            };
            if k == 0 {
                break;
            }
            chunk.truncate(k);
            if open {
                open = to_decode.send(chunk);
            }
        }
        if let Some(e) = source.failed.take() {
            return Outcome::Failed(e);
        }
        to_decode.end();
        let _ = job.events.send(Event::Verifying(job.index));
        let Source { hasher, n, partial, .. } = source; // closes the partial file
        let l = job.layer;
        if Digest::from_hasher(hasher) != l.digest || (l.size > 0 && n != l.size) {
            return Outcome::Mismatch;
        }
        let _ = job.events.send(Event::Downloaded(job.index));
        // All of it is in the pipeline now: a later failure starts from the registry again.
        let _ = fs::remove_file(&partial);
        if let Err(e) = joined(decoding.join()) {
            return Outcome::Failed(e);
        }
        let (actual, blob) = match joined(hashing.join()) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(e),
        };
        if &actual != job.diff_id {
            return Outcome::Failed(Error::Other(format!(
                "layer {id} does not match its image: it unpacks to {actual}, the config names {}",
                job.diff_id
            )));
        }
        match joined(extracting.join()) {
            Ok(layer) => Outcome::Fetched(FetchedLayer { blob, layer }),
            Err(e) => Outcome::Failed(e),
        }
    })
}

/// A stage's result; a panicked stage is an error, not a panic.
fn joined<T>(r: std::thread::Result<Result<T>>) -> Result<T> {
    r.unwrap_or_else(|_| Err(Error::Other("a pull stage stopped unexpectedly".into())))
}

/// Gunzip (or pass through) the compressed stream into `out`, in chunks. Stops early, without
/// error, when the next stage has stopped.
fn decode(mut input: ChunkRx, out: ChunkTx, spares: Spares, id: &str) -> Result<()> {
    let err = |e: io::Error| Error::Other(format!("layer {id}: {e}"));
    let head = input.fill_buf().map_err(err)?;
    let head = [head.first().copied(), head.get(1).copied()];
    let mut reader: Box<dyn Read> = if head == [Some(0x1f), Some(0x8b)] {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head == [Some(0x28), Some(0xb5)] {
        return Err(Error::Other(format!("layer {id}: zstd-compressed layers are not supported yet")));
    } else {
        Box::new(input)
    };
    loop {
        let mut chunk = spares.get();
        let k = read_full(&mut reader, &mut chunk).map_err(err)?;
        if k == 0 {
            break;
        }
        chunk.truncate(k);
        if !out.send(chunk) {
            return Ok(());
        }
    }
    out.end();
    Ok(())
}

/// Hash the layer tar (its diff ID), write it to a scratch file unless the store has the blob
/// (`keep`), and pass it on to extraction.
fn hash_and_keep(
    store: &Store,
    mut input: ChunkRx,
    out: ChunkTx,
    keep: bool,
) -> Result<(Digest, Option<tempfile::NamedTempFile>)> {
    let dir = store.scratch_dir();
    let mut tmp = match keep {
        true => Some(tempfile::Builder::new().prefix(".ingest-").tempfile_in(&dir).at(&dir)?),
        false => None,
    };
    let mut h = Sha256::new();
    let mut open = true;
    while let Some(chunk) = input.next_chunk().map_err(|e| Error::Other(e.to_string()))? {
        h.update(&chunk);
        if let Some(t) = tmp.as_mut() {
            t.write_all(&chunk).at(t.path())?;
        }
        if open {
            open = out.send(chunk);
        }
    }
    out.end();
    Ok((Digest::from_hasher(h), tmp))
}

/// Extract the layer tar into scratch space (all of `extract::`'s rules apply).
fn extract(job: &Job, input: ChunkRx) -> Result<Unpacked> {
    let now = Instant::now();
    let mut r = Extracting { input, n: 0, job, start: now, last: now };
    let layer = job.store.extract_to_scratch(&mut r, job.diff_id, Specials::Refuse)?;
    // The tar's padding after its end marker.
    io::copy(&mut r, &mut io::sink()).map_err(|e| Error::Other(e.to_string()))?;
    Ok(layer)
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The compressed bytes: what the partial file holds, then the registry's response (appended
/// to the partial file), hashed as they pass. A failure is kept in `failed` (the reader above
/// sees an I/O error).
struct Source<'a> {
    prefix: io::Take<fs::File>,
    body: Option<Box<dyn Read>>,
    file: fs::File,
    partial: PathBuf,
    hasher: Sha256,
    /// Bytes so far.
    n: u64,
    failed: Option<Error>,
    job: &'a Job<'a>,
    start: Instant,
    last: Instant,
}

impl Source<'_> {
    fn fail(&mut self, e: Error) -> io::Error {
        let err = io::Error::other(e.to_string());
        self.failed.get_or_insert(e);
        err
    }
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.job.abort.load(Ordering::Relaxed) {
            return Err(self.fail(Error::Other("download aborted".into())));
        }
        let size = self.job.layer.size;
        let mut k = match self.prefix.read(buf) {
            Ok(k) => k,
            Err(e) => return Err(self.fail(Error::io(&self.partial, e))),
        };
        if k == 0 {
            if size > 0 && self.n > size {
                return Ok(0); // longer than the manifest says: verification fails
            }
            let Some(body) = self.body.as_mut() else { return Ok(0) };
            k = match body.read(buf) {
                Ok(k) => k,
                Err(e) => {
                    let short = self.job.layer.digest.short();
                    return Err(self.fail(Error::Other(format!("failed to download layer {short}: {e}"))));
                }
            };
            if let Err(e) = self.file.write_all(&buf[..k]) {
                return Err(self.fail(Error::io(&self.partial, e)));
            }
            crash::point("pull-download");
        }
        self.hasher.update(&buf[..k]);
        self.n += k as u64;
        if self.last.elapsed() >= TICK || k == 0 {
            let _ = self.job.events.send(Event::Downloading(self.job.index, self.n, size, self.start));
            self.last = Instant::now();
        }
        Ok(k)
    }
}

/// The extraction's input, counted for `Extracting` progress.
struct Extracting<'a> {
    input: ChunkRx,
    n: u64,
    job: &'a Job<'a>,
    start: Instant,
    last: Instant,
}

impl Read for Extracting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.input.read(buf)?;
        self.n += k as u64;
        if self.last.elapsed() >= TICK {
            let _ = self.job.events.send(Event::Extracting(self.job.index, self.n, self.start));
            self.last = Instant::now();
        }
        Ok(k)
    }
}
