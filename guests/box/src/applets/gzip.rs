//! gzip, gunzip, zcat — and the gzip streams tar's `z` uses. Deflate and inflate come from
//! `miniz_oxide`; the gzip framing (RFC 1952: header, CRC-32, size) is here.

use crate::err;
use crate::util::{self, errstr};
use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
use std::fs;
use std::io::{self, IsTerminal, Read, Write};

/// CRC-32 (IEEE, reflected), as gzip's trailer has it.
pub struct Crc32 {
    table: [u32; 256],
    v: u32,
}

impl Crc32 {
    pub fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (i, t) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb88320 ^ (c >> 1) } else { c >> 1 };
            }
            *t = c;
        }
        Crc32 { table, v: 0 }
    }
    pub fn update(&mut self, data: &[u8]) {
        let mut c = !self.v;
        for &b in data {
            c = self.table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
        }
        self.v = !c;
    }
    pub fn value(&self) -> u32 {
        self.v
    }
}

fn bad_data(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Compresses into a gzip stream on `W` (`finish` writes the trailer).
pub struct GzEncoder<W: Write> {
    w: W,
    comp: Box<CompressorOxide>,
    crc: Crc32,
    size: u32,
    buf: Vec<u8>,
}

impl<W: Write> GzEncoder<W> {
    /// A gzip stream at `level` (1 fastest … 9 best); `mtime` goes in the header.
    pub fn new(mut w: W, level: u8, mtime: u32) -> io::Result<GzEncoder<W>> {
        let flags = create_comp_flags_from_zip_params(level.into(), 0, 0);
        let xfl = match level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        let mut h = vec![0x1f, 0x8b, 8, 0];
        h.extend_from_slice(&mtime.to_le_bytes());
        h.extend_from_slice(&[xfl, 3]);
        w.write_all(&h)?;
        Ok(GzEncoder {
            w,
            comp: Box::new(CompressorOxide::new(flags)),
            crc: Crc32::new(),
            size: 0,
            buf: vec![0; 64 * 1024],
        })
    }

    fn pump(&mut self, mut data: &[u8], flush: MZFlush) -> io::Result<()> {
        loop {
            let r = miniz_oxide::deflate::stream::deflate(&mut self.comp, data, &mut self.buf, flush);
            data = &data[r.bytes_consumed..];
            self.w.write_all(&self.buf[..r.bytes_written])?;
            match r.status {
                Ok(MZStatus::StreamEnd) => return Ok(()),
                Ok(_) => {
                    if data.is_empty() && flush == MZFlush::None {
                        return Ok(());
                    }
                }
                Err(MZError::Buf) if data.is_empty() && flush == MZFlush::None => return Ok(()),
                Err(_) => return Err(bad_data("compression failed")),
            }
        }
    }

    /// End the stream (CRC-32 and size trailer); returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.pump(&[], MZFlush::Finish)?;
        let mut t = self.crc.value().to_le_bytes().to_vec();
        t.extend_from_slice(&self.size.to_le_bytes());
        self.w.write_all(&t)?;
        self.w.flush()?;
        Ok(self.w)
    }
}

impl<W: Write> Write for GzEncoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.crc.update(data);
        self.size = self.size.wrapping_add(data.len() as u32);
        self.pump(data, MZFlush::None)?;
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[derive(PartialEq)]
enum Phase {
    Header,
    Body,
    Trailer,
    Done,
}

/// Reads the uncompressed data of a gzip stream (concatenated members too) from `R`.
pub struct GzDecoder<R: Read> {
    r: R,
    inbuf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    state: Box<InflateState>,
    crc: Crc32,
    size: u32,
    phase: Phase,
    members: usize,
}

impl<R: Read> GzDecoder<R> {
    pub fn new(r: R) -> GzDecoder<R> {
        GzDecoder {
            r,
            inbuf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            eof: false,
            state: InflateState::new_boxed(DataFormat::Raw),
            crc: Crc32::new(),
            size: 0,
            phase: Phase::Header,
            members: 0,
        }
    }

