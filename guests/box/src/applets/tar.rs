//! `tar`: create, list and extract ustar archives (GNU long names and pax path records read,
//! GNU long names written), gzip through `z`. Modes, symlinks, hard links and mtimes are kept;
//! owners too when extracting as root. On extract, leading `/` and `../` prefixes are removed
//! from member names as busybox does, and symlinks are made last so that no member is written
//! through one.

use super::gzip::{GzDecoder, GzEncoder};
use crate::err;
use crate::util::{self, errstr};
use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Read, Write};

const BLOCK: usize = 512;

/// Member types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Dir,
    /// Devices, FIFOs: listed, not extracted.
    Other(u8),
}

/// One member's header (after long-name records are applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub kind: Kind,
    pub link: String,
    pub uname: String,
    pub gname: String,
}

fn put_str(b: &mut [u8], s: &[u8]) {
    let n = s.len().min(b.len());
    b[..n].copy_from_slice(&s[..n]);
}

/// An octal field (`len - 1` digits and a NUL); base-256 when the number does not fit.
fn put_num(b: &mut [u8], v: u64) {
    let digits = b.len() - 1;
    let s = format!("{v:0digits$o}");
    if s.len() <= digits {
        put_str(b, s.as_bytes());
        b[digits] = 0;
    } else {
        let len = b.len();
        for (i, x) in b.iter_mut().enumerate() {
            let shift = 8 * (len - 1 - i);
            *x = if shift >= 64 { 0 } else { (v >> shift) as u8 };
        }
        b[0] |= 0x80;
    }
}

fn get_num(b: &[u8]) -> u64 {
    if b.first().is_some_and(|&x| x & 0x80 != 0) {
        let mut v: u64 = (b[0] & 0x7f) as u64;
        for &x in &b[1..] {
            v = v.wrapping_shl(8) | x as u64;
        }
        return v;
    }
    let s: String = b.iter().take_while(|&&c| c != 0).map(|&c| c as char).collect();
    u64::from_str_radix(s.trim(), 8).unwrap_or(0)
}

fn get_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn checksum(b: &[u8]) -> u64 {
    b.iter().enumerate().map(|(i, &c)| if (148..156).contains(&i) { b' ' as u64 } else { c as u64 }).sum()
}

/// Split a long name into ustar's `prefix` and `name` (at a `/`), if it fits.
fn ustar_split(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    let b = name.as_bytes();
    for i in (0..b.len()).rev() {
        if b[i] == b'/' && i <= 155 && b.len() - i - 1 <= 100 && b.len() - i - 1 > 0 {
            return Some((&name[..i], &name[i + 1..]));
        }
    }
    None
}

fn raw_header(name: &str, prefix: &str, h: &Header, typeflag: u8, link: &str, size: u64) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    put_str(&mut b[0..100], name.as_bytes());
    put_num(&mut b[100..108], (h.mode & 0o7777) as u64);
    put_num(&mut b[108..116], h.uid as u64);
    put_num(&mut b[116..124], h.gid as u64);
    put_num(&mut b[124..136], size);
    put_num(&mut b[136..148], h.mtime.max(0) as u64);
    b[156] = typeflag;
    put_str(&mut b[157..257], link.as_bytes());
    put_str(&mut b[257..263], b"ustar\0");
    put_str(&mut b[263..265], b"00");
    put_str(&mut b[265..297], h.uname.as_bytes());
    put_str(&mut b[297..329], h.gname.as_bytes());
    put_str(&mut b[345..500], prefix.as_bytes());
    let sum = checksum(&b);
    let s = format!("{sum:06o}\0 ");
    b[148..156].copy_from_slice(s.as_bytes());
    b
}

/// The blocks for one header: GNU `././@LongLink` records first when the name or the link
/// target do not fit ustar's fields.
pub fn encode_header(h: &Header) -> Vec<u8> {
    let mut out = Vec::new();
    let typeflag = match h.kind {
        Kind::File => b'0',
        Kind::HardLink => b'1',
        Kind::Symlink => b'2',
        Kind::Dir => b'5',
        Kind::Other(c) => c,
    };
    let long = |out: &mut Vec<u8>, t: u8, s: &str| {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        let meta = Header {
            name: String::new(),
            mode: 0,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            kind: Kind::File,
            link: String::new(),
            uname: "root".into(),
            gname: "root".into(),
        };
        out.extend_from_slice(&raw_header("././@LongLink", "", &meta, t, "", data.len() as u64));
        data.resize(data.len().div_ceil(BLOCK) * BLOCK, 0);
        out.extend(data);
    };
    let link = if h.link.len() > 100 {
        long(&mut out, b'K', &h.link);
        &h.link[..100]
    } else {
        &h.link
    };
    let (prefix, name) = match ustar_split(&h.name) {
        Some(x) => x,
        None => {
            long(&mut out, b'L', &h.name);
            ("", &h.name[..h.name.floor_char_boundary(100)])
        }
    };
    let size = if h.kind == Kind::File { h.size } else { 0 };
    out.extend_from_slice(&raw_header(name, prefix, h, typeflag, link, size));
    out
}

