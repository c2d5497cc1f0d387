//! What the union view has learnt about its read-only layers, kept for as long as the view
//! lives: per layer directory, the names looked up (found or not, with their metadata), and its
//! whole listing once something lists it, so a lookup through the layer stack asks the host
//! about each name at most once, and often not at all.
//!
//! A layer directory starts with nothing known; names are asked about one at a time (one
//! `fstatat` on the open directory each), which suits a process that opens a few files here and
//! there. Listing the directory (`readdir`), or asking about many of its names, reads its
//! listing once; from then on every lookup in it, found or not, costs no system call, and each
//! entry's metadata is fetched the first time it is needed. The directories of a layer form a
//! tree that mirrors it: an entry that is a directory gets its own [`DirIndex`] the first time
//! something looks inside it, and nodes of the union view keep references into that tree
//! ([`DirRef`]), so a walk goes from index to index without hashing paths.
//!
//! A layer with a persisted index ([`super::index`], written once from its files) starts
//! with its whole tree known: each directory's listing and every entry's metadata come from the
//! index, and the host is asked nothing (a directory whose record is damaged is read as above).
//!
//! Why this is safe: a lower layer is extracted once under its chain ID and never changed
//! afterwards (guests' writes go to the upper dir, copy-up never writes below), so what was read
//! from it stays true for as long as the view lives. The upper dir and bind mounts change (other
//! processes of the container, `exec`, the host) and are never cached. The cache is bounded: a
//! layer whose indexes grow past [`MAX_ENTRIES`] entries starts a new tree.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cap_std::fs::{Dir, Metadata};

use super::index::{Persisted, NONE};
use super::lookup::{kind_of, stat_of, Stat};
use super::path::{META_PREFIX, OPAQUE, WH_PREFIX};
use super::Kind;

/// Entries a layer's indexes may hold in all before the cache starts over (~150 bytes each).
const MAX_ENTRIES: usize = 256 * 1024;
/// Directories kept open (the least recently used is closed), so that asking about a name is
/// a single `fstatat`.
const MAX_OPEN: usize = 32;
/// Questions about a directory (names, whiteouts, its opaque marker; answered or not) before
/// its whole listing is read; from then on they are answered without a lock or a system call.
/// Reading a listing costs about as much per entry as asking about one name, and a directory's
/// size says roughly how many entries it has (~40 bytes each), so it is read once about half
/// of its names would have been asked about.
const QUESTIONS_BEFORE_LISTING: u32 = 64;
const DIR_BYTES_PER_QUESTION: u64 = 64;

/// A name in a layer directory, found or known to be missing.
pub(crate) struct Entry {
    pub name: Box<str>,
    /// `None`: the directory has no such name.
    pub kind: Option<Kind>,
    stat: OnceLock<Stat>,
    /// A directory's own index, once something looked inside (`None`: it cannot be opened).
    dir: OnceLock<Option<Arc<DirIndex>>>,
    /// Its number in the layer's persisted index, if it is a directory listed there.
    sub: u32,
}

impl Entry {
    fn new(name: &str, kind: Option<Kind>) -> Arc<Entry> {
        Arc::new(Entry { name: name.into(), kind, stat: OnceLock::new(), dir: OnceLock::new(), sub: NONE })
    }

    /// An entry of a persisted index, with its metadata.
    fn indexed(name: &str, kind: Kind, sub: u32, stat: Stat) -> Arc<Entry> {
        Arc::new(Entry { name: name.into(), kind: Some(kind), stat: stat.into(), dir: OnceLock::new(), sub })
    }
}

/// An entry in a set, by name.
struct ByName(Arc<Entry>);

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ByName {}

impl Hash for ByName {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (*self.0.name).hash(h)
    }
}

impl Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        &self.0.name
    }
}