    /// Refill when empty; false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.r.read(&mut self.inbuf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn byte(&mut self) -> io::Result<u8> {
        if !self.fill()? {
            return Err(bad_data("unexpected end of file"));
        }
        self.pos += 1;
        Ok(self.inbuf[self.pos - 1])
    }

    /// Parse a member header; false when the input ended cleanly before one.
    fn header(&mut self) -> io::Result<bool> {
        if !self.fill()? {
            if self.members == 0 {
                return Err(bad_data("unexpected end of file"));
            }
            return Ok(false);
        }
        let (a, b) = (self.byte()?, self.byte().unwrap_or(0));
        if a != 0x1f || b != 0x8b {
            if self.members > 0 {
                // gzip: "decompression OK, trailing garbage ignored".
                self.pos = self.len;
                self.eof = true;
                return Ok(false);
            }
            return Err(bad_data("invalid magic"));
        }
        if self.byte()? != 8 {
            return Err(bad_data("unknown compression method"));
        }
        let flags = self.byte()?;
        for _ in 0..6 {
            self.byte()?;
        }
        if flags & 4 != 0 {
            let n = self.byte()? as usize | (self.byte()? as usize) << 8;
            for _ in 0..n {
                self.byte()?;
            }
        }
        for bit in [8u8, 16] {
            if flags & bit != 0 {
                while self.byte()? != 0 {}
            }
        }
        if flags & 2 != 0 {
            self.byte()?;
            self.byte()?;
        }
        self.state.reset(DataFormat::Raw);
        self.crc = Crc32::new();
        self.size = 0;
        Ok(true)
    }
}

impl<R: Read> Read for GzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(0),
                Phase::Header => {
                    self.phase = if self.header()? { Phase::Body } else { Phase::Done };
                }
                Phase::Trailer => {
                    let mut t = [0u8; 8];
                    for b in t.iter_mut() {
                        *b = self.byte()?;
                    }
                    let crc = u32::from_le_bytes(t[..4].try_into().unwrap());
                    let size = u32::from_le_bytes(t[4..].try_into().unwrap());
                    if crc != self.crc.value() {
                        return Err(bad_data("crc error"));
                    }
                    if size != self.size {
                        return Err(bad_data("length error"));
                    }
                    self.members += 1;
                    self.phase = Phase::Header;
                }
                Phase::Body => {
                    let more = self.fill()?;
                    let input = &self.inbuf[self.pos..self.len];
                    let r = miniz_oxide::inflate::stream::inflate(&mut self.state, input, out, MZFlush::None);
                    self.pos += r.bytes_consumed;
                    let n = r.bytes_written;
                    self.crc.update(&out[..n]);
                    self.size = self.size.wrapping_add(n as u32);
                    match r.status {
                        Ok(MZStatus::StreamEnd) => {
                            self.phase = Phase::Trailer;
                            if n > 0 {
                                return Ok(n);
                            }
                        }
                        Ok(_) | Err(MZError::Buf) => {
                            if n > 0 {
                                return Ok(n);
                            }
                            if r.bytes_consumed == 0 && !more {
                                return Err(bad_data("unexpected end of file"));
                            }
                        }
                        Err(_) => return Err(bad_data("invalid compressed data--format violated")),
                    }
                }
            }
        }
    }
}

/// gzip `data` (whole) at `level`.
#[cfg(test)]
pub fn compress(data: &[u8], level: u8) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), level, 0).expect("vec write");
    e.write_all(data).expect("vec write");
    e.finish().expect("vec write")
}

/// gunzip `data` (whole).
#[cfg(test)]
pub fn decompress(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    GzDecoder::new(data).read_to_end(&mut v)?;
    Ok(v)
}

struct Cfg {
    stdout: bool,
    decompress: bool,
    keep: bool,
    force: bool,
    test: bool,
    verbose: bool,
    level: u8,
}

fn gz_err(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::InvalidData {
        e.to_string()
    } else {
        errstr(e)
    }
}