/// Parse one raw header block; `None` for an all-zero block; `Err` for a bad checksum.
pub fn parse_block(b: &[u8; BLOCK]) -> Result<Option<(Header, u8)>, String> {
    if b.iter().all(|&c| c == 0) {
        return Ok(None);
    }
    let want = get_num(&b[148..156]);
    let signed: i64 =
        b.iter().enumerate().map(|(i, &c)| if (148..156).contains(&i) { 32 } else { c as i8 as i64 }).sum();
    if want != checksum(b) && want as i64 != signed {
        return Err("invalid tar header checksum".into());
    }
    let typeflag = b[156];
    let mut name = get_str(&b[0..100]);
    if &b[257..262] == b"ustar" && b[263] != b' ' {
        let prefix = get_str(&b[345..500]);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    let kind = match typeflag {
        b'0' | 0 | b'7' => {
            if typeflag != b'5' && name.ends_with('/') {
                Kind::Dir
            } else {
                Kind::File
            }
        }
        b'1' => Kind::HardLink,
        b'2' => Kind::Symlink,
        b'5' => Kind::Dir,
        c => Kind::Other(c),
    };
    Ok(Some((
        Header {
            name,
            mode: get_num(&b[100..108]) as u32,
            uid: get_num(&b[108..116]) as u32,
            gid: get_num(&b[116..124]) as u32,
            size: get_num(&b[124..136]),
            mtime: get_num(&b[136..148]) as i64,
            kind,
            link: get_str(&b[157..257]),
            uname: get_str(&b[265..297]),
            gname: get_str(&b[297..329]),
        },
        typeflag,
    )))
}

/// pax extended header records (`LEN key=value\n`).
pub fn parse_pax(data: &[u8]) -> Vec<(String, String)> {
    let mut v = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|&c| c == b' ') else { break };
        let Ok(len) = std::str::from_utf8(&rest[..sp]).unwrap_or("").parse::<usize>() else { break };
        if len == 0 || len > rest.len() || len <= sp + 1 {
            break;
        }
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&c| c == b'=') {
            v.push((
                String::from_utf8_lossy(&rec[..eq]).into_owned(),
                String::from_utf8_lossy(&rec[eq + 1..]).into_owned(),
            ));
        }
        rest = &rest[len..];
    }
    v
}

/// Reads members from an archive stream.
pub struct Reader<R: Read> {
    r: R,
    /// Bytes of the current member's data not yet read (plus its padding).
    left: u64,
    pad: u64,
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: Read> Reader<R> {
    pub fn new(r: R) -> Reader<R> {
        Reader { r, left: 0, pad: 0 }
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let n = self.left + self.pad;
        if n > 0 {
            let got = io::copy(&mut (&mut self.r).take(n), &mut io::sink())?;
            if got < self.left {
                return Err(bad("short read"));
            }
        }
        self.left = 0;
        self.pad = 0;
        Ok(())
    }

    fn data(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; size as usize];
        if read_full(&mut self.r, &mut v)? < v.len() {
            return Err(bad("short read"));
        }
        let pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        io::copy(&mut (&mut self.r).take(pad), &mut io::sink())?;
        Ok(v)
    }

    /// The next member (its data is then read with [`Reader::read_data`] or skipped).
    pub fn next(&mut self) -> io::Result<Option<Header>> {
        self.skip_rest()?;
        let mut long_name: Option<String> = None;
        let mut long_link: Option<String> = None;
        let mut pax: Vec<(String, String)> = Vec::new();
        loop {
            let mut b = [0u8; BLOCK];
            let n = read_full(&mut self.r, &mut b)?;
            if n == 0 {
                return Ok(None);
            }
            if n < BLOCK {
                return Err(bad("short read"));
            }
            let Some((mut h, t)) = parse_block(&b).map_err(bad)? else {
                return Ok(None);
            };
            match t {
                b'L' | b'K' => {
                    let d = self.data(h.size)?;
                    let s = get_str(&d);
                    if t == b'L' {
                        long_name = Some(s);
                    } else {
                        long_link = Some(s);
                    }
                    continue;
                }
                b'x' => {
                    pax = parse_pax(&self.data(h.size)?);
                    continue;
                }
                b'g' => {
                    self.data(h.size)?;
                    continue;
                }
                _ => {}
            }
            if let Some(n) = long_name {
                h.name = n;
            }
            if let Some(l) = long_link {
                h.link = l;
            }
            for (k, v) in pax {
                match k.as_str() {
                    "path" => h.name = v,
                    "linkpath" => h.link = v,
                    "size" => h.size = v.parse().unwrap_or(h.size),
                    "uid" => h.uid = v.parse().unwrap_or(h.uid),
                    "gid" => h.gid = v.parse().unwrap_or(h.gid),
                    "uname" => h.uname = v,
                    "gname" => h.gname = v,
                    "mtime" => h.mtime = v.split('.').next().unwrap_or("").parse().unwrap_or(h.mtime),
                    _ => {}
                }
            }
            if h.kind == Kind::Dir && !h.name.ends_with('/') {
                // keep names as given; directories are recognised by kind
            }
            let has_data =
                matches!(h.kind, Kind::File | Kind::Other(_)) && !matches!(h.kind, Kind::Other(b'3' | b'4' | b'6'));
            self.left = if has_data { h.size } else { 0 };
            self.pad = (BLOCK as u64 - self.left % BLOCK as u64) % BLOCK as u64;
            return Ok(Some(h));
        }
    }

