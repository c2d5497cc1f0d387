//! The persisted index of a read-only layer: its whole directory tree, each directory's sorted
//! names with their kind and metadata, written once from the disk beside the layer
//! (`layers/<chain>/index`) and read back so that a view walks the layer without `getdents`
//! or a `stat` per name.
//!
//! A layer is extracted once under its chain ID and never changed afterwards, so an index
//! written from its files after extraction describes them for as long as the layer exists.
//! The file is written to a temporary name and renamed into place (never half-written), names
//! the chain it describes, and checks each directory's record with a hash when the record is
//! first read: an index that is missing, of another version, of another chain or damaged is
//! not used, and the view reads the layer's directories as it does without one.
//!
//! Format (little-endian): `MAGIC`, the tag's length (u32) and bytes (the chain ID's hex), the
//! number of directories (u32), then each directory's record offset (u64, directory 0 is the
//! layer's top); a record is its hash (u64) and length (u32) over the rest, its entry count
//! (u32), then per entry, sorted by name: name length (u16), kind (u8), 0 (u8), the entry's
//! directory number if it is a directory (u32, else `NONE`), mode, nlink, uid, gid,
//! mtime_nsec (u32 each), size (u64), mtime (i64), the name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cap_std::fs::Dir;

use super::lookup::{kind_of, stat_of, Stat};
use super::Kind;

const MAGIC: &[u8; 8] = b"SKFIDX\x00\x01";
/// No directory (an entry that is not one).
pub(crate) const NONE: u32 = u32::MAX;
/// Bytes of an entry before its name.
const ENTRY: usize = 44;

/// Where the index of the lower directory `lower` is, and the tag it must carry: a store
/// layer's files are `layers/<chain>/diff`, its index `layers/<chain>/index`, tagged `<chain>`.
pub(crate) fn place_of(lower: &Path) -> Option<(PathBuf, String)> {
    if lower.file_name()? != "diff" {
        return None;
    }
    let dir = lower.parent()?;
    let tag = dir.file_name()?.to_str()?.to_string();
    Some((dir.join("index"), tag))
}

/// Writes the index of the layer files in `diff` to `dest`, tagged `tag` (the layer's chain ID
/// hex): to a temporary file beside it, renamed into place once complete.
pub fn write(diff: &Path, dest: &Path, tag: &str) -> io::Result<()> {
    let root = Dir::open_ambient_dir(diff, cap_std::ambient_authority())?;
    let mut records = vec![vec![]];
    index_dir(&root, 0, &mut records)?;
    let mut out = Vec::with_capacity(records.iter().map(Vec::len).sum::<usize>() + 64 + 8 * records.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32::try_from(tag.len()).map_err(io::Error::other)?.to_le_bytes());
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&u32::try_from(records.len()).map_err(io::Error::other)?.to_le_bytes());
    let mut at = (out.len() + 8 * records.len()) as u64;
    for r in &records {
        out.extend_from_slice(&at.to_le_bytes());
        at += r.len() as u64;
    }
    for r in &records {
        out.extend_from_slice(r);
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".index-").tempfile_in(parent)?;
    tmp.write_all(&out)?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the index of store layer `lower` (`layers/<chain>/diff`) if it has none yet (a layer
/// extracted before indexes existed).
pub fn ensure(lower: &Path) -> io::Result<()> {
    let Some((dest, tag)) = place_of(lower) else { return Ok(()) };
    if dest.exists() {
        return Ok(());
    }
    write_layer(lower, &dest, &tag)
}

/// [`write`], but for a layer whose files are host files only: a portable layer's metadata is
/// skiff's own, and the view never indexes it.
pub fn write_layer(diff: &Path, dest: &Path, tag: &str) -> io::Result<()> {
    if super::portable::root_is_portable(diff, false) {
        return Ok(());
    }
    write(diff, dest, tag)
}

/// Records directory `dir` as number `n`; its subdirectories get the next free numbers.
fn index_dir(dir: &Dir, n: usize, records: &mut Vec<Vec<u8>>) -> io::Result<()> {
    let mut entries = vec![];
    for e in dir.entries()? {
        let Ok(name) = e?.file_name().into_string() else { continue }; // not representable in WASI
        let md = dir.symlink_metadata(&name)?;
        entries.push((name, kind_of(md.file_type()), stat_of(&md)));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut body = Vec::with_capacity(entries.len() * (ENTRY + 16));
    body.extend_from_slice(&u32::try_from(entries.len()).map_err(io::Error::other)?.to_le_bytes());
    let mut subdirs = vec![];
    for (name, kind, s) in &entries {
        let child = if *kind == Kind::Dir {
            records.push(vec![]);
            subdirs.push((records.len() - 1, name));
            u32::try_from(records.len() - 1).map_err(io::Error::other)?
        } else {
            NONE
        };
        let len = u16::try_from(name.len()).map_err(io::Error::other)?;
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&[kind_code(*kind), 0]);
        for v in [child, s.mode, s.nlink, s.uid, s.gid, s.mtime_nsec] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        body.extend_from_slice(&s.size.to_le_bytes());
        body.extend_from_slice(&s.mtime.to_le_bytes());
        body.extend_from_slice(name.as_bytes());
    }
    let mut rec = Vec::with_capacity(body.len() + 12);
    rec.extend_from_slice(&hash(&body).to_le_bytes());
    rec.extend_from_slice(&u32::try_from(body.len()).map_err(io::Error::other)?.to_le_bytes());
    rec.extend_from_slice(&body);
    records[n] = rec;
    for (c, name) in subdirs {
        let sub = cap_fs_ext::DirExt::open_dir_nofollow(dir, name)?;
        index_dir(&sub, c, records)?;
    }
    Ok(())
}

fn kind_code(k: Kind) -> u8 {
    match k {
        Kind::File => 0,
        Kind::Dir => 1,
        Kind::Symlink => 2,
        Kind::Other => 3,
    }
}

fn kind_from(c: u8) -> Option<Kind> {
    Some(match c {
        0 => Kind::File,
        1 => Kind::Dir,
        2 => Kind::Symlink,
        3 => Kind::Other,
        _ => return None,
    })
}

/// The check of a record (CRC-32): it catches a damaged or truncated file, not an adversary
/// (the store is skiff's own).
fn hash(bytes: &[u8]) -> u64 {
    u64::from(crc32fast::hash(bytes))
}

/// A layer's index as read from its file.
pub(crate) struct Persisted {
    data: Bytes,
    /// Where the directories' offsets start, and how many there are.
    table: usize,
    dirs: usize,
}

/// One entry of a directory's record.
pub(crate) struct Raw<'a> {
    pub name: &'a str,
    pub kind: Kind,
    /// Where the entry starts in the index ([`Persisted::entry`]).
    pub at: u32,
}