/// The name gunzip gives the output of `name`, if it has a known suffix.
pub fn unzipped_name(name: &str) -> Option<String> {
    for (suf, rep) in [(".gz", ""), (".tgz", ".tar"), (".taz", ".tar"), ("-gz", ""), (".z", ""), ("-z", ""), ("_z", "")]
    {
        if let Some(stem) = name.strip_suffix(suf) {
            if !stem.is_empty() && !stem.ends_with('/') {
                return Some(format!("{stem}{rep}"));
            }
        }
    }
    None
}

fn run_stream(c: &Cfg, input: &mut dyn Read, output: &mut dyn Write, mtime: u32) -> io::Result<()> {
    if c.decompress {
        let mut d = GzDecoder::new(input);
        if c.test {
            io::copy(&mut d, &mut io::sink())?;
        } else {
            io::copy(&mut d, output)?;
        }
        Ok(())
    } else {
        let mut e = GzEncoder::new(output, c.level, mtime)?;
        io::copy(input, &mut e)?;
        e.finish()?;
        Ok(())
    }
}

fn one_file(c: &Cfg, f: &str) -> bool {
    if f == "-" {
        let mut out = io::stdout().lock();
        return match run_stream(c, &mut io::stdin().lock(), &mut out, 0) {
            Ok(()) => true,
            Err(e) => {
                err!("{}", gz_err(&e));
                false
            }
        };
    }
    let st = match util::meta(f, false) {
        Ok(s) => s,
        Err(e) => {
            err!("can't open '{f}': {}", errstr(&e));
            return false;
        }
    };
    if util::is_dir(st.mode) {
        err!("{f}: is a directory");
        return false;
    }
    let target = if c.stdout || c.test {
        None
    } else if c.decompress {
        match unzipped_name(f) {
            Some(n) => Some(n),
            None => {
                err!("{f}: unknown suffix -- ignored");
                return false;
            }
        }
    } else {
        if f.ends_with(".gz") && !c.force {
            err!("{f} already has .gz suffix -- unchanged");
            return false;
        }
        Some(format!("{f}.gz"))
    };
    let mut inp = match fs::File::open(f) {
        Ok(x) => x,
        Err(e) => {
            err!("can't open '{f}': {}", errstr(&e));
            return false;
        }
    };
    let mtime = st.mtime.clamp(0, u32::MAX as i64) as u32;
    let res = match &target {
        None => {
            let mut out = io::stdout().lock();
            run_stream(c, &mut inp, &mut out, mtime)
        }
        Some(t) => {
            if !c.force && fs::symlink_metadata(t).is_ok() {
                err!("can't open '{t}': File exists");
                return false;
            }
            let mut out = match fs::File::create(t) {
                Ok(x) => io::BufWriter::new(x),
                Err(e) => {
                    err!("can't open '{t}': {}", errstr(&e));
                    return false;
                }
            };
            let r = run_stream(c, &mut inp, &mut out, mtime).and_then(|_| out.flush());
            if r.is_err() {
                let _ = fs::remove_file(t);
            }
            r
        }
    };
    if let Err(e) = res {
        err!("{f}: {}", gz_err(&e));
        return false;
    }
    if let Some(t) = target {
        let _ = util::set_mode(&t, st.mode & 0o7777);
        super::fs::set_mtime(&t, st.mtime);
        if c.verbose {
            eprintln!("{f}: replaced with {t}");
        }
        if !c.keep {
            if let Err(e) = fs::remove_file(f) {
                err!("can't remove '{f}': {}", errstr(&e));
                return false;
            }
        }
    }
    true
}