/// A quick hash for short names (FxHash's). A guest chooses the names it asks about, but a
/// directory answers at most [`QUESTIONS_BEFORE_LISTING`] from its set before its listing
/// (whose names the layer fixed) takes over, so collisions cannot cost much.
#[derive(Default, Clone, Copy)]
struct Fx;

struct FxHasher(u64);

impl std::hash::BuildHasher for Fx {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// The whole content of a layer directory, kept compact: the names in one string, and an
/// [`Entry`] only for the names something looked up (a listing of thousands of entries costs
/// a few allocations, not thousands).
pub(crate) struct Listing {
    /// The visible names (no whiteouts or markers), one after another.
    names: String,
    /// The visible entries, sorted by name.
    items: Vec<Item>,
    /// Each item's own [`Entry`], made the first time a lookup finds it.
    entries: Vec<OnceLock<Arc<Entry>>>,
    /// Names hidden in the layers below by this directory's whiteouts, sorted.
    pub whiteouts: Vec<Box<str>>,
    /// The directory holds the opaque marker: the layers below add nothing to it.
    opaque: bool,
    /// Positions in `items` by hash of the name (`u32::MAX`: free).
    table: Vec<u32>,
    /// The persisted index the listing was read from, which has the entries' metadata.
    persisted: Option<Arc<Persisted>>,
}

/// A visible entry of a [`Listing`]: where its name is in `names`, its kind, and where it is
/// in the persisted index (`NONE`: read from the host).
struct Item {
    start: u32,
    len: u32,
    kind: Kind,
    at: u32,
}

impl Listing {
    /// `items` index `names` (in any order); `known` entries keep what was learnt about them.
    fn new(
        names: String,
        mut items: Vec<Item>,
        known: &[Arc<Entry>],
        whiteouts: Vec<Box<str>>,
        opaque: bool,
        persisted: Option<Arc<Persisted>>,
    ) -> Listing {
        let name = |i: &Item| &names[i.start as usize..(i.start + i.len) as usize];
        items.sort_unstable_by(|a, b| name(a).cmp(name(b)));
        let entries: Vec<OnceLock<Arc<Entry>>> = items.iter().map(|_| OnceLock::new()).collect();
        // Open addressing, at most half full: a lookup hashes the name and compares one or two.
        let size = (items.len() * 2).next_power_of_two().max(2);
        let mut table = vec![u32::MAX; size];
        for (i, item) in items.iter().enumerate() {
            let mut slot = fx(name(item)) as usize & (size - 1);
            while table[slot] != u32::MAX {
                slot = (slot + 1) & (size - 1);
            }
            table[slot] = i as u32;
        }
        let listing = Listing { names, items, entries, whiteouts, opaque, table, persisted };
        for e in known {
            if let Some(i) = listing.find(&e.name) {
                let _ = listing.entries[i].set(e.clone());
            }
        }
        listing
    }