    /// Copy the current member's data to `w`.
    pub fn read_data(&mut self, w: &mut dyn Write) -> io::Result<()> {
        let n = io::copy(&mut (&mut self.r).take(self.left), w)?;
        if n < self.left {
            return Err(bad("short read"));
        }
        self.left = 0;
        Ok(())
    }
}

/// busybox's `strip_unsafe_prefix`: drop leading `/`s and everything up to the last `../`.
/// Returns the safe name and what was removed.
pub fn strip_unsafe(name: &str) -> (&str, &str) {
    let mut cp = 0;
    let b = name.as_bytes();
    loop {
        if cp < b.len() && b[cp] == b'/' {
            cp += 1;
            continue;
        }
        if name[cp..].starts_with("../") {
            cp += 3;
            continue;
        }
        match name[cp..].find("/../") {
            Some(i) => cp += i + 4,
            None => break,
        }
    }
    (&name[cp..], &name[..cp])
}

/// `ls -l`-like listing line (busybox `tar tv`).
pub fn verbose_line(h: &Header) -> String {
    let ty = match h.kind {
        Kind::Dir => util::S_IFDIR,
        Kind::Symlink => util::S_IFLNK,
        Kind::Other(b'3') => 0o020000,
        Kind::Other(b'4') => 0o060000,
        Kind::Other(b'6') => 0o010000,
        _ => util::S_IFREG,
    };
    let user = if h.uname.is_empty() { h.uid.to_string() } else { h.uname.clone() };
    let group = if h.gname.is_empty() { h.gid.to_string() } else { h.gname.clone() };
    let tm = crate::date::gmtime(h.mtime);
    let mut s = format!(
        "{} {}/{} {:>9} {:04}-{:02}-{:02} {:02}:{:02}:{:02} {}",
        util::mode_string(ty | (h.mode & 0o7777)),
        user,
        group,
        if h.kind == Kind::File { h.size } else { 0 },
        tm.year,
        tm.mon,
        tm.day,
        tm.hour,
        tm.min,
        tm.sec,
        h.name
    );
    match h.kind {
        Kind::Symlink => s.push_str(&format!(" -> {}", h.link)),
        Kind::HardLink => s.push_str(&format!(" link to {}", h.link)),
        _ => {}
    }
    s
}

struct Opts {
    verbose: bool,
    gzip: bool,
    to_stdout: bool,
    deref: bool,
    same_owner: bool,
    keep_old: bool,
    excludes: Vec<String>,
    /// `-C DIR`: member names are relative to it.
    base: Option<String>,
    /// Where verbose names go (stderr when the archive is on stdout).
    vout: Box<dyn Write>,
}

impl Opts {
    /// The path of member `name` (under `-C DIR`).
    fn at(&self, name: &str) -> String {
        match &self.base {
            Some(b) if !name.starts_with('/') => util::join(b, name),
            _ => name.to_string(),
        }
    }
}

fn excluded(o: &Opts, name: &str) -> bool {
    let n = name.trim_end_matches('/');
    let base = util::base_name(n);
    o.excludes.iter().any(|p| {
        let pc: Vec<char> = p.trim_end_matches('/').chars().collect();
        let full: Vec<char> = n.chars().collect();
        let b: Vec<char> = base.chars().collect();
        super::find::glob_match(&pc, &full) || super::find::glob_match(&pc, &b)
    })
}

/// `(dev, ino)` of a path, for hard links and for not archiving the archive.
fn inode(p: &str) -> Option<(u64, u64)> {
    let m = fs::symlink_metadata(p).ok()?;
    #[cfg(target_os = "wasi")]
    {
        use std::os::wasi::fs::MetadataExt;
        let ino = m.ino();
        return (ino != 0).then_some((m.dev(), ino));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        return Some((m.dev(), m.ino()));
    }
    #[allow(unreachable_code)]
    {
        let _ = m;
        None
    }
}

struct Writer<'a> {
    o: &'a mut Opts,
    out: Box<dyn Write>,
    links: HashMap<(u64, u64), String>,
    archive: Option<(u64, u64)>,
    warned_slash: bool,
    ok: bool,
}