impl Persisted {
    /// The index of lower directory `lower`, if it has a usable one.
    pub fn open(lower: &Path) -> Option<Persisted> {
        let (path, tag) = place_of(lower)?;
        let data = Bytes::of(&std::fs::File::open(path).ok()?)?;
        if data.get(..8)? != MAGIC || u32::try_from(data.len()).is_err() {
            return None;
        }
        let tag_len = u32_at(&data, 8)? as usize;
        if data.get(12..12 + tag_len)? != tag.as_bytes() {
            return None;
        }
        let dirs = u32_at(&data, 12 + tag_len)? as usize;
        let table = 16 + tag_len;
        data.get(table..table.checked_add(dirs.checked_mul(8)?)?)?;
        Some(Persisted { data, table, dirs })
    }

    /// The entries of directory `n`, sorted by name, if its record is intact.
    pub fn dir(&self, n: u32) -> Option<Vec<Raw<'_>>> {
        let n = n as usize;
        if n >= self.dirs {
            return None;
        }
        let at = usize::try_from(u64::from_le_bytes(self.data.get(self.table + 8 * n..)?.get(..8)?.try_into().ok()?))
            .ok()?;
        let want = u64::from_le_bytes(self.data.get(at..at + 8)?.try_into().ok()?);
        let len = u32_at(&self.data, at + 8)? as usize;
        let body_at = at + 12;
        let body = self.data.get(body_at..body_at.checked_add(len)?)?;
        if hash(body) != want {
            return None;
        }
        let count = u32_at(body, 0)? as usize;
        let mut out = Vec::with_capacity(count.min(len / ENTRY));
        let mut p = 4;
        for _ in 0..count {
            let name_len = u16::from_le_bytes(body.get(p..p + 2)?.try_into().ok()?) as usize;
            let kind = kind_from(*body.get(p + 2)?)?;
            let name = std::str::from_utf8(body.get(p + ENTRY..p + ENTRY + name_len)?).ok()?;
            out.push(Raw { name, kind, at: u32::try_from(body_at + p).ok()? });
            p += ENTRY + name_len;
        }
        Some(out)
    }

    /// The directory number (or [`NONE`]) and metadata of the entry at `at` (from
    /// [`Persisted::dir`], whose record was checked).
    pub fn entry(&self, at: u32) -> Option<(u32, Stat)> {
        let e = self.data.get(at as usize + 4..at as usize + ENTRY)?;
        let u = |i: usize| u32::from_le_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]);
        let w = |i: usize| u64::from_le_bytes(e[i..i + 8].try_into().unwrap_or([0; 8]));
        let stat = Stat {
            mode: u(4),
            nlink: u(8),
            uid: u(12),
            gid: u(16),
            mtime_nsec: u(20),
            size: w(24),
            mtime: w(32) as i64,
        };
        Some((u(0), stat))
    }
}

/// An index file's bytes, mapped, so a view reads only the records of the directories it
/// visits (reading a big layer's whole index would cost every container start a few
/// milliseconds). An empty file maps to nothing (a zero-length mapping is refused).
enum Bytes {
    Mapped(memmap2::Mmap),
    Empty,
}

impl Bytes {
    fn of(f: &std::fs::File) -> Option<Bytes> {
        if f.metadata().ok()?.len() == 0 {
            return Some(Bytes::Empty);
        }
        // SAFETY: the store replaces an index only by renaming a new file over it, never by
        // writing into it, so the mapped bytes do not change under the view.
        Some(Bytes::Mapped(unsafe { memmap2::Mmap::map(f) }.ok()?))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Empty => &[],
        }
    }
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?))
}