    /// The position of `name` among the entries.
    fn find(&self, name: &str) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut slot = fx(name) as usize & mask;
        loop {
            let i = *self.table.get(slot)? as usize;
            if self.name(self.items.get(i)?) == name {
                return Some(i);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn name(&self, item: &Item) -> &str {
        self.names.get(item.start as usize..(item.start + item.len) as usize).unwrap_or("")
    }

    /// The entry at position `i`, made the first time.
    fn entry(&self, i: usize) -> Option<Arc<Entry>> {
        let item = self.items.get(i)?;
        let made = || {
            let known = self.persisted.as_ref().filter(|_| item.at != NONE).and_then(|p| p.entry(item.at));
            match known {
                Some((sub, stat)) => Entry::indexed(self.name(item), item.kind, sub, stat),
                None => Entry::new(self.name(item), Some(item.kind)),
            }
        };
        Some(self.entries.get(i)?.get_or_init(made).clone())
    }

    /// How many visible entries there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The visible entry at position `i` (sorted by name): its name and kind.
    pub fn get(&self, i: usize) -> Option<(&str, Kind)> {
        self.items.get(i).map(|item| (self.name(item), item.kind))
    }

    /// The visible entries, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Kind)> {
        self.items.iter().map(|item| (self.name(item), item.kind))
    }
}

fn fx(name: &str) -> u64 {
    let mut h = FxHasher(0);
    h.write(name.as_bytes());
    h.finish()
}

/// An open directory of a layer, and whether its listing is still unread: reading the listing
/// then starts on it, rather than opening the directory again.
struct Handle {
    dir: Dir,
    unread: bool,
}

/// One directory of a read-only layer, as far as it has been read.
pub(crate) struct DirIndex {
    /// Layer-relative path of the directory.
    rel: PathBuf,
    /// Names asked about before the listing was read (whiteouts `.wh.<name>` and the opaque
    /// marker too), found or not.
    known: Mutex<HashSet<ByName, Fx>>,
    /// How many questions `known` answered or asked the host, and how many before the
    /// listing is read instead.
    questions: AtomicU32,
    max_questions: u32,
    listing: OnceLock<Listing>,
    /// The open directory, while it is among the [`MAX_OPEN`] most recently used.
    handle: Mutex<Option<Handle>>,
    /// When the handle was last used ([`LayerCache::tick`]).
    used: AtomicU64,
}

impl std::fmt::Debug for DirIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DirIndex({:?})", self.rel)
    }
}

impl DirIndex {
    /// The index of directory `rel`, open as `dir`, whose size is `size` bytes (if known).
    fn new(rel: PathBuf, dir: Dir, size: Option<u64>) -> DirIndex {
        let by_size = size.unwrap_or(0) / DIR_BYTES_PER_QUESTION;
        DirIndex {
            max_questions: QUESTIONS_BEFORE_LISTING.max(by_size.try_into().unwrap_or(u32::MAX)),
            rel,
            known: Mutex::new(HashSet::default()),
            questions: AtomicU32::new(0),
            listing: OnceLock::new(),
            handle: Mutex::new(Some(Handle { dir, unread: true })),
            used: AtomicU64::new(0),
        }
    }

    /// The index of directory `rel` whose listing is known already (from a persisted index):
    /// the directory is opened only if the host must be asked after all.
    fn listed_as(rel: PathBuf, listing: Listing) -> DirIndex {
        DirIndex {
            max_questions: 0,
            rel,
            known: Mutex::new(HashSet::default()),
            questions: AtomicU32::new(0),
            listing: listing.into(),
            handle: Mutex::new(None),
            used: AtomicU64::new(0),
        }
    }

    /// The directory's whole listing, if it was read.
    pub fn listed(&self) -> Option<&Listing> {
        self.listing.get()
    }

    fn known(&self, name: &str) -> Option<Arc<Entry>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).get(name).map(|e| e.0.clone())
    }

    /// Counts a question; says whether it is time to read the listing instead.
    fn many_questions(&self) -> bool {
        self.questions.fetch_add(1, Ordering::Relaxed) >= self.max_questions
    }
}

/// A directory of a layer as a lookup found it: its parent's index and its entry there (its
/// own index is made when something first looks inside).
#[derive(Clone, Debug)]
pub(crate) struct DirRef {
    parent: Arc<DirIndex>,
    entry: Arc<Entry>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Entry({:?}, {:?})", self.name, self.kind)
    }
}

/// The indexes of one read-only layer.
pub(crate) struct LayerCache {
    /// The layer's host directory, whose persisted index is read when first needed.
    host: PathBuf,
    persisted: OnceLock<Option<Arc<Persisted>>>,
    /// The index of the layer's top directory (the root of the tree).
    top: Mutex<Option<Arc<DirIndex>>>,
    /// Entries known since the tree was started.
    entries: AtomicUsize,
    /// The indexes holding an open handle.
    open: Mutex<Vec<Arc<DirIndex>>>,
    tick: AtomicU64,
}