impl Writer<'_> {
    /// Archive `name` (found at `path`, which is under `-C DIR`).
    fn add(&mut self, path: &str, name: &str) {
        let follow = self.o.deref;
        let st = match util::meta(path, follow) {
            Ok(s) => s,
            Err(e) => {
                err!("{path}: {}", errstr(&e));
                self.ok = false;
                return;
            }
        };
        let mut name = name.to_string();
        if name.starts_with('/') {
            if !self.warned_slash {
                err!("removing leading '/' from member names");
                self.warned_slash = true;
            }
            name = name.trim_start_matches('/').to_string();
            if name.is_empty() {
                name = "./".into();
            }
        }
        if excluded(self.o, &name) {
            return;
        }
        let ino = inode(path);
        if ino.is_some() && ino == self.archive && util::is_reg(st.mode) {
            err!("{path}: file is the archive; not dumped");
            return;
        }
        let mut h = Header {
            name: name.clone(),
            mode: st.mode & 0o7777,
            uid: st.uid,
            gid: st.gid,
            size: 0,
            mtime: st.mtime,
            kind: Kind::File,
            link: String::new(),
            uname: util::user_name(st.uid).unwrap_or_default(),
            gname: util::group_name(st.gid).unwrap_or_default(),
        };
        let is_dir = util::is_dir(st.mode);
        if is_dir {
            h.kind = Kind::Dir;
            if !h.name.ends_with('/') {
                h.name.push('/');
            }
        } else if util::is_lnk(st.mode) {
            h.kind = Kind::Symlink;
            h.link = fs::read_link(path).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        } else if util::is_reg(st.mode) {
            if st.nlink > 1 {
                if let Some(k) = ino {
                    if let Some(first) = self.links.get(&k) {
                        h.kind = Kind::HardLink;
                        h.link = first.clone();
                    } else {
                        self.links.insert(k, name.clone());
                    }
                }
            }
            if h.kind == Kind::File {
                h.size = st.size;
            }
        } else {
            err!("{path}: socket or device ignored");
            return;
        }
        if self.o.verbose {
            let _ = writeln!(self.o.vout, "{}", h.name);
        }
        if let Err(e) = self.out.write_all(&encode_header(&h)) {
            err!("write error: {}", errstr(&e));
            self.ok = false;
            return;
        }
        if h.kind == Kind::File {
            if let Err(e) = self.file_data(path, h.size) {
                err!("{path}: {}", errstr(&e));
                self.ok = false;
            }
        }
        if is_dir {
            let mut names: Vec<String> = match fs::read_dir(path) {
                Ok(rd) => rd.flatten().map(|d| d.file_name().to_string_lossy().into_owned()).collect(),
                Err(e) => {
                    err!("{path}: {}", errstr(&e));
                    self.ok = false;
                    return;
                }
            };
            names.sort();
            let base = h.name.trim_end_matches('/').to_string();
            for n in names {
                let child = if base.is_empty() { n.clone() } else { util::join(&base, &n) };
                self.add(&util::join(path, &n), &child);
            }
        }
    }

    /// Exactly `size` bytes of `path` (padded with zeros if it shrank) and the block padding.
    fn file_data(&mut self, path: &str, size: u64) -> io::Result<()> {
        let f = fs::File::open(path)?;
        let n = io::copy(&mut f.take(size), &mut self.out)?;
        let mut left = size - n;
        let zeros = [0u8; BLOCK];
        while left > 0 {
            let k = left.min(BLOCK as u64) as usize;
            self.out.write_all(&zeros[..k])?;
            left -= k as u64;
        }
        let pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        self.out.write_all(&zeros[..pad as usize])
    }
}

fn open_archive_out(file: &str, gzip: bool) -> io::Result<Box<dyn Write>> {
    let raw: Box<dyn Write> = if file == "-" {
        Box::new(BufWriter::with_capacity(64 * 1024, io::stdout()))
    } else {
        Box::new(BufWriter::with_capacity(64 * 1024, fs::File::create(file)?))
    };
    if gzip {
        Ok(Box::new(GzWrite(Some(GzEncoder::new(raw, 6, 0)?))))
    } else {
        Ok(raw)
    }
}

/// A gzip encoder that writes its trailer on `flush` (called once at the end).
struct GzWrite(Option<GzEncoder<Box<dyn Write>>>);

impl Write for GzWrite {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.as_mut().map(|e| e.write(b)).unwrap_or(Ok(b.len()))
    }
    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.0.take() {
            e.finish()?.flush()?;
        }
        Ok(())
    }
}