fn gz_main(args: &[String], decompress: bool, to_stdout: bool) -> i32 {
    let o = match util::getopt_long(
        args,
        "cdfkntvq123456789",
        &[
            ("stdout", 'c'),
            ("decompress", 'd'),
            ("force", 'f'),
            ("keep", 'k'),
            ("test", 't'),
            ("best", '9'),
            ("fast", '1'),
        ],
    ) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let level = o.last_of("123456789").map(|c| c as u8 - b'0').unwrap_or(6);
    let c = Cfg {
        stdout: to_stdout || o.has('c'),
        decompress: decompress || o.has('d') || o.has('t'),
        keep: o.has('k'),
        force: o.has('f'),
        test: o.has('t'),
        verbose: o.has('v'),
        level,
    };
    let files = if o.args.is_empty() { vec!["-".to_string()] } else { o.args.clone() };
    let to_term = (c.stdout || files.iter().any(|f| f == "-")) && !c.test;
    if to_term && !c.decompress && !c.force && io::stdout().is_terminal() {
        err!("compressed data not written to a terminal. Use -f to force compression.");
        return 1;
    }
    let mut rc = 0;
    for f in &files {
        if !one_file(&c, f) {
            rc = 1;
        }
    }
    rc
}

/// `gzip [-cdfkt123456789] [FILE]...`
pub fn gzip(args: &[String]) -> i32 {
    gz_main(args, false, false)
}

/// `gunzip [-cfkt] [FILE]...`
pub fn gunzip(args: &[String]) -> i32 {
    gz_main(args, true, false)
}

/// `zcat [FILE]...`
pub fn zcat(args: &[String]) -> i32 {
    gz_main(args, true, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::{argv, tempdir};

    #[test]
    fn crc() {
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xcbf43926);
    }

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        for level in [1u8, 6, 9] {
            let z = compress(&data, level);
            assert_eq!(&z[..3], &[0x1f, 0x8b, 8]);
            assert!(z.len() < data.len());
            assert_eq!(decompress(&z).unwrap(), data);
        }
        // Concatenated members decompress to the concatenation.
        let mut two = compress(b"hello ", 6);
        two.extend(compress(b"world\n", 6));
        assert_eq!(decompress(&two).unwrap(), b"hello world\n");
        // A corrupt trailer is reported.
        let mut bad = compress(b"hello", 6);
        let n = bad.len();
        bad[n - 8] ^= 1;
        assert!(decompress(&bad).is_err());
        assert!(decompress(b"not gzip").is_err());
        let z = compress(b"hello", 6);
        assert!(decompress(&z[..z.len() - 3]).is_err());
        assert_eq!(decompress(&compress(b"", 6)).unwrap(), b"");
    }

    #[test]
    fn known_stream() {
        // `printf 'hello\n' | gzip -n` from GNU gzip.
        let z = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
            0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
        ];
        assert_eq!(decompress(&z).unwrap(), b"hello\n");
    }

    #[test]
    fn names_and_files() {
        assert_eq!(unzipped_name("a.gz").as_deref(), Some("a"));
        assert_eq!(unzipped_name("x.tgz").as_deref(), Some("x.tar"));
        assert_eq!(unzipped_name("a.txt"), None);
        assert_eq!(unzipped_name(".gz"), None);
        let d = tempdir();
        let f = format!("{d}/f.txt");
        fs::write(&f, "some text some text some text\n").unwrap();
        assert_eq!(gzip(&argv(&["gzip", "-9", &f])), 0);
        assert!(fs::metadata(&f).is_err());
        let gz = format!("{f}.gz");
        assert!(fs::metadata(&gz).is_ok());
        assert_eq!(gzip(&argv(&["gzip", &gz])), 1);
        assert_eq!(gunzip(&argv(&["gunzip", "-k", &gz])), 0);
        assert_eq!(fs::read_to_string(&f).unwrap(), "some text some text some text\n");
        assert!(fs::metadata(&gz).is_ok());
        assert_eq!(gunzip(&argv(&["gunzip", &gz])), 1); // f.txt exists
        assert_eq!(gunzip(&argv(&["gunzip", "-f", &gz])), 0);
        assert!(fs::metadata(&gz).is_err());
        assert_eq!(gunzip(&argv(&["gunzip", &f])), 1); // unknown suffix
    }
}