impl LayerCache {
    /// The cache of the layer whose files are in `host`.
    pub fn new(host: &Path) -> LayerCache {
        LayerCache {
            host: host.to_path_buf(),
            persisted: OnceLock::new(),
            top: Mutex::new(None),
            entries: AtomicUsize::new(0),
            open: Mutex::new(vec![]),
            tick: AtomicU64::new(0),
        }
    }

    /// The layer's persisted index, read the first time (`None`: it has no usable one).
    fn persisted(&self) -> Option<&Arc<Persisted>> {
        self.persisted.get_or_init(|| Persisted::open(&self.host).map(Arc::new)).as_ref()
    }

    /// The index of directory `rel`, number `n` of the persisted index, if its record is
    /// intact.
    fn from_persisted(&self, rel: PathBuf, n: u32) -> Option<Arc<DirIndex>> {
        let p = self.persisted()?;
        let raw = p.dir(n)?;
        let mut names = String::new();
        let mut items = Vec::with_capacity(raw.len());
        let mut whiteouts = vec![];
        let mut opaque = false;
        for r in raw {
            // As read_entries sorts a directory's names.
            if r.name == OPAQUE {
                opaque = true;
            } else if r.name.starts_with(META_PREFIX) {
            } else if let Some(hidden) = r.name.strip_prefix(WH_PREFIX) {
                whiteouts.push(hidden.into());
            } else {
                let start = u32::try_from(names.len()).ok()?;
                names.push_str(r.name);
                items.push(Item { start, len: r.name.len() as u32, kind: r.kind, at: r.at });
            }
        }
        whiteouts.sort_unstable();
        self.count(items.len() + whiteouts.len());
        let listing = Listing::new(names, items, &[], whiteouts, opaque, Some(p.clone()));
        Some(Arc::new(DirIndex::listed_as(rel, listing)))
    }