fn create(o: &mut Opts, file: &str, paths: &[String]) -> i32 {
    if paths.is_empty() {
        err!("empty archive");
        return 1;
    }
    let out = match open_archive_out(file, o.gzip) {
        Ok(w) => w,
        Err(e) => {
            err!("can't open '{file}': {}", errstr(&e));
            return 1;
        }
    };
    let archive = if file == "-" { None } else { inode(file) };
    let mut w = Writer { o, out, links: HashMap::new(), archive, warned_slash: false, ok: true };
    for p in paths {
        let real = w.o.at(p);
        w.add(&real, p);
    }
    let end = [0u8; 2 * BLOCK];
    if let Err(e) = w.out.write_all(&end).and_then(|_| w.out.flush()) {
        err!("write error: {}", errstr(&e));
        return 1;
    }
    let _ = w.o.vout.flush();
    if w.ok {
        0
    } else {
        1
    }
}

/// Is `name` selected by the member operands (itself or inside one of them)?
pub fn selected(name: &str, wanted: &[String]) -> Option<usize> {
    let n = name.trim_end_matches('/');
    let n = n.strip_prefix("./").unwrap_or(n);
    wanted.iter().position(|w| {
        let w = w.trim_end_matches('/');
        let w = w.strip_prefix("./").unwrap_or(w);
        n == w || (n.starts_with(w) && n.as_bytes().get(w.len()) == Some(&b'/'))
    })
}

fn open_archive_in(file: &str, gzip: bool) -> io::Result<Box<dyn Read>> {
    let mut raw: Box<dyn Read> = if file == "-" { Box::new(io::stdin()) } else { Box::new(fs::File::open(file)?) };
    // Seamless gzip: look at the first two bytes.
    let mut head = [0u8; 2];
    let n = read_full(&mut raw, &mut head)?;
    let chained: Box<dyn Read> = Box::new(io::Cursor::new(head[..n].to_vec()).chain(raw));
    if gzip || (n == 2 && head == [0x1f, 0x8b]) {
        Ok(Box::new(GzDecoder::new(chained)))
    } else {
        Ok(chained)
    }
}

fn mkdirs(p: &str) -> io::Result<()> {
    if p.is_empty() || p == "." {
        return Ok(());
    }
    fs::create_dir_all(p)
}

fn remove_existing(p: &str) {
    if let Ok(m) = fs::symlink_metadata(p) {
        if !m.is_dir() {
            let _ = fs::remove_file(p);
        }
    }
}

fn set_owner(o: &Opts, path: &str, h: &Header, follow: bool) {
    if !o.same_owner {
        return;
    }
    let uid = util::passwd().iter().find(|e| e.name == h.uname).map(|e| e.id).unwrap_or(h.uid);
    let gid = util::groups_db().iter().find(|e| e.name == h.gname).map(|e| e.id).unwrap_or(h.gid);
    let _ = skiff_guest::proc::chown(path, Some(uid), Some(gid), follow);
}

fn extract_or_list(o: &mut Opts, file: &str, list: bool, wanted: &[String]) -> i32 {
    let input = match open_archive_in(file, o.gzip) {
        Ok(r) => r,
        Err(e) => {
            err!("can't open '{file}': {}", errstr(&e));
            return 1;
        }
    };
    let mut rd = Reader::new(input);
    let mut rc = 0;
    let mut found = vec![false; wanted.len()];
    let mut dirs: Vec<(String, Header)> = Vec::new();
    let mut symlinks: Vec<(String, Header)> = Vec::new();
    let mut warned = false;
    let mut stdout = BufWriter::new(io::stdout().lock());
    loop {
        let h = match rd.next() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                let _ = stdout.flush();
                err!("{}", if e.kind() == io::ErrorKind::InvalidData { e.to_string() } else { errstr(&e) });
                rc = 1;
                break;
            }
        };
        if !wanted.is_empty() {
            match selected(&h.name, wanted) {
                Some(i) => found[i] = true,
                None => continue,
            }
        }
        if excluded(o, &h.name) {
            continue;
        }
        if list {
            let line = if o.verbose { verbose_line(&h) } else { h.name.clone() };
            if writeln!(stdout, "{line}").is_err() {
                return 1;
            }
            continue;
        }
        if o.to_stdout {
            if h.kind == Kind::File {
                if let Err(e) = rd.read_data(&mut stdout) {
                    err!("{}", errstr(&e));
                    return 1;
                }
            }
            continue;
        }
        let (safe, removed) = strip_unsafe(&h.name);
        if !removed.is_empty() && !warned {
            err!("removing leading '{removed}' from member names");
            warned = true;
        }
        let rel = safe.trim_end_matches('/').to_string();
        if rel.is_empty() || rel == "." || rel == ".." || rel.ends_with("/..") {
            continue;
        }
        if o.verbose {
            let _ = writeln!(o.vout, "{}", h.name);
        }
        let name = o.at(&rel);
        let parent = util::dir_name(&rel);
        if parent != "." {
            let parent = o.at(&parent);
            if let Err(e) = mkdirs(&parent) {
                err!("can't create directory '{parent}': {}", errstr(&e));
                rc = 1;
                continue;
            }
        }
        if o.keep_old && h.kind != Kind::Dir && fs::symlink_metadata(&name).is_ok() {
            continue;
        }
        match h.kind {
            Kind::Dir => {
                if let Err(e) = fs::create_dir_all(&name) {
                    err!("can't create directory '{name}': {}", errstr(&e));
                    rc = 1;
                    continue;
                }
                let _ = util::set_mode(&name, 0o700 | (h.mode & 0o7777));
                dirs.push((name, h));
            }
            Kind::File => {
                remove_existing(&name);
                let res = fs::File::create(&name).and_then(|f| {
                    let mut w = BufWriter::new(f);
                    rd.read_data(&mut w)?;
                    w.flush()
                });
                if let Err(e) = res {
                    err!("can't create '{name}': {}", errstr(&e));
                    rc = 1;
                    continue;
                }
                let _ = util::set_mode(&name, h.mode & 0o7777);
                set_owner(o, &name, &h, true);
                super::fs::set_mtime(&name, h.mtime);
            }
            Kind::HardLink => {
                let (target, _) = strip_unsafe(&h.link);
                let target = o.at(target.trim_end_matches('/'));
                remove_existing(&name);
                if fs::hard_link(&target, &name).is_err() {
                    // No hard links in this filesystem: a copy keeps the content.
                    if let Err(e) = fs::copy(&target, &name) {
                        err!("can't create hardlink '{name}': {}", errstr(&e));
                        rc = 1;
                    }
                }
            }
            Kind::Symlink => symlinks.push((name, h)),
            Kind::Other(t) => {
                err!("{name}: special file (type '{}') not extracted", t as char);
            }
        }
    }
    let _ = stdout.flush();
    // Symlinks last: nothing is extracted through a link the archive made.
    for (name, h) in symlinks {
        remove_existing(&name);
        if let Err(e) = util::symlink(&h.link, &name) {
            err!("can't create symlink '{name}' to '{}': {}", h.link, errstr(&e));
            rc = 1;
            continue;
        }
        set_owner(o, &name, &h, false);
    }
    // Directory modes and times after their contents.
    for (name, h) in dirs.iter().rev() {
        let _ = util::set_mode(name, h.mode & 0o7777);
        set_owner(o, name, h, true);
        super::fs::set_mtime(name, h.mtime);
    }
    for (i, w) in wanted.iter().enumerate() {
        if !found[i] {
            err!("{w}: not found in archive");
            rc = 1;
        }
    }
    let _ = o.vout.flush();
    rc
}

/// Turn old-style `tar cvzf x.tgz dir` into `tar -c -v -z -f x.tgz dir`.
pub fn normalize_args(args: &[String]) -> Vec<String> {
    let mut v = vec![args[0].clone()];
    let Some(first) = args.get(1) else { return v };
    if first.starts_with('-') || first.is_empty() {
        v.extend_from_slice(&args[1..]);
        return v;
    }
    let mut rest = args[2..].iter();
    for c in first.chars() {
        v.push(format!("-{c}"));
        if matches!(c, 'f' | 'C' | 'X' | 'T') {
            if let Some(a) = rest.next() {
                v.push(a.clone());
            }
        }
    }
    v.extend(rest.cloned());
    v
}