    /// The index of directory `rel` (layer-relative components) of `layer`; `None` when the
    /// layer has no directory there.
    pub fn dir(&self, layer: &Dir, rel: &[String]) -> io::Result<Option<Arc<DirIndex>>> {
        let top = self.top.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut cur = match top {
            Some(top) => top,
            None => {
                let top = match self.from_persisted(PathBuf::new(), 0) {
                    Some(top) => top,
                    None => {
                        let top = Arc::new(DirIndex::new(PathBuf::new(), layer.try_clone()?, None));
                        self.hold(&top);
                        top
                    }
                };
                self.top.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(top).clone()
            }
        };
        for name in rel {
            let Some(entry) = self.lookup(layer, &cur, name)? else { return Ok(None) };
            match self.child(layer, &cur, &entry)? {
                Some(next) => cur = next,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// `name` in directory `dir`, if it is there.
    pub fn lookup(&self, layer: &Dir, dir: &Arc<DirIndex>, name: &str) -> io::Result<Option<Arc<Entry>>> {
        if let Some(l) = dir.listing.get() {
            return Ok(l.find(name).and_then(|i| l.entry(i)));
        }
        if dir.many_questions() {
            let l = self.listing(layer, dir)?;
            return Ok(l.find(name).and_then(|i| l.entry(i)));
        }
        let e = match dir.known(name) {
            Some(e) => e,
            None => self.probe(layer, dir, name)?,
        };
        Ok(e.kind.is_some().then_some(e))
    }

    /// Does a whiteout in `dir` hide `name` in the layers below?
    pub fn hides(&self, layer: &Dir, dir: &Arc<DirIndex>, name: &str) -> io::Result<bool> {
        if dir.listing.get().is_some() || dir.many_questions() {
            let l = self.listing(layer, dir)?;
            return Ok(l.whiteouts.binary_search_by(|w| (**w).cmp(name)).is_ok());
        }
        let wh = format!("{WH_PREFIX}{name}");
        let e = match dir.known(&wh) {
            Some(e) => e,
            None => self.probe(layer, dir, &wh)?,
        };
        Ok(e.kind.is_some())
    }

    /// Is `dir` opaque (the layers below add nothing to it)?
    pub fn opaque(&self, layer: &Dir, dir: &Arc<DirIndex>) -> io::Result<bool> {
        if dir.listing.get().is_some() || dir.many_questions() {
            return Ok(self.listing(layer, dir)?.opaque);
        }
        let e = match dir.known(OPAQUE) {
            Some(e) => e,
            None => self.probe(layer, dir, OPAQUE)?,
        };
        Ok(e.kind.is_some())
    }

    /// The whole listing of `dir`, read the first time.
    pub fn listing<'a>(&self, layer: &Dir, dir: &'a Arc<DirIndex>) -> io::Result<&'a Listing> {
        if let Some(l) = dir.listing.get() {
            return Ok(l);
        }
        let listing = self.read_listing(layer, dir)?;
        Ok(dir.listing.get_or_init(|| listing))
    }

    /// The index `r` leads to (`None`: not a directory after all).
    pub fn resolve(&self, layer: &Dir, r: &DirRef) -> io::Result<Option<Arc<DirIndex>>> {
        self.child(layer, &r.parent, &r.entry)
    }

    /// A reference to directory `entry` of `parent`.
    pub fn dir_ref(parent: &Arc<DirIndex>, entry: &Arc<Entry>) -> DirRef {
        DirRef { parent: parent.clone(), entry: entry.clone() }
    }

    /// The metadata of `entry` (one of `dir`'s), from the host the first time.
    pub fn stat(&self, layer: &Dir, dir: &Arc<DirIndex>, entry: &Entry) -> io::Result<Stat> {
        if let Some(s) = entry.stat.get() {
            return Ok(s.clone());
        }
        let md = self.stat_host(layer, dir, &entry.name)?;
        Ok(entry.stat.get_or_init(|| stat_of(&md)).clone())
    }

    /// The index of directory `entry` of `parent`, made the first time (`None`: not a
    /// directory).
    fn child(&self, layer: &Dir, parent: &Arc<DirIndex>, entry: &Entry) -> io::Result<Option<Arc<DirIndex>>> {
        if entry.kind != Some(Kind::Dir) {
            return Ok(None);
        }
        if let Some(d) = entry.dir.get() {
            return Ok(d.clone());
        }
        let rel = parent.rel.join(&*entry.name);
        if entry.sub != NONE {
            if let Some(index) = self.from_persisted(rel.clone(), entry.sub) {
                return Ok(entry.dir.get_or_init(|| Some(index)).clone());
            }
        }
        let made = match open_dir(layer, &rel) {
            Ok(dir) => {
                let index = Arc::new(DirIndex::new(rel, dir, entry.stat.get().map(|s| s.size)));
                self.hold(&index);
                Some(index)
            }
            Err(e) if is_missing(&e) => None,
            Err(e) => return Err(e),
        };
        // Another thread may have made it meanwhile: both are the same directory.
        Ok(entry.dir.get_or_init(|| made).clone())
    }

    /// Asks the host about `name` in `dir` and remembers the answer.
    fn probe(&self, layer: &Dir, dir: &Arc<DirIndex>, name: &str) -> io::Result<Arc<Entry>> {
        let entry = match self.stat_host(layer, dir, name) {
            Ok(md) => {
                let e = Entry::new(name, Some(kind_of(md.file_type())));
                let _ = e.stat.set(stat_of(&md));
                e
            }
            Err(e) if is_missing(&e) => Entry::new(name, None),
            Err(e) => return Err(e),
        };
        self.count(1);
        let mut known = dir.known.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match known.get(name) {
            Some(e) => e.0.clone(), // asked meanwhile
            None => {
                known.insert(ByName(entry.clone()));
                entry
            }
        })
    }

    /// lstat of `name` in `dir`: one `fstatat` on its open handle (opened again if needed).
    fn stat_host(&self, layer: &Dir, dir: &Arc<DirIndex>, name: &str) -> io::Result<Metadata> {
        let held = {
            let handle = dir.handle.lock().unwrap_or_else(|p| p.into_inner());
            // One component, not followed: cap-std makes this a single fstatat.
            handle.as_ref().map(|h| h.dir.symlink_metadata(name))
        };
        if let Some(md) = held {
            dir.used.store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
            return md;
        }
        // Closed meanwhile: open it again, since more of its names are likely next.
        let h = open_dir(layer, &dir.rel)?;
        let md = h.symlink_metadata(name);
        *dir.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(Handle { dir: h, unread: true });
        self.hold(dir);
        md
    }

    /// Reads the whole of `dir`; entries already known are kept (with their metadata and
    /// index).
    fn read_listing(&self, layer: &Dir, dir: &Arc<DirIndex>) -> io::Result<Listing> {
        // The held handle, if nothing read it yet: borrowed while the listing is read (a lookup
        // meanwhile opens the directory again), then given back.
        let taken = {
            let mut handle = dir.handle.lock().unwrap_or_else(|p| p.into_inner());
            match handle.as_ref() {
                Some(h) if h.unread => handle.take().map(|h| h.dir),
                _ => None,
            }
        };
        // Either way the descriptor has not been read from.
        let h = match taken {
            Some(h) => h,
            None => open_dir(layer, &dir.rel)?,
        };
        let listed = self.read_entries(dir, &h);
        let back = {
            let mut handle = dir.handle.lock().unwrap_or_else(|p| p.into_inner());
            handle.is_none().then(|| *handle = Some(Handle { dir: h, unread: false })).is_some()
        };
        if back {
            self.hold(dir);
        }
        listed
    }

    /// [`LayerCache::read_listing`] from `h`, the directory open and not read from yet.
    fn read_entries(&self, dir: &Arc<DirIndex>, h: &Dir) -> io::Result<Listing> {
        let mut names = String::new();
        let mut items = vec![];
        let mut whiteouts = vec![];
        let mut opaque = false;
        read_names(h, &mut |name, kind| {
            if name == OPAQUE {
                opaque = true;
            } else if name.starts_with(META_PREFIX) {
                // skiff's own bookkeeping: neither visible nor a whiteout
            } else if let Some(hidden) = name.strip_prefix(WH_PREFIX) {
                whiteouts.push(hidden.into());
            } else {
                let kind = match kind {
                    Some(k) => k,
                    None => kind_of(h.symlink_metadata(name)?.file_type()),
                };
                let (Ok(start), Ok(len)) = (u32::try_from(names.len()), u32::try_from(name.len())) else {
                    return Err(io::Error::other("directory listing too large"));
                };
                names.push_str(name);
                items.push(Item { start, len, kind, at: NONE });
            }
            Ok(())
        })?;
        whiteouts.sort_unstable();
        self.count(items.len() + whiteouts.len());
        // What was learnt about names asked before is kept (their metadata and index).
        let known: Vec<Arc<Entry>> = {
            let known = dir.known.lock().unwrap_or_else(|p| p.into_inner());
            known.iter().filter(|e| e.0.kind.is_some()).map(|e| e.0.clone()).collect()
        };
        Ok(Listing::new(names, items, &known, whiteouts, opaque, None))
    }

    /// `n` more entries are known; past [`MAX_ENTRIES`] the tree starts over (the old one goes
    /// when no node refers to it).
    fn count(&self, n: usize) {
        if self.entries.fetch_add(n, Ordering::Relaxed) + n > MAX_ENTRIES {
            *self.top.lock().unwrap_or_else(|p| p.into_inner()) = None;
            self.entries.store(0, Ordering::Relaxed);
        }
    }