/// `tar c|x|t [-f FILE] [-v] [-z] [-C DIR] [-O] [-h] [-k] [-o] [--exclude PAT] [FILE]...`
pub fn tar(args: &[String]) -> i32 {
    let args = normalize_args(args);
    let o = match util::getopt_long(
        &args,
        "cxtf:vzC:OhkopX:a",
        &[
            ("create", 'c'),
            ("extract", 'x'),
            ("list", 't'),
            ("file", 'f'),
            ("verbose", 'v'),
            ("gzip", 'z'),
            ("directory", 'C'),
            ("to-stdout", 'O'),
            ("dereference", 'h'),
            ("keep-old-files", 'k'),
            ("no-same-owner", 'o'),
            ("same-permissions", 'p'),
            ("exclude", 'e'),
            ("exclude-from", 'X'),
        ],
    ) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let modes = ["c", "x", "t"].iter().filter(|m| o.has(m.chars().next().unwrap())).count();
    if modes != 1 {
        err!("{}", if modes == 0 { "must specify one of -c, -x, -t" } else { "only one of -c, -x, -t may be given" });
        return 1;
    }
    let file = o.val('f').unwrap_or("-").to_string();
    let mut excludes: Vec<String> = o.vals('e').iter().map(|s| s.to_string()).collect();
    for x in o.vals('X') {
        match fs::read_to_string(x) {
            Ok(t) => excludes.extend(t.lines().filter(|l| !l.is_empty()).map(String::from)),
            Err(e) => {
                err!("{x}: {}", errstr(&e));
                return 1;
            }
        }
    }
    let creating = o.has('c');
    let vout: Box<dyn Write> =
        if creating && file == "-" || o.has('O') { Box::new(io::stderr()) } else { Box::new(io::stdout()) };
    let mut opts = Opts {
        verbose: o.has('v'),
        gzip: o.has('z'),
        to_stdout: o.has('O'),
        deref: o.has('h'),
        same_owner: !o.has('o') && skiff_guest::proc::ids().uid == 0,
        keep_old: o.has('k'),
        excludes,
        base: o.val('C').map(String::from),
        vout,
    };
    // The archive's path is relative to where tar started, not to -C.
    if let Some(d) = &opts.base {
        match util::meta(d, true) {
            Ok(st) if util::is_dir(st.mode) => {}
            Ok(_) => {
                err!("can't change directory to '{d}': Not a directory");
                return 1;
            }
            Err(e) => {
                err!("can't change directory to '{d}': {}", errstr(&e));
                return 1;
            }
        }
    }
    if creating {
        create(&mut opts, &file, &o.args)
    } else {
        extract_or_list(&mut opts, &file, o.has('t'), &o.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::{argv, tempdir};

    fn hdr(name: &str, kind: Kind, size: u64, link: &str) -> Header {
        Header {
            name: name.into(),
            mode: 0o644,
            uid: 1000,
            gid: 100,
            size,
            mtime: 1_700_000_000,
            kind,
            link: link.into(),
            uname: "app".into(),
            gname: "users".into(),
        }
    }

    fn parse_all(mut data: &[u8]) -> Vec<Header> {
        let mut r = Reader::new(&mut data);
        let mut v = Vec::new();
        while let Some(h) = r.next().unwrap() {
            v.push(h);
        }
        v
    }

    #[test]
    fn headers_round_trip() {
        let h = hdr("dir/file.txt", Kind::File, 5, "");
        let b = encode_header(&h);
        assert_eq!(b.len(), 512);
        assert_eq!(&b[257..263], b"ustar\0");
        assert_eq!(&b[124..136], b"00000000005\0");
        let mut data = b.clone();
        data.extend_from_slice(b"hello");
        data.resize(1024, 0);
        data.extend_from_slice(&[0u8; 1024]);
        assert_eq!(parse_all(&data), vec![h]);
        // A 150-character path fits ustar's prefix; a 250-character one needs GNU LongLink.
        let mid = format!("{}/{}", "a".repeat(80), "b".repeat(69));
        let b = encode_header(&hdr(&mid, Kind::Dir, 0, ""));
        assert_eq!(b.len(), 512);
        assert_eq!(parse_all(&[b.as_slice(), &[0u8; 1024]].concat())[0].name, mid);
        let long = format!("d/{}", "n".repeat(250));
        let b = encode_header(&hdr(&long, Kind::Symlink, 0, &"t".repeat(150)));
        assert_eq!(b.len(), 512 * 5);
        let back = parse_all(&[b.as_slice(), &[0u8; 1024]].concat());
        assert_eq!(back[0].name, long);
        assert_eq!(back[0].link, "t".repeat(150));
        assert_eq!(back[0].kind, Kind::Symlink);
        // A corrupted header is refused.
        let mut b = encode_header(&hdr("f", Kind::File, 0, ""));
        b[0] = b'g';
        let mut s: &[u8] = &b;
        assert!(Reader::new(&mut s).next().is_err());
        // Big numbers go base-256.
        let mut f = [0u8; 12];
        put_num(&mut f, 1 << 40);
        assert_eq!(get_num(&f), 1 << 40);
    }

    #[test]
    fn pax_records() {
        let p = parse_pax(b"28 path=some/very/long/name\n19 linkpath=target\n");
        assert_eq!(p, vec![("path".into(), "some/very/long/name".into()), ("linkpath".into(), "target".into())]);
    }

    #[test]
    fn unsafe_names() {
        assert_eq!(strip_unsafe("/etc/passwd"), ("etc/passwd", "/"));
        assert_eq!(strip_unsafe("../../x"), ("x", "../../"));
        assert_eq!(strip_unsafe("a/../../b"), ("b", "a/../../"));
        assert_eq!(strip_unsafe("ok/name"), ("ok/name", ""));
        assert_eq!(strip_unsafe("//a/../b"), ("b", "//a/../"));
        assert_eq!(selected("dir/x", &argv(&["dir"])), Some(0));
        assert_eq!(selected("dirx", &argv(&["dir"])), None);
        assert_eq!(selected("./a/", &argv(&["a"])), Some(0));
    }

    #[test]
    fn old_style_args() {
        assert_eq!(
            normalize_args(&argv(&["tar", "czvf", "x.tgz", "d"])),
            argv(&["tar", "-c", "-z", "-v", "-f", "x.tgz", "d"])
        );
        assert_eq!(normalize_args(&argv(&["tar", "-xf", "a"])), argv(&["tar", "-xf", "a"]));
        assert_eq!(normalize_args(&argv(&["tar", "xfC", "a", "/d"])), argv(&["tar", "-x", "-f", "a", "-C", "/d"]));
    }

    #[test]
    fn verbose_listing() {
        let mut h = hdr("bin/sh", Kind::Symlink, 0, "box");
        h.mode = 0o777;
        assert_eq!(verbose_line(&h), "lrwxrwxrwx app/users         0 2023-11-14 22:13:20 bin/sh -> box");
        let h = hdr("f", Kind::File, 1234, "");
        assert_eq!(verbose_line(&h), "-rw-r--r-- app/users      1234 2023-11-14 22:13:20 f");
    }

    #[test]
    fn create_and_extract() {
        let d = tempdir();
        let src = format!("{d}/src");
        fs::create_dir_all(format!("{src}/sub")).unwrap();
        fs::write(format!("{src}/a.txt"), "alpha\n").unwrap();
        fs::write(format!("{src}/sub/b.bin"), vec![7u8; 3000]).unwrap();
        util::set_mode(&format!("{src}/a.txt"), 0o751).unwrap();
        util::symlink("a.txt", &format!("{src}/link")).unwrap();
        fs::hard_link(format!("{src}/a.txt"), format!("{src}/hard")).unwrap();
        let long = "n".repeat(120);
        fs::write(format!("{src}/sub/{long}"), "long\n").unwrap();
        for z in [false, true] {
            let arc = format!("{d}/a.tar{}", if z { ".gz" } else { "" });
            let flags = if z { "-czf" } else { "-cf" };
            assert_eq!(tar(&argv(&["tar", flags, &arc, "-C", &d, "src"])), 0);
            let data = fs::read(&arc).unwrap();
            assert_eq!(data[..2] == [0x1f, 0x8b], z);
            let dst = format!("{d}/out{z}");
            fs::create_dir_all(&dst).unwrap();
            // Seamless gunzip: x without z.
            assert_eq!(tar(&argv(&["tar", "xf", &arc, "-C", &dst])), 0);
            assert_eq!(fs::read_to_string(format!("{dst}/src/a.txt")).unwrap(), "alpha\n");
            assert_eq!(fs::read(format!("{dst}/src/sub/b.bin")).unwrap(), vec![7u8; 3000]);
            assert_eq!(fs::read_to_string(format!("{dst}/src/sub/{long}")).unwrap(), "long\n");
            assert_eq!(fs::read_link(format!("{dst}/src/link")).unwrap().to_string_lossy(), "a.txt");
            assert_eq!(fs::read_to_string(format!("{dst}/src/hard")).unwrap(), "alpha\n");
            assert_eq!(util::meta(&format!("{dst}/src/a.txt"), true).unwrap().mode & 0o7777, 0o751);
            let names: Vec<String> = {
                let f = open_archive_in(&arc, false).unwrap();
                let mut r = Reader::new(f);
                let mut v = Vec::new();
                while let Some(h) = r.next().unwrap() {
                    v.push(h.name);
                }
                v
            };
            assert!(names.contains(&"src/".to_string()));
            assert!(names.contains(&format!("src/sub/{long}")));
        }
        // Only the named members; a missing one is an error.
        let one = format!("{d}/one");
        fs::create_dir_all(&one).unwrap();
        assert_eq!(tar(&argv(&["tar", "-xf", &format!("{d}/a.tar"), "-C", &one, "src/sub"])), 0);
        assert!(fs::metadata(format!("{one}/src/a.txt")).is_err());
        assert!(fs::metadata(format!("{one}/src/sub/b.bin")).is_ok());
        assert_eq!(tar(&argv(&["tar", "-tf", &format!("{d}/a.tar"), "nope"])), 1);
    }

    #[test]
    fn extract_is_confined() {
        let d = tempdir();
        let mut data = Vec::new();
        for (name, body) in [("../evil", "x"), ("/abs", "y")] {
            data.extend(encode_header(&hdr(name, Kind::File, 1, "")));
            let mut b = body.as_bytes().to_vec();
            b.resize(512, 0);
            data.extend(b);
        }
        data.extend(encode_header(&hdr("esc", Kind::Symlink, 0, "/")));
        data.extend(encode_header(&hdr("esc/pwned", Kind::File, 1, "")));
        let mut b = b"z".to_vec();
        b.resize(512, 0);
        data.extend(b);
        data.extend([0u8; 1024]);
        let arc = format!("{d}/evil.tar");
        fs::write(&arc, data).unwrap();
        let dst = format!("{d}/x");
        fs::create_dir_all(&dst).unwrap();
        tar(&argv(&["tar", "-xf", &arc, "-C", &dst]));
        assert_eq!(fs::read_to_string(format!("{dst}/evil")).unwrap(), "x");
        assert_eq!(fs::read_to_string(format!("{dst}/abs")).unwrap(), "y");
        assert!(fs::metadata(format!("{d}/evil")).is_err());
        // "esc/pwned" became a real directory entry, not a write through the link to "/".
        assert!(fs::metadata("/pwned").is_err());
    }
}