    /// Counts `index`'s handle among the open ones, closing the least recently used.
    fn hold(&self, index: &Arc<DirIndex>) {
        index.used.store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        let evicted = {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            open.retain(|i| !Arc::ptr_eq(i, index));
            open.push(index.clone());
            if open.len() > MAX_OPEN {
                let oldest = (0..open.len()).min_by_key(|&i| open[i].used.load(Ordering::Relaxed)).unwrap_or(0);
                Some(open.swap_remove(oldest))
            } else {
                None
            }
        };
        // Never take a handle's lock while holding the list's (stat_host takes them the other
        // way round).
        if let Some(old) = evicted {
            *old.handle.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

/// What [`read_names`] calls with each name.
type NameFn<'a> = dyn FnMut(&str, Option<Kind>) -> io::Result<()> + 'a;

/// Calls `f` with every name in `dir` (but "." and "..") that is UTF-8 (others are not
/// representable in WASI, so never looked up), and its kind when the listing tells it. `dir`
/// must not have been read from: the listing is read from it, from where it stands.
#[cfg(target_os = "linux")]
fn read_names(dir: &Dir, f: &mut NameFn) -> io::Result<()> {
    use rustix::fs::{openat, Mode, OFlags};
    use std::os::fd::AsFd;
    match names_from(dir.as_fd(), f) {
        // Opened for lookups only (O_PATH, as a layer's top directory is): open it to read.
        Err((0, e)) if e.raw_os_error() == Some(libc::EBADF) => {}
        r => return r.map_err(|(_, e)| e),
    }
    let fd = openat(dir, c".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    names_from(fd.as_fd(), f).map_err(|(_, e)| e)
}

/// [`read_names`] from the open directory `fd`, from where it stands; an error comes with how
/// many names `f` was given before it.
#[cfg(target_os = "linux")]
fn names_from(fd: std::os::fd::BorrowedFd, f: &mut NameFn) -> Result<(), (usize, io::Error)> {
    use rustix::fs::{FileType, RawDir};
    // getdents64 into one buffer, names borrowed from it: no allocation per entry.
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 32 * 1024];
    let mut raw = RawDir::new(fd, &mut buf);
    let mut given = 0;
    while let Some(entry) = raw.next() {
        let entry = entry.map_err(|e| (given, e.into()))?;
        let Ok(name) = entry.file_name().to_str() else { continue };
        if name == "." || name == ".." {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Directory => Some(Kind::Dir),
            FileType::RegularFile => Some(Kind::File),
            FileType::Symlink => Some(Kind::Symlink),
            FileType::Unknown => None,
            _ => Some(Kind::Other),
        };
        given += 1;
        f(name, kind).map_err(|e| (given, e))?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn read_names(dir: &Dir, f: &mut NameFn) -> io::Result<()> {
    for entry in dir.entries()? {
        let entry = entry?;
        if let Ok(name) = entry.file_name().into_string() {
            f(&name, Some(kind_of(entry.file_type()?)))?;
        }
    }
    Ok(())
}

/// Opens directory `rel` of `layer` ("" is the layer itself), not following a final symlink.
/// On Linux it is opened for reading, so its listing can be read from the same descriptor.
fn open_dir(layer: &Dir, rel: &Path) -> io::Result<Dir> {
    if rel.as_os_str().is_empty() {
        return layer.try_clone();
    }
    #[cfg(target_os = "linux")]
    {
        use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
        use cap_std::fs::{OpenOptions, OpenOptionsExt};
        let mut o = OpenOptions::new();
        o.read(true).follow(FollowSymlinks::No).custom_flags(libc::O_DIRECTORY);
        Ok(Dir::from_std_file(layer.open_with(rel, &o)?.into_std()))
    }
    #[cfg(not(target_os = "linux"))]
    cap_fs_ext::DirExt::open_dir_nofollow(layer, rel)
}

fn is_missing(e: &io::Error) -> bool {
    #[cfg(unix)]
    let symlink = e.raw_os_error() == Some(libc::ELOOP); // open_dir_nofollow of a symlink
    #[cfg(not(unix))]
    let symlink = false;
    symlink || matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}
